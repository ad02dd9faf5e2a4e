/**
 * Every packet the stub implements, against an Emulator, through the
 * protocol (framed requests into a GdbSession, framed replies decoded).
 */
import { describe, expect, it } from 'vitest';
import { BASE, POWER_OFF, MemoryClient, buildImage, emulatorFor, until } from './support.js';
import { framePacket, fromHex, hexOfText, littleEndian, toHex, bytesOf, textOf, checksum } from '../../src/gdb/packets.js';
import { G_PACKET_REGISTERS, SYSTEM_FEATURE } from '../../src/gdb/target-description.js';

const PROGRAM = `
_start:	mov	x1, #5
	mov	x2, #7
target:	add	x3, x1, x2
	adr	x4, data
	ldr	x5, [x4]
next:	add	x6, x5, #1
	${POWER_OFF.trim().split('\n').join('\n\t')}
	.balign 8
data:	.quad 0x1122334455667788
`;

const LOOP = `_start: add x1, x1, #1\n b _start\n`;

function setup(source = PROGRAM) {
  const image = buildImage(source);
  const emu = emulatorFor(image);
  const client = new MemoryClient(emu);
  const sym = (n: string) => image.symbols.get(n)!;
  const regnum = (name: string) => client.target.registers.regs.find((r) => r.name === name)!.regnum;
  return { image, emu, client, sym, regnum };
}

const le64 = (v: bigint) => toHex(littleEndian(v, 8));
const hex = (v: bigint) => v.toString(16);

describe('handshake and framing', () => {
  it('acks each packet until QStartNoAckMode, then stops acking', async () => {
    const { client } = setup();
    const supported = await client.one('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=aarch64');
    expect(supported.split(';')).toEqual(expect.arrayContaining(['PacketSize=4000', 'qXfer:features:read+', 'swbreak+', 'hwbreak+', 'QStartNoAckMode+']));
    expect(client.events.filter((e) => e.kind === 'ack')).toHaveLength(1);
    expect(await client.one('QStartNoAckMode')).toBe('OK');
    expect(client.events.filter((e) => e.kind === 'ack')).toHaveLength(2);
    expect(await client.one('?')).toBe('T05thread:1;');
    expect(client.events.filter((e) => e.kind === 'ack')).toHaveLength(2);
  });

  it('answers a bad checksum with - and no reply, and retransmits on -', async () => {
    const { client } = setup();
    client.sendRaw('$?#00');
    expect(client.events.map((e) => e.kind)).toEqual(['nack']);
    expect(await client.one('qC')).toBe('QC1');
    const before = client.packets().length;
    client.sendRaw('-');
    await until(() => client.packets().length === before + 1);
    expect(client.packets().at(-1)).toBe('QC1');
  });

  it('stops retransmitting after repeated -', async () => {
    const { client } = setup();
    await client.one('qC');
    const before = client.packets().length;
    client.sendRaw('-'.repeat(50));
    await new Promise((r) => setTimeout(r, 10));
    expect(client.packets().length - before).toBeLessThanOrEqual(8);
  });

  it('answers unknown and empty packets with the empty reply', async () => {
    const { client } = setup();
    for (const p of ['vMustReplyEmpty', 'qTStatus', 'qOffsets', '!', 'jfoo', '', 'vFile:open:x', 'QNonStop:1', 'vCtrlC']) {
      expect(await client.one(p)).toBe('');
    }
  });

  it('answers an over-long packet and a packet ending in an escape byte with E01', async () => {
    const { client } = setup();
    client.sendRaw(framePacket('m' + '0'.repeat(0x5000)));
    await until(() => client.packets().length === 1);
    expect(client.packets()).toEqual(['E01']);
    const body = bytesOf('M0,1:}');
    client.sendRaw(`$M0,1:}#${checksum(body).toString(16).padStart(2, '0')}`);
    await until(() => client.packets().length === 2);
    expect(client.packets()[1]).toBe('E01');
    expect(await client.one('qC')).toBe('QC1');
  });
});

describe('threads and queries', () => {
  it('has one thread, attached', async () => {
    const { client } = setup();
    expect(await client.one('qC')).toBe('QC1');
    expect(await client.one('qAttached')).toBe('1');
    expect(await client.one('qfThreadInfo')).toBe('m1');
    expect(await client.one('qsThreadInfo')).toBe('l');
    for (const h of ['Hg0', 'Hc-1', 'Hg1', 'Hc1']) expect(await client.one(h)).toBe('OK');
    for (const h of ['Hg2', 'Hx1', 'H', 'Hgzz']) expect(await client.one(h)).toBe('E01');
    expect(await client.one('T1')).toBe('OK');
    expect(await client.one('T2')).toBe('E01');
    expect(await client.one('qSymbol::')).toBe('OK');
  });

  it('serves target.xml in pieces, with the core, FP/SIMD and system features', async () => {
    const { client } = setup();
    let doc = '';
    for (;;) {
      const r = await client.one(`qXfer:features:read:target.xml:${doc.length.toString(16)},200`);
      expect(r[0]).toMatch(/[ml]/);
      doc += r.slice(1);
      if (r[0] === 'l') break;
    }
    expect(doc).toMatch(/^<\?xml version="1.0"\?>/);
    expect(doc).toContain('<architecture>aarch64</architecture>');
    for (const f of ['org.gnu.gdb.aarch64.core', 'org.gnu.gdb.aarch64.fpu', SYSTEM_FEATURE]) expect(doc).toContain(`<feature name="${f}">`);
    const regs = [...doc.matchAll(/<reg name="([^"]+)" bitsize="(\d+)"[^>]*regnum="(\d+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    expect(regs.slice(0, 34).map((r) => r[0])).toEqual([...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'cpsr']);
    expect(regs[33]).toEqual(['cpsr', 32, 33]);
    expect(regs[34]).toEqual(['v0', 128, 34]);
    expect(regs[67]).toEqual(['fpcr', 32, 67]);
    expect(regs.map((r) => r[0])).toEqual(expect.arrayContaining(['el', 'sctlr_el1', 'sctlr_el2', 'hcr_el2', 'ttbr0_el2', 'vttbr_el2', 'vtcr_el2', 'tcr_el2', 'vbar_el2', 'esr_el2', 'elr_el2', 'spsr_el2', 'far_el2', 'esr_el1', 'elr_el1', 'spsr_el1', 'far_el1']));
    regs.forEach((r, i) => expect(r[2]).toBe(i));
    // Balanced elements (a cheap well-formedness check; gdb parses it in the gdb-multiarch test).
    for (const tag of ['feature', 'union', 'flags', 'target']) {
      expect(doc.split(`<${tag} `).length + doc.split(`<${tag}>`).length - 2).toBe(doc.split(`</${tag}>`).length - 1);
    }
    expect(await client.one(`qXfer:features:read:target.xml:${doc.length.toString(16)},100`)).toBe('l');
    expect(await client.one(`qXfer:features:read:target.xml:${(doc.length + 1).toString(16)},100`)).toBe('E00');
    expect(await client.one('qXfer:features:read:other.xml:0,100')).toBe('E00');
    expect(await client.one('qXfer:features:read:target.xml:zz,100')).toBe('E00');
    expect(await client.one('qXfer:memory-map:read::0,100')).toBe('');
  });
});

describe('registers', () => {
  it('g reads x0-x30, sp, pc, cpsr, v0-v31, fpsr, fpcr in target byte order', async () => {
    const { client, emu } = setup();
    emu.setReg('x7', 0x0123456789abcdefn);
    emu.setReg('sp', 0x40100000n);
    emu.cpu.setV(3, 0x00112233445566778899aabbccddeeffn);
    const g = await client.one('g');
    expect(g.length).toBe((31 * 8 + 8 + 8 + 4 + 32 * 16 + 4 + 4) * 2);
    expect(g.slice(7 * 16, 8 * 16)).toBe(le64(0x0123456789abcdefn));
    expect(g.slice(31 * 16, 32 * 16)).toBe(le64(0x40100000n));
    expect(g.slice(32 * 16, 33 * 16)).toBe(le64(BASE));
    expect(g.slice(33 * 16, 33 * 16 + 8)).toBe(toHex(littleEndian(0x400003c9n, 4))); // EL2h, DAIF masked, Z
    const v3 = 33 * 16 + 8 + 3 * 32;
    expect(g.slice(v3, v3 + 32)).toBe(toHex(littleEndian(0x00112233445566778899aabbccddeeffn, 16)));
  });

  it('G writes them back, whole registers only', async () => {
    const { client, emu } = setup();
    const g = await client.one('g');
    const changed = g.slice(0, 16) + le64(0xfeedn) + g.slice(32);
    expect(await client.one('G' + changed)).toBe('OK');
    expect(emu.reg('x1')).toBe(0xfeedn);
    expect(await client.one('G' + le64(0x42n))).toBe('OK'); // a prefix of whole registers is allowed
    expect(emu.reg('x0')).toBe(0x42n);
    expect(emu.reg('x1')).toBe(0xfeedn);
    for (const bad of ['G' + g.slice(0, 10), 'G' + g + '00000000', 'G123', 'Gzz', 'G']) expect(await client.one(bad)).toBe('E01');
    expect(emu.reg('x0')).toBe(0x42n);
  });

  it('p/P read and write single registers: X, SP, PC, V, FPSR/FPCR', async () => {
    const { client, emu, regnum } = setup();
    expect(await client.one(`P${hex(BigInt(regnum('x30')))}=${le64(0xabcdn)}`)).toBe('OK');
    expect(emu.reg('x30')).toBe(0xabcdn);
    expect(await client.one(`p${hex(BigInt(regnum('x30')))}`)).toBe(le64(0xabcdn));
    expect(await client.one('p20')).toBe(le64(BASE)); // pc
    expect(await client.one(`P1f=${le64(0x40200000n)}`)).toBe('OK'); // sp
    expect(emu.reg('sp')).toBe(0x40200000n);
    const v31 = regnum('v31');
    expect(await client.one(`P${hex(BigInt(v31))}=${toHex(littleEndian(1n << 127n | 5n, 16))}`)).toBe('OK');
    expect(emu.cpu.getV(31)).toBe(1n << 127n | 5n);
    expect(await client.one(`P${hex(BigInt(regnum('fpcr')))}=00004003`)).toBe('OK'); // DN, FZ, RMode = round towards +inf
    expect(emu.cpu.fpcr >>> 0).toBe(0x03400000);
    expect(await client.one(`p${hex(BigInt(regnum('fpcr')))}`)).toBe('00004003');
  });

  it('P cpsr changes NZCV, DAIF, EL and SPSel (banking the stack pointer); impossible states are refused', async () => {
    const { client, emu, regnum } = setup();
    emu.setReg('sp', 0x2222n);
    const cpsr = (v: number) => `P21=${toHex(littleEndian(BigInt(v), 4))}`;
    expect(await client.one(cpsr(0x900003c5))).toBe('OK'); // N V, EL1h
    expect(emu.cpu.el).toBe(1);
    expect(emu.cpu.nzcv).toBe(0b1001);
    expect(emu.reg('sp')).toBe(0n); // SP_EL1
    expect(await client.one(`p${hex(BigInt(regnum('sp_el2')))}`)).toBe(le64(0x2222n));
    expect(await client.one('p21')).toBe(toHex(littleEndian(0x900003c5n, 4)));
    expect(await client.one(cpsr(0x3cd))).toBe('E16'); // EL3
    expect(await client.one(cpsr(0x3d5))).toBe('E16'); // nRW
    expect(emu.cpu.el).toBe(1);
    expect(await client.one('P21=c5030090ff')).toBe('E01'); // wrong size
  });

  it('system registers: EL, SCTLR/HCR/VBAR…, SP_ELn; writes go through MSR semantics', async () => {
    const { client, emu, regnum } = setup();
    const p = (name: string) => client.one(`p${hex(BigInt(regnum(name)))}`);
    const P = (name: string, v: bigint) => client.one(`P${hex(BigInt(regnum(name)))}=${le64(v)}`);
    expect(await p('el')).toBe(le64(2n));
    expect(await p('sctlr_el2')).toBe(le64(emu.reg('sctlr_el2')));
    expect(await p('midr_el1')).toBe(le64(0x411fd070n));
    expect(await P('hcr_el2', 0x80000000n)).toBe('OK');
    expect(emu.reg('hcr_el2')).toBe(0x80000000n);
    expect(await P('vbar_el2', 0x40081800n)).toBe('OK');
    expect(emu.reg('vbar_el2')).toBe(0x40081800n);
    expect(await P('sp_el1', 0x40300000n)).toBe('OK');
    expect(await p('sp_el1')).toBe(le64(0x40300000n));
    expect(await P('el', 1n)).toBe('OK');
    expect(emu.cpu.el).toBe(1);
    expect(emu.reg('sp')).toBe(0x40300000n);
    expect(await P('el', 3n)).toBe('E16');
    expect(await client.one(`p${hex(BigInt(client.target.registers.count))}`)).toBe('E01');
    for (const bad of ['p', 'pzz', 'p-1', 'P1', 'P1=', 'P1=zz', 'Pzz=00']) expect(await client.one(bad)).toBe('E01');
  });
});

describe('memory', () => {
  it('m reads and M/X write, with binary escapes in X', async () => {
    const { client, emu, image, sym } = setup();
    expect(await client.one(`m${hex(BASE)},8`)).toBe(toHex(image.bytes.subarray(0, 8)));
    expect(await client.one(`m${hex(sym('data'))},8`)).toBe(le64(0x1122334455667788n));
    expect(await client.one(`M${hex(sym('data'))},4:deadbeef`)).toBe('OK');
    expect([...emu.readMemory(sym('data'), 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    const binary = new Uint8Array([0x7d, 0x23, 0x24, 0x2a, 0x00, 0xff]);
    const x = new Uint8Array([...bytesOf(`X${hex(sym('data'))},6:`), ...binary]);
    expect(await client.one(x)).toBe('OK');
    expect([...emu.readMemory(sym('data'), 6)]).toEqual([...binary]);
    expect(await client.one(`X${hex(sym('data'))},0:`)).toBe('OK');
    expect(await client.one(`m${hex(sym('data'))},0`)).toBe('');
  });

  it('reports unmapped addresses as E0e, returns what exists across the end of RAM, rejects malformed requests', async () => {
    const { client, emu } = setup();
    expect(await client.one('m0,4')).toBe('E0e'); // flash / nothing at 0: not RAM
    expect(await client.one('mffffffffffff0000,4')).toBe('E0e'); // beyond the PA size with the MMU off
    expect(await client.one('M0,1:00')).toBe('E0e');
    const ramEnd = 0x40000000n + 128n * 1024n * 1024n;
    emu.writeMemory(ramEnd - 2n, new Uint8Array([0xaa, 0xbb]));
    expect(await client.one(`m${hex(ramEnd - 2n)},10`)).toBe('aabb');
    for (const bad of ['m', 'm1', 'm1,', 'mzz,4', 'm1,2,3', 'M1,2:0', 'M1,1', 'M1,2:001122', 'X1,2:a']) expect(await client.one(bad)).toBe('E01');
  });

  it('reads through the current translation (MMU on at EL2), or physical memory after `monitor phys on`', async () => {
    const { client, emu, image } = setup();
    // One level-1 table: VA [0, 1 GiB) → PA 0x4000_0000 (a 1 GiB block), 4 KiB granule, 39-bit VA.
    const table = 0x40100000n;
    emu.writeMemory(table, littleEndian(0x40000000n | (1n << 10n) | 1n, 8));
    emu.setReg('mair_el2', 0xffn);
    emu.setReg('tcr_el2', 25n);
    emu.setReg('ttbr0_el2', table);
    emu.setReg('sctlr_el2', emu.reg('sctlr_el2') | 1n);
    expect(await client.one('m80000,8')).toBe(toHex(image.bytes.subarray(0, 8)));
    expect(await client.one('m40080000,8')).toBe('E0e'); // not mapped by this table
    expect(await client.one('M80000,2:1234')).toBe('OK');
    expect([...emu.readMemory(BASE, 2)]).toEqual([0x12, 0x34]);

    const on = await client.request(`qRcmd,${hexOfText('phys on')}`, 2);
    expect(textOf(fromHex(on[0]!.slice(1))!)).toMatch(/physical addresses/);
    expect(on[1]).toBe('OK');
    expect(await client.one('m40080000,2')).toBe('1234');
    expect(await client.one('m80000,2')).toBe('E0e');
    await client.request(`qRcmd,${hexOfText('phys off')}`, 2);
    expect(await client.one('m80000,2')).toBe('1234');
    const help = await client.request(`qRcmd,${hexOfText('help')}`, 2);
    expect(textOf(fromHex(help[0]!.slice(1))!)).toMatch(/monitor phys/);
    expect(await client.one(`qRcmd,${hexOfText('phys sideways')}`)).toBe('E16');
    expect(await client.one('qRcmd,zz')).toBe('E01');
  });
});

describe('execution', () => {
  it('s steps one instruction; S and vCont;s too', async () => {
    const { client, emu } = setup();
    expect(await client.one('s')).toBe('T05thread:1;');
    expect(emu.reg('pc')).toBe(BASE + 4n);
    expect(emu.reg('x1')).toBe(5n);
    expect(await client.one('S05')).toBe('T05thread:1;');
    expect(emu.reg('pc')).toBe(BASE + 8n);
    expect(await client.one('vCont;s:1')).toBe('T05thread:1;');
    expect(emu.reg('x3')).toBe(12n);
    expect(await client.one(`s${hex(BASE)}`)).toBe('T05thread:1;'); // step from an address
    expect(emu.reg('pc')).toBe(BASE + 4n);
  });

  it('Z0 stops a continue before the instruction (swbreak), and continuing steps over it', async () => {
    const { client, emu, sym } = setup();
    await client.one('qSupported:swbreak+;hwbreak+');
    expect(await client.one(`Z0,${hex(sym('target'))},4`)).toBe('OK');
    expect(await client.one(`Z0,${hex(sym('target'))},4`)).toBe('OK'); // idempotent
    expect(await client.one('c')).toBe('T05swbreak:;thread:1;');
    expect(emu.reg('pc')).toBe(sym('target'));
    expect(emu.reg('x3')).toBe(0n);
    expect(await client.one('s')).toBe('T05thread:1;'); // steps over the breakpoint
    expect(emu.reg('x3')).toBe(12n);
    expect(await client.one(`z0,${hex(sym('target'))},4`)).toBe('OK');
    expect(await client.one(`z0,${hex(sym('target'))},4`)).toBe('OK');
    expect(await client.one('c')).toBe('W00');
  });

  it('continuing from a breakpoint runs to the next one; Z1 reports hwbreak', async () => {
    const { client, emu, sym } = setup();
    await client.one('qSupported:swbreak+;hwbreak+');
    await client.one(`Z0,${hex(sym('target'))},4`);
    await client.one(`Z1,${hex(sym('next'))},4`);
    expect(await client.one('vCont;c')).toBe('T05swbreak:;thread:1;');
    expect(await client.one('vCont;c')).toBe('T05hwbreak:;thread:1;');
    expect(emu.reg('pc')).toBe(sym('next'));
    expect(emu.reg('x5')).toBe(0x1122334455667788n);
    expect(await client.one('?')).toBe('T05hwbreak:;thread:1;');
    expect(await client.one(`z1,${hex(sym('next'))},4`)).toBe('OK');
    expect(await client.one('C05')).toBe('W00');
  });

  it('stop replies name swbreak/hwbreak only for a debugger that asked for them', async () => {
    const { client, sym } = setup();
    await client.one(`Z0,${hex(sym('target'))},4`);
    expect(await client.one('c')).toBe('T05thread:1;');
  });

  it('breakpoint packets: watchpoints unsupported, malformed ones refused', async () => {
    const { client } = setup();
    expect(await client.one('Z2,40080000,4')).toBe('');
    expect(await client.one('z4,40080000,4')).toBe('');
    for (const bad of ['Z0', 'Z0,', 'Z0,zz,4', 'Z0,40080000', 'Z9', 'Z0,11223344556677889,4']) expect(await client.one(bad)).toBe('E01');
    expect(await client.one('Z0,40080000,4;X1,0f')).toBe('OK'); // conditions ignored
  });

  it('reports W00 at PSCI SYSTEM_OFF, and keeps reporting it', async () => {
    const { client } = setup();
    expect(await client.one('c')).toBe('W00');
    expect(await client.one('?')).toBe('W00');
    expect(await client.one('s')).toBe('W00');
    expect(await client.one('vCont;c')).toBe('W00');
  });

  it('the interrupt byte stops a continue with SIGINT; the CPU can go on afterwards', async () => {
    const { client, emu } = setup(LOOP);
    const before = client.packets().length;
    client.sendRaw(framePacket('vCont;c'));
    await until(() => emu.cpu.retired > 10_000);
    expect(client.packets().length).toBe(before);
    expect(client.target.running).toBe(true);
    client.sendRaw('\x03');
    await until(() => client.packets().length > before);
    expect(client.packets().at(-1)).toBe('T02thread:1;');
    expect(client.target.running).toBe(false);
    const x1 = emu.reg('x1');
    expect(x1).toBeGreaterThan(1000n);
    expect(await client.one('s')).toBe('T05thread:1;');
    // Packets sent while running wait their turn.
    client.sendRaw(framePacket('c'));
    client.sendRaw(framePacket('qC'));
    await new Promise((r) => setTimeout(r, 20));
    client.sendRaw('\x03');
    await until(() => client.packets().length >= before + 3);
    expect(client.packets().slice(before + 2)).toEqual(['T02thread:1;', 'QC1']);
  });

  it('an interrupt arriving with its continue (same chunk) still stops it; a stray one while stopped is dropped', async () => {
    const loop = setup(LOOP);
    loop.client.sendRaw(new Uint8Array([...framePacket('c'), 0x03]));
    await until(() => loop.client.packets().length === 1);
    expect(loop.client.packets()).toEqual(['T02thread:1;']);
    const prog = setup();
    prog.client.sendRaw('\x03');
    expect(await prog.client.one('c')).toBe('W00');
  });

  it('vCont: actions for other threads are skipped, unknown actions refused', async () => {
    const { client, emu } = setup();
    expect(await client.one('vCont?')).toBe('vCont;c;C;s;S');
    expect(await client.one('vCont;s:2')).toBe('E01');
    expect(await client.one('vCont;s:1;c')).toBe('T05thread:1;');
    expect(emu.reg('pc')).toBe(BASE + 4n);
    expect(await client.one('vCont;s:-1')).toBe('T05thread:1;');
    for (const bad of ['vCont;x', 'vCont;', 'vCont;C', 'vCont;s:zz']) expect(await client.one(bad)).toBe('E01');
  });

  it('a fatal stop is explained on the console (O packet) and reported as SIGABRT', async () => {
    const { client, emu } = setup('_start: movz x0, #0x1000\n br x0\n');
    // The run command's guard against exception loops, in small.
    let n = 0;
    emu.onException(() => { if (++n > 4) emu.cpu.stopRequest = { kind: 'fatal', why: 'exception loop' }; });
    const r = await client.request('c', 2);
    expect(textOf(fromHex(r[0]!.slice(1))!)).toBe('pkvm-lab: exception loop\n');
    expect(r[1]).toBe('T06thread:1;');
  });
});

describe('ending the session', () => {
  it('D replies OK and ends the session as detached', async () => {
    const { client } = setup();
    expect(await client.one('D')).toBe('OK');
    expect(client.ended).toBe(true);
    expect(client.endedHow).toBe('detached');
  });

  it('k ends it without a reply; vKill replies OK', async () => {
    const { client } = setup();
    client.sendRaw(framePacket('k'));
    await until(() => client.ended);
    expect(client.endedHow).toBe('killed');
    expect(client.packets()).toEqual([]);
    const other = setup();
    expect(await other.client.one('vKill;1')).toBe('OK');
    expect(other.client.endedHow).toBe('killed');
  });

  it('a disconnect during a continue stops the CPU', async () => {
    const { client, emu } = setup(LOOP);
    client.sendRaw(framePacket('c'));
    await until(() => emu.cpu.retired > 1000);
    client.session.disconnected();
    await until(() => !client.target.running);
    expect(client.endedHow).toBe('disconnected');
  });
});

it('G_PACKET_REGISTERS covers the core and FP/SIMD features', () => {
  expect(G_PACKET_REGISTERS).toBe(34 + 34);
});

/**
 * Integer loads and stores: every class of src/isa/tables/loads-stores.ts,
 * with the values where the architecture is interesting (sign extension,
 * writeback, SP as base, alignment and external aborts with their ESR/FAR,
 * the exclusive monitor, LSE on cortex-a76 and UNDEFINED on cortex-a57).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { createVirtMachine } from '../../src/machine/virt.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { CORTEX_A57, CORTEX_A76, type CpuModel } from '../../src/cpu/cpu-model.js';
import { run } from '../../src/cpu/interpreter.js';
import { sysregId } from '../../src/cpu/sysregs/system-registers.js';
import { Access, type TranslationUnit } from '../../src/mmu/memory-port.js';
import type { PhysicalMemory } from '../../src/machine/physical-memory.js';
import { AP_RO_ALL, enableEl2, S1_DEFAULT, Tables } from '../mmu/support.js';

const BASE = 0x40080000n;
const ESR_EL2 = sysregId('esr_el2');
const FAR_EL2 = sysregId('far_el2');
const ELR_EL2 = sysregId('elr_el2');
const SCTLR_EL2 = sysregId('sctlr_el2');
const SCTLR_EL1 = sysregId('sctlr_el1');
const ESR_EL1 = sysregId('esr_el1');

/** ESR_ELx values for exceptions taken to the current EL. */
const ESR = {
  undefined: 0x02000000,
  spAlignment: 0x9a000000,
  /** Data abort, same EL: EC 0x25, IL, DFSC (+ WnR for stores). */
  dataAbort: (dfsc: number, write = false) => (0x96000000 | dfsc | (write ? 1 << 6 : 0)) >>> 0,
};
const DFSC_ALIGNMENT = 0x21;
const DFSC_EXTERNAL = 0x10;

interface Machine {
  cpu: Cpu;
  memory: PhysicalMemory;
  sym(name: string): bigint;
  /** Runs to the `done` label (or the first exception); returns the exception's ESR, or undefined. */
  execute(budget?: number): { esr: number; far: bigint; elr: bigint } | undefined;
  read64(addr: bigint): bigint;
  write64(addr: bigint, v: bigint): void;
}

function machine(body: string, model: CpuModel = CORTEX_A57): Machine {
  const src = `.arch armv8.4-a\n_start:\n${body}\ndone: b done\n.balign 64\nbuf: .fill 64, 8, 0\nbufend:\n`;
  const r = assemble(src, { file: 't.s' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  const img = linkFlat(r, BASE);
  const m = createVirtMachine({});
  m.memory.writeBytes(Number(BASE), img.bytes);
  const cpu = new Cpu(m.memory, model);
  cpu.setPc(BASE);
  let took: { esr: number; far: bigint; elr: bigint } | undefined;
  cpu.onException = (e) => {
    if (e.kind !== 'exception' || took) return;
    const esr = e.toEl === 2 ? ESR_EL2 : ESR_EL1;
    took = { esr: cpu.sys.lo(esr) >>> 0, far: regValue(cpu, e.toEl === 2 ? FAR_EL2 : sysregId('far_el1')), elr: regValue(cpu, e.toEl === 2 ? ELR_EL2 : sysregId('elr_el1')) };
    cpu.stopRequest = { kind: 'stopped', why: 'exception' };
  };
  const sym = (name: string) => {
    const v = img.symbols.get(name);
    if (v === undefined) throw new Error(`no symbol ${name}`);
    return v;
  };
  return {
    cpu, memory: m.memory, sym,
    execute(budget = 10_000) {
      run(cpu, budget);
      if (!took) expect(cpu.getPc()).toBe(sym('done'));
      return took;
    },
    read64(addr) {
      const b = m.memory.readBytes(Number(addr), 8)!;
      return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
    },
    write64(addr, v) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v, true);
      m.memory.writeBytes(Number(addr), b);
    },
  };
}

function regValue(cpu: Cpu, id: number): bigint {
  return (BigInt(cpu.sys.hi(id) >>> 0) << 32n) | BigInt(cpu.sys.lo(id) >>> 0);
}

const x = (m: Machine, n: number) => m.cpu.getX(n);
const hex = (v: bigint) => `0x${v.toString(16)}`;

describe('single register: widths and extension', () => {
  it('loads every width with zero and sign extension to W and X', () => {
    const m = machine(`
      adr x0, buf
      ldrb w1, [x0]
      ldrsb w2, [x0]
      ldrsb x3, [x0]
      ldrh w4, [x0]
      ldrsh w5, [x0]
      ldrsh x6, [x0]
      ldr w7, [x0]
      ldrsw x8, [x0]
      ldr x9, [x0]
      ldrsb x10, [x0, #8]
      ldrsw x11, [x0, #8]
      movn x12, #0
      ldr w12, [x0]
    `);
    m.write64(m.sym('buf'), 0x0123456789abddf0n);
    m.write64(m.sym('buf') + 8n, 0x000000007fffff7fn);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 1)).toBe(0xf0n);
    expect(x(m, 2)).toBe(0xfffffff0n); // W result: upper half zero
    expect(x(m, 3)).toBe(0xfffffffffffffff0n);
    expect(x(m, 4)).toBe(0xddf0n);
    expect(x(m, 5)).toBe(0xffffddf0n);
    expect(x(m, 6)).toBe(0xffffffffffffddf0n);
    expect(x(m, 7)).toBe(0x89abddf0n);
    expect(x(m, 8)).toBe(0xffffffff89abddf0n);
    expect(x(m, 9)).toBe(0x0123456789abddf0n);
    expect(x(m, 10)).toBe(0x7fn);
    expect(x(m, 11)).toBe(0x7fffff7fn);
    expect(x(m, 12)).toBe(0x89abddf0n); // a W load clears bits 63:32
  });

  it('stores every width, leaving the other bytes alone', () => {
    const m = machine(`
      adr x0, buf
      movn x1, #0
      str x1, [x0]
      str x1, [x0, #8]
      movz x2, #0x1234
      movk x2, #0x5678, lsl #16
      movk x2, #0x9abc, lsl #32
      strb w2, [x0]
      strh w2, [x0, #2]
      str w2, [x0, #8]
      str xzr, [x0, #16]
      strb wzr, [x0, #15]
    `);
    expect(m.execute()).toBeUndefined();
    expect(hex(m.read64(m.sym('buf')))).toBe(hex(0xffffffff1234ff34n));
    expect(hex(m.read64(m.sym('buf') + 8n))).toBe(hex(0x00ffffff56781234n));
    expect(m.read64(m.sym('buf') + 16n)).toBe(0n);
  });

  it('loads into XZR discard the value; stores of XZR store zero', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #7
      str x1, [x0]
      ldr xzr, [x0]
      ldr x2, [x0]
      str wzr, [x0]
      ldr x3, [x0]
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(7n);
    expect(x(m, 3)).toBe(0n);
  });
});

describe('addressing modes', () => {
  it('scaled, unscaled, pre- and post-index with writeback', () => {
    const m = machine(`
      adr x0, buf
      add x0, x0, #64
      movz x1, #0x11
      str x1, [x0, #-8]
      ldur x2, [x0, #-8]
      mov x3, x0
      str x1, [x3, #16]!
      mov x4, x0
      ldr x5, [x4], #-8
      ldr x6, [x0, #16]
      mov x7, x0
      ldrb w8, [x7, #-8]!
      sturh w1, [x0, #-3]
    `);
    expect(m.execute()).toBeDefined(); // the unaligned sturh faults (MMU off: Device memory)
    const buf = m.sym('buf');
    expect(x(m, 2)).toBe(0x11n);
    expect(x(m, 3)).toBe(buf + 80n);
    expect(x(m, 4)).toBe(buf + 56n);
    expect(x(m, 5)).toBe(0n);
    expect(x(m, 6)).toBe(0x11n);
    expect(x(m, 7)).toBe(buf + 56n);
    expect(x(m, 8)).toBe(0x11n);
  });

  it('register offsets: LSL, UXTW, SXTW (negative), SXTX, shifted by the access size', () => {
    const m = machine(`
      adr x0, buf
      add x0, x0, #256
      movz x9, #0x99
      movn x1, #0            // -1
      movz x2, #3
      str x9, [x0, x2, lsl #3]
      ldr x10, [x0, #24]
      str x9, [x0, w1, sxtw #3]
      ldr x11, [x0, #-8]
      movz x3, #0xffff, lsl #16
      movk x3, #0xfffe       // w3 = 0xfffffffe (-2)
      movk x3, #0x1, lsl #32 // upper bits must be ignored by xTW
      strh w9, [x0, w3, sxtw #1]
      ldrh w12, [x0, #-4]
      movz x4, #8
      ldrb w13, [x0, x4, sxtx]
      movn x5, #7            // -8
      ldr x14, [x0, x5, sxtx]
      movz w6, #16
      ldr w15, [x0, w6, uxtw]
      ldr x16, [x0, x2, lsl #3]
    `);
    m.write64(m.sym('buf') + 256n + 8n, 0xabn);
    m.write64(m.sym('buf') + 256n + 16n, 0xcdn);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 10)).toBe(0x99n);
    expect(x(m, 11)).toBe(0x99n);
    expect(x(m, 12)).toBe(0x99n);
    expect(x(m, 13)).toBe(0xabn);
    expect(x(m, 14)).toBe(0x0000009900000099n); // the halfword store landed in its upper half
    expect(x(m, 15)).toBe(0xcdn);
    expect(x(m, 16)).toBe(0x99n);
  });

  it('literal loads (LDR W/X, LDRSW) are PC-relative', () => {
    const m = machine(`
      ldr x1, lit64
      ldr w2, lit32
      ldrsw x3, lit32
      b done
      .balign 8
    lit64: .quad 0x8877665544332211
    lit32: .word 0x80000001
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 1)).toBe(0x8877665544332211n);
    expect(x(m, 2)).toBe(0x80000001n);
    expect(x(m, 3)).toBe(0xffffffff80000001n);
  });

  it('writeback with Rt == Rn: a load keeps the written-back address, a store stores the old base (QEMU\'s choices)', () => {
    const m = machine(`
      adr x0, buf
      movz x9, #0x55
      str x9, [x0]
      str x9, [x0, #8]
      mov x1, x0
      ldr x1, [x1], #8
      mov x2, x0
      ldr x2, [x2, #8]!
      mov x3, x0
      str x3, [x3, #16]!
      ldr x4, [x0, #16]
    `);
    expect(m.execute()).toBeUndefined();
    const buf = m.sym('buf');
    expect(x(m, 1)).toBe(buf + 8n);
    expect(x(m, 2)).toBe(buf + 8n);
    expect(x(m, 3)).toBe(buf + 16n);
    expect(x(m, 4)).toBe(buf);
  });
});

describe('SP as the base register', () => {
  it('works with an aligned SP, with writeback', () => {
    const m = machine(`
      adr x0, buf
      add x0, x0, #128
      mov sp, x0
      movz x29, #0x29
      movz x30, #0x30
      stp x29, x30, [sp, #-16]!
      str x29, [sp, #-8]
      ldr x1, [sp, #8]
      ldp x2, x3, [sp], #16
      mov x4, sp
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 1)).toBe(0x30n);
    expect(x(m, 2)).toBe(0x29n);
    expect(x(m, 3)).toBe(0x30n);
    expect(x(m, 4)).toBe(m.sym('buf') + 128n);
  });

  it('a misaligned SP faults (EC 0x26) only when SCTLR_ELx.SA is set; PRFM never does', () => {
    const body = `
      adr x0, buf
      add x0, x0, #72
      mov sp, x0
      prfm pldl1keep, [sp, #8]
      ldr x1, [sp]
    `;
    const off = machine(body);
    expect(off.execute()).toBeUndefined();

    const on = machine(body);
    on.cpu.sys.set(SCTLR_EL2, on.cpu.sys.lo(SCTLR_EL2) | 8, on.cpu.sys.hi(SCTLR_EL2));
    const e = on.execute();
    expect(e?.esr).toBe(ESR.spAlignment);
    expect(e?.elr).toBe(on.sym('_start') + 16n);
    expect(on.cpu.getSp()).toBe(on.sym('buf') + 72n); // no writeback, nothing loaded
  });

  it('the SP check also covers pairs, exclusives and acquire/release', () => {
    for (const insn of ['ldp x1, x2, [sp]', 'ldxr x1, [sp]', 'stlr x1, [sp]', 'ldr x1, [sp], #16']) {
      const m = machine(`
        adr x0, buf
        add x0, x0, #8
        mov sp, x0
        ${insn}
      `);
      m.cpu.sys.set(SCTLR_EL2, m.cpu.sys.lo(SCTLR_EL2) | 8, 0);
      expect(m.execute()?.esr, insn).toBe(ESR.spAlignment);
    }
  });
});

describe('aborts', () => {
  it('an unaligned access with the MMU off is an alignment fault (Device memory) with FAR = the address', () => {
    const ld = machine('adr x0, buf\nadd x0, x0, #4\nldr x1, [x0]');
    const e1 = ld.execute();
    expect(e1?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT));
    expect(e1?.far).toBe(ld.sym('buf') + 4n);
    expect(e1?.elr).toBe(ld.sym('_start') + 8n);

    const st = machine('adr x0, buf\nmovz x1, #1\nstrh w1, [x0, #3]');
    const e2 = st.execute();
    expect(e2?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT, true));
    expect(e2?.far).toBe(st.sym('buf') + 3n);
  });

  it('an access to an unmapped PA is a synchronous external abort; nothing is written back', () => {
    const m = machine('movz x0, #0x1000\nldr x1, [x0], #8');
    const e = m.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_EXTERNAL));
    expect(e?.far).toBe(0x1000n);
    expect(x(m, 0)).toBe(0x1000n);
  });

  it('a pair whose second element faults changes no register and no memory', () => {
    const m = machine(`
      movz x0, #0x4800, lsl #16   // end of the 128 MiB of RAM
      sub x0, x0, #8
      movz x1, #1
      movz x2, #2
      ldp x1, x2, [x0]
    `);
    const e = m.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_EXTERNAL));
    expect(e?.far).toBe(0x48000000n);
    expect(x(m, 1)).toBe(1n);
    expect(x(m, 2)).toBe(2n);
    const s = machine(`
      movz x0, #0x4800, lsl #16
      sub x0, x0, #8
      movn x1, #0
      stp x1, x1, [x0]
    `);
    expect(s.execute()?.esr).toBe(ESR.dataAbort(DFSC_EXTERNAL, true));
    expect(s.read64(0x48000000n - 8n)).toBe(0n);
  });

  it('LDAR/STLR need natural alignment', () => {
    const m2 = machine('adr x0, buf\nadd x0, x0, #2\nstlr w1, [x0]');
    const e = m2.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT, true));
    expect(e?.far).toBe(m2.sym('buf') + 2n);
  });
});

describe('pairs', () => {
  it('LDP/STP/LDNP/STNP/LDPSW in W and X, every index mode', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #0x8001, lsl #16
      movz x2, #0x7fff
      stp w1, w2, [x0]
      ldpsw x3, x4, [x0]
      ldp w5, w6, [x0]
      mov x10, x0
      stp x1, x2, [x10, #16]!
      ldnp x7, x8, [x0, #16]
      stnp x2, x1, [x0, #32]
      mov x11, x0
      ldp x12, x13, [x11, #32]
      ldp x14, x15, [x11], #32
    `);
    expect(m.execute()).toBeUndefined();
    const buf = m.sym('buf');
    expect(m.read64(buf)).toBe(0x00007fff80010000n);
    expect(x(m, 3)).toBe(0xffffffff80010000n);
    expect(x(m, 4)).toBe(0x7fffn);
    expect(x(m, 5)).toBe(0x80010000n);
    expect(x(m, 6)).toBe(0x7fffn);
    expect(x(m, 10)).toBe(buf + 16n);
    expect(x(m, 7)).toBe(0x80010000n);
    expect(x(m, 8)).toBe(0x7fffn);
    expect(x(m, 12)).toBe(0x7fffn);
    expect(x(m, 13)).toBe(0x80010000n);
    expect(x(m, 14)).toBe(0x00007fff80010000n);
    expect(x(m, 15)).toBe(0n);
    expect(x(m, 11)).toBe(buf + 32n);
  });

  it('LDP with Rt == Rt2 keeps the first element; a loaded base is overwritten by writeback (QEMU\'s choices)', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #1
      movz x2, #2
      stp x1, x2, [x0]
      ldp x3, x3, [x0]
      mov x4, x0
      ldp x4, x5, [x4], #16
      mov x6, x0
      stp x6, x1, [x6, #16]!
      ldr x7, [x0, #16]
    `);
    expect(m.execute()).toBeUndefined();
    const buf = m.sym('buf');
    expect(x(m, 3)).toBe(1n);
    expect(x(m, 4)).toBe(buf + 16n);
    expect(x(m, 5)).toBe(2n);
    expect(x(m, 7)).toBe(buf);
  });

  it('LDPSW with Rt == Rt2 is UNDEFINED (as the table and objdump have it)', () => {
    const m = machine('adr x0, buf\n.inst 0x69400401'); // ldpsw x1, x1, [x0]
    expect(m.execute()?.esr).toBe(ESR.undefined);
  });
});

describe('exclusives', () => {
  it('LDXR arms the monitor; STXR succeeds once, then fails', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #0x42
      ldxr x2, [x0]
      stxr w3, x1, [x0]
      stxr w4, x1, [x0]
      ldr x5, [x0]
    `);
    m.write64(m.sym('buf'), 7n);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(7n);
    expect(x(m, 3)).toBe(0n);
    expect(x(m, 4)).toBe(1n);
    expect(x(m, 5)).toBe(0x42n);
    expect(m.cpu.exclusiveAddress).toBe(-1);
  });

  it('STXR to another address fails, stores nothing and clears the monitor', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #0x42
      add x9, x0, #8
      ldaxr w2, [x0]
      stlxr w3, w1, [x9]
      stxr w4, w1, [x0]
      ldr x5, [x0, #8]
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 3)).toBe(1n);
    expect(x(m, 4)).toBe(1n);
    expect(x(m, 5)).toBe(0n);
  });

  it('byte, halfword and pair exclusives', () => {
    const m = machine(`
      adr x0, buf
      ldxrb w1, [x0]
      movz w9, #0xab
      stxrb w2, w9, [x0]
      add x10, x0, #16
      ldaxp x3, x4, [x10]
      movz x11, #0x11
      movz x12, #0x12
      stlxp w5, x11, x12, [x10]
      add x13, x0, #32
      ldxp w6, w7, [x13]
      movz w14, #0x14
      movz w15, #0x15
      stxp w8, w14, w15, [x13]
      ldxrh w16, [x0]
    `);
    m.write64(m.sym('buf'), 0xff01n);
    m.write64(m.sym('buf') + 16n, 0x1111n);
    m.write64(m.sym('buf') + 24n, 0x2222n);
    m.write64(m.sym('buf') + 32n, 0x0000000400000003n);
    expect(m.execute()).toBeUndefined();
    const buf = m.sym('buf');
    expect(x(m, 1)).toBe(1n);
    expect(x(m, 2)).toBe(0n);
    expect(x(m, 3)).toBe(0x1111n);
    expect(x(m, 4)).toBe(0x2222n);
    expect(x(m, 5)).toBe(0n);
    expect(m.read64(buf + 16n)).toBe(0x11n);
    expect(m.read64(buf + 24n)).toBe(0x12n);
    expect(x(m, 6)).toBe(3n);
    expect(x(m, 7)).toBe(4n);
    expect(x(m, 8)).toBe(0n);
    expect(m.read64(buf + 32n)).toBe(0x0000001500000014n);
    expect(x(m, 16)).toBe(0xffabn);
  });

  it('an unaligned exclusive is an alignment fault (pairs: aligned to the pair)', () => {
    const m = machine('adr x0, buf\nadd x0, x0, #8\nldxp x1, x2, [x0]');
    const e = m.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT));
    expect(e?.far).toBe(m.sym('buf') + 8n);
    const s = machine('adr x0, buf\nadd x0, x0, #4\nstxr w3, x1, [x0]');
    expect(s.execute()?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT, true));
  });

  it('an exception clears the monitor', () => {
    const m = machine('adr x0, buf\nldxr x1, [x0]\nldr x2, [x0, #1]');
    const e = m.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT));
    expect(m.cpu.exclusiveAddress).toBe(-1);
  });
});

describe('acquire/release and RCpc', () => {
  it('LDAR/STLR/LDLAR/STLLR/LDAPR are ordinary accesses on one PE', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #0x1234
      stlr x1, [x0]
      ldar x2, [x0]
      stlrb w1, [x0]
      ldarb w3, [x0]
      stllrh w1, [x0]
      ldlar w4, [x0]
      ldapr x5, [x0]
      ldaprb w6, [x0]
    `, CORTEX_A76);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(0x1234n);
    expect(x(m, 3)).toBe(0x34n);
    expect(x(m, 4)).toBe(0x1234n);
    expect(x(m, 5)).toBe(0x1234n);
    expect(x(m, 6)).toBe(0x34n);
  });

  it('features: LDAPR and LDLAR are UNDEFINED on cortex-a57, LDAPUR (LRCPC2) on both models', () => {
    for (const [insn, model, undef] of [
      ['ldapr x1, [x0]', CORTEX_A57, true],
      ['ldlar x1, [x0]', CORTEX_A57, true],
      ['ldar x1, [x0]', CORTEX_A57, false],
      ['ldapur x1, [x0, #8]', CORTEX_A76, true],
      ['stlur x1, [x0, #8]', CORTEX_A57, true],
    ] as const) {
      const m = machine(`adr x0, buf\n${insn}`, model);
      const e = m.execute();
      expect(e?.esr, `${insn} on ${model.name}`).toBe(undef ? ESR.undefined : undefined);
    }
  });
});

describe('unprivileged loads and stores', () => {
  it('behave as normal accesses at EL2 and with the MMU off', () => {
    const m = machine(`
      adr x0, buf
      movz x1, #0xfe
      sttrb w1, [x0, #1]
      ldtrsb x2, [x0, #1]
      ldtr x3, [x0]
      sttr w1, [x0, #8]
      ldtrsw x4, [x0, #8]
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(0xfffffffffffffffen);
    expect(x(m, 3)).toBe(0xfe00n);
    expect(x(m, 4)).toBe(0xfen);
  });
});

describe('LSE atomics', () => {
  const program = `
    adr x0, buf
    movz x1, #5
    movz x2, #9
    str x1, [x0]
    cas x1, x2, [x0]          // equal: stores 9, x1 = 5
    cas x1, x2, [x0]          // 9 != 5: no store, x1 = 9
    ldr x3, [x0]
    movz w4, #0x80
    strb w4, [x0, #8]
    movz w5, #0x7f
    add x9, x0, #8
    ldsmaxb w5, w6, [x9]      // signed: 0x7f > -128: memory = 0x7f, w6 = 0x80
    ldrb w7, [x9]
    movz w10, #0x90
    ldumaxalb w10, w11, [x9]  // unsigned: 0x90 > 0x7f
    ldrb w12, [x9]
    movz x13, #3
    add x14, x0, #16
    str x13, [x14]
    movz x15, #10
    ldadd x15, x16, [x14]
    stadd x15, [x14]
    ldr x17, [x14]
    movn x18, #0
    ldclral x18, x19, [x14]
    ldr x20, [x14]
    movz x21, #0xf0
    ldset x21, x22, [x14]
    ldeor x21, x23, [x14]
    ldr x24, [x14]
    movz w25, #0x77
    swpl w25, w26, [x14]
    ldr x27, [x14]
    movn x28, #5             // -6
    ldsmin x28, x29, [x14]
    ldr x30, [x14]
  `;

  it('CAS, LD<op>, ST<op> and SWP return the old value and update memory (cortex-a76)', () => {
    const m = machine(program, CORTEX_A76);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 1)).toBe(9n);
    expect(x(m, 3)).toBe(9n);
    expect(x(m, 6)).toBe(0x80n);
    expect(x(m, 7)).toBe(0x7fn);
    expect(x(m, 11)).toBe(0x7fn);
    expect(x(m, 12)).toBe(0x90n);
    expect(x(m, 16)).toBe(3n);
    expect(x(m, 17)).toBe(23n);
    expect(x(m, 19)).toBe(23n);
    expect(x(m, 20)).toBe(0n);
    expect(x(m, 22)).toBe(0n);
    expect(x(m, 23)).toBe(0xf0n);
    expect(x(m, 24)).toBe(0n);
    expect(x(m, 26)).toBe(0n);
    expect(x(m, 27)).toBe(0x77n);
    expect(x(m, 29)).toBe(0x77n);
    expect(x(m, 30)).toBe(0xfffffffffffffffan);
  });

  it('CASP compares and swaps a pair; W forms zero-extend', () => {
    const m = machine(`
      adr x0, buf
      movz x2, #1
      movz x3, #2
      stp x2, x3, [x0]
      movz x4, #0xa
      movz x5, #0xb
      caspal x2, x3, x4, x5, [x0]
      ldp x6, x7, [x0]
      add x8, x0, #16
      movz w10, #0x10
      movz w11, #0x20
      movn x12, #0
      movn x13, #0
      casp w12, w13, w10, w11, [x8]   // memory 0 != -1: no store, w12/w13 = 0
      movn x14, #0
      casb w14, w10, [x8]
      ldr x15, [x8]
    `, CORTEX_A76);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(1n);
    expect(x(m, 3)).toBe(2n);
    expect(x(m, 6)).toBe(0xan);
    expect(x(m, 7)).toBe(0xbn);
    expect(x(m, 12)).toBe(0n);
    expect(x(m, 13)).toBe(0n);
    expect(x(m, 14)).toBe(0n);
    expect(x(m, 15)).toBe(0n); // 0xff != 0: no store
  });

  it('atomics must be aligned (alignment fault, WnR = 1)', () => {
    const m = machine('adr x0, buf\nadd x0, x0, #4\nldadd x1, x2, [x0]', CORTEX_A76);
    const e = m.execute();
    expect(e?.esr).toBe(ESR.dataAbort(DFSC_ALIGNMENT, true));
    expect(e?.far).toBe(m.sym('buf') + 4n);
  });

  it('are UNDEFINED on cortex-a57 (no FEAT_LSE)', () => {
    for (const insn of ['cas x1, x2, [x0]', 'casp x2, x3, x4, x5, [x0]', 'swp x1, x2, [x0]', 'ldadd x1, x2, [x0]', 'stumin w1, [x0]']) {
      const m = machine(`adr x0, buf\n${insn}`, CORTEX_A57);
      const e = m.execute();
      expect(e?.esr, insn).toBe(ESR.undefined);
      expect(e?.elr).toBe(m.sym('_start') + 4n);
    }
  });
});

describe('stores into code', () => {
  it('a store over an already-decoded instruction is seen when it runs again', () => {
    const m = machine(`
      adr x0, patch
      ldr w1, newinsn
      movz x2, #0
      movz x5, #2
    again:
      patch: add x2, x2, #1
      str w1, [x0]
      subs x5, x5, #1
      b.ne again
      b done
    newinsn: add x2, x2, #0x100
    `);
    expect(m.execute()).toBeUndefined();
    expect(x(m, 2)).toBe(0x101n);
  });

  it('data stores into a page that holds code keep its decoded instructions', () => {
    const m = machine(`
      adr x0, buf
      movz x5, #100
    loop:
      str x5, [x0]
      stp x5, x5, [x0, #16]
      strb w5, [x0, #40]
      subs x5, x5, #1
      b.ne loop
    `);
    run(m.cpu, 10); // decode the loop
    const generation = m.cpu.decodeCache.generation;
    expect(m.execute()).toBeUndefined();
    expect(m.cpu.decodeCache.generation).toBe(generation);
    expect(m.read64(m.sym('buf') + 16n)).toBe(1n);
  });
});

describe('memory-port plumbing for the MMU', () => {
  /** A translation unit that maps fetches flat and turns every data access into a fault carrying port.accessSyndrome. */
  function faultingMmu(m: Machine, seen: { unprivileged: boolean[] }): TranslationUnit {
    const port = m.cpu.port;
    return {
      translate(vaLo, vaHi, access, size) {
        if (access === Access.Fetch) return (vaHi >>> 0) * 2 ** 32 + (vaLo >>> 0);
        seen.unprivileged.push(port.unprivileged);
        port.fault(vaLo, vaHi, access, 0b000111 /* translation fault, level 3 */, size, port.accessSyndrome);
        return -1;
      },
      tlbi() {},
      addressTranslate() {},
      translationControlChanged() {},
    };
  }

  const syndromeOf = (body: string, el = 2) => {
    const m = machine(`adr x1, buf\n${body}`);
    const seen = { unprivileged: [] as boolean[] };
    m.cpu.port.mmu = faultingMmu(m, seen);
    if (el === 1) {
      m.cpu.el = 1;
      m.cpu.syncStackPointer();
      m.cpu.sys.set(SCTLR_EL1, m.cpu.sys.lo(SCTLR_EL1) | 1, 0);
    } else {
      m.cpu.sys.set(SCTLR_EL2, m.cpu.sys.lo(SCTLR_EL2) | 1, 0);
    }
    const e = m.execute();
    return { iss: (e?.esr ?? 0) & 0x1ffffff, unprivileged: seen.unprivileged[0] };
  };

  it('single-register accesses without writeback offer the instruction syndrome (ISV, SAS, SSE, SRT, SF, AR)', () => {
    expect(syndromeOf('ldrsh x3, [x1]').iss).toBe((1 << 24) | (1 << 22) | (1 << 21) | (3 << 16) | (1 << 15) | 0b000111);
    expect(syndromeOf('strb w7, [x1, #1]').iss).toBe((1 << 24) | (7 << 16) | (1 << 6) | 0b000111);
    expect(syndromeOf('stlr w2, [x1]').iss).toBe((1 << 24) | (2 << 22) | (2 << 16) | (1 << 14) | (1 << 6) | 0b000111);
    expect(syndromeOf('ldr xzr, [x1, x2]').iss).toBe((1 << 24) | (3 << 22) | (31 << 16) | (1 << 15) | 0b000111);
  });

  it('writeback forms, pairs, exclusives and atomics have none', () => {
    expect(syndromeOf('ldr x3, [x1], #8').iss).toBe(0b000111);
    expect(syndromeOf('ldp x3, x4, [x1]').iss).toBe(0b000111);
    expect(syndromeOf('ldxr x3, [x1]').iss).toBe(0b000111);
  });

  it('LDTR is unprivileged at EL1 and not at EL2 (without E2H/TGE)', () => {
    expect(syndromeOf('ldtr x3, [x1]', 1).unprivileged).toBe(true);
    expect(syndromeOf('ldr x3, [x1]', 1).unprivileged).toBe(false);
    expect(syndromeOf('ldtr x3, [x1]', 2).unprivileged).toBe(false);
  });
});

describe('with the EL2 MMU on (stage 1, identity map, Normal memory)', () => {
  /** Identity-maps the 128 MiB of RAM with 2 MiB blocks and turns the EL2 MMU on; `extra` adds mappings. */
  function mmuOn(m: Machine, extra?: (t: Tables) => void): void {
    const t = new Tables(m.memory, 12, 39, 0x47000000n);
    t.identity(0x40000000n, 0x8000000n, 2, S1_DEFAULT);
    extra?.(t);
    enableEl2(m.cpu, t);
  }

  const program = `
    adr x0, buf
    add x0, x0, #128
    mov sp, x0
    movz x1, #0x8081
    movk x1, #0x8283, lsl #16
    movk x1, #0x8485, lsl #32
    movk x1, #0x8687, lsl #48
    str x1, [x0]
    str w1, [x0, #8]
    strh w1, [x0, #12]
    strb w1, [x0, #14]
    ldr x2, [x0]
    ldrsw x3, [x0, #8]
    ldrsh x4, [x0, #12]
    ldrsb w5, [x0, #14]
    ldur x6, [x0, #-8]
    movz x7, #2
    ldr x8, [x0, x7, lsl #3]
    stp x1, x2, [sp, #-16]!
    ldp x9, x10, [sp], #16
    ldr x11, [x0, #8]!
    str x1, [x0], #-8
    ldpsw x12, x13, [x0]
    ldr x14, [x0, #3]          // unaligned: fine on Normal memory
    add x15, x0, #0x1000
    and x15, x15, #~0xfff
    sub x15, x15, #4
    str x1, [x15]              // crosses a page
    ldr x16, [x15]
    add x22, x15, #2
    ldp w17, w18, [x22]        // the pair's first element straddles the page boundary
    ldxr x19, [x0]
    stxr w20, x1, [x0]
    mov x21, sp
  `;

  it('gives the same results as with the MMU off (fast ops through port.translate)', () => {
    // the same program without the unaligned accesses, which fault with the MMU off (Device memory)
    const aligned = program.split('\n').map((l) => (/x1[4-8]|x22/.test(l) && !/add x15|and x15|sub x15/.test(l) ? 'nop' : l)).join('\n');
    const off = machine(aligned);
    expect(off.execute()).toBeUndefined();
    const on = machine(program);
    mmuOn(on);
    expect(on.execute()).toBeUndefined();
    for (let n = 0; n <= 21; n++) {
      if (n >= 14 && n <= 18) continue;
      expect(hex(x(on, n)), `x${n}`).toBe(hex(x(off, n)));
    }
    expect(x(on, 20)).toBe(0n);
    const x1 = x(on, 1), mask = (1n << 64n) - 1n;
    expect(hex(x(on, 14))).toBe(hex(((x1 >> 24n) | (x1 << 40n)) & mask));
    expect(hex(x(on, 16))).toBe(hex(x1));
    expect(hex(x(on, 17))).toBe(hex((x1 >> 16n) & 0xffffffffn));
    expect(hex(x(on, 18))).toBe(hex(x1 >> 48n));
  });

  it('a page mapped to a device: the fast ops find the PA outside RAM and run the handler', () => {
    const m = machine(`
      movz x0, #0x8000, lsl #16     // VA 0x80000000: the PL011's page
      ldr w1, [x0, #0xfe0]          // UARTPeriphID0 (a fast-array miss)
      ldr w2, [x0, #0xff0]          // UARTPCellID0 (a fast-array hit)
      add x5, x0, #0xfe0
      ldp w3, w4, [x5]              // PeriphID0, PeriphID1
    `);
    mmuOn(m, (t) => t.map(0x80000000n, 0x09000000n, 3, S1_DEFAULT));
    expect(m.execute()).toBeUndefined();
    expect([x(m, 1), x(m, 2), x(m, 3), x(m, 4)]).toEqual([0x11n, 0x0dn, 0x11n, 0x10n]);
  });

  it('RAM above 2 GiB (PAs beyond a small integer) through the inline fast path', () => {
    // EL2 identity-maps the 1 GiB at 0x8000_0000 with one block, then loads and stores through it.
    const base = 0x80080000n;
    const src = `
      mov x0, #0xff
      msr mair_el2, x0
      ldr x0, =0x80843519           // T0SZ 25, 4 KiB granule, 44-bit PA
      msr tcr_el2, x0
      adr x0, l1
      msr ttbr0_el2, x0
      isb
      mrs x0, sctlr_el2
      orr x0, x0, #1
      msr sctlr_el2, x0
      isb
      adr x4, buf
      ldr x1, =0x8182838485868788
      str x1, [x4]
      ldr x2, [x4]
      ldrsw x3, [x4, #4]
      stp x1, x2, [x4, #16]!
      ldp x5, x6, [x4], #8
      strh w1, [x4, #2]
      ldrh w7, [x4, #2]
    done: b done
      .balign 64
    buf: .fill 8, 8, 0
      .balign 4096
    l1: .quad 0, 0, 0x80000701, 0   // L1[2]: the 1 GiB block at 0x8000_0000, Normal, AF
    `;
    const r = assemble(src, { file: 't.s' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const img = linkFlat(r, base);
    const vm = createVirtMachine({ ramSize: 2 * 1024 * 1024 * 1024 });
    vm.memory.writeBytes(Number(base), img.bytes);
    expect(vm.memory.setFastWindow(Number(base))).toBe(true);
    expect(vm.memory.ramBase).toBe(0x80000000);
    const cpu = new Cpu(vm.memory, CORTEX_A57);
    cpu.setPc(base);
    run(cpu, 1000);
    expect(cpu.getPc()).toBe(img.symbols.get('done'));
    const buf = img.symbols.get('buf')!;
    expect(hex(cpu.getX(2))).toBe('0x8182838485868788');
    expect(hex(cpu.getX(3))).toBe('0xffffffff81828384');
    expect([hex(cpu.getX(5)), hex(cpu.getX(6))]).toEqual(['0x8182838485868788', '0x8182838485868788']);
    expect(hex(cpu.getX(4))).toBe(hex(buf + 24n));
    expect(cpu.getX(7)).toBe(0x8788n);
    expect(vm.memory.read32(Number(buf + 26n)) & 0xffff).toBe(0x8788);
  });

  it('a store to a read-only page is a permission fault with FAR and WnR, and no instruction syndrome (stage 1)', () => {
    const m = machine(`
      movz x0, #0x8000, lsl #16     // VA 0x80000000: buf's page, read-only
      add x0, x0, #0x40
      ldr x1, [x0]
      str x1, [x0, #8]
    `);
    mmuOn(m, (t) => t.map(0x80000000n, (m.sym('buf') & ~0xfffn), 3, S1_DEFAULT | AP_RO_ALL));
    m.write64(m.sym('buf'), 0x1234n);
    const e = m.execute();
    expect(x(m, 1)).toBe(0x1234n);
    expect((e!.esr >>> 26) & 0x3f).toBe(0x25);
    expect(e!.esr & (1 << 6)).not.toBe(0); // WnR
    expect(e!.esr & (1 << 24)).toBe(0); // ISV: stage-1 aborts carry no instruction syndrome
    expect((e!.esr & 0x3c)).toBe(0x0c); // permission fault
    expect(e!.far).toBe(0x80000048n);
  });
});

/**
 * The recorder: what each record carries (changed X/SP/NZCV/PSTATE/FP-SIMD
 * registers, system registers written, memory accesses, symbol+offset) and
 * the events (exception entry with EC/ESR/FAR/ELR/vector, eret, TLB
 * maintenance, PSCI and host-function calls, exceptions taken before an
 * instruction retires); the binary and JSON-lines outputs of one run agree.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { convertTrace } from '../../src/trace/convert.js';
import { diffTraces } from '../../src/trace/diff.js';
import { BASE, POWER_OFF, buildImage, readJsonl, recordImage, tempDir } from './trace-support.js';

const { dir, cleanup } = tempDir('trace-rec-');
afterAll(cleanup);

const PROGRAM = `
.globl _start
_start:
  adr x1, vectors
  msr vbar_el2, x1
  fmov d1, #1.5
  msr daifclr, #2
  msr daifset, #2
  tlbi alle2
  dsb sy
  movz x2, #0x4010, lsl #16
  movz x9, #0x1122, lsl #16
  movk x9, #0x3344
  str x9, [x2]
  ldr x3, [x2]
  stp x9, x3, [x2, #16]
  ldp x4, x5, [x2, #16]
  ldrb w6, [x2, #1]
  strh w6, [x2, #4]
  str q1, [x2, #32]
  mov x0, #0
  hvc #7
after_hvc:
  cmp x0, #0
  ${POWER_OFF}
.balign 2048
vectors:
.org vectors + 0x200
  mrs x8, esr_el2
  eret
`;

describe('recorder', () => {
  const image = buildImage(PROGRAM);
  const jsonl = join(dir, 'prog.jsonl');
  const run = recordImage(image.elf, jsonl, { memory: true });
  const lines = readJsonl(jsonl);
  const insn = (asm: RegExp) => lines.find((l) => l['event'] === undefined && asm.test(l['asm'] ?? ''))!;

  it('runs to PSCI SYSTEM_OFF and writes start, instruction, event and end records', () => {
    expect(run.reason.kind).toBe('psci-off');
    expect(lines[0]).toMatchObject({ event: 'start', pc: '0x40080000', el: 2, pstate: '0x3c9', source: 'pkvm-lab' });
    expect(Object.keys(lines[0]!['regs'])).toHaveLength(33); // the issue-3 start record: x0-x30, sp, nzcv
    expect(Object.keys(lines[0]!['fpregs'])).toHaveLength(34);
    expect(lines[0]!['features']).toEqual(['pstate', 'fp', 'sys', 'psci', 'tlbi', 'mem', 'host']);
    expect(lines[0]!['symbols']['_start']).toBe('0x40080000');
    expect(lines.at(-1)).toEqual({ event: 'end', reason: 'psci-off', insns: run.insns });
    expect(lines[1]).toMatchObject({ i: 0, pc: '0x40080000', el: 2, insn: expect.stringMatching(/^0x[0-9a-f]{8}$/), asm: expect.stringMatching(/^adr\tx1, 40080800 <vectors>$/), sym: '_start', regs: { x1: '0x40080800' } });
  });

  it('records system-register writes, FP/SIMD and PSTATE changes', () => {
    expect(insn(/^msr\tvbar_el2/)).toMatchObject({ regs: {}, sys: { vbar_el2: '0x40080800' } });
    expect(insn(/^fmov\td1/)['regs']).toEqual({ v1: '0x3ff8000000000000' });
    expect(insn(/^msr\tdaifclr/)['regs']).toEqual({ pstate: '0x349' });
    expect(insn(/^msr\tdaifset/)['regs']).toEqual({ pstate: '0x3c9' });
    expect(insn(/^cmp\tx0, #0x0/)['regs']).toEqual({ nzcv: '0x6' });
  });

  it('records memory accesses with address, size and value, also for the interpreter\'s inline load/store ops', () => {
    expect(insn(/^str\tx9, \[x2\]$/)['mem']).toEqual([{ rw: 'w', addr: '0x40100000', size: 8, value: '0x11223344' }]);
    expect(insn(/^ldr\tx3/)).toMatchObject({ regs: { x3: '0x11223344' }, mem: [{ rw: 'r', addr: '0x40100000', size: 8, value: '0x11223344' }] });
    expect(insn(/^stp\tx9, x3/)['mem']).toEqual([
      { rw: 'w', addr: '0x40100010', size: 8, value: '0x11223344' },
      { rw: 'w', addr: '0x40100018', size: 8, value: '0x11223344' },
    ]);
    expect(insn(/^ldp\tx4, x5/)['mem']).toHaveLength(2);
    expect(insn(/^ldrb\tw6/)).toMatchObject({ regs: { x6: '0x33' }, mem: [{ rw: 'r', addr: '0x40100001', size: 1, value: '0x33' }] });
    expect(insn(/^strh\tw6/)['mem']).toEqual([{ rw: 'w', addr: '0x40100004', size: 2, value: '0x33' }]);
    const q = insn(/^str\tq1/)['mem'];
    expect(q.map((m: any) => m.value)).toEqual(['0x3ff8000000000000', '0x0']);
  });

  it('records events: TLB maintenance, exception entry with EC/ESR/ELR/vector, eret, PSCI', () => {
    const events = lines.filter((l) => l['event'] && !['start', 'end'].includes(l['event']));
    const tlbi = insn(/^tlbi\talle2/);
    expect(events[0]).toEqual({ event: 'tlbi', i: tlbi['i'], op: 'alle2', xt: '0x0' });
    const hvc = insn(/^hvc/);
    expect(hvc['regs']).toEqual({});
    const elr = `0x${(BigInt(hvc['pc']) + 4n).toString(16)}`;
    expect(events[1]).toMatchObject({
      event: 'exception', i: hvc['i'], from_el: 2, to_el: 2, esr: '0x5a000007', ec: '0x16', elr,
      pc: '0x40080a00', vector: '0x200', from_pc: hvc['pc'],
      sys: { spsr_el2: '0x400003c9', elr_el2: elr, esr_el2: '0x5a000007' },
    });
    expect(events[2]).toMatchObject({ event: 'eret', from_el: 2, to_el: 2, pc: expect.any(String) });
    expect(events[3]).toMatchObject({ event: 'psci', conduit: 'smc', fn: '0x84000008', from_el: 2 });
    expect(events).toHaveLength(4);
  });

  it('recording memory accesses does not change execution; binary and JSON lines hold the same run', () => {
    const bin = join(dir, 'prog.bin');
    recordImage(image.elf, bin, { memory: false });
    const out: string[] = [];
    expect(diffTraces(jsonl, bin, {}, (l) => out.push(l)).same).toBe(true);
    // with memory accesses on both sides, those are compared too
    const bin2 = join(dir, 'prog-mem.bin');
    recordImage(image.elf, bin2, { memory: true });
    expect(diffTraces(jsonl, bin2, {}, () => {}).same).toBe(true);
    const back = join(dir, 'prog-back.jsonl');
    convertTrace(bin2, back, { to: 'jsonl' });
    expect(readJsonl(back)).toEqual(lines);
  });

  it('records a host-function call: the instruction record names the function, an event carries args and result', () => {
    const img = buildImage(`
.globl _start
_start:
  mov x0, #40
  mov x1, #2
  bl helper
  mov x5, x0
  ${POWER_OFF}
helper:
  add x0, x0, x1
  ret
`);
    const path = join(dir, 'host.jsonl');
    const r = recordImage(img.elf, path, { setup: (emu) => { emu.hostFunction('helper', (args) => args[0]! + args[1]!); } });
    expect(r.reason.kind).toBe('psci-off');
    const l = readJsonl(path);
    const at = l.findIndex((x) => x['host'] === 'helper');
    const helper = `0x${img.symbols.get('helper')!.toString(16)}`;
    expect(l[at]).toMatchObject({ pc: helper, host: 'helper', regs: { x0: '0x2a' } });
    expect(l[at]!['insn']).toBeUndefined();
    expect(l[at + 1]).toMatchObject({ event: 'host-call', i: l[at]!['i'], name: 'helper', addr: helper, result: '0x2a' });
    expect(l[at + 1]!['args'].slice(0, 2)).toEqual(['0x28', '0x2']);
    expect(l[at + 2]).toMatchObject({ asm: 'mov\tx5, x0', regs: { x5: '0x2a' } });
  });

  it('records an aborted instruction fetch: a record without encoding at the PC, then the instruction abort', () => {
    const img = buildImage(`
.globl _start
_start:
  adr x1, vectors
  msr vbar_el2, x1
  movz x0, #1, lsl #48
  br x0
.balign 2048
vectors:
.org vectors + 0x200
  mrs x8, esr_el2
  mrs x9, far_el2
  ${POWER_OFF}
`);
    const path = join(dir, 'abort.jsonl');
    expect(recordImage(img.elf, path).reason.kind).toBe('psci-off');
    const l = readJsonl(path);
    const br = l.findIndex((x) => /^br\t/.test(x['asm'] ?? ''));
    // The fetch at 2^48 faults (address size): the interpreter counts the attempt as a step.
    expect(l[br + 1]).toEqual({ i: l[br]!['i'] + 1, pc: '0x1000000000000', el: 2, regs: {} });
    expect(l[br + 2]).toMatchObject({ event: 'exception', i: l[br]!['i'] + 1, from_pc: '0x1000000000000', ec: '0x21', esr: '0x86000000', far: '0x1000000000000' });
    expect(l[br + 3]).toMatchObject({ i: l[br]!['i'] + 2, asm: 'mrs\tx8, esr_el2' });
    const bin = join(dir, 'abort.bin');
    convertTrace(path, bin, { to: 'bin' });
    expect(diffTraces(path, bin, {}, () => {}).same).toBe(true);
  });
});

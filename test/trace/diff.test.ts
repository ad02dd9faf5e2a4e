/**
 * `trace diff` on real traces: our runs of the QEMU fixture programs
 * against QEMU 7.2's logs of them (test/fixtures/qemu, captured from the
 * real QEMU) agree, with QEMU's documented deviations tolerated by name;
 * intentionally perturbed traces report the first divergence at the right
 * instruction with the right registers; --ignore, --ignore-range, --resync,
 * --exceptions-only, filters and context; different programs and cut files
 * are input errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertTrace } from '../../src/trace/convert.js';
import { DiffInputError, diffTraces, type DiffOptions, type DiffSummary } from '../../src/trace/diff.js';
import { TraceFormatError, regId } from '../../src/trace/model.js';
import { POWER_OFF, ROOT, buildImage, readJsonl, recordImage, tempDir } from './trace-support.js';

const { dir, cleanup } = tempDir('trace-diff-');
afterAll(cleanup);
const FIX = join(ROOT, 'test/fixtures/qemu');

function diff(a: string, b: string, opts: DiffOptions = {}): { s: DiffSummary; out: string } {
  const lines: string[] = [];
  const s = diffTraces(a, b, opts, (l) => lines.push(l));
  return { s, out: lines.join('\n') };
}

/** Our trace of a fixture program (built as the fixture's README says), in the given format. */
function ours(name: string, ext = 'jsonl'): string {
  const path = join(dir, `${name}.${ext}`);
  const r = recordImage(buildImage(readFileSync(join(FIX, `${name}.s`), 'utf8')).elf, path);
  expect(r.reason.kind).toBe('psci-off');
  return path;
}

function writeJsonl(path: string, lines: Record<string, any>[]): string {
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

describe('trace diff against QEMU 7.2 logs', () => {
  it.each(['basic', 'exceptions', 'fpu'])('our run of %s.s agrees with QEMU\'s log of it', (name) => {
    for (const ext of ['jsonl', 'bin']) {
      const { s, out } = diff(ours(name, ext), join(FIX, `${name}.log`));
      expect(out).toMatch(/the traces agree/);
      expect(s.same).toBe(true);
      expect(s.divergences).toBe(0);
      expect(s.compared).toBeGreaterThan(10);
    }
  });

  it('tolerates exactly the documented deviations in the exceptions fixture, by name', () => {
    const { s, out } = diff(ours('exceptions'), join(FIX, 'exceptions.log'));
    // The EL2 data abort: QEMU's ESR has ISV=1 (0x97c38010, ours 0x96000010), once in the event and once in x10 (mrs).
    // NZCV: QEMU cleared Z on that entry, ours kept it.
    expect(s.tolerated).toEqual({ 'qemu-isv-el2-data-abort': 2, 'qemu-nzcv-exception-entry': 1 });
    expect(out).toMatch(/tolerated QEMU deviations: qemu-isv-el2-data-abort x2, qemu-nzcv-exception-entry x1/);
    expect(s.boundaries).toBe(7);
    // Our trace against itself through the other format: nothing to tolerate.
    const bin = join(dir, 'exc-conv.bin');
    convertTrace(join(dir, 'exceptions.jsonl'), bin, { to: 'bin' });
    expect(diff(join(dir, 'exceptions.jsonl'), bin).s.tolerated).toEqual({});
  });

  it('the rules do not loosen anything else: an ESR that differs in another field is a divergence', () => {
    const lines = readJsonl(ours('exceptions'));
    const ev = lines.find((l) => l['event'] === 'exception' && l['ec'] === '0x16')!;
    ev['esr'] = '0x5a000013'; // HVC immediate 0x12 -> 0x13
    const { s, out } = diff(writeJsonl(join(dir, 'esr.jsonl'), lines), join(FIX, 'exceptions.log'));
    expect(s.same).toBe(false);
    expect(s.first).toMatchObject({ kind: 'events', a: ev['i'], b: ev['i'] });
    expect(out).toMatch(/exception: esr A 0x5a000013 B 0x5a000012/);
  });

  it('an intentionally perturbed register value is reported at the instruction that produced it', () => {
    const path = ours('exceptions');
    const lines = readJsonl(path);
    const target = lines.find((l) => l['asm'] === 'mov\tx4, #0x44')!;
    target['regs'] = { x4: '0x45' };
    const bad = writeJsonl(join(dir, 'perturbed.jsonl'), lines);
    for (const other of [join(FIX, 'exceptions.log'), path]) {
      const { s, out } = diff(bad, other);
      expect(s.same).toBe(false);
      expect(s.divergences).toBe(1);
      expect(s.first).toEqual({ kind: 'registers', a: target['i'], b: target['i'], registers: ['x4'] });
      expect(out).toMatch(new RegExp(`first divergence \\(registers\\) at A#${target['i']} / B#${target['i']} at 0x40080034 <el1_entry> EL1: mov x4, #0x44`));
      expect(out).toMatch(/x4 +A 0x0000000000000045 +B 0x0000000000000044 +\(bit 0\)/);
      expect(out).toMatch(/control flow: had not diverged/);
    }
    // The same perturbation in QEMU's log: X04 in the dump after that instruction.
    const log = readFileSync(join(FIX, 'exceptions.log'), 'utf8').split('\n');
    const dumpAfter = log.findIndex((l) => l.includes(' PC=0000000040080038'));
    const x04 = log.findIndex((l, k) => k > dumpAfter && l.includes('X04=0000000000000044'));
    log[x04] = log[x04]!.replace('X04=0000000000000044', 'X04=0000000000000064');
    const badLog = join(dir, 'perturbed.log');
    writeFileSync(badLog, log.join('\n'));
    const q = diff(path, badLog);
    expect(q.s.first).toEqual({ kind: 'registers', a: target['i'], b: target['i'], registers: ['x4'] });
    expect(q.out).toMatch(/x4 +A 0x0000000000000044 +B 0x0000000000000064 +\(bit 5\)/);
  });

  it('shows N instructions of context on both sides, marking the divergent one', () => {
    const lines = readJsonl(ours('exceptions'));
    const target = lines.find((l) => l['asm'] === 'mov\tx4, #0x44')!;
    target['regs'] = { x4: '0x45' };
    const { out } = diff(writeJsonl(join(dir, 'ctx.jsonl'), lines), join(FIX, 'exceptions.log'), { context: 2 });
    const ctxA = out.split('context B')[0]!.split('context A')[1]!.split('\n').filter((l) => /^ {2}[ >] #/.test(l));
    const ctxB = out.split('context B')[1]!.split('\n').filter((l) => /^ {2}[ >] #/.test(l));
    for (const ctx of [ctxA, ctxB]) {
      expect(ctx).toHaveLength(5);
      expect(ctx[2]).toMatch(new RegExp(`^  > #${target['i']} +0x40080034`));
    }
    expect(ctxA[2]).toMatch(/mov x4, #0x44 +x4=0x45/);
    // QEMU's side has no encodings: the disassembly is borrowed from ours at the same PC.
    expect(ctxB[2]).toMatch(/mov x4, #0x44 +x4=0x44/);
  });

  it('a perturbed PC is a control-flow divergence after the instruction before it', () => {
    const path = ours('exceptions');
    const lines = readJsonl(path);
    const k = lines.findIndex((l) => l['asm'] === 'mov\tx4, #0x44');
    lines[k + 1]!['pc'] = '0x40080100';
    const { s, out } = diff(writeJsonl(join(dir, 'cf.jsonl'), lines), path);
    expect(s.first).toMatchObject({ kind: 'control flow', a: lines[k]!['i'], b: lines[k]!['i'] });
    expect(out).toMatch(/A goes to 0x40080100 .*B to 0x40080038/);
    expect(s.controlFlow).toHaveLength(1);
  });

  it('--ignore and --ignore-range leave out exactly what they name', () => {
    const path = ours('exceptions');
    const lines = readJsonl(path);
    const target = lines.find((l) => l['asm'] === 'mov\tx4, #0x44')!;
    target['regs'] = { x4: '0x45' };
    const bad = writeJsonl(join(dir, 'ign.jsonl'), lines);
    expect(diff(bad, join(FIX, 'exceptions.log'), { ignore: [4] }).s.same).toBe(true);
    expect(diff(bad, join(FIX, 'exceptions.log'), { ignore: [5] }).s.same).toBe(false);
    // Ignoring the instruction's address does not hide its effect on the state afterwards…
    const r = diff(bad, join(FIX, 'exceptions.log'), { ignoreRanges: [[0x40080034n, 0x40080034n]] });
    expect(r.s.first?.registers).toEqual(['x4']);
    expect(r.out).toMatch(/steps not compared/);
    // …unless the register is overwritten with agreeing values before the traces leave the range.
    expect(diff(bad, path, { ignoreRanges: [[0x40080034n, 0x40080034n]], ignore: [4] }).s.same).toBe(true);
  });

  it('--exceptions-only compares the exception boundaries and the state right after each', () => {
    const path = ours('exceptions');
    const { s } = diff(path, join(FIX, 'exceptions.log'), { exceptionsOnly: true });
    expect(s.same).toBe(true);
    expect(s.boundaries).toBe(7);
    // A difference between boundaries that is overwritten before the next one is not seen…
    const lines = readJsonl(path);
    const t = lines.find((l) => l['asm'] === 'mov\tx1, #0x3c5')!;
    t['regs'] = { x1: '0x3c4' };
    const bad = writeJsonl(join(dir, 'exo.jsonl'), lines);
    expect(diff(bad, path).s.same).toBe(false);
    expect(diff(bad, path, { exceptionsOnly: true }).s.same).toBe(true);
    // …a different ELR is.
    const e = lines.find((l) => l['event'] === 'exception' && l['ec'] === '0x15')!;
    e['elr'] = '0x40080040';
    const r = diff(writeJsonl(join(dir, 'exo2.jsonl'), lines), path, { exceptionsOnly: true });
    expect(r.s.first?.kind).toBe('events');
    expect(r.out).toMatch(/elr A 0x40080040 B 0x4008003c/);
  });

  it('filters: first N, address ranges, ELs, symbols', () => {
    const path = ours('exceptions');
    const lines = readJsonl(path);
    const target = lines.find((l) => l['asm'] === 'mov\tx4, #0x44')!;
    target['regs'] = { x4: '0x45' };
    const bad = writeJsonl(join(dir, 'filt.jsonl'), lines);
    expect(diff(bad, path, { filter: { first: target['i'] } }).s.same).toBe(true);
    expect(diff(bad, path, { filter: { first: target['i'] + 1 } }).s.same).toBe(false);
    // EL2 steps only: every EL2 step is compared; the state there includes what EL1 code did before (x4, seen after the hvc).
    const el2 = diff(path, join(FIX, 'exceptions.log'), { filter: { els: [2] } });
    expect(el2.s.same).toBe(true);
    expect(el2.s.compared).toBe(lines.filter((l) => l['event'] === undefined && l['el'] === 2).length);
    const el2bad = diff(bad, join(FIX, 'exceptions.log'), { filter: { els: [2] } });
    expect(el2bad.s.first?.registers).toEqual(['x4']);
    expect(el2bad.out).toMatch(/steps not compared/);
    // The vector code only (a symbol from our trace's table; QEMU's side has no table, so by address).
    const vec = diff(path, path, { filter: { symbols: ['el2_vectors'] } });
    expect(vec.s.same).toBe(true);
    expect(vec.s.compared).toBe(lines.filter((l) => l['event'] === undefined && String(l['sym']).startsWith('el2_vectors')).length);
    const rng = diff(path, join(FIX, 'exceptions.log'), { filter: { ranges: [[0x40080a00n, 0x40080fffn]] } });
    expect(rng.s.same).toBe(true);
    expect(rng.s.compared).toBe(vec.s.compared);
  });
});

describe('trace diff --resync', () => {
  // A "timer" modelled by a host function: A and B read different values, loop a different number of times, then agree again.
  const SOURCE = `
.globl _start
_start:
  bl read_timer
  mov x1, x0
loop:
  subs x1, x1, #1
  b.ne loop
  mov x2, #7
  bl read_timer
  mov x3, x0
  mov x0, #0
  mov x3, #0
  ${POWER_OFF}
read_timer:
  ret
`;
  const image = buildImage(SOURCE);
  const run = (name: string, values: bigint[]) => {
    const path = join(dir, name);
    let k = 0;
    recordImage(image.elf, path, { hostEvents: false, setup: (emu) => { emu.hostFunction('read_timer', () => values[k++]!); } });
    return path;
  };
  const a = run('timer-a.bin', [3n, 100n]);
  const b = run('timer-b.bin', [5n, 200n]);

  it('without --resync stops at the first divergence', () => {
    const { s, out } = diff(a, b);
    expect(s.divergences).toBe(1);
    // the host function "read_timer" (its ret is where the model ran) is where x0 first differs
    expect(s.first).toMatchObject({ kind: 'registers', a: 1, b: 1, registers: ['x0'] });
    expect(out).toMatch(/had not diverged by the first divergence/);
  });

  it('with --resync follows register differences until they reconverge and resynchronises control flow', () => {
    const { s, out } = diff(a, b, { resync: true });
    expect(s.same).toBe(false);
    // x0 (the timer), x1 (its copy), NZCV at A's last loop iteration, the loop exit (control flow); after resynchronising,
    // the second read changes x0 again (still the divergence being followed), x3 copies it; both are then overwritten.
    expect(s.controlFlow).toHaveLength(1);
    expect(s.resyncs).toBe(1);
    expect(out).toMatch(/resynchronised after skipping 0 instructions in A and 4 in B, at 0x40080010 <loop\+0x8> \(registers differ there\)/);
    const heads = out.split('\n').filter((l) => /^(first )?divergence/.test(l));
    expect(heads.map((l) => /\(([a-z ]+)\)/.exec(l)![1])).toEqual(['registers', 'registers', 'registers', 'control flow', 'registers']);
    expect(out).toMatch(/x1 +A 0x0000000000000003 +B 0x0000000000000005/);
    expect(out).toMatch(/nzcv +A 0x6\(-ZC-\) +B 0x2\(--C-\)/);
    expect(out).toMatch(/divergence \(registers\) at A#\d+ \/ B#\d+ .*mov x3, x0\n.*\n +x3 +A 0x0000000000000064 +B 0x00000000000000c8/);
    expect(s.divergences).toBe(5);
    // Everything after the resync was compared, to the end of both traces.
    const steps = readJsonl((() => { const p = join(dir, 'timer-a.jsonl'); convertTrace(a, p, { to: 'jsonl' }); return p; })()).filter((l) => l['event'] === undefined).length;
    expect(s.compared).toBe(steps);
    // Ignoring the timer's registers and the flags the loop leaves leaves only the control-flow divergence.
    const ig = diff(a, b, { resync: true, ignore: [0, 1, 3, regId('nzcv')] });
    expect(ig.s.divergences).toBe(1);
    expect(ig.s.first?.kind).toBe('control flow');
  });
});

describe('trace diff normalisation', () => {
  it('an exception taken before an instruction ran (an interrupt) lines up with QEMU, which logs it after the previous dump', () => {
    const start = JSON.parse(readFileSync(join(dir, 'exceptions.jsonl'), 'utf8').split('\n')[0]!);
    const insn = (i: number, pc: string, regs: Record<string, string>) => ({ i, pc, el: 2, regs });
    const irq = (i: number, extra: Record<string, unknown>) => ({
      event: 'exception', i, from_el: 2, to_el: 2, esr: '0x0', elr: '0x40080008', pc: '0x40080a80', ...extra, regs: { x9: '0x1' },
    });
    const end = (n: number) => ({ event: 'end', reason: 'budget', insns: n });
    // Ours: the interrupt is a standalone event with its own index, at the PC it interrupted.
    const ours = writeJsonl(join(dir, 'irq-ours.jsonl'), [start, insn(0, '0x40080000', { x1: '0x1' }), insn(1, '0x40080004', { x2: '0x2' }),
      irq(2, { standalone: true, from_pc: '0x40080008', vector: '0x280' }), insn(3, '0x40080a80', { x3: '0x3' }), end(3)]);
    // QEMU: the exception lines follow the dump of the instruction before.
    const qemu = writeJsonl(join(dir, 'irq-qemu.jsonl'), [{ ...start, source: 'qemu' }, insn(0, '0x40080000', { x1: '0x1' }), insn(1, '0x40080004', { x2: '0x2' }),
      irq(1, { vector: '0x280' }), insn(2, '0x40080a80', { x3: '0x3' }), end(3)]);
    const { s, out } = diff(ours, qemu);
    expect(out).toMatch(/the traces agree/);
    expect(s.boundaries).toBe(1);
    // An IRQ entry does not write ESR: a stale ESR on either side is not a divergence; the ELR is.
    const lines = readJsonl(qemu);
    lines[3]!['esr'] = '0x96000010';
    expect(diff(ours, writeJsonl(join(dir, 'irq-esr.jsonl'), lines)).s.same).toBe(true);
    lines[3]!['elr'] = '0x4008000c';
    expect(diff(ours, writeJsonl(join(dir, 'irq-elr.jsonl'), lines)).out).toMatch(/elr A 0x40080008 B 0x4008000c/);
  });
});

describe('trace diff input errors', () => {
  it('two traces of different programs are an error, not a diff', () => {
    const p1 = join(dir, 'prog1.bin'), p2 = join(dir, 'prog2.bin');
    recordImage(buildImage(`_start: mov x0, #1\n ${POWER_OFF}`).elf, p1);
    recordImage(buildImage(`_start: mov x0, #2\n ${POWER_OFF}`).elf, p2);
    expect(() => diff(p1, p2)).toThrow(DiffInputError);
    expect(() => diff(p1, p2)).toThrow(/different programs: the first instruction at 0x40080000 is 0xd2800020 in A and 0xd2800040 in B/);
    // A program linked elsewhere against a QEMU log (which has no encodings): the entry points differ.
    const p3 = join(dir, 'prog3.jsonl');
    const img = buildImage(`.org 0x100\n.globl _start\n_start: mov x0, #1\n ${POWER_OFF}`);
    recordImage(img.elf, p3);
    expect(() => diff(p3, join(FIX, 'basic.log'))).toThrow(/different programs \(or different entry points\): A starts at 0x40080100, B at 0x40080000/);
  });

  it('a cut or foreign trace is a format error naming the file', () => {
    const good = ours('exceptions', 'bin');
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect(() => diff(cut, good)).toThrow(TraceFormatError);
    expect(() => diff(cut, good)).toThrow(/cut\.bin: record \d+ at byte \d+: file ends inside a \d+-byte record \(truncated\?\)/);
    const foreign = join(dir, 'foreign.txt');
    writeFileSync(foreign, 'Linux version 6.1.0\nBooting...\n');
    expect(() => diff(good, foreign)).toThrow(/foreign\.txt: not a trace/);
    // A QEMU log cut mid-dump (QEMU killed) is read up to the last complete dump, with a note.
    const log = readFileSync(join(FIX, 'exceptions.log'), 'utf8');
    const cutLog = join(dir, 'cut.log');
    writeFileSync(cutLog, log.slice(0, log.indexOf('X10=', log.length / 2)));
    const { s, out } = diff(good, cutLog);
    expect(s.first?.kind).toBe('length');
    expect(out).toMatch(/B ends after \d+ instructions \(log-truncated\)/);
    expect(out).toMatch(/note: B .*ends in the middle of a register dump/);
    // A trace of ours without its end record (the run was killed): compared as far as it goes, with a note.
    const lines = readFileSync(join(dir, 'exceptions.jsonl'), 'utf8').trim().split('\n');
    const noEnd = join(dir, 'noend.jsonl');
    writeFileSync(noEnd, lines.slice(0, -1).join('\n') + '\n');
    const ne = diff(noEnd, join(FIX, 'exceptions.log'));
    expect(ne.s.same).toBe(true);
    expect(ne.out).toMatch(/note: A .*ends without an end record/);
  });
});

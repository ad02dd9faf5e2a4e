/**
 * The `trace` command line (the built CLI): record, info, convert between
 * formats with filters, diff exit statuses as diff(1) (0 same, 1 different,
 * 2 trouble), and clear one-line errors without stack traces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POWER_OFF, ROOT, buildImage, readJsonl, tempDir } from './trace-support.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const { dir, cleanup } = tempDir('trace-cli-');
afterAll(cleanup);

function trace(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'trace', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .*(\.js|\.ts):\d+/);

const PROGRAM = `
.globl _start
_start:
  adr x1, vectors
  msr vbar_el2, x1
  mov x1, #(1 << 31)
  msr hcr_el2, x1
  mov x2, #3
loop:
  subs x2, x2, #1
  b.ne loop
  mov x1, #0x3c5
  msr spsr_el2, x1
  adr x1, el1
  msr elr_el2, x1
  eret
el1:
  mov x4, #0x44
  hvc #1
  ${POWER_OFF}
.balign 2048
vectors:
.org vectors + 0x400
  mrs x5, esr_el2
  eret
`;

describe.runIf(existsSync(CLI))('trace command', () => {
  const elf = join(dir, 'prog.elf');
  writeFileSync(elf, buildImage(PROGRAM).elf);
  const bin = join(dir, 'prog.bin');

  it('records a run in binary and in JSON lines', () => {
    const r = trace('record', elf, '-o', bin);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ instructions recorded to .*prog\.bin \(binary, \d+ bytes\); stopped: PSCI SYSTEM_OFF/);
    const j = trace('record', elf, '-o', join(dir, 'prog.jsonl'), '--memory-accesses');
    expect(j.status).toBe(0);
    const lines = readJsonl(join(dir, 'prog.jsonl'));
    expect(lines[0]).toMatchObject({ event: 'start', source: 'pkvm-lab', program: { name: 'prog.elf' }, cpu: 'cortex-a57' });
    expect(lines[0]!['program']['sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(lines[0]!['features']).toContain('mem');
    expect(lines[1]).toMatchObject({ i: 0, asm: 'adr\tx1, 40080800 <vectors>', sym: '_start' });
    expect(trace('record', elf, '-o', join(dir, 'budget.bin'), '--max-insns', '5').status).toBe(2);
  });

  it('describes a trace', () => {
    const r = trace('info', bin);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/binary trace from pkvm-lab of prog\.elf \(cortex-a57\)/);
    expect(r.stdout).toMatch(/instructions: \d+; by EL: EL1 \d+, EL2 \d+/);
    expect(r.stdout).toMatch(/events: PSCI calls 1, exception entries 1, exception returns 2\n/);
    expect(r.stdout).toMatch(/end: psci-off/);
  });

  it('converts binary <-> JSON lines losslessly, and to a text listing', () => {
    const jsonl = join(dir, 'conv.jsonl'), back = join(dir, 'back.bin'), txt = join(dir, 'conv.txt');
    expect(trace('convert', bin, jsonl).status).toBe(0);
    expect(trace('convert', jsonl, back).status).toBe(0);
    expect(readFileSync(back).equals(readFileSync(bin))).toBe(true);
    const t = trace('convert', bin, txt);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/converted from binary trace .* to text/);
    const text = readFileSync(txt, 'utf8');
    expect(text).toMatch(/#0 +0x40080000 <_start> +EL2 +[0-9a-f]{8} +adr x1, 40080800 <vectors> +x1=0x40080800/);
    expect(text).toMatch(/-> exception EL1->EL2 ec=0x16 esr=0x5a000001/);
  });

  it('filters on conversion: first/last N, EL, address range, symbol; a filtered trace stays self-contained', () => {
    const first = join(dir, 'first.jsonl');
    expect(trace('convert', bin, first, '--first', '4').stdout).toMatch(/^4 of \d+ instructions converted/);
    expect(readJsonl(first).filter((l) => l['event'] === undefined).map((l) => l['i'])).toEqual([0, 1, 2, 3]);
    const last = join(dir, 'last.jsonl');
    expect(trace('convert', bin, last, '--last', '3').status).toBe(0);
    const ll = readJsonl(last);
    // the start record is the state before the first kept instruction: x4 already 0x44 there
    expect(ll[0]!['regs']['x4']).toBe('0x44');
    expect(ll.filter((l) => l['event'] === undefined)).toHaveLength(3);
    // the last three against the original's last three: the same
    expect(trace('diff', bin, last, '--last', '3').status).toBe(0);
    const el1 = join(dir, 'el1.jsonl');
    expect(trace('convert', bin, el1, '--el', '1').status).toBe(0);
    expect(readJsonl(el1).filter((l) => l['event'] === undefined).every((l) => l['el'] === 1)).toBe(true);
    const loop = join(dir, 'loop.jsonl');
    expect(trace('convert', bin, loop, '--symbol', 'loop').status).toBe(0);
    const loopSteps = readJsonl(loop).filter((l) => l['event'] === undefined);
    // the loop's body three times, then what follows up to the next symbol (el1)
    expect(loopSteps.map((l) => l['asm'].split('\t')[0])).toEqual(['subs', 'b.ne', 'subs', 'b.ne', 'subs', 'b.ne', 'mov', 'msr', 'adr', 'msr', 'eret']);
    expect(loopSteps.every((l) => /^loop(\+|$)/.test(l['sym']))).toBe(true);
    const range = join(dir, 'range.jsonl');
    expect(trace('convert', bin, range, '--range', '0x40080010-0x40080017').status).toBe(0);
    const rs = readJsonl(range);
    // runs of dropped steps leave a skip record with their net register changes
    expect(rs.some((l) => l['event'] === 'skip' && l['count'] > 0)).toBe(true);
    expect(trace('diff', bin, range, '--range', '0x40080010-0x40080017').status).toBe(0);
  });

  it('diff: 0 when the traces agree, 1 when they differ, 2 for trouble', () => {
    const jsonl = join(dir, 'conv.jsonl');
    expect(trace('diff', bin, jsonl).status).toBe(0);
    const lines = readJsonl(jsonl);
    const t = lines.find((l) => l['asm'] === 'mov\tx4, #0x44')!;
    t['regs'] = { x4: '0x4' };
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const d = trace('diff', bin, bad, '--context', '1');
    expect(d.status).toBe(1);
    expect(d.stdout).toMatch(new RegExp(`^first divergence \\(registers\\) at A#${t['i']} / B#${t['i']} at 0x[0-9a-f]+ <el1> EL1: mov x4, #0x44\\n  registers differ after this instruction:\\n    x4 +A 0x0000000000000044 +B 0x0000000000000004`));
    expect(d.stdout).toMatch(/\nsummary: \d+ instructions compared .*1 divergence\n/);
    expect(trace('diff', bin, bad, '--ignore', 'x4').status).toBe(0);
    // at the exception boundary that follows, x4 still differs
    const ex = trace('diff', bin, bad, '--exceptions-only');
    expect(ex.status).toBe(1);
    expect(ex.stdout).toMatch(/^first divergence \(state at boundary\) .* hvc #0x1\n.*\n +x4 +A 0x0000000000000044 +B 0x0000000000000004/);
    // usage errors
    for (const args of [['diff', bin], ['diff', bin, bad, '--bogus'], ['diff', bin, bad, '--ignore', 'x99'], ['diff', bin, bad, '--ignore-range', '0x10'], ['diff', bin, bad, '--first', '-3']]) {
      const u = trace(...args);
      expect(u.status).toBe(2);
      expect(u.stderr).toMatch(/^trace diff: .*\nusage: trace record/);
    }
    // input errors
    const foreign = join(dir, 'foreign.log');
    writeFileSync(foreign, 'random text\n');
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, readFileSync(bin).subarray(0, 200));
    const other = join(dir, 'other.bin');
    writeFileSync(join(dir, 'other.elf'), buildImage(`_start: nop\n ${POWER_OFF}`).elf);
    expect(trace('record', join(dir, 'other.elf'), '-o', other).status).toBe(0);
    for (const [file, msg] of [
      [join(dir, 'missing.bin'), /missing\.bin: cannot read \(ENOENT\)/],
      [foreign, /foreign\.log: not a trace/],
      [cut, /cut\.bin: .*file ends inside a \d+-byte record \(truncated\?\)/],
      [elf, /prog\.elf: is an ELF file, not a trace/],
      [other, /different programs: the first instruction at 0x40080000 is 0x[0-9a-f]+ in A and 0xd503201f in B/],
    ] as const) {
      const e = trace('diff', bin, file);
      expect(e.status).toBe(2);
      expect(e.stderr).toMatch(msg);
      expect(e.stdout).toBe('');
      noStack(e.stderr);
    }
  });

  it('other subcommands report bad input with status 1 and usage errors with 2, without stack traces', () => {
    const c = trace('convert', join(dir, 'nothing.bin'), join(dir, 'x.jsonl'));
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/^trace convert: .*nothing\.bin: cannot read/);
    expect(trace('convert', bin).status).toBe(2);
    expect(trace('convert', bin, join(dir, 'x.bin'), '--to', 'xml').status).toBe(2);
    expect(trace('record', join(dir, 'nothing.elf'), '-o', join(dir, 'x.bin')).status).toBe(1);
    expect(trace('record', elf).stderr).toMatch(/no output file/);
    expect(trace('frobnicate').status).toBe(2);
    const none = trace();
    expect(none.status).toBe(2);
    expect(none.stdout).toMatch(/^usage: trace record/);
    const rules = trace('rules');
    expect(rules.status).toBe(0);
    expect(rules.stdout).toMatch(/^qemu-nzcv-exception-entry\n  QEMU clears PSTATE.NZCV/);
    noStack(c.stderr);
  });
});

/**
 * The `run` command: exit statuses, the summary line, the JSON-lines trace
 * format, and clear messages for bad input. Runs the built CLI (npm test builds first).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { writeExecutable } from '../../src/elf/write-executable.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const BASE = 0x40080000n;
let dir = '';

function image(source: string, name: string): string {
  const r = assemble(source, { file: name });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const linked = linkFlat(r, BASE);
  const symbols = [...linked.symbols].map(([n, v]) => ({ name: n, value: v, size: 0n, type: 'func' as const }));
  const elf = writeExecutable({ entry: BASE, segments: [{ vaddr: BASE, data: linked.bytes, memsz: BigInt(linked.bytes.length), flags: 'rwx' }], symbols });
  const path = join(dir, name);
  writeFileSync(path, elf);
  return path;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'run-cli-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(existsSync(CLI))('run command', () => {
  it('runs to PSCI SYSTEM_OFF with exit 0 and writes the documented trace', () => {
    const prog = image(`_start: movz x1, #3\nloop: subs x1, x1, #1\n b.ne loop\n hvc_done: movz w0, #0x8400, lsl #16\n movk w0, #8\n smc #0\n`, 'ok.elf');
    const trace = join(dir, 'ok.jsonl');
    const r = cli([prog, '--trace', trace]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^10 instructions; EL2, pc=0x40080018 <hvc_done\+0xc>; stopped: PSCI SYSTEM_OFF/);
    const lines = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event: 'start', pc: '0x40080000', el: 2 });
    expect(Object.keys(lines[0].regs)).toHaveLength(33);
    expect(lines[0].program.name).toBe('ok.elf');
    expect(lines[0].regs).toMatchObject({ x0: '0x0', sp: '0x0', nzcv: '0x4' });
    // The issue-3 fields, exactly; later fields (e.g. `sym`) extend the record.
    expect(lines[1]).toMatchObject({ i: 0, pc: '0x40080000', el: 2, insn: '0xd2800061', asm: 'mov\tx1, #0x3', regs: { x1: '0x3' } });
    expect(lines[1].sym).toBe('_start');
    expect(lines[2]).toMatchObject({ i: 1, asm: 'subs\tx1, x1, #0x1', regs: { x1: '0x2', nzcv: '0x2' } });
    expect(lines[3]).toMatchObject({ i: 2, asm: expect.stringMatching(/^b\.ne\t40080004 <loop>/) });
    expect(lines.at(-1)).toEqual({ event: 'end', reason: 'psci-off', insns: 10 });
  });

  it('records exception entry and return events', () => {
    const prog = image(`_start: adr x0, vec\n msr vbar_el2, x0\n mov x1, #0x80000000\n msr hcr_el2, x1\n movz x1, #0x3c5\n msr spsr_el2, x1\n adr x1, el1\n msr elr_el2, x1\n eret\nel1: hvc #5\n.balign 2048\nvec: .skip 0x400\n mrs x2, esr_el2\n movz w0, #0x8400, lsl #16\n movk w0, #8\n smc #0\n`, 'exc.elf');
    const trace = join(dir, 'exc.jsonl');
    expect(cli([prog, '--trace', trace]).status).toBe(0);
    const events = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event && l.event !== 'start' && l.event !== 'end');
    expect(events[0]).toMatchObject({ event: 'eret', from_el: 2, to_el: 1 });
    expect(events[1]).toMatchObject({ event: 'exception', from_el: 1, to_el: 2, esr: '0x5a000005' });
    expect(events[1].pc).toMatch(/^0x40080[0-9a-f]{3}$/);
  });

  it('stops an infinite loop at the budget with exit 2', () => {
    const prog = image('_start: b _start\n', 'loop.elf');
    const r = cli([prog, '--max-insns', '1000']);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^1000 instructions; .*instruction budget exhausted/);
  });

  it('jumping into unmapped memory ends in an exception loop, reported clearly (exit 3)', () => {
    const prog = image('_start: movz x0, #0x1000\n br x0\n', 'wild.elf');
    const r = cli([prog, '--max-insns', '100000']);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/exception loop at EL2/);
  });

  it('bad input: truncated ELF, entry outside RAM, unknown option, missing file', () => {
    const bad = join(dir, 'trunc.elf');
    writeFileSync(bad, readFileSync(image('_start: nop\n', 'small.elf')).subarray(0, 40));
    const t = cli([bad]);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/^run: .*trunc\.elf: /);
    expect(t.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    const raw = join(dir, 'raw.bin');
    writeFileSync(raw, new Uint8Array([0x1f, 0x20, 0x03, 0xd5]));
    const e = cli([raw, '--base', '0x1000']);
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/not in RAM|outside RAM/);
    expect(cli([raw, '--bogus']).status).toBe(2);
    expect(cli([join(dir, 'nothing.elf')]).status).toBe(1);
  });
});

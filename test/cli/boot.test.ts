/**
 * The `boot` command (and `start`, which is boot with the defaults): the report, --json,
 * --explain, --trace, exit statuses, and clear messages for bad input (exit 2, no stack
 * trace). Runs the built CLI (npm test builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
let dir = '';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'boot-cli-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(existsSync(CLI))('boot command', () => {
  it('start runs the whole flow with the defaults and prints the stage-by-stage report', () => {
    const r = cli(['start']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kernel profile: android/);
    expect(r.stdout).toMatch(/RAM 1 GiB at 0x40000000/);
    for (let s = 1; s <= 5; s++) expect(r.stdout).toContain(`== Stage ${s}:`);
    expect(r.stdout).toMatch(/kvm \[0\]: Reserved \d+ MiB at 0x/);
    expect(r.stdout).toMatch(/Outcome: PSCI SYSTEM_OFF/);
    expect(r.stdout).not.toMatch(/\[(UNEXPECTED|NOT RUN)\]/);
  });

  it('--profile linux-6.1 --cpus 2 --json: the 6.1 kernel panics on the host\'s access to hyp memory', () => {
    const r = cli(['boot', '--profile', 'linux-6.1', '--cpus', '2', '--mem', '512M', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.profile.name).toBe('linux-6.1');
    expect(j.machine.cpus).toBe(2);
    expect(j.outcome.reason).toBe('Kernel panic - not syncing: HYP panic');
    expect(j.stages.map((s: { reached: boolean }) => s.reached)).toEqual([true, true, true, true, true]);
    expect(j.stages[3].registersAfter).toHaveLength(2);
    expect(j.experiments.every((e: { ok: boolean }) => e.ok)).toBe(true);
    expect(j.reservation.log).toMatch(/^kvm \[0\]: Reserved \d+ MiB at 0x/);
  });

  it('--explain answers the documents\' open questions', () => {
    const r = cli(['boot', '--explain']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("The documents' open questions");
    expect(r.stdout).toContain('Q: How are VMIDs allocated?');
  });

  it('--trace writes a JSON-lines trace of every CPU', () => {
    const trace = join(dir, 'boot.jsonl');
    const r = cli(['boot', '--cpus', '2', '--trace', trace]);
    expect(r.status).toBe(0);
    const lines = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ cpu: 0, event: 'start', pc: '0x40080000', el: 2 });
    expect(lines.some((l) => l.cpu === 1 && l.event === 'start')).toBe(true);
    expect(lines.some((l) => l.event === 'eret' && l.from_el === 2 && l.to_el === 1)).toBe(true);
    expect(lines.filter((l) => l.i !== undefined).length).toBeGreaterThan(1000);
  });

  it('bad input: a clear message naming the cause, exit 2, no stack trace', () => {
    for (const [args, msg] of [
      [['--mem', '32M'], /--mem 32M is too small/],
      [['--mem', 'lots'], /bad --mem 'lots'/],
      [['--cpus', '9'], /impossible CPU count 9/],
      [['--cpus', '0'], /impossible CPU count 0/],
      [['--host-access', '0x8000'], /host access outside RAM: 0x8000/],
      [['--profile', 'linux-5.10'], /unknown --profile/],
      [['--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const r = cli(['boot', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    }
  });

  it('asm-list keeps the former default job', () => {
    const r = cli(['asm-list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/=== asm\/hyp-init\.S:/);
  });
});

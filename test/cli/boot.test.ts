/**
 * The `boot` command (and `start`, which is boot with the defaults): the report, --json,
 * --explain, --trace, exit statuses, and clear messages for bad input (exit 2, no stack
 * trace). Runs the built CLI (npm test builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocketClient, until } from '../gdb/support.js';

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

  it('--gdb PORT: waits for gdb at primary_entry, runs on to the end after a detach', async () => {
    const child = spawn(process.execPath, [CLI, 'boot', '--gdb', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => /127\.0\.0\.1:(\d+)/.test(stderr), 30_000, 'the gdb port');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
    const client = await SocketClient.open(port);
    const [stop] = await client.request('?');
    expect(stop).toMatch(/^[ST]05/);
    // The PC (register 32) is primary_entry, where QEMU would enter the kernel.
    const [pc] = await client.request('p20');
    expect(pc).toBe('0000084000000000');
    const [ok] = await client.request('D');
    expect(ok).toBe('OK');
    await client.close();
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/Outcome: PSCI SYSTEM_OFF/);
    expect(stderr).toMatch(/gdb: session ended \(detached\)/);
  }, 60_000);

  it('--gdb needs one CPU', () => {
    const r = cli(['boot', '--gdb', '1234', '--cpus', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--gdb debugs one CPU/);
  });

  it('asm-list keeps the former default job', () => {
    const r = cli(['asm-list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/=== asm\/hyp-init\.S:/);
  });
});

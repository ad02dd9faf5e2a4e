/**
 * `run IMAGE --gdb PORT`: the built CLI waits for a debugger on loopback,
 * then after a detach runs on to the end with the usual summary and exit
 * status; a kill ends it; bad options are usage errors. (npm test builds first.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocketClient, buildImage, until, POWER_OFF } from './support.js';
import { framePacket } from '../../src/gdb/packets.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'run-gdb-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(): { path: string; target: bigint } {
  const image = buildImage(`_start: mov x1, #3\ntarget: add x2, x1, #1\n${POWER_OFF}`);
  const path = join(dir, 'prog.elf');
  writeFileSync(path, image.elf);
  return { path, target: image.symbols.get('target')! };
}

/** Starts `run --gdb 0` and returns the port it announces. */
async function startCli(image: string) {
  const child = spawn(process.execPath, [CLI, 'run', image, '--gdb', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b) => { stdout += b; });
  child.stderr.on('data', (b) => { stderr += b; });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await until(() => /waiting for gdb on 127\.0\.0\.1:\d+/.test(stderr), 20_000, 'the gdb port');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
  return { child, port, exited, out: () => ({ stdout, stderr }) };
}

describe.runIf(existsSync(CLI))('run --gdb', () => {
  it('waits stopped at the entry, serves gdb, and runs on to power-off after a detach', async () => {
    const { path, target } = program();
    const cli = await startCli(path);
    const c = await SocketClient.open(cli.port);
    expect(await c.request('p20')).toEqual(['0000084000000000']); // pc = 0x40080000: nothing ran yet
    expect(await c.request(`Z0,${target.toString(16)},4`)).toEqual(['OK']);
    expect(await c.request('c')).toEqual(['T05thread:1;']);
    expect(await c.request('p1')).toEqual(['0300000000000000']);
    expect(await c.request(`z0,${target.toString(16)},4`)).toEqual(['OK']);
    expect(await c.request('D')).toEqual(['OK']);
    expect(await cli.exited).toBe(0);
    expect(cli.out().stdout).toMatch(/^\d+ instructions; EL2, pc=0x[0-9a-f]+ <[^>]+>; stopped: PSCI SYSTEM_OFF/);
  });

  it('a kill from the debugger ends the run (exit 3)', async () => {
    const { path } = program();
    const cli = await startCli(path);
    const c = await SocketClient.open(cli.port);
    c.write(framePacket('k'));
    expect(await cli.exited).toBe(3);
    expect(cli.out().stdout).toMatch(/stopped: killed by the debugger/);
  });

  it('power-off under the debugger ends the run when it disconnects (exit 0)', async () => {
    const { path } = program();
    const cli = await startCli(path);
    const c = await SocketClient.open(cli.port);
    expect(await c.request('c')).toEqual(['W00']);
    await c.close();
    expect(await cli.exited).toBe(0);
    expect(cli.out().stdout).toMatch(/stopped: PSCI SYSTEM_OFF/);
  });

  it('bad --gdb values and --gdb with --trace are usage errors; a busy port is reported', async () => {
    const { path } = program();
    for (const args of [['--gdb', 'x'], ['--gdb', '70000'], ['--gdb'], ['--gdb', '1234', '--trace', join(dir, 't.jsonl')]]) {
      const r = spawnSync(process.execPath, [CLI, 'run', path, ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^run: .*\nusage: run /);
    }
    const cli = await startCli(path);
    const busy = spawnSync(process.execPath, [CLI, 'run', path, '--gdb', String(cli.port)], { encoding: 'utf8', timeout: 20_000 });
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/cannot serve gdb on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    const c = await SocketClient.open(cli.port);
    c.write(framePacket('k'));
    await cli.exited;
  });
});

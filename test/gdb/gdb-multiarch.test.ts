/**
 * The real debugger against our stub (the batch test): Debian's
 * gdb-multiarch attaches to asm/head-init-kernel-el.S's init_kernel_el
 * running on the interpreter, breaks at a symbol in the routine, steps
 * across its ERET from EL2 to EL1 and prints the registers, which must match
 * our own JSON-lines trace of the same run (and the Emulator's state at the
 * same point for what the trace does not carry). Also: hardware breakpoints,
 * register and memory writes, run to power-off, and Ctrl-C.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GDB, requireOracle } from '../helpers/oracle.js';
import { serveGdb, type GdbServer } from '../../src/gdb/rsp-server.js';
import { JsonlRecorder } from '../../src/trace/jsonl-recorder.js';
import { buildImage, emulatorFor, initKernelElImage, until, type Image } from './support.js';

const ERET = 0xd69f03e0;

interface GdbRun { status: number | null; stdout: string; stderr: string }

/** gdb-multiarch in batch mode, asynchronously (our server lives in this process). */
function gdbBatch(elf: string, port: number, commands: string[], onSpawn?: (child: ChildProcess) => void): Promise<GdbRun> {
  const args = ['-nx', '-batch', '-ex', 'set architecture aarch64', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  args.push(elf);
  return new Promise((resolve, reject) => {
    const child = spawn(GDB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    onSpawn?.(child);
  });
}

/** `info registers` lines → name → value (the first hex column). */
function parseRegisters(text: string): Map<string, bigint> {
  const regs = new Map<string, bigint>();
  for (const m of text.matchAll(/^([a-z][a-z0-9_]*)\s+(0x[0-9a-f]+)\s/gm)) regs.set(m[1]!, BigInt(m[2]!));
  return regs;
}

/** The text between `echo @@name` markers. */
function section(out: string, name: string): string {
  const start = out.indexOf(`@@${name}\n`);
  expect(start, `marker ${name} in gdb's output:\n${out}`).toBeGreaterThanOrEqual(0);
  const rest = out.slice(start + name.length + 3);
  const end = rest.indexOf('@@');
  return end < 0 ? rest : rest.slice(0, end);
}

interface TraceLine { i?: number; event?: string; pc?: string; el?: number; insn?: string; regs?: Record<string, string> }

/** Our own trace of the whole run, from the entry to power-off. */
function recordTrace(image: Image): TraceLine[] {
  const emu = emulatorFor(image);
  const lines: TraceLine[] = [];
  const rec = new JsonlRecorder(emu.cpu, (l) => lines.push(JSON.parse(l) as TraceLine));
  rec.start();
  for (let n = 0; n < 10_000; n++) if (rec.step().kind !== 'budget') break;
  return lines;
}

/** X0–X30, SP, NZCV, PC and EL before instruction record `index` runs, from the start record and the changes. */
function stateBefore(lines: TraceLine[], index: number) {
  const regs = new Map<string, bigint>();
  const apply = (r: Record<string, string> | undefined) => { for (const [k, v] of Object.entries(r ?? {})) regs.set(k, BigInt(v)); };
  apply(lines[0]!.regs);
  let next: TraceLine | undefined;
  for (const l of lines.slice(1)) {
    if (l.event === undefined && l.i === index) { next = l; break; }
    if (l.event === 'end') break;
    apply(l.regs);
  }
  if (!next) throw new Error(`no instruction ${index} in the trace`);
  return { regs, pc: BigInt(next.pc!), el: next.el! };
}

let dir = '';
let servers: GdbServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function serve(image: Image, name: string) {
  dir ||= mkdtempSync(join(tmpdir(), 'gdb-stub-'));
  const elf = join(dir, name);
  writeFileSync(elf, image.elf);
  const emu = emulatorFor(image);
  const logs: string[] = [];
  const server = await serveGdb(emu, 0, { log: (m) => logs.push(m) });
  servers.push(server);
  return { elf, emu, server, logs };
}

describe.runIf(requireOracle(GDB))('gdb-multiarch against the stub', () => {
  it('breaks in init_kernel_el, steps across its eret to EL1, and shows the registers of our trace', async () => {
    const image = initKernelElImage();
    const trace = recordTrace(image);
    const insns = trace.filter((l) => l.event === undefined && l.i !== undefined);
    const initEl2 = image.symbols.get('init_el2')!;
    const bp = insns.findIndex((l) => BigInt(l.pc!) === initEl2);
    const eret = insns.findIndex((l, k) => k > bp && Number(l.insn) === ERET);
    expect(bp).toBeGreaterThan(0);
    expect(eret).toBeGreaterThan(bp);
    expect(trace.some((l) => l.event === 'eret' && l.i === insns[eret]!.i)).toBe(true);
    const toEret = eret - bp; // stepi count that stops on the eret
    const { elf, emu, server } = await serve(image, 'init-kernel-el.elf');

    const r = await gdbBatch(elf, server.port, [
      'break *init_el2',
      'continue',
      'echo @@bp\\n', 'info registers pc el cpsr',
      `stepi ${toEret}`,
      'echo @@eret\\n', 'x/i $pc', 'info registers pc el cpsr elr_el2 spsr_el2',
      'stepi 2',
      'echo @@el1\\n', 'info registers',
      'echo @@mem\\n', 'x/2wx init_kernel_el',
      'echo @@end\\n',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Breakpoint 1, 0x0*4008103c in init_el2/);

    // At the breakpoint: EL2, PC at init_el2.
    const atBp = parseRegisters(section(r.stdout, 'bp'));
    expect(atBp.get('pc')).toBe(initEl2);
    expect(atBp.get('el')).toBe(2n);
    // On the eret, still at EL2.
    const onEret = section(r.stdout, 'eret');
    expect(onEret).toMatch(/=> 0x[0-9a-f]+ <init_el2\+\d+>:\s+eret/);
    const eretRegs = parseRegisters(onEret);
    expect(eretRegs.get('pc')).toBe(BigInt(insns[eret]!.pc!));
    expect(eretRegs.get('el')).toBe(2n);
    expect(eretRegs.get('elr_el2')).toBe(image.symbols.get('after_eret')!);

    // Past the eret and one instruction at EL1: compare everything with the trace.
    const gdbRegs = parseRegisters(section(r.stdout, 'el1'));
    const want = stateBefore(trace, insns[eret + 2]!.i!);
    expect(want.el).toBe(1);
    expect(want.pc).toBe(image.symbols.get('after_eret')! + 4n);
    for (let n = 0; n <= 30; n++) expect(gdbRegs.get(`x${n}`), `x${n}`).toBe(want.regs.get(`x${n}`));
    expect(gdbRegs.get('sp')).toBe(want.regs.get('sp'));
    expect(gdbRegs.get('pc')).toBe(want.pc);
    expect(gdbRegs.get('el')).toBe(BigInt(want.el));
    const cpsr = gdbRegs.get('cpsr')!;
    expect((cpsr >> 28n) & 0xfn).toBe(want.regs.get('nzcv'));
    expect((cpsr >> 2n) & 3n).toBe(1n);
    expect(gdbRegs.get('x0')).toBe(0xe12n); // BOOT_CPU_MODE_EL2, returned in w0
    expect(gdbRegs.get('x19')).toBe(0xe12n);

    // What the trace does not record: PSTATE and system registers, from an Emulator run to the same point.
    const ref = emulatorFor(image);
    ref.run({ maxInsns: insns[eret + 2]!.i! });
    expect(ref.reg('pc')).toBe(want.pc);
    expect(cpsr).toBe(ref.reg('cpsr'));
    for (const name of ['hcr_el2', 'sctlr_el1', 'sctlr_el2', 'vbar_el2', 'elr_el2', 'spsr_el2', 'cptr_el2', 'mdcr_el2', 'vttbr_el2', 'cnthctl_el2', 'vpidr_el2', 'vmpidr_el2']) {
      expect(gdbRegs.get(name), name).toBe(ref.reg(name));
    }
    expect(gdbRegs.get('vbar_el2')).toBe(image.symbols.get('__hyp_stub_vectors')!);
    // Memory as gdb reads it.
    const words = [...section(r.stdout, 'mem').matchAll(/0x([0-9a-f]{8})(?!:)/g)].map((m) => m[1]);
    const base = Number(image.symbols.get('init_kernel_el')! - 0x40080000n);
    const dv = new DataView(image.bytes.buffer, image.bytes.byteOffset);
    expect(words.slice(-2)).toEqual([dv.getUint32(base, true), dv.getUint32(base + 4, true)].map((w) => w.toString(16).padStart(8, '0')));
    // The stub's CPU is where gdb left it (gdb detaches at the end of the batch).
    expect(await server.done).toEqual({ kind: 'detached' });
    expect(emu.cpu.getPc()).toBe(want.pc);
  });

  it('hardware breakpoint, register and memory writes, then on to power-off', async () => {
    const image = initKernelElImage();
    const { elf, emu, server } = await serve(image, 'init-kernel-el-2.elf');
    const r = await gdbBatch(elf, server.port, [
      'hbreak *after_eret',
      'continue',
      'echo @@hit\\n', 'info registers el x0 cpsr',
      'set $x1 = 0x1234',
      'set $v2.d.u[1] = 0xabcd',
      'set var *(unsigned int *)0x40090000 = 0xcafef00d',
      'echo @@after\\n', 'p/x $x1', 'x/wx 0x40090000', 'p/x $v2.d.u[1]',
      'delete',
      'continue',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Hardware assisted breakpoint 1 at 0x40080008/);
    expect(r.stdout).toMatch(/Breakpoint 1, 0x0*40080008 in after_eret/);
    const hit = parseRegisters(section(r.stdout, 'hit'));
    expect(hit.get('el')).toBe(1n);
    expect(hit.get('x0')).toBe(0xe12n);
    const after = section(r.stdout, 'after');
    expect(after).toMatch(/\$1 = 0x1234/);
    expect(after).toMatch(/0x40090000:\s+0xcafef00d/);
    expect(after).toMatch(/\$2 = 0xabcd/);
    expect(r.stdout).toMatch(/\[Inferior 1 \(.*\) exited normally\]/);
    expect(await server.done).toEqual({ kind: 'exited', code: 0 });
    expect(emu.reg('x1')).toBe(0x1234n);
    expect(emu.cpu.getV(2) >> 64n).toBe(0xabcdn);
    expect([...emu.readMemory(0x40090000n, 4)]).toEqual([0x0d, 0xf0, 0xfe, 0xca]);
  });

  it('Ctrl-C interrupts a continue', async () => {
    const image = buildImage('_start: add x1, x1, #1\n b _start\n');
    const { elf, emu, server } = await serve(image, 'loop.elf');
    const r = await gdbBatch(elf, server.port, ['continue', 'echo @@stopped\\n', 'info registers x1 pc el'], (child) => {
      void until(() => emu.cpu.retired > 100_000, 30_000, 'the CPU to run').then(() => child.kill('SIGINT'));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Program received signal SIGINT/);
    const regs = parseRegisters(section(r.stdout, 'stopped'));
    expect(regs.get('x1')).toBeGreaterThan(1000n);
    expect(regs.get('x1')).toBe(emu.reg('x1'));
    expect(await server.done).toEqual({ kind: 'detached' });
  });
});

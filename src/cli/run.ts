/**
 * `run IMAGE [--entry ADDR|SYMBOL] [--base ADDR] [--max-insns N] [--trace FILE.jsonl] [--cpu NAME] [--gdb PORT]`
 *
 * Starts the CPU as QEMU's virt machine (virtualization=on) starts a kernel:
 * EL2h, DAIF masked, NZCV = Z, X0–X30 and SP zero. Runs until PSCI
 * SYSTEM_OFF (exit 0), the instruction budget (exit 2) or a state it cannot
 * continue from (exit 3), and prints a short summary.
 *
 * With `--gdb PORT` the CPU waits, stopped at the entry point, for gdb on
 * 127.0.0.1:PORT (src/gdb); after gdb detaches it runs on as without it.
 */
import { openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { Emulator, EmulatorError } from '../machine/emulator.js';
import { LoadError } from '../machine/loader.js';
import { JsonlRecorder } from '../trace/jsonl-recorder.js';
import type { StopReason } from '../cpu/cpu.js';
import { serveGdb } from '../gdb/rsp-server.js';

export const RUN_USAGE = 'usage: run IMAGE [--entry ADDR|SYMBOL] [--base ADDR] [--max-insns N] [--trace FILE.jsonl] [--cpu cortex-a57|cortex-a76] [--mem SIZE] [--gdb PORT]';

interface RunArgs {
  image: string;
  entry?: string;
  base?: bigint;
  maxInsns: number;
  trace?: string;
  cpu: string;
  mem?: number;
  gdb?: number;
}

class UsageError extends Error {}

export function parseSize(text: string): number {
  const m = /^([0-9]+)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad size '${text}' (e.g. 512M, 2G)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

function parseArgs(argv: string[]): RunArgs {
  const args: RunArgs = { image: '', maxInsns: 100_000_000, cpu: 'cortex-a57' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--entry': args.entry = value(); break;
      case '--base': {
        const v = value();
        if (!/^(0x[0-9a-f_]+|[0-9]+)$/i.test(v)) throw new UsageError(`bad --base '${v}'`);
        args.base = BigInt(v.replace(/_/g, ''));
        break;
      }
      case '--max-insns': {
        const v = value();
        if (!/^[0-9]+$/.test(v)) throw new UsageError(`bad --max-insns '${v}'`);
        args.maxInsns = Number(v);
        break;
      }
      case '--trace': args.trace = value(); break;
      case '--cpu': args.cpu = value(); break;
      case '--mem': args.mem = parseSize(value()); break;
      case '--gdb': {
        const v = value();
        if (!/^[0-9]+$/.test(v) || Number(v) > 65535) throw new UsageError(`bad --gdb port '${v}'`);
        args.gdb = Number(v);
        break;
      }
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
        if (args.image) throw new UsageError('more than one image');
        args.image = a;
    }
  }
  if (!args.image) throw new UsageError('no image given');
  if (args.gdb !== undefined && args.trace) throw new UsageError('--gdb and --trace cannot be combined');
  return args;
}

function describe(reason: StopReason): string {
  switch (reason.kind) {
    case 'psci-off': return 'PSCI SYSTEM_OFF';
    case 'psci-reset': return 'PSCI SYSTEM_RESET';
    case 'budget': return 'instruction budget exhausted';
    case 'breakpoint': return 'breakpoint';
    case 'wfi': return 'WFI with nothing to wake the CPU';
    case 'stopped': return reason.why;
    case 'fatal': return reason.why;
  }
}

export function runRun(argv: string[]): number | Promise<number> {
  let args: RunArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`run: ${err.message}\n${RUN_USAGE}\n`); return 2; }
    throw err;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(args.image);
  } catch {
    process.stderr.write(`run: cannot read '${args.image}'\n`);
    return 1;
  }
  let emu: Emulator;
  try {
    emu = new Emulator({ cpu: args.cpu, ramSize: args.mem });
    emu.load(bytes, { base: args.base, address: args.base, entry: args.entry });
  } catch (err) {
    if (err instanceof LoadError || err instanceof EmulatorError) { process.stderr.write(`run: ${args.image}: ${err.message}\n`); return 1; }
    if (err instanceof Error && /RAM size/.test(err.message)) { process.stderr.write(`run: ${err.message}\n`); return 1; }
    throw err;
  }
  let undefinedReports = 0;
  emu.onUndefined((_word, name) => {
    undefinedReports++;
    if (undefinedReports <= 10) process.stderr.write(`run: UNDEFINED at pc=0x${emu.cpu.getPc().toString(16)} EL${emu.cpu.el}: ${name}\n`);
    else if (undefinedReports === 11) process.stderr.write('run: (further UNDEFINED reports suppressed)\n');
  });
  // The same exception taken again and again at the same place is a dead end (e.g. no vector table).
  let repeats = 0;
  let lastKey = '';
  emu.onException((e) => {
    if (e.kind !== 'exception') { lastKey = ''; return; }
    const key = `${e.toEl}:${e.esrLo}:${emu.cpu.getPc()}`;
    repeats = key === lastKey ? repeats + 1 : 0;
    lastKey = key;
    if (repeats >= 16) {
      emu.cpu.stopRequest = { kind: 'fatal', why: `exception loop at EL${e.toEl}: EC 0x${e.ec.toString(16)} taken repeatedly at the vector (is VBAR_EL${e.toEl} set?)` };
    }
  });

  if (args.gdb !== undefined) return runUnderGdb(emu, args, args.gdb);

  let reason: StopReason;
  let insns: number;
  if (args.trace) {
    const fd = openSync(args.trace, 'w');
    try {
      const rec = new JsonlRecorder(emu.cpu, (line) => { writeSync(fd, line + '\n'); }, {
        symbolize: (addr) => { const l = emu.symbols.lookup(Number(addr)); return l ? `<${emu.symbols.format(Number(addr))}>` : undefined; },
      });
      rec.start();
      const start = emu.cpu.retired;
      reason = { kind: 'budget' };
      while (emu.cpu.retired - start < args.maxInsns) {
        reason = rec.step();
        if (reason.kind !== 'budget') break;
      }
      insns = emu.cpu.retired - start;
      rec.end(reason.kind, insns);
    } finally {
      closeSync(fd);
    }
  } else {
    const r = emu.run({ maxInsns: args.maxInsns });
    reason = r.reason;
    insns = r.insns;
  }
  return summarize(emu, reason, insns);
}

/** Serves gdb until it detaches (then runs on), kills, or the program powers off. */
async function runUnderGdb(emu: Emulator, args: RunArgs, port: number): Promise<number> {
  let server;
  try {
    server = await serveGdb(emu, port, { log: (m) => process.stderr.write(`run: ${m}\n`) });
  } catch (err) {
    process.stderr.write(`run: cannot serve gdb on 127.0.0.1:${port}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`run: waiting for gdb on 127.0.0.1:${server.port} (target remote 127.0.0.1:${server.port})\n`);
  const start = emu.cpu.retired;
  const outcome = await server.done;
  await server.close();
  const exitCode = server.target.exitCode;
  let reason: StopReason;
  if (exitCode !== undefined) reason = exitCode === 0 ? { kind: 'psci-off' } : { kind: 'psci-reset' };
  else if (outcome.kind === 'detached') reason = emu.run({ maxInsns: args.maxInsns }).reason;
  else reason = { kind: 'stopped', why: 'killed by the debugger' };
  return summarize(emu, reason, emu.cpu.retired - start);
}

function summarize(emu: Emulator, reason: StopReason, insns: number): number {
  emu.board.uart.flush();
  const pc = emu.cpu.getPc();
  const sym = emu.symbols.lookup(Number(pc)) ? ` <${emu.symbols.format(Number(pc))}>` : '';
  process.stdout.write(`${insns} instructions; EL${emu.cpu.el}, pc=0x${pc.toString(16)}${sym}; stopped: ${describe(reason)}\n`);
  if (reason.kind === 'psci-off') return 0;
  if (reason.kind === 'budget') return 2;
  return 3;
}

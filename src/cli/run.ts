/**
 * `run IMAGE [--entry ADDR|SYMBOL] [--base ADDR] [--max-insns N] [--trace FILE(.jsonl|.bin)] [--cpu NAME] [--gdb PORT]`
 *
 * Starts the CPU as QEMU's virt machine (virtualization=on) starts a kernel:
 * EL2h, DAIF masked, NZCV = Z, X0–X30 and SP zero. Runs until PSCI
 * SYSTEM_OFF (exit 0), the instruction budget (exit 2) or a state it cannot
 * continue from (exit 3), and prints a short summary.
 *
 * With `--gdb PORT` the CPU waits, stopped at the entry point, for gdb on
 * 127.0.0.1:PORT (src/gdb); after gdb detaches it runs on as without it.
 */
import type { Emulator } from '../machine/emulator.js';
import type { StopReason } from '../cpu/cpu.js';
import { formatForPath } from '../trace/open.js';
import { describeStop, exitStatusFor, loadImageForRun, runTraced, watchDeadEnds } from './run-session.js';
import { serveGdb } from '../gdb/rsp-server.js';

export const RUN_USAGE = 'usage: run IMAGE [--entry ADDR|SYMBOL] [--base ADDR] [--max-insns N] [--trace FILE.jsonl|FILE.bin] [--cpu cortex-a57|cortex-a76] [--mem SIZE] [--gdb PORT]';

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


export function runRun(argv: string[]): number | Promise<number> {
  let args: RunArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`run: ${err.message}\n${RUN_USAGE}\n`); return 2; }
    throw err;
  }
  const loaded = loadImageForRun('run', args.image, { cpu: args.cpu, ramSize: args.mem, base: args.base, entry: args.entry });
  if (typeof loaded === 'number') return loaded;
  const { emu, bytes } = loaded;
  watchDeadEnds('run', emu);

  if (args.gdb !== undefined) return runUnderGdb(emu, args, args.gdb);

  let reason: StopReason;
  let insns: number;
  if (args.trace) {
    // JSON lines for .jsonl/.json names (the format documented in the README), else the compact binary format.
    const format = formatForPath(args.trace) === 'jsonl' ? 'jsonl' : 'bin';
    try {
      ({ reason, insns } = runTraced(emu, args.trace, args.maxInsns, { format, programName: args.image, programBytes: bytes, cpu: args.cpu }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) { process.stderr.write(`run: cannot write the trace to '${args.trace}': ${(err as Error).message}
`); return 1; }
      throw err;
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
  process.stdout.write(`${insns} instructions; EL${emu.cpu.el}, pc=0x${pc.toString(16)}${sym}; stopped: ${describeStop(reason)}\n`);
  return exitStatusFor(reason);
}

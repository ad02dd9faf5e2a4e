/**
 * `pkvm-lab boot [options]`: the pKVM boot flow of the documents (src/pkvm/boot-flow.ts)
 * on the built-in machine, and its stage-by-stage report. `npm start` runs it with the
 * defaults.
 *
 *   --mem SIZE            RAM (default 1G; up to 8G; less than 512M works while the
 *                         kernel image and the hyp reservation still fit)
 *   --cpus N              CPUs (1 … 8; default 1)
 *   --profile NAME        android (the documents' tree, default) or linux-6.1
 *   --trace FILE          JSON-lines trace of every instruction of every CPU
 *   --json                the report as JSON
 *   --explain             answer the documents' open questions from the run
 *   --host-access ADDR    experiment (a) touches ADDR (must be in RAM)
 *   --cpu MODEL           cortex-a57 (default) or cortex-a76
 *   --max-insns N         instruction budget (default 20 million)
 *   --gdb PORT            wait for gdb on 127.0.0.1:PORT before running (one CPU);
 *                         the flow runs on to its end when gdb detaches
 *
 * Exit status: 0 when the flow ran to its end as the kernel would (power-off, or for
 * linux-6.1 the host panic its BUG() causes) and every experiment behaved as expected;
 * 1 when it did not; 2 for bad input (a message naming the cause, no stack trace).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BootError, DEFAULT_MEM, createBoot, type BootMachine, type BootOptions, type BootResult } from '../pkvm/boot-flow.js';
import { serveGdb } from '../gdb/rsp-server.js';
import { formatExplain, formatReport, reportJson } from '../pkvm/report.js';
import { KERNEL_PROFILE_NAMES, isKernelProfileName } from '../pkvm/profile.js';
import { parseSize } from './run.js';
import { projectRoot } from './start.js';

export const BOOT_USAGE = 'usage: boot [--mem SIZE] [--cpus N] [--profile android|linux-6.1] [--trace FILE] [--json] [--explain] [--host-access ADDR] [--cpu cortex-a57|cortex-a76] [--max-insns N] [--gdb PORT]';

class UsageError extends Error {}

interface BootArgs {
  opts: Omit<BootOptions, 'root' | 'trace'>;
  trace?: string;
  json: boolean;
  explain: boolean;
  gdb?: number;
}

function parseArgs(argv: string[]): BootArgs {
  const args: BootArgs = { opts: {}, json: false, explain: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--mem': {
        const v = value();
        try {
          args.opts.mem = parseSize(v);
        } catch {
          throw new UsageError(`bad --mem '${v}' (e.g. 512M, 2G)`);
        }
        break;
      }
      case '--cpus': {
        const v = value();
        if (!/^[0-9]+$/.test(v)) throw new UsageError(`bad --cpus '${v}': a whole number of CPUs (1 to 8)`);
        args.opts.cpus = Number(v);
        break;
      }
      case '--profile': {
        const v = value();
        if (!isKernelProfileName(v)) throw new UsageError(`unknown --profile '${v}' (${KERNEL_PROFILE_NAMES.join(' or ')})`);
        args.opts.profile = v;
        break;
      }
      case '--trace': args.trace = value(); break;
      case '--json': args.json = true; break;
      case '--explain': args.explain = true; break;
      case '--host-access': {
        const v = value();
        if (!/^(0x[0-9a-f_]+|[0-9]+)$/i.test(v)) throw new UsageError(`bad --host-access '${v}': an address (e.g. 0x48000000)`);
        args.opts.hostAccess = BigInt(v.replace(/_/g, ''));
        break;
      }
      case '--cpu': args.opts.cpuModel = value(); break;
      case '--max-insns': {
        const v = value();
        if (!/^[0-9]+$/.test(v)) throw new UsageError(`bad --max-insns '${v}'`);
        args.opts.maxInsns = Number(v);
        break;
      }
      case '--gdb': {
        const v = value();
        if (!/^[0-9]+$/.test(v) || Number(v) > 65535) throw new UsageError(`bad --gdb port '${v}'`);
        args.gdb = Number(v);
        break;
      }
      case '-h': case '--help':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option '${a}'`);
    }
  }
  if (args.gdb !== undefined && args.trace) throw new UsageError('--gdb and --trace cannot be combined');
  if (args.gdb !== undefined && (args.opts.cpus ?? 1) !== 1) throw new UsageError('--gdb debugs one CPU: use it with --cpus 1');
  return args;
}

export function runBootCommand(argv: string[]): number | Promise<number> {
  let args: BootArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`boot: ${err.message}\n`);
      process.stderr.write(`${BOOT_USAGE}\n`);
      return err.message ? 2 : 0;
    }
    throw err;
  }
  let fd: number | undefined;
  if (args.trace) {
    try {
      fd = openSync(args.trace, 'w');
    } catch (err) {
      process.stderr.write(`boot: cannot write the trace to '${args.trace}': ${(err as Error).message}\n`);
      return 2;
    }
  }
  let machine: BootMachine;
  try {
    machine = createBoot({
      ...args.opts,
      mem: args.opts.mem ?? DEFAULT_MEM,
      root: projectRoot(),
      trace: fd !== undefined ? (line) => { writeSync(fd!, line + '\n'); } : undefined,
    });
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (err instanceof BootError) {
      process.stderr.write(`boot: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.gdb !== undefined) return underGdb(machine, args.gdb).then((r) => (typeof r === 'number' ? r : report(r, args)));
  let result: BootResult;
  try {
    machine.run();
    result = machine.result();
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return report(result, args);
}

/** Serves gdb on the machine's CPU until it detaches (then the flow runs on) or kills it. */
async function underGdb(machine: BootMachine, port: number): Promise<BootResult | number> {
  let server;
  try {
    server = await serveGdb(machine.emulator, port, { log: (m) => process.stderr.write(`boot: ${m}\n`) });
  } catch (err) {
    process.stderr.write(`boot: cannot serve gdb on 127.0.0.1:${port}: ${(err as Error).message}\n`);
    return 2;
  }
  process.stderr.write(`boot: waiting for gdb on 127.0.0.1:${server.port} (target remote 127.0.0.1:${server.port}); the CPU is at primary_entry\n`);
  const outcome = await server.done;
  await server.close();
  if (outcome.kind !== 'killed' && !machine.stopped) machine.run();
  return machine.result();
}

function report(result: BootResult, args: BootArgs): number {
  if (args.json) {
    const json = reportJson(result) as Record<string, unknown>;
    if (args.explain) json['explain'] = formatExplain(result).split('\n');
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else {
    process.stdout.write(formatReport(result));
    if (args.explain) process.stdout.write('\n== The documents\' open questions, answered from this run ==\n\n' + formatExplain(result) + '\n');
  }
  if (args.trace) process.stderr.write(`boot: trace written to ${args.trace}\n`);
  const ok = result.end.ok && result.experiments.every((e) => e.ok);
  if (!ok) process.stderr.write(`boot: the flow did not complete as expected: ${result.end.reason}${result.end.error ? ` — ${result.end.error}` : ''}\n`);
  return ok ? 0 : 1;
}

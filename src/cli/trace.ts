/**
 * `trace record|convert|diff|info`: recording runs as traces, converting
 * between our binary and JSON-lines formats (and from QEMU logs), and
 * comparing two traces. Exit statuses: `diff` as diff(1) (0 same, 1
 * different, 2 trouble); the others 0 on success, 1 for bad input, 2 for
 * usage errors; `record` like `run` (0 after PSCI SYSTEM_OFF, 2 at the
 * instruction budget, 3 when the CPU cannot continue).
 */
import { statSync } from 'node:fs';
import { convertTrace } from '../trace/convert.js';
import { DiffInputError, diffTraces, TOLERANCE_RULES, type DiffOptions } from '../trace/diff.js';
import { TraceFormatError, parseNumber, regId, Rec } from '../trace/model.js';
import { formatForPath } from '../trace/open.js';
import { FilterError, TraceCursor, type StepFilterOptions } from '../trace/steps.js';
import { parseSize } from './run.js';
import { describeStop, exitStatusFor, loadImageForRun, runTraced, watchDeadEnds } from './run-session.js';

export const TRACE_USAGE = `usage: trace record IMAGE -o OUT [--format bin|jsonl] [--memory-accesses] [--no-asm] [--entry ADDR|SYMBOL] [--base ADDR] [--max-insns N] [--cpu NAME] [--mem SIZE]
       trace convert IN OUT [--to bin|jsonl|text] [FILTERS]
       trace diff A B [--ignore REG,...] [--ignore-range ADDR-ADDR]... [--resync] [--resync-window N] [--exceptions-only] [--context N] [--max-reports N] [FILTERS]
       trace info FILE [FILTERS]
       trace rules
  A, B, IN, FILE: our binary trace, our JSON-lines trace, or a QEMU -d exec,cpu[,int] -singlestep log (recognised by content)
  FILTERS: --range ADDR-ADDR (repeatable), --el N[,N...], --symbol NAME[,NAME...], --first N, --last N`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

/** Options that take a value; everything else starting with -- is a switch. */
const VALUED = new Set([
  '-o', '--output', '--format', '--to', '--entry', '--base', '--max-insns', '--cpu', '--mem', '--ignore', '--ignore-range', '--resync-window',
  '--context', '--max-reports', '--range', '--el', '--symbol', '--first', '--last',
]);
const SWITCHES = new Set(['--memory-accesses', '--no-asm', '--resync', '--exceptions-only']);

function parse(argv: string[], allowed: string[]): Parsed {
  const p: Parsed = { positional: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-') && a !== '-') {
      const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (!allowed.includes(name)) throw new UsageError(`unknown option '${name}'`);
      let value = '';
      if (VALUED.has(name)) {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UsageError(`${name} needs a value`);
        value = v;
      } else if (!SWITCHES.has(name) || inline !== undefined) {
        throw new UsageError(`${name} takes no value`);
      }
      const list = p.flags.get(name) ?? [];
      list.push(value);
      p.flags.set(name, list);
    } else {
      p.positional.push(a);
    }
  }
  return p;
}

const FILTER_OPTS = ['--range', '--el', '--symbol', '--first', '--last'];

function one(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  if (v && v.length > 1) throw new UsageError(`${name} given more than once`);
  return v?.[0];
}

function count(p: Parsed, name: string): number | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw new UsageError(`${name} needs a non-negative integer, not '${v}'`);
  return Number(v);
}

function range(text: string, opt: string): [bigint, bigint] {
  const m = /^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$/.exec(text);
  const lo = m ? parseNumber(m[1]!) : undefined;
  const hi = m ? parseNumber(m[2]!) : undefined;
  if (lo === undefined || hi === undefined) throw new UsageError(`${opt} needs ADDR-ADDR (e.g. 0x40080000-0x400800ff), not '${text}'`);
  if (hi < lo) throw new UsageError(`${opt} ${text}: the end is below the start`);
  return [lo, hi];
}

function filters(p: Parsed): StepFilterOptions {
  const f: StepFilterOptions = {};
  const ranges = p.flags.get('--range');
  if (ranges) f.ranges = ranges.map((r) => range(r, '--range'));
  const els = p.flags.get('--el');
  if (els) {
    f.els = els.flatMap((e) => e.split(',')).map((e) => {
      const t = e.trim().replace(/^el/i, '');
      if (!/^[0-3]$/.test(t)) throw new UsageError(`--el needs ELs 0 to 3, not '${e}'`);
      return Number(t);
    });
  }
  const syms = p.flags.get('--symbol');
  if (syms) f.symbols = syms.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  const first = count(p, '--first');
  if (first !== undefined) f.first = first;
  const last = count(p, '--last');
  if (last !== undefined) f.last = last;
  if (f.first !== undefined && f.last !== undefined) throw new UsageError('--first and --last cannot be combined');
  return f;
}

// ---- record ---------------------------------------------------------------------


function record(argv: string[]): number {
  const p = parse(argv, ['-o', '--output', '--format', '--memory-accesses', '--no-asm', '--entry', '--base', '--max-insns', '--cpu', '--mem']);
  if (p.positional.length !== 1) throw new UsageError(p.positional.length ? 'more than one image' : 'no image given');
  const image = p.positional[0]!;
  const out = one(p, '-o') ?? one(p, '--output');
  if (!out) throw new UsageError('no output file (-o OUT)');
  const format = one(p, '--format') ?? (formatForPath(out) === 'jsonl' ? 'jsonl' : 'bin');
  if (format !== 'bin' && format !== 'jsonl') throw new UsageError(`--format must be bin or jsonl, not '${format}'`);
  const baseText = one(p, '--base');
  const base = baseText === undefined ? undefined : parseNumber(baseText);
  if (baseText !== undefined && base === undefined) throw new UsageError(`bad --base '${baseText}'`);
  const maxInsns = count(p, '--max-insns') ?? 100_000_000;
  const cpuName = one(p, '--cpu') ?? 'cortex-a57';
  const memText = one(p, '--mem');
  let ramSize: number | undefined;
  try {
    ramSize = memText === undefined ? undefined : parseSize(memText);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const loaded = loadImageForRun('trace record', image, { cpu: cpuName, ramSize, base, entry: one(p, '--entry') });
  if (typeof loaded === 'number') return loaded;
  const { emu, bytes } = loaded;
  watchDeadEnds('trace record', emu);
  let result;
  try {
    result = runTraced(emu, out, maxInsns, {
      format, memory: p.flags.has('--memory-accesses'), asm: !p.flags.has('--no-asm'), programName: image, programBytes: bytes, cpu: cpuName,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) {
      process.stderr.write(`trace record: cannot write '${out}': ${(err as NodeJS.ErrnoException).code}\n`);
      return 1;
    }
    throw err;
  }
  const { reason } = result;
  emu.board.uart.flush?.();
  const size = statSync(out).size;
  process.stdout.write(`${result.insns} instructions recorded to ${out} (${format === 'bin' ? 'binary' : 'JSON lines'}, ${size} bytes); stopped: ${describeStop(reason)}\n`);
  return exitStatusFor(reason);
}

// ---- convert, info, diff ------------------------------------------------------------

function convert(argv: string[]): number {
  const p = parse(argv, ['--to', ...FILTER_OPTS]);
  if (p.positional.length !== 2) throw new UsageError('convert needs IN and OUT');
  const [input, output] = p.positional as [string, string];
  const to = one(p, '--to') ?? formatForPath(output);
  if (to !== 'bin' && to !== 'jsonl' && to !== 'text') throw new UsageError(`--to must be bin, jsonl or text, not '${to}'`);
  const r = convertTrace(input, output, { to, filter: filters(p) });
  for (const n of r.notes) process.stderr.write(`trace convert: note: ${n}\n`);
  process.stdout.write(`${r.written} of ${r.read} instructions converted from ${r.format} ${input} to ${to === 'bin' ? 'binary' : to === 'jsonl' ? 'JSON lines' : 'text'} ${output}\n`);
  return 0;
}

function info(argv: string[]): number {
  const p = parse(argv, FILTER_OPTS);
  if (p.positional.length !== 1) throw new UsageError('info needs one FILE');
  const path = p.positional[0]!;
  const c = new TraceCursor(path, filters(p));
  try {
    const counts = new Map<string, number>();
    const els = new Map<number, number>();
    let steps = 0;
    for (let s = c.next(); s; s = c.next()) {
      steps++;
      els.set(s.el, (els.get(s.el) ?? 0) + 1);
      for (let k = 0; k < s.nEvents; k++) {
        const kind = s.events[k]!.kind;
        const name = kind === Rec.Exception ? 'exception entries' : kind === Rec.Eret ? 'exception returns' : kind === Rec.IllegalEret ? 'illegal returns'
          : kind === Rec.Tlbi ? 'TLB maintenance' : kind === Rec.HostCall ? 'host calls' : kind === Rec.Psci ? 'PSCI calls' : 'other events';
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    const m = c.meta;
    const st = c.reader.start;
    const lines = [
      `${path}: ${c.reader.src.formatName} from ${m.source}${m.program?.name ? ` of ${m.program.name}` : ''}${m.cpu ? ` (${m.cpu})` : ''}`,
      `  records: x0-x30, sp, nzcv${m.features.length ? `, ${m.features.join(', ')}` : ''}`,
      `  start: pc 0x${((BigInt(st.pcHi >>> 0) << 32n) | BigInt(st.pcLo >>> 0)).toString(16)} EL${st.el}`,
      `  instructions: ${steps}${steps !== c.stepsRead ? ` (of ${c.stepsRead} before filtering)` : ''}; by EL: ${[...els].sort().map(([e, n]) => `EL${e} ${n}`).join(', ') || 'none'}`,
      `  events: ${[...counts].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      `  end: ${c.reader.endReason ?? (c.reader.missingEnd ? 'no end record (interrupted run or cut file)' : '?')}`,
    ];
    if (m.symbols) lines.push(`  symbols: ${Object.keys(m.symbols).length}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    c.close();
  }
  return 0;
}

function diff(argv: string[]): number {
  const p = parse(argv, ['--ignore', '--ignore-range', '--resync', '--resync-window', '--exceptions-only', '--context', '--max-reports', ...FILTER_OPTS]);
  if (p.positional.length !== 2) throw new UsageError('diff needs two traces A and B');
  const opts: DiffOptions = { filter: filters(p) };
  const ignore = p.flags.get('--ignore');
  if (ignore) {
    opts.ignore = ignore.flatMap((r) => r.split(',')).map((r) => r.trim()).filter((r) => r !== '').map((name) => {
      const id = regId(name);
      if (id < 0) throw new UsageError(`--ignore: unknown register '${name}' (x0-x30, sp, nzcv, pstate, fpcr, fpsr, v0-v31)`);
      return id;
    });
  }
  const ir = p.flags.get('--ignore-range');
  if (ir) opts.ignoreRanges = ir.map((r) => range(r, '--ignore-range'));
  opts.resync = p.flags.has('--resync');
  opts.exceptionsOnly = p.flags.has('--exceptions-only');
  const ctx = count(p, '--context');
  if (ctx !== undefined) opts.context = ctx;
  const win = count(p, '--resync-window');
  if (win !== undefined) opts.resyncWindow = win;
  const maxr = count(p, '--max-reports');
  if (maxr !== undefined) opts.maxReports = maxr;
  const [a, b] = p.positional as [string, string];
  const lines: string[] = [];
  const t0 = performance.now();
  let summary;
  try {
    summary = diffTraces(a, b, opts, (l) => lines.push(l));
  } finally {
    if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  }
  if (process.env.PKVM_TRACE_TIMING) process.stderr.write(`trace diff: ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  return summary.same ? 0 : 1;
}

export function runTrace(argv: string[]): number {
  const [sub, ...rest] = argv;
  const trouble = sub === 'diff' ? 2 : 1;
  try {
    switch (sub) {
      case 'record': return record(rest);
      case 'convert': return convert(rest);
      case 'diff': return diff(rest);
      case 'info': return info(rest);
      case 'rules':
        process.stdout.write(Object.entries(TOLERANCE_RULES).map(([k, v]) => `${k}\n  ${v}`).join('\n') + '\n');
        return 0;
      case undefined: case '-h': case '--help': case 'help':
        process.stdout.write(`${TRACE_USAGE}\n`);
        return sub === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`trace ${sub ?? ''}: ${err.message}\n${TRACE_USAGE}\n`);
      return 2;
    }
    if (err instanceof TraceFormatError || err instanceof DiffInputError || err instanceof FilterError) {
      process.stderr.write(`trace ${sub}: ${err.message}\n`);
      return trouble === 2 ? 2 : 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) {
      process.stderr.write(`trace ${sub}: ${(err as Error).message}\n`);
      return trouble;
    }
    // diff(1) exits 2 on any trouble, so scripts can tell it from "different".
    if (sub === 'diff') {
      process.stderr.write(`trace diff: internal error: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

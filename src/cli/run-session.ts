/**
 * What `run` and `trace record` share: loading an image into a fresh
 * emulator, reporting UNDEFINED instructions and exception loops (dead ends),
 * and running with or without a trace recorder.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { StopReason } from '../cpu/cpu.js';
import { Emulator, EmulatorError } from '../machine/emulator.js';
import { LoadError } from '../machine/loader.js';
import { createWriter } from '../trace/open.js';
import { Recorder } from '../trace/recorder.js';

export interface LoadOptions {
  cpu: string;
  ramSize?: number;
  base?: bigint;
  entry?: string;
}

/** Loads `image` into a new emulator; on bad input prints `<cmd>: …` and returns an exit status. */
export function loadImageForRun(cmd: string, image: string, opts: LoadOptions): { emu: Emulator; bytes: Uint8Array } | number {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(image);
  } catch {
    process.stderr.write(`${cmd}: cannot read '${image}'\n`);
    return 1;
  }
  try {
    const emu = new Emulator({ cpu: opts.cpu, ramSize: opts.ramSize });
    emu.load(bytes, { base: opts.base, address: opts.base, entry: opts.entry });
    return { emu, bytes };
  } catch (err) {
    if (err instanceof LoadError || err instanceof EmulatorError) { process.stderr.write(`${cmd}: ${image}: ${err.message}\n`); return 1; }
    if (err instanceof Error && /RAM size/.test(err.message)) { process.stderr.write(`${cmd}: ${err.message}\n`); return 1; }
    throw err;
  }
}

/**
 * Reports UNDEFINED instructions by name (the first ten) and stops a run that
 * takes the same exception again and again at the same place (e.g. no vector table).
 */
export function watchDeadEnds(cmd: string, emu: Emulator): void {
  let undefinedReports = 0;
  emu.onUndefined((_word, name) => {
    undefinedReports++;
    if (undefinedReports <= 10) process.stderr.write(`${cmd}: UNDEFINED at pc=0x${emu.cpu.getPc().toString(16)} EL${emu.cpu.el}: ${name}\n`);
    else if (undefinedReports === 11) process.stderr.write(`${cmd}: (further UNDEFINED reports suppressed)\n`);
  });
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
}

export interface TraceOptions {
  /** 'jsonl' or 'bin'; by default from the file name (.jsonl/.json → JSON lines, anything else binary). */
  format: 'bin' | 'jsonl';
  memory?: boolean;
  asm?: boolean;
  /** For the start record. */
  programName: string;
  programBytes: Uint8Array;
  cpu: string;
}

/** Runs `emu` for at most `maxInsns` instructions, recording every step into `out`. */
export function runTraced(emu: Emulator, out: string, maxInsns: number, opts: TraceOptions): { reason: StopReason; insns: number } {
  const symbols: Record<string, string> = {};
  for (const [name, value] of emu.symbols) symbols[name] = `0x${value.toString(16)}`;
  const symAt = (addr: bigint): string | undefined =>
    addr <= BigInt(Number.MAX_SAFE_INTEGER) && emu.symbols.lookup(Number(addr)) ? emu.symbols.format(Number(addr)) : undefined;
  const sink = createWriter(out, opts.format);
  const recorder = new Recorder(emu.cpu, sink, {
    symbolize: (addr) => { const s = symAt(addr); return s ? `<${s}>` : undefined; },
    pcSymbol: symAt,
    memory: opts.memory,
    asm: opts.asm ?? true,
    emulator: emu,
    meta: {
      program: { name: basename(opts.programName), sha256: createHash('sha256').update(opts.programBytes).digest('hex') },
      cpu: opts.cpu,
      symbols,
    },
  });
  let reason: StopReason = { kind: 'budget' };
  const start = emu.cpu.retired;
  try {
    recorder.start();
    while (emu.cpu.retired - start < maxInsns) {
      reason = recorder.step();
      if (reason.kind !== 'budget') break;
    }
    recorder.end(reason.kind, emu.cpu.retired - start);
  } finally {
    sink.close();
  }
  return { reason, insns: emu.cpu.retired - start };
}

export function describeStop(reason: StopReason): string {
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

/** 0 after PSCI SYSTEM_OFF, 2 at the instruction budget, 3 for anything else. */
export function exitStatusFor(reason: StopReason): number {
  if (reason.kind === 'psci-off') return 0;
  if (reason.kind === 'budget') return 2;
  return 3;
}

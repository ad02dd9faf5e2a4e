/**
 * Differential runs against QEMU 7.2: one image, assembled by our assembler,
 * runs single-stepped under QEMU (test/helpers/qemu.ts) and on our
 * interpreter (the Emulator with its PSCI firmware, stepped one instruction at
 * a time), and the two traces (state before every instruction, exception
 * entries and returns) are compared item by item with
 * src/trace/compare-states.ts, which tolerates QEMU's documented deviations
 * by name only where they apply.
 */
import { Emulator } from '../../../src/machine/emulator.js';
import { disassemble } from '../../../src/isa/disasm.js';
import { sysregIdByEncoding } from '../../../src/cpu/sysregs/system-registers.js';
import {
  compareTraces, qemuTraceItems, recordOurTrace,
  type CompareTracesOptions, type TraceComparison, type TraceItem,
} from '../../../src/trace/compare-states.js';
import { buildImage, runQemu, type BuiltImage } from '../../helpers/qemu.js';

export const IMAGE_BASE = 0x40080000n;

export interface DifferentialRun {
  comparison: TraceComparison;
  image: BuiltImage;
  qemuStop: string;
  ourStop: string;
  /** Instruction records QEMU logged. */
  qemuInstructions: number;
  ourSteps: number;
  qemuMs: number;
  oursMs: number;
  /** QEMU's trace items (states, exception entries and returns). */
  qemuItems: TraceItem[];
}

/** The exception entries of a trace as "EC:from->to" (EC in hex), e.g. '15:0->1' for an SVC from EL0 to EL1. */
export function exceptionSummary(items: readonly TraceItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'exception' ? [`${i.entry.ec.toString(16)}:${i.entry.fromEl}->${i.entry.toEl}`] : []));
}

export interface DifferentialOptions extends Omit<CompareTracesOptions, 'describeInsn'> {
  /** Instruction budget on both sides (default 200,000). */
  maxInsns?: number;
  cpu?: 'cortex-a57' | 'cortex-a76';
  /** Something to set up on our side before running (e.g. nothing: both start as QEMU's virt does). */
  prepare?: (emu: Emulator) => void;
}

/** The word at `pc` in a flat image linked at IMAGE_BASE. */
export function wordAt(flat: Uint8Array, pc: bigint): number | undefined {
  const off = Number(pc - IMAGE_BASE);
  if (off < 0 || off + 4 > flat.length) return undefined;
  return (flat[off]! | (flat[off + 1]! << 8) | (flat[off + 2]! << 16) | (flat[off + 3]! << 24)) >>> 0;
}

/** The disassembly of the word at `pc` in a flat image linked at IMAGE_BASE. */
export function describeAt(flat: Uint8Array, pc: bigint): string {
  const word = wordAt(flat, pc);
  if (word === undefined) return '(outside the image)';
  return `${word.toString(16).padStart(8, '0')}  ${disassemble(word, { address: pc }).text.replace(/\t/g, ' ')}`;
}

/** Runs an already built image on both sides and compares. */
export function runImageBothWays(image: BuiltImage, opts: DifferentialOptions = {}): DifferentialRun {
  const maxInsns = opts.maxInsns ?? 200_000;
  let t0 = performance.now();
  const q = runQemu(image.elf, { maxInsns, cpu: opts.cpu ?? 'cortex-a57', timeoutMs: 120_000 });
  const qemuMs = performance.now() - t0;
  t0 = performance.now();
  const emu = new Emulator({ cpu: opts.cpu ?? 'cortex-a57' });
  emu.load(image.elf);
  opts.prepare?.(emu);
  const ours = recordOurTrace(emu.cpu, maxInsns);
  const qemuItems = qemuTraceItems(q.records);
  const sys = emu.cpu.sys;
  const comparison = compareTraces(qemuItems, ours.items, {
    ...opts,
    describeInsn: (pc) => describeAt(image.flat, pc),
    insnAt: (pc) => wordAt(image.flat, pc),
    reservedBits: (encoding) => {
      const id = sysregIdByEncoding(encoding);
      if (id < 0) return undefined;
      const k = id * 2;
      return (BigInt((sys.res0[k + 1]! | sys.res1[k + 1]!) >>> 0) << 32n) | BigInt((sys.res0[k]! | sys.res1[k]!) >>> 0);
    },
  });
  const oursMs = performance.now() - t0;
  return {
    comparison, image, qemuStop: q.stopReason, ourStop: ours.stop,
    qemuInstructions: q.instructions, ourSteps: ours.steps, qemuMs, oursMs, qemuItems,
  };
}

/** Assembles `source` (gas syntax, entry `_start`), runs it both ways and compares. */
export function runBothWays(source: string, opts: DifferentialOptions = {}): DifferentialRun {
  return runImageBothWays(buildImage(source, IMAGE_BASE), opts);
}

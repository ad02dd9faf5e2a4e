/**
 * Step-by-step comparison of two executions of the same image: our
 * interpreter, single-stepped, and QEMU's `-singlestep -d exec,cpu,int,nochain`
 * log (parsed by src/trace/qemu-log.ts). Both become the same stream of items:
 *
 *   state      the architectural state before one instruction (PC, X0-X30,
 *              SP in use, NZCV, EL, SPSel);
 *   exception  an exception entry (from/to EL, ESR, ELR, FAR, vector address);
 *   eret       an exception return (from/to EL, target PC).
 *
 * and `compareTraces` walks them in lock step. QEMU's documented deviations
 * from the architecture (/work/shared/QEMU-NOTES.md) are accepted only where
 * they apply, each under its own name, and counted in the report:
 *
 *   nzcv-cleared-on-entry   QEMU 7.2 clears PSTATE.NZCV when it takes an
 *                           exception; the architecture keeps them. Accepted
 *                           from an exception entry while QEMU shows 0000 and
 *                           we still show the flags we had at the entry, until
 *                           either side's NZCV changes (a flag-setting
 *                           instruction, MSR NZCV or ERET).
 *   isv-on-el2-data-abort   QEMU 7.2 reports ISV=1 with an instruction syndrome
 *                           (SAS, SSE, SRT, SF, AR) for a data abort taken to
 *                           EL2 from EL2 by a plain load/store, where the
 *                           architecture gives ISV=0 (ESR_EL2 reports ISV only
 *                           for stage-2 aborts). Accepted when the two ESRs
 *                           differ only in ISS[24:14] and ours has ISV=0; the
 *                           pair of values is then also accepted in X
 *                           registers (a handler's `mrs xN, esr_el2`).
 *   illegal-eret-unlogged   QEMU does not log an illegal exception return; our
 *                           'illegal-eret' items are dropped before comparing.
 *   reserved-bits-as-written  QEMU keeps some RES0/RES1 bits as software wrote
 *                           them (e.g. SCTLR_EL1.SPAN, RES1 without FEAT_PAN,
 *                           written 0 by Linux); our MSR applies the
 *                           architecture's masks (both are permitted for a bit
 *                           that has a function in another configuration).
 *                           Accepted, when the caller supplies `insnAt` and
 *                           `reservedBits`, for the destination of an MRS whose
 *                           values differ only in that register's RES0/RES1
 *                           bits; the pair of values is then also accepted in
 *                           other X registers (copies).
 *
 * Callers can add their own named tolerances for one exception entry
 * (`exceptionTolerance`); nothing else is ever loosened.
 */
import type { Cpu } from '../cpu/cpu.js';
import type { ExceptionEvent } from '../cpu/exceptions.js';
import type { StopReason } from '../cpu/cpu.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import { isInsnRecord, type QemuRecord } from './qemu-log.js';

export interface ArchState {
  pc: bigint;
  el: number;
  /** PSTATE.SP: 'h' = SP_ELx, 't' = SP_EL0. */
  spsel: 'h' | 't';
  /** N=8, Z=4, C=2, V=1. */
  nzcv: number;
  /** X0..X30. */
  x: bigint[];
  /** The stack pointer in use. */
  sp: bigint;
}

export interface ExceptionEntry {
  fromEl: number;
  toEl: number;
  ec: number;
  esr: number;
  elr: bigint;
  /** Set when the side reports a fault address (QEMU prints one for aborts only). */
  far?: bigint;
  /** The vector address execution continues at. */
  vector: bigint;
}

export interface ExceptionReturnItem {
  fromEl: number;
  toEl: number;
  pc: bigint;
}

export type TraceItem =
  | { kind: 'state'; state: ArchState }
  | { kind: 'exception'; entry: ExceptionEntry }
  | { kind: 'eret'; ret: ExceptionReturnItem };

// ---------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------

export function captureState(cpu: Cpu): ArchState {
  const x: bigint[] = new Array<bigint>(31);
  for (let i = 0; i < 31; i++) x[i] = cpu.getX(i);
  return { pc: cpu.getPc(), el: cpu.el, spsel: cpu.spsel ? 'h' : 't', nzcv: cpu.nzcv, x, sp: cpu.getSp() };
}

const EC_IABT_LOWER = 0x20;
const EC_IABT_SAME = 0x21;

/** Exception classes for which FAR_ELx is valid (aborts, PC/SP alignment, watchpoints). */
const FAR_VALID_EC = new Set([0x20, 0x21, 0x22, 0x24, 0x25, 0x34, 0x35]);

/** An exception entry as the CPU just took it (ELR/FAR read from the target EL's registers). */
export function captureException(cpu: Cpu, e: ExceptionEvent): ExceptionEntry {
  const t = e.toEl;
  const entry: ExceptionEntry = {
    fromEl: e.fromEl,
    toEl: t,
    ec: e.ec,
    esr: e.esrLo >>> 0,
    elr: cpu.sys.getBig(`elr_el${t}`),
    vector: cpu.getPc(),
  };
  if (FAR_VALID_EC.has(e.ec)) entry.far = cpu.sys.getBig(`far_el${t}`);
  return entry;
}

export interface OurTrace {
  items: TraceItem[];
  /** Why the run ended: the interpreter's stop reason, or 'max-steps'. */
  stop: StopReason['kind'] | 'max-steps';
  steps: number;
}

/**
 * Runs `cpu` one instruction at a time from its current state, recording the
 * state before each instruction and the exception entries/returns it causes,
 * in the order QEMU's single-step log shows them. Stops on any stop reason
 * other than the budget (PSCI SYSTEM_OFF, fatal, ...) or after `maxSteps`.
 * Illegal exception returns are left out (QEMU does not log them), and so is
 * the state before an instruction whose fetch took an instruction abort: no
 * instruction ran there (QEMU logs none either).
 */
export function recordOurTrace(cpu: Cpu, maxSteps: number): OurTrace {
  const items: TraceItem[] = [];
  const pending: ExceptionEvent[] = [];
  const previous = cpu.onException;
  cpu.onException = (e) => {
    pending.push(e);
    previous?.(e);
  };
  let stop: OurTrace['stop'] = 'max-steps';
  let steps = 0;
  try {
    for (; steps < maxSteps; steps++) {
      items.push({ kind: 'state', state: captureState(cpu) });
      pending.length = 0;
      // One step: an instruction, or an exception taken instead of one (an aborted fetch, PC
      // alignment, the Illegal Execution state exception after an illegal return).
      const r = runInterpreter(cpu, 1);
      if (r.kind !== 'budget') stop = r.kind;
      for (const e of pending) {
        // An interrupt (vector offset 0x80, 0x100 or 0x180 within its group) is taken before the
        // instruction: like an aborted fetch, no instruction ran at that PC.
        const asynchronous = e.kind === 'exception' && (e.vector & 0x180) !== 0;
        if (asynchronous && pending.length === 1) items.pop();
        else if (e.kind === 'exception' && (e.ec === EC_IABT_LOWER || e.ec === EC_IABT_SAME) && pending.length === 1) {
          // The fetch aborted: no instruction ran at that PC, and QEMU (which cannot translate
          // a block there) logs none; the state before it is the state at the exception.
          items.pop();
        }
        if (e.kind === 'exception') items.push({ kind: 'exception', entry: captureException(cpu, e) });
        else if (e.kind === 'eret') items.push({ kind: 'eret', ret: { fromEl: e.fromEl, toEl: e.toEl, pc: cpu.getPc() } });
        // 'illegal-eret': not logged by QEMU.
      }
      if (stop !== 'max-steps') {
        steps++;
        break;
      }
    }
  } finally {
    cpu.onException = previous;
  }
  return { items, stop, steps };
}

// ---------------------------------------------------------------------------
// QEMU's side
// ---------------------------------------------------------------------------

/**
 * QEMU's records as trace items. PSCI calls QEMU's firmware handled, semihosting
 * and unknown text lines have no counterpart on our side and are dropped.
 */
export function qemuTraceItems(records: readonly QemuRecord[]): TraceItem[] {
  const out: TraceItem[] = [];
  for (const r of records) {
    if (isInsnRecord(r)) {
      out.push({ kind: 'state', state: { pc: r.pc, el: r.el, spsel: r.spsel, nzcv: r.nzcv, x: r.x, sp: r.sp } });
    } else if (r.event === 'exception') {
      const entry: ExceptionEntry = { fromEl: r.from_el, toEl: r.to_el, ec: r.ec, esr: r.esr >>> 0, elr: r.elr, vector: r.pc };
      if (r.far !== undefined) entry.far = r.far;
      out.push({ kind: 'exception', entry });
    } else if (r.event === 'eret') {
      out.push({ kind: 'eret', ret: { fromEl: r.from_el, toEl: r.to_el, pc: r.pc } });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

export type ExceptionField = 'el' | 'esr' | 'elr' | 'far' | 'vector';

export interface CompareTracesOptions {
  /** Stop after this many mismatching items (default 1: later items usually only echo the first). */
  maxMismatches?: number;
  /** Disassembly (or any description) of the instruction at `pc`, for reports. */
  describeInsn?: (pc: bigint) => string;
  /**
   * A caller-specific accepted difference in one field of one exception entry:
   * return the tolerance's name to accept it, undefined to report it.
   */
  exceptionTolerance?: (field: ExceptionField, ours: ExceptionEntry, qemu: ExceptionEntry) => string | undefined;
  /** Accept `nzcv-cleared-on-entry` (default true; QEMU 7.2 always does it). */
  nzcvClearedOnEntry?: boolean;
  /** Accept `isv-on-el2-data-abort` (default true). */
  isvOnEl2DataAbort?: boolean;
  /** The instruction word at `pc` (for `reserved-bits-as-written`). */
  insnAt?: (pc: bigint) => number | undefined;
  /** RES0|RES1 mask of the system register with this MRS/MSR encoding (op0:op1:CRn:CRm:op2), if known. */
  reservedBits?: (encoding: number) => bigint | undefined;
}

export interface TraceMismatch {
  /** Index in the item streams. */
  item: number;
  /** Instruction records before this item (the step number). */
  step: number;
  /** The state's PC (or the exception's ELR). */
  pc: bigint;
  /** The instruction that produced the differing state: the previous state's PC and its description. */
  after?: { pc: bigint; insn: string };
  diffs: string[];
  /** A readable one-paragraph report. */
  text: string;
}

export interface TraceComparison {
  ok: boolean;
  /** Instruction states compared (equal or not). */
  states: number;
  exceptions: number;
  erets: number;
  /** For each named deviation, how many compared items (states, exception entries) needed it. */
  tolerated: Record<string, number>;
  mismatches: TraceMismatch[];
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

function nzcvText(v: number): string {
  return `${v & 8 ? 'N' : '-'}${v & 4 ? 'Z' : '-'}${v & 2 ? 'C' : '-'}${v & 1 ? 'V' : '-'}`;
}

function describeItem(item: TraceItem | undefined): string {
  if (!item) return 'nothing (trace ended)';
  switch (item.kind) {
    case 'state': return `instruction at ${hex(item.state.pc)} (EL${item.state.el})`;
    case 'exception': {
      const e = item.entry;
      return `exception EC ${hex(e.ec)} ESR ${hex(e.esr)} EL${e.fromEl}->EL${e.toEl} ELR ${hex(e.elr)} vector ${hex(e.vector)}`;
    }
    case 'eret': return `eret EL${item.ret.fromEl}->EL${item.ret.toEl} to ${hex(item.ret.pc)}`;
  }
}

/** ISS[24:14]: ISV, SAS, SSE, SRT, SF, AR of a data abort syndrome. */
const DABT_INSN_SYNDROME = 0x01ffc000;

/**
 * Compares QEMU's items with ours in lock step. Everything is compared
 * exactly except the named deviations above.
 */
export function compareTraces(qemu: readonly TraceItem[], ours: readonly TraceItem[], opts: CompareTracesOptions = {}): TraceComparison {
  const maxMismatches = opts.maxMismatches ?? 1;
  const tolerateNzcv = opts.nzcvClearedOnEntry ?? true;
  const tolerateIsv = opts.isvOnEl2DataAbort ?? true;
  const result: TraceComparison = { ok: true, states: 0, exceptions: 0, erets: 0, tolerated: {}, mismatches: [] };
  // Counted once per compared item that needed the deviation.
  const usedHere = new Set<string>();
  const tolerate = (name: string) => {
    if (usedHere.has(name)) return;
    usedHere.add(name);
    result.tolerated[name] = (result.tolerated[name] ?? 0) + 1;
  };
  // nzcv-cleared-on-entry: the flags we kept at the last entry, while the deviation can apply.
  let keptNzcv: number | undefined;
  // Values accepted as equivalent (ours -> QEMU's) in X registers, and under which deviation.
  const equivalent = new Map<bigint, { qemu: bigint; name: string }>();
  let lastState: ArchState | undefined;
  let step = 0;

  const report = (item: number, pc: bigint, diffs: string[]) => {
    const after = lastState ? { pc: lastState.pc, insn: opts.describeInsn?.(lastState.pc) ?? '?' } : undefined;
    const where = after
      ? `after step ${step - 1} (${hex(after.pc)}: ${after.insn})`
      : `at the start`;
    const text = `mismatch at item ${item}, ${where}, at PC ${hex(pc)}:\n  ${diffs.join('\n  ')}`;
    result.mismatches.push({ item, step, pc, after, diffs, text });
    result.ok = false;
  };

  const n = Math.max(qemu.length, ours.length);
  for (let k = 0; k < n && result.mismatches.length < maxMismatches; k++) {
    const q = qemu[k];
    const o = ours[k];
    usedHere.clear();
    if (!q || !o || q.kind !== o.kind) {
      report(k, q?.kind === 'state' ? q.state.pc : o?.kind === 'state' ? o.state.pc : 0n, [
        `QEMU: ${describeItem(q)}`,
        `ours: ${describeItem(o)}`,
      ]);
      break; // the streams are out of step; nothing later lines up
    }
    if (q.kind === 'state' && o.kind === 'state') {
      const qs = q.state, os = o.state;
      const diffs: string[] = [];
      if (qs.pc !== os.pc) diffs.push(`PC: QEMU ${hex(qs.pc)}, ours ${hex(os.pc)}`);
      if (qs.el !== os.el) diffs.push(`EL: QEMU ${qs.el}, ours ${os.el}`);
      if (qs.spsel !== os.spsel) diffs.push(`SPSel: QEMU ${qs.spsel}, ours ${os.spsel}`);
      if (keptNzcv !== undefined && (qs.nzcv !== 0 || os.nzcv !== keptNzcv)) keptNzcv = undefined; // a side wrote NZCV
      if (qs.nzcv !== os.nzcv) {
        if (keptNzcv !== undefined) tolerate('nzcv-cleared-on-entry');
        else diffs.push(`NZCV: QEMU ${nzcvText(qs.nzcv)}, ours ${nzcvText(os.nzcv)}`);
      }
      const mrsRt = lastState ? reservedBitsOfMrs(opts, lastState.pc, qs, os) : -1;
      if (mrsRt >= 0) {
        tolerate('reserved-bits-as-written');
        equivalent.set(os.x[mrsRt]!, { qemu: qs.x[mrsRt]!, name: 'reserved-bits-as-written' });
      }
      for (let i = 0; i < 31; i++) {
        const a = qs.x[i]!, b = os.x[i]!;
        if (a === b || i === mrsRt) continue;
        const eq = equivalent.get(b);
        if (eq && eq.qemu === a) { tolerate(eq.name); continue; }
        diffs.push(`X${i}: QEMU ${hex(a)}, ours ${hex(b)}`);
      }
      if (qs.sp !== os.sp) diffs.push(`SP: QEMU ${hex(qs.sp)}, ours ${hex(os.sp)}`);
      if (diffs.length) report(k, qs.pc, diffs);
      result.states++;
      step++;
      lastState = os;
      continue;
    }
    if (q.kind === 'exception' && o.kind === 'exception') {
      result.exceptions++;
      const qe = q.entry, oe = o.entry;
      const diffs: string[] = [];
      const check = (field: ExceptionField, same: boolean, text: string) => {
        if (same) return;
        const name = opts.exceptionTolerance?.(field, oe, qe);
        if (name) tolerate(name);
        else diffs.push(text);
      };
      check('el', qe.fromEl === oe.fromEl && qe.toEl === oe.toEl, `exception ELs: QEMU EL${qe.fromEl}->EL${qe.toEl}, ours EL${oe.fromEl}->EL${oe.toEl}`);
      if (qe.esr !== oe.esr && tolerateIsv && isvDeviation(qe, oe)) {
        tolerate('isv-on-el2-data-abort');
        equivalent.set(BigInt(oe.esr), { qemu: BigInt(qe.esr), name: 'isv-on-el2-data-abort' });
      } else {
        check('esr', qe.esr === oe.esr, `ESR: QEMU ${hex(qe.esr)}, ours ${hex(oe.esr)}`);
      }
      check('elr', qe.elr === oe.elr, `ELR: QEMU ${hex(qe.elr)}, ours ${hex(oe.elr)}`);
      // QEMU prints FAR only for aborts; compare it whenever it did.
      if (qe.far !== undefined) check('far', qe.far === oe.far, `FAR: QEMU ${hex(qe.far)}, ours ${oe.far === undefined ? 'not valid' : hex(oe.far)}`);
      check('vector', qe.vector === oe.vector, `vector: QEMU ${hex(qe.vector)}, ours ${hex(oe.vector)}`);
      if (diffs.length) report(k, oe.elr, diffs);
      // From here QEMU shows NZCV = 0000 while we keep the flags of the interrupted code.
      keptNzcv = tolerateNzcv && lastState ? lastState.nzcv : undefined;
      continue;
    }
    if (q.kind === 'eret' && o.kind === 'eret') {
      result.erets++;
      const qr = q.ret, or = o.ret;
      const diffs: string[] = [];
      if (qr.fromEl !== or.fromEl || qr.toEl !== or.toEl) diffs.push(`eret ELs: QEMU EL${qr.fromEl}->EL${qr.toEl}, ours EL${or.fromEl}->EL${or.toEl}`);
      if (qr.pc !== or.pc) diffs.push(`eret target: QEMU ${hex(qr.pc)}, ours ${hex(or.pc)}`);
      if (diffs.length) report(k, lastState?.pc ?? 0n, diffs);
      keptNzcv = undefined; // ERET restores NZCV from SPSR on both sides
      continue;
    }
  }
  return result;
}

/**
 * `reserved-bits-as-written`: if the instruction at `pc` is an MRS whose
 * destination differs between the two states only in the system register's
 * RES0/RES1 bits, its register number; else -1.
 */
function reservedBitsOfMrs(opts: CompareTracesOptions, pc: bigint, q: ArchState, o: ArchState): number {
  if (!opts.insnAt || !opts.reservedBits) return -1;
  const word = opts.insnAt(pc);
  if (word === undefined || ((word & 0xfff00000) >>> 0) !== 0xd5300000) return -1; // MRS Xt, <sysreg>
  const rt = word & 31;
  if (rt === 31 || q.x[rt] === o.x[rt]) return -1;
  const mask = opts.reservedBits((word >>> 5) & 0xffff);
  if (mask === undefined || ((q.x[rt]! ^ o.x[rt]!) & ~mask) !== 0n) return -1;
  return rt;
}

/**
 * The ISV deviation: a data abort from EL2 to EL2 whose syndromes differ
 * only in ISS[24:14], where QEMU has ISV=1 and we have ISV=0.
 */
function isvDeviation(q: ExceptionEntry, o: ExceptionEntry): boolean {
  if (q.ec !== 0x25 || o.ec !== 0x25 || q.toEl !== 2 || q.fromEl !== 2) return false;
  if (((q.esr ^ o.esr) & ~DABT_INSN_SYNDROME) !== 0) return false;
  return (q.esr & (1 << 24)) !== 0 && (o.esr & (1 << 24)) === 0;
}

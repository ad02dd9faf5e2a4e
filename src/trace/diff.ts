/**
 * `trace diff`: compares two traces (ours or QEMU's, any format) as state
 * sequences, streaming.
 *
 * Both traces are read step by step (./steps.ts) with their full register
 * state. At each step the PCs and ELs must agree (else control flow
 * diverged), the events must agree (exception entries with ESR/ELR/FAR and
 * vector, returns, PSCI calls; TLB maintenance, host calls, system-register
 * writes and memory accesses when both traces record them), and the
 * registers the previous step changed on either side must agree. A
 * register difference is reported once when it appears and followed until
 * it disappears, so `--resync` can carry on past a known divergence (a timer
 * read) to the next new one; a control-flow divergence is resynchronised by
 * looking ahead for the nearest point where both traces are at the same PC
 * in the same state.
 *
 * QEMU 7.2's documented deviations from the architecture are tolerated by
 * named rules that apply only between our trace and a QEMU log, each to one
 * specific situation (see TOLERANCE_RULES); every use is counted in the
 * summary.
 */
import { disassemble } from '../isa/disasm.js';
import {
  REG_COUNT, REG_NAMES, REG_NZCV, REG_PSTATE, REG_WORDS, Rec, TraceFormatError, TraceRecord, hex64, hexFixed, regWords, toBig,
} from './model.js';
import { TraceCursor, describeMem, hasFilter, type Step, type StepFilterOptions } from './steps.js';

export interface DiffOptions {
  /** Register ids not compared. */
  ignore?: number[];
  /** Steps whose PC is in these inclusive ranges are not compared (their effects are, once both leave the range). */
  ignoreRanges?: [bigint, bigint][];
  /** Carry on after a divergence: register differences are followed until they reconverge, control flow is resynchronised. */
  resync?: boolean;
  /** Steps looked ahead on each side to resynchronise control flow (default 4096). */
  resyncWindow?: number;
  /** Compare only exception entries and returns and the state right after each. */
  exceptionsOnly?: boolean;
  /** Steps of context before and after the first divergence (default 5). */
  context?: number;
  /** Divergences described in full with --resync (later ones are only counted; default 20). */
  maxReports?: number;
  filter?: StepFilterOptions;
}

export interface DiffSummary {
  same: boolean;
  /** Steps compared (pairs). */
  compared: number;
  /** Exception boundaries (entries and returns) compared. */
  boundaries: number;
  divergences: number;
  first?: { kind: string; a: number; b: number; registers: string[] };
  /** Where control flow diverged (first few), as instruction indices. */
  controlFlow: { a: number; b: number; pcA: bigint; pcB: bigint }[];
  resyncs: number;
  tolerated: Record<string, number>;
  notes: string[];
}

/** Two traces that cannot be compared meaningfully (different programs): exit status 2, like bad input. */
export class DiffInputError extends Error {}

/**
 * QEMU 7.2 deviations tolerated between our trace and a QEMU log
 * (/work/shared/QEMU-NOTES.md). Each applies to one situation only.
 */
export const TOLERANCE_RULES: Record<string, string> = {
  'qemu-nzcv-exception-entry':
    'QEMU clears PSTATE.NZCV on exception entry (the architecture keeps them): NZCV may read 0 on the QEMU side from an exception entry until the flags are next written',
  'qemu-isv-el2-data-abort':
    'QEMU reports ISV=1 with an instruction syndrome (ISS[24:14]) for data aborts taken to EL2 where ours has ISV=0: ESRs may differ in ISS[24:14] only, and a register holding the two ESR values (mrs) is accepted until the next exception entry',
  'qemu-illegal-eret-unlogged':
    'QEMU does not log an illegal exception return: our illegal-eret events have no QEMU counterpart',
};

const FAR_ECS = new Set([0x20, 0x21, 0x22, 0x24, 0x25, 0x34, 0x35]);
const ISS_SYNDROME_MASK = 0x01ffc000; // ISS[24:14]: ISV, SAS, SSE, SRT, SF, AR

interface Side {
  name: 'A' | 'B';
  cursor: TraceCursor;
  qemu: boolean;
  ring: CtxSlot[];
  ringAt: number;
  ringLen: number;
  /** Step being compared (from cursor.next()). */
  cur: Step | undefined;
}

/** A compared step, kept for context lines. */
class CtxSlot {
  index = 0;
  pcLo = 0;
  pcHi = 0;
  el = 0;
  text = '';
  pseudo = false;
  readonly changes = new TraceRecord();
  events: string[] = [];
  sym: string | undefined;

  fill(s: Step, side: Side): void {
    const i = s.insn;
    this.index = i.index;
    this.pcLo = i.pcLo;
    this.pcHi = i.pcHi;
    this.el = i.el;
    this.pseudo = s.pseudo;
    this.text = i.host !== undefined ? `<host function ${i.host}>` : i.asm ?? (i.hasWord ? disassemble(i.word >>> 0, { address: toBig(i.pcLo, i.pcHi) }).text : '');
    this.sym = i.sym ?? side.cursor.symbolize(i.pcLo, i.pcHi);
    this.changes.copyInsn(i);
    if (this.events.length) this.events = [];
    for (let k = 0; k < s.nEvents; k++) this.events.push(describeEvent(s.events[k]!));
    if (i.nMem) this.events.push(`memory ${describeMem(i).join(' ')}`);
  }
}

function describeEvent(e: TraceRecord): string {
  switch (e.kind) {
    case Rec.Exception: {
      const ec = e.esrLo >>> 26;
      const far = e.hasFar && FAR_ECS.has(ec) ? ` far=${hex64(e.farLo, e.farHi)}` : '';
      return `exception EL${e.fromEl}->EL${e.toEl} ec=0x${ec.toString(16)} esr=${hex64(e.esrLo, e.esrHi)}${far} elr=${hex64(e.elrLo, e.elrHi)} vector ${hex64(e.pcLo, e.pcHi)}${regsText(e)}`;
    }
    case Rec.Eret:
      return `eret EL${e.fromEl}->EL${e.toEl} to ${hex64(e.pcLo, e.pcHi)}${regsText(e)}`;
    case Rec.IllegalEret:
      return `illegal eret at EL${e.fromEl} to ${hex64(e.pcLo, e.pcHi)}${regsText(e)}`;
    case Rec.Tlbi:
      return `tlbi ${e.text}, ${hex64(e.aLo, e.aHi)}`;
    case Rec.HostCall:
      return `host call ${e.text}(${e.args.slice(0, 4).map((a) => `0x${a.toString(16)}`).join(', ')}, …)${e.hasResult ? ` = ${hex64(e.resultLo, e.resultHi)}` : ''}`;
    case Rec.Psci:
      return `psci ${e.text} fn=${hex64(e.aLo, e.aHi)}`;
    default:
      return 'event';
  }
}

function regsText(r: TraceRecord): string {
  if (r.nRegs === 0) return '';
  const parts: string[] = [];
  for (let k = 0; k < r.nRegs && k < 8; k++) parts.push(`${REG_NAMES[r.regIds[k]!]}=${valueText(r.regIds[k]!, r.regVals, k * REG_WORDS)}`);
  if (r.nRegs > 8) parts.push('…');
  return `; ${parts.join(' ')}`;
}

function valueText(id: number, vals: ArrayLike<number>, at: number): string {
  if (id === REG_NZCV) return nzcvText(vals[at]!);
  if (regWords(id) === 4) return hexFixed(vals, at, 4);
  return hex64(vals[at]!, vals[at + 1]!);
}

const nzcvText = (v: number): string => `0x${(v >>> 0).toString(16)}(${v & 8 ? 'N' : '-'}${v & 4 ? 'Z' : '-'}${v & 2 ? 'C' : '-'}${v & 1 ? 'V' : '-'})`;

function pcText(lo: number, hi: number, sym: string | undefined): string {
  return `${hex64(lo, hi)}${sym ? ` <${sym}>` : ''}`;
}

export class TraceDiff {
  private readonly A: Side;
  private readonly B: Side;
  private readonly ctx: number;
  private readonly ignore = new Uint8Array(REG_COUNT);
  /** 0 = equal, 1 = a reported divergence being followed, 2 = a tolerated difference being followed. */
  private readonly mismatch = new Uint8Array(REG_COUNT);
  private readonly pairA = new Int32Array(REG_COUNT * REG_WORDS);
  private readonly pairB = new Int32Array(REG_COUNT * REG_WORDS);
  private readonly summary: DiffSummary = { same: true, compared: 0, boundaries: 0, divergences: 0, controlFlow: [], resyncs: 0, tolerated: {}, notes: [] };
  private reports = 0;
  private stop = false;
  private readonly compareSys: boolean;
  private readonly compareMem: boolean;
  private readonly comparePsci: boolean;
  private readonly compareTlbi: boolean;
  private readonly compareHost: boolean;
  private readonly ours: Side | undefined;
  private readonly qemu: Side | undefined;
  /** Address, EL or symbol filters select the steps compared. */
  private readonly includeFilter: boolean;

  constructor(
    pathA: string,
    pathB: string,
    private readonly opts: DiffOptions,
    private readonly out: (line: string) => void,
  ) {
    this.ctx = opts.context ?? 5;
    for (const id of opts.ignore ?? []) this.ignore[id] = 1;
    const filter: StepFilterOptions = { ...opts.filter, excludeRanges: [...(opts.filter?.excludeRanges ?? []), ...(opts.ignoreRanges ?? [])] };
    // Both read with exceptions-before-instructions folded into the previous step, as QEMU logs them.
    const a = new TraceCursor(pathA, filter, undefined, true);
    let b: TraceCursor;
    try {
      b = new TraceCursor(pathB, filter, undefined, true);
    } catch (err) {
      a.close();
      throw err;
    }
    const side = (name: 'A' | 'B', cursor: TraceCursor): Side => ({
      name, cursor, qemu: cursor.meta.source === 'qemu', ring: Array.from({ length: this.ctx + 1 }, () => new CtxSlot()),
      ringAt: 0, ringLen: 0, cur: undefined,
    });
    this.A = side('A', a);
    this.B = side('B', b);
    // Deviation rules apply only between our trace and QEMU's.
    if (this.A.qemu !== this.B.qemu) {
      this.qemu = this.A.qemu ? this.A : this.B;
      this.ours = this.A.qemu ? this.B : this.A;
    }
    const both = (f: string): boolean => a.meta.features.includes(f as never) && b.meta.features.includes(f as never);
    this.compareSys = both('sys');
    this.compareMem = both('mem');
    this.comparePsci = both('psci');
    this.compareTlbi = both('tlbi');
    this.compareHost = both('host');
    const f = opts.filter ?? {};
    this.includeFilter = !!(f.ranges?.length || f.els?.length || f.symbols?.length);
  }

  close(): void {
    this.A.cursor.close();
    this.B.cursor.close();
  }

  // ---- register comparison ------------------------------------------------------

  private equalWords(id: number): boolean {
    const sa = this.A.cursor.state, sb = this.B.cursor.state, at = id * REG_WORDS;
    if (sa[at] !== sb[at] || sa[at + 1] !== sb[at + 1]) return false;
    return regWords(id) === 2 || (sa[at + 2] === sb[at + 2] && sa[at + 3] === sb[at + 3]);
  }

  private samePair(id: number): boolean {
    const sa = this.A.cursor.state, sb = this.B.cursor.state, at = id * REG_WORDS;
    for (let w = 0; w < regWords(id); w++) if (sa[at + w] !== this.pairA[at + w] || sb[at + w] !== this.pairB[at + w]) return false;
    return true;
  }

  private storePair(id: number): void {
    const at = id * REG_WORDS;
    for (let w = 0; w < REG_WORDS; w++) {
      this.pairA[at + w] = this.A.cursor.state[at + w]!;
      this.pairB[at + w] = this.B.cursor.state[at + w]!;
    }
  }

  private tolerate(rule: string): void {
    this.summary.tolerated[rule] = (this.summary.tolerated[rule] ?? 0) + 1;
  }

  /** The deviation rule that explains a difference in register id, if any. */
  private ruleFor(id: number): string | undefined {
    const q = this.qemu, o = this.ours;
    if (!q || !o) return undefined;
    const qs = q.cursor.state, os = o.cursor.state, at = id * REG_WORDS;
    // NZCV read as 0 by QEMU since an exception entry (applied since the last check, compared or not).
    if (id === REG_NZCV && q.cursor.entrySinceCheck && qs[at] === 0) return 'qemu-nzcv-exception-entry';
    // The two ESR values of the latest entry on each side, when they differ by QEMU's ISV deviation (e.g. after `mrs x10, esr_el2`).
    if (id < 31 && o.cursor.hasLastEntry && q.cursor.hasLastEntry) {
      const oe = o.cursor.lastEntry, qe = q.cursor.lastEntry;
      if (os[at] === oe.esrLo && os[at + 1] === oe.esrHi && qs[at] === qe.esrLo && qs[at + 1] === qe.esrHi && this.isvDeviationOf(oe, qe)) {
        return 'qemu-isv-el2-data-abort';
      }
    }
    return undefined;
  }

  /** Re-checks register id; returns true when it newly diverges (not tolerated). */
  private checkReg(id: number): boolean {
    const A = this.A.cursor, B = this.B.cursor;
    if (this.ignore[id] || !A.known[id] || !B.known[id]) {
      this.mismatch[id] = 0;
      return false;
    }
    if (this.equalWords(id)) {
      this.mismatch[id] = 0;
      return false;
    }
    if (this.mismatch[id] !== 0 && this.samePair(id)) return false; // a difference already followed
    const wasReported = this.mismatch[id] === 1;
    const rule = this.ruleFor(id);
    this.storePair(id);
    if (rule) {
      this.mismatch[id] = 2;
      this.tolerate(rule);
      return false;
    }
    this.mismatch[id] = 1;
    // A reported difference whose values changed is still the same divergence being followed.
    return !wasReported;
  }

  private readonly noRegs: number[] = [];
  private readonly noEvents: string[] = [];

  /** Registers dirty on either side since the last check that now newly diverge. Allocation-free when none do. */
  private checkDirty(): number[] {
    let diverged = this.noRegs;
    const a = this.A.cursor, b = this.B.cursor;
    for (let k = 0; k < a.nDirty; k++) {
      const id = a.dirtyList[k]!;
      if (this.checkReg(id)) diverged = diverged === this.noRegs ? [id] : [...diverged, id];
    }
    for (let k = 0; k < b.nDirty; k++) {
      const id = b.dirtyList[k]!;
      if (a.dirty[id]) continue; // checked above
      if (this.checkReg(id)) diverged = diverged === this.noRegs ? [id] : [...diverged, id];
    }
    a.clearDirty();
    b.clearDirty();
    return diverged;
  }

  private checkAll(): number[] {
    const diverged: number[] = [];
    for (let id = 0; id < REG_COUNT; id++) if (this.checkReg(id)) diverged.push(id);
    this.A.cursor.clearDirty();
    this.B.cursor.clearDirty();
    return diverged;
  }

  private regLines(ids: number[]): string[] {
    const sa = this.A.cursor.state, sb = this.B.cursor.state;
    return ids.map((id) => {
      const at = id * REG_WORDS, w = regWords(id);
      const a = id === REG_NZCV ? nzcvText(sa[at]!) : hexFixed(sa, at, w);
      const b = id === REG_NZCV ? nzcvText(sb[at]!) : hexFixed(sb, at, w);
      let how = '';
      if (id !== REG_NZCV && w === 2) {
        const x = toBig(sa[at]!, sa[at + 1]!) ^ toBig(sb[at]!, sb[at + 1]!);
        const bits: number[] = [];
        for (let k = 0; k < 64; k++) if ((x >> BigInt(k)) & 1n) bits.push(k);
        how = bits.length <= 4 ? `  (bit${bits.length > 1 ? 's' : ''} ${bits.join(', ')})` : `  (xor 0x${x.toString(16)})`;
      }
      if (id === REG_PSTATE) how = `  (EL${(sa[at]! >> 2) & 3}${sa[at]! & 1 ? 'h' : 't'} vs EL${(sb[at]! >> 2) & 3}${sb[at]! & 1 ? 'h' : 't'})`;
      return `    ${REG_NAMES[id]!.padEnd(6)} A ${a}   B ${b}${how}`;
    });
  }

  // ---- events -----------------------------------------------------------------------

  /** Compared events of a step, in order. */
  private eventsOf(side: Side, s: Step): TraceRecord[] {
    const out: TraceRecord[] = [];
    const otherQemu = side === this.ours && this.qemu !== undefined;
    for (let k = 0; k < s.nEvents; k++) {
      const e = s.events[k]!;
      switch (e.kind) {
        case Rec.Exception: case Rec.Eret: out.push(e); break;
        case Rec.IllegalEret:
          if (otherQemu) this.tolerate('qemu-illegal-eret-unlogged');
          else out.push(e);
          break;
        case Rec.Psci: if (this.comparePsci) out.push(e); break;
        case Rec.Tlbi: if (this.compareTlbi) out.push(e); break;
        case Rec.HostCall: if (this.compareHost) out.push(e); break;
        default: break;
      }
    }
    return out;
  }

  /** Differences between the events of the current steps, as text (empty when they agree). */
  private compareEvents(sa: Step, sb: Step): string[] {
    // The common case, a step with nothing but register changes on both sides, allocates nothing.
    if (sa.nEvents === 0 && sb.nEvents === 0 && (!this.compareSys || (sa.insn.nSys === 0 && sb.insn.nSys === 0)) &&
        (!this.compareMem || (sa.insn.nMem === 0 && sb.insn.nMem === 0))) return this.noEvents;
    const ea = this.eventsOf(this.A, sa), eb = this.eventsOf(this.B, sb);
    const diffs: string[] = [];
    const n = Math.max(ea.length, eb.length);
    for (let k = 0; k < n; k++) {
      const a = ea[k], b = eb[k];
      if (!a || !b) {
        diffs.push(`    ${a ? `A: ${describeEvent(a)}; B: nothing` : `A: nothing; B: ${describeEvent(b!)}`}`);
        continue;
      }
      if (a.kind !== b.kind) {
        diffs.push(`    A: ${describeEvent(a)}; B: ${describeEvent(b)}`);
        continue;
      }
      const fields: string[] = [];
      const f = (name: string, va: string, vb: string): void => { if (va !== vb) fields.push(`${name} A ${va} B ${vb}`); };
      switch (a.kind) {
        case Rec.Exception: {
          f('from EL', String(a.fromEl), String(b.fromEl));
          f('to EL', String(a.toEl), String(b.toEl));
          // IRQ and FIQ entries (vector offsets 0x80/0x100 in each group) do not write ESR or FAR: nothing to compare there.
          const kind = a.pcLo & 0x180;
          if ((kind === 0 || kind === 0x180) && (a.esrLo !== b.esrLo || a.esrHi !== b.esrHi)) {
            if (this.isvDeviation(a, b)) this.tolerate('qemu-isv-el2-data-abort');
            else f('esr', hex64(a.esrLo, a.esrHi), hex64(b.esrLo, b.esrHi));
          }
          f('elr', hex64(a.elrLo, a.elrHi), hex64(b.elrLo, b.elrHi));
          f('vector', hex64(a.pcLo, a.pcHi), hex64(b.pcLo, b.pcHi));
          const ec = a.esrLo >>> 26;
          if (kind === 0 && a.hasFar && b.hasFar && FAR_ECS.has(ec)) f('far', hex64(a.farLo, a.farHi), hex64(b.farLo, b.farHi));
          break;
        }
        case Rec.Eret: case Rec.IllegalEret:
          f('from EL', String(a.fromEl), String(b.fromEl));
          f('to EL', String(a.toEl), String(b.toEl));
          f('target', hex64(a.pcLo, a.pcHi), hex64(b.pcLo, b.pcHi));
          break;
        case Rec.Psci:
          f('function', hex64(a.aLo, a.aHi), hex64(b.aLo, b.aHi));
          f('conduit', a.text, b.text);
          break;
        case Rec.Tlbi:
          f('op', a.text, b.text);
          f('xt', hex64(a.aLo, a.aHi), hex64(b.aLo, b.aHi));
          break;
        case Rec.HostCall:
          f('function', a.text, b.text);
          f('args', a.args.join(','), b.args.join(','));
          f('result', a.hasResult ? hex64(a.resultLo, a.resultHi) : '-', b.hasResult ? hex64(b.resultLo, b.resultHi) : '-');
          break;
        default:
          break;
      }
      if (fields.length) diffs.push(`    ${describeEvent(a).split(' ')[0]}: ${fields.join('; ')}`);
    }
    if (this.compareSys) {
      const sysA = sysText(sa), sysB = sysText(sb);
      if (sysA !== sysB) diffs.push(`    system registers written: A {${sysA}} B {${sysB}}`);
    }
    if (this.compareMem) {
      const ma = describeMem(sa.insn).join(' '), mb = describeMem(sb.insn).join(' ');
      if (ma !== mb) diffs.push(`    memory: A ${ma || 'none'}; B ${mb || 'none'}`);
    }
    return diffs;
  }

  /** The ISV rule for an A/B pair of exception events. */
  private isvDeviation(a: TraceRecord, b: TraceRecord): boolean {
    if (!this.qemu) return false;
    return this.qemu === this.A ? this.isvDeviationOf(b, a) : this.isvDeviationOf(a, b);
  }

  /** A data abort to EL2 where only ISS[24:14] differ, QEMU's (q) with ISV set and ours (o) without. */
  private isvDeviationOf(o: TraceRecord, q: TraceRecord): boolean {
    const ec = o.esrLo >>> 26;
    if ((ec !== 0x24 && ec !== 0x25) || o.toEl !== 2 || q.toEl !== 2) return false;
    if ((o.esrLo & ~ISS_SYNDROME_MASK) !== (q.esrLo & ~ISS_SYNDROME_MASK) || o.esrHi !== q.esrHi) return false;
    return (o.esrLo & (1 << 24)) === 0 && (q.esrLo & (1 << 24)) !== 0;
  }

  // ---- context and reports -----------------------------------------------------------

  private push(side: Side, s: Step): void {
    const slot = side.ring[side.ringAt]!;
    slot.fill(s, side);
    side.ringAt = (side.ringAt + 1) % side.ring.length;
    side.ringLen = Math.min(side.ringLen + 1, side.ring.length);
  }

  private ringSlots(side: Side): CtxSlot[] {
    const out: CtxSlot[] = [];
    for (let k = side.ringLen; k >= 1; k--) out.push(side.ring[(side.ringAt - k + side.ring.length) % side.ring.length]!);
    return out;
  }

  private lastSlot(side: Side): CtxSlot | undefined {
    return side.ringLen ? side.ring[(side.ringAt - 1 + side.ring.length) % side.ring.length] : undefined;
  }

  private slotLine(slot: CtxSlot, mark: string, asmByPc: Map<string, string>): string[] {
    const text = slot.text || asmByPc.get(`${slot.pcHi}:${slot.pcLo}`) || (slot.pseudo ? '(no instruction retired)' : '');
    const ch = slot.changes.nRegs ? `   ${regsText(slot.changes).slice(2)}` : '';
    const lines = [`  ${mark} #${String(slot.index).padEnd(7)} ${pcText(slot.pcLo, slot.pcHi, slot.sym)} EL${slot.el}  ${text.replace(/\t/g, ' ')}${ch}`];
    for (const e of slot.events) lines.push(`               -> ${e}`);
    return lines;
  }

  /** Context lines of one side around an anchor ('prev' = the last compared step, 'current' = the step being compared). */
  private contextLines(side: Side, anchor: 'prev' | 'current', asmByPc: Map<string, string>): string[] {
    const before = this.ringSlots(side);
    const cur = side.cursor.current;
    const after: CtxSlot[] = [];
    if (cur) {
      const slot = new CtxSlot();
      slot.fill(cur, side);
      after.push(slot);
    }
    for (const s of side.cursor.peek(this.ctx + 1)) {
      if (after.length > this.ctx) break;
      if (!side.cursor.keeps(s)) continue;
      const sl = new CtxSlot();
      sl.fill(s, side);
      after.push(sl);
    }
    const all = [...before, ...after];
    const anchorAt = anchor === 'prev' ? before.length - 1 : before.length;
    const lines: string[] = [];
    for (let k = Math.max(0, anchorAt - this.ctx); k < all.length && k <= anchorAt + this.ctx; k++) {
      lines.push(...this.slotLine(all[k]!, k === anchorAt ? '>' : ' ', asmByPc));
    }
    if (!cur && anchor === 'current') lines.push('  > (end of trace)');
    else if (after.length <= this.ctx) lines.push(`    (end of trace${side.cursor.reader.endReason ? `: ${side.cursor.reader.endReason}` : ''})`);
    return lines;
  }

  private position(side: Side, anchor: 'prev' | 'current'): { index: number; slot: CtxSlot | undefined } {
    if (anchor === 'prev') {
      const s = this.lastSlot(side);
      return { index: s ? s.index : -1, slot: s };
    }
    const cur = side.cursor.current;
    if (!cur) return { index: -1, slot: undefined };
    const slot = new CtxSlot();
    slot.fill(cur, side);
    return { index: slot.index, slot };
  }

  /** Records a divergence and prints it (in full for the first ones). */
  private divergence(kind: string, anchor: 'prev' | 'current', headline: string, details: string[], registers: string[] = []): void {
    const s = this.summary;
    s.same = false;
    s.divergences++;
    const pa = this.position(this.A, anchor), pb = this.position(this.B, anchor);
    if (!s.first) s.first = { kind, a: pa.index, b: pb.index, registers };
    if (!this.opts.resync) this.stop = true;
    const max = this.opts.maxReports ?? 20;
    if (this.reports >= max) {
      if (this.reports === max) this.out(`(further divergences are counted but not shown; --max-reports raises the limit)`);
      this.reports++;
      return;
    }
    this.reports++;
    const where = (p: { index: number; slot: CtxSlot | undefined }) => (p.slot ? `#${p.index}` : anchor === 'prev' ? 'start' : 'end');
    const at = pa.slot ?? pb.slot;
    const loc = at ? ` at ${pcText(at.pcLo, at.pcHi, at.sym)} EL${at.el}${at.text ? `: ${at.text.replace(/\t/g, ' ')}` : ''}` : '';
    this.out(`${s.divergences === 1 ? 'first divergence' : 'divergence'} (${kind}) at A${where(pa)} / B${where(pb)}${loc}`);
    this.out(`  ${headline}`);
    for (const d of details) this.out(d);
    if (s.divergences === 1 || this.ctx > 0) {
      const asmByPc = new Map<string, string>();
      for (const side of [this.A, this.B]) for (const slot of this.ringSlots(side)) if (slot.text) asmByPc.set(`${slot.pcHi}:${slot.pcLo}`, slot.text);
      if (this.ctx > 0) {
        for (const side of [this.A, this.B]) {
          this.out(`  context ${side.name} (${side.cursor.path}):`);
          for (const l of this.contextLines(side, anchor, asmByPc)) this.out(l);
        }
      }
    }
  }

  // ---- the comparison -----------------------------------------------------------------

  private firstStepChecks(sa: Step | undefined, sb: Step | undefined): void {
    if (hasFilter(this.opts.filter ?? {}) || !sa || !sb) return;
    const A = this.A.cursor, B = this.B.cursor;
    const hashA = A.meta.program?.sha256, hashB = B.meta.program?.sha256;
    const progs = hashA && hashB && hashA !== hashB ? ' (their program hashes differ too)' : '';
    if (sa.pcLo !== sb.pcLo || sa.pcHi !== sb.pcHi) {
      throw new DiffInputError(
        `the traces are of different programs (or different entry points): A starts at ${hex64(sa.pcLo, sa.pcHi)}, B at ${hex64(sb.pcLo, sb.pcHi)}${progs}`,
      );
    }
    if (sa.insn.hasWord && sb.insn.hasWord && sa.insn.word !== sb.insn.word) {
      throw new DiffInputError(
        `the traces are of different programs: the first instruction at ${hex64(sa.pcLo, sa.pcHi)} is 0x${(sa.insn.word >>> 0).toString(16)} in A and 0x${(sb.insn.word >>> 0).toString(16)} in B${progs}`,
      );
    }
    if (progs) this.summary.notes.push(`the program hashes differ (A ${hashA?.slice(0, 12)}…, B ${hashB?.slice(0, 12)}…)`);
  }

  run(): DiffSummary {
    if (this.opts.exceptionsOnly) this.runBoundaries();
    else this.runSteps();
    this.finishNotes();
    return this.summary;
  }

  private runSteps(): void {
    const A = this.A, B = this.B;
    // Initial states; with filters, the states before the first compared instructions (checked below).
    const filtered = hasFilter(this.opts.filter ?? {});
    if (!filtered) {
      const initial = this.checkAll();
      if (initial.length) {
        this.divergence('initial state', 'prev', 'the start states differ:', this.regLines(initial), initial.map((id) => REG_NAMES[id]!));
      }
    }
    let first = true;
    let resynced = false;
    while (!this.stop) {
      let sa = A.cursor.next();
      let sb = B.cursor.next();
      // Reporting may read ahead (context), which moves a step into a private copy: use the cursors' current step after it.
      const refresh = () => {
        sa = A.cursor.current;
        sb = B.cursor.current;
      };
      A.cur = sa;
      B.cur = sb;
      if (first) {
        this.firstStepChecks(sa, sb);
        if (filtered) {
          const initial = this.checkAll();
          if (initial.length) {
            this.divergence('initial state', 'current', 'the states before the first compared instructions differ:', this.regLines(initial), initial.map((id) => REG_NAMES[id]!));
            if (this.stop) break;
            refresh();
          }
        }
        first = false;
      }
      // Effects of the previous step (and of steps the filters skipped). At the end, what steps outside an
      // address/EL/symbol filter did after the last kept one is not the filter's business.
      const trailing = !sa && !sb && this.includeFilter && (A.cursor.skippedSinceKept > 0 || B.cursor.skippedSinceKept > 0);
      if (trailing) {
        A.cursor.clearDirty();
        B.cursor.clearDirty();
      } else if (!(A.cursor.finalUnknown || B.cursor.finalUnknown) || (sa && sb)) {
        const diverged = this.checkDirty();
        if (diverged.length) {
          const skipped = A.cursor.skippedSinceKept || B.cursor.skippedSinceKept;
          const headline = resynced
            ? 'registers differ after resynchronising:'
            : skipped ? 'registers differ after this instruction and the steps not compared after it:' : 'registers differ after this instruction:';
          this.divergence('registers', 'prev', headline, this.regLines(diverged), diverged.map((id) => REG_NAMES[id]!));
          if (this.stop) break;
          refresh();
        }
      }
      resynced = false;
      if (!sa || !sb) {
        if (sa || sb) {
          const [ended, going] = sa ? [B, A] : [A, B];
          const s = (sa ?? sb)!;
          this.divergence(
            'length', 'current',
            `${ended.name} ends after ${ended.cursor.kept} instructions (${ended.cursor.reader.endReason ?? 'no end record'}); ${going.name} continues at ${pcText(s.pcLo, s.pcHi, s.insn.sym ?? going.cursor.symbolize(s.pcLo, s.pcHi))}`,
            [],
          );
        }
        break;
      }
      // Control flow.
      if (sa.pcLo !== sb.pcLo || sa.pcHi !== sb.pcHi || sa.el !== sb.el) {
        this.summary.controlFlow.push({ a: sa.index, b: sb.index, pcA: toBig(sa.pcLo, sa.pcHi), pcB: toBig(sb.pcLo, sb.pcHi) });
        this.divergence(
          'control flow', 'prev',
          `the next instruction differs: A goes to ${pcText(sa.pcLo, sa.pcHi, sa.insn.sym ?? A.cursor.symbolize(sa.pcLo, sa.pcHi))} EL${sa.el}, B to ${pcText(sb.pcLo, sb.pcHi, sb.insn.sym ?? B.cursor.symbolize(sb.pcLo, sb.pcHi))} EL${sb.el}`,
          [],
        );
        if (this.stop) break;
        if (!this.resync()) {
          this.out('  could not resynchronise within the look-ahead window; stopping');
          break;
        }
        resynced = true;
        continue;
      }
      if (sa.insn.hasWord && sb.insn.hasWord && sa.insn.word !== sb.insn.word) {
        this.divergence('code', 'current', `different instructions at the same address: A 0x${(sa.insn.word >>> 0).toString(16).padStart(8, '0')} B 0x${(sb.insn.word >>> 0).toString(16).padStart(8, '0')} (a different build, or self-modifying code)`, []);
        if (this.stop) break;
        refresh();
      }
      const evs = this.compareEvents(sa!, sb!);
      if (evs.length) {
        this.divergence('events', 'current', 'the events of this instruction differ:', evs);
        if (this.stop) break;
        refresh();
      }
      if (!sa || !sb) break;
      if (sa.hasBoundary() || sb.hasBoundary()) this.summary.boundaries++;
      this.summary.compared++;
      this.push(A, sa);
      this.push(B, sb);
    }
  }

  /**
   * Control flow diverged at the current steps: find the nearest later pair
   * of steps (fewest skipped in total) at the same PC and EL, preferring one
   * where the registers agree, and continue from there.
   */
  private resync(): boolean {
    const W = this.opts.resyncWindow ?? 4096;
    const look = (side: Side): { steps: Step[]; kept: boolean[] } => {
      const ahead = side.cursor.peek(W);
      const steps = [side.cursor.current!, ...ahead];
      return { steps, kept: steps.map((s, k) => k === 0 || side.cursor.keeps(s)) };
    };
    const la = look(this.A), lb = look(this.B);
    const GPR = 34; // x0..x30, sp, nzcv, pstate
    const key = (s: Step) => `${s.pcHi}:${s.pcLo}:${s.el}`;
    // States of B before each of its look-ahead steps (GPR part), and where each PC occurs.
    const nb = lb.steps.length;
    const statesB = new Int32Array(nb * GPR * 2);
    const sim = new Int32Array(REG_COUNT * REG_WORDS);
    sim.set(this.B.cursor.state);
    const byKey = new Map<string, number[]>();
    let keptB = 0;
    const keptIndexB: number[] = [];
    for (let k = 0; k < nb; k++) {
      const s = lb.steps[k]!;
      for (let id = 0; id < GPR; id++) {
        statesB[(k * GPR + id) * 2] = sim[id * REG_WORDS]!;
        statesB[(k * GPR + id) * 2 + 1] = sim[id * REG_WORDS + 1]!;
      }
      keptIndexB.push(lb.kept[k] ? keptB++ : -1);
      if (lb.kept[k]) {
        const list = byKey.get(key(s));
        if (list) list.push(k);
        else byKey.set(key(s), [k]);
      }
      applyTo(sim, s);
    }
    sim.set(this.A.cursor.state);
    const knownA = this.A.cursor.known, knownB = this.B.cursor.known;
    // The nearest pair (fewest steps skipped in all) wins; among equally near ones, one where the registers agree.
    let best = Number.POSITIVE_INFINITY, bestA = -1, bestB = -1, bestEqual = false;
    let keptA = 0;
    for (let k = 0; k < la.steps.length && keptA <= best; k++) {
      const s = la.steps[k]!;
      if (la.kept[k]) {
        const list = byKey.get(key(s));
        if (list) {
          for (const j of list) {
            const kb = keptIndexB[j]!;
            if (keptA === 0 && kb === 0) continue; // the divergent pair itself
            const cost = keptA + kb;
            if (cost > best || (cost === best && bestEqual)) continue;
            let equal = true;
            for (let id = 0; id < GPR && equal; id++) {
              if (this.ignore[id] || !knownA[id] || !knownB[id]) continue;
              if (sim[id * REG_WORDS] !== statesB[(j * GPR + id) * 2] || sim[id * REG_WORDS + 1] !== statesB[(j * GPR + id) * 2 + 1]) equal = false;
            }
            if (cost < best || equal) { best = cost; bestA = keptA; bestB = kb; bestEqual = equal; }
          }
        }
        keptA++;
      }
      applyTo(sim, s);
    }
    if (bestA < 0) return false;
    const skipA = bestA, skipB = bestB;
    for (let k = 0; k < skipA; k++) this.A.cursor.next();
    for (let k = 0; k < skipB; k++) this.B.cursor.next();
    const sa = this.A.cursor.current, sb = this.B.cursor.current;
    this.out(`  resynchronised after skipping ${skipA} instruction${skipA === 1 ? '' : 's'} in A and ${skipB} in B, at ${sa ? pcText(sa.pcLo, sa.pcHi, sa.insn.sym ?? this.A.cursor.symbolize(sa.pcLo, sa.pcHi)) : '?'}${bestEqual ? '' : ' (registers differ there)'}`);
    // The resynchronised pair is compared by the next loop iteration: hand it back to the cursors.
    this.A.cursor.unread();
    this.B.cursor.unread();
    this.summary.resyncs++;
    return true;
  }

  private runBoundaries(): void {
    const A = this.A, B = this.B;
    const nextBoundary = (side: Side): Step | undefined => {
      for (;;) {
        const s = side.cursor.next();
        if (!s) return undefined;
        if (this.eventsOf(side, s).some((e) => e.kind === Rec.Exception || e.kind === Rec.Eret || e.kind === Rec.IllegalEret)) return s;
      }
    };
    let first = true;
    while (!this.stop) {
      const sa = nextBoundary(A), sb = nextBoundary(B);
      if (first) {
        // The first boundary need not be the first step; check the start instead.
        first = false;
        const a = A.cursor.reader.start, b = B.cursor.reader.start;
        if (!hasFilter(this.opts.filter ?? {}) && (a.pcLo !== b.pcLo || a.pcHi !== b.pcHi)) {
          throw new DiffInputError(`the traces are of different programs (or different entry points): A starts at ${hex64(a.pcLo, a.pcHi)}, B at ${hex64(b.pcLo, b.pcHi)}`);
        }
      }
      A.cur = sa;
      B.cur = sb;
      if (!sa || !sb) {
        if (sa || sb) {
          const ended = sa ? B : A;
          this.divergence('boundaries', 'current', `${ended.name} has no more exception entries or returns; the other has`, []);
        }
        break;
      }
      const evs = this.compareEvents(sa, sb);
      A.cursor.clearDirty();
      B.cursor.clearDirty();
      // The boundary step goes into the context first: reporting may read ahead and reuse its buffer.
      this.push(A, sa);
      this.push(B, sb);
      this.summary.boundaries++;
      this.summary.compared++;
      if (evs.length) this.divergence('events', 'prev', 'the exception entries/returns differ:', evs);
      if (this.stop) break;
      A.cursor.settle();
      B.cursor.settle();
      // Differences followed from earlier boundaries (and tolerated ones) are not reported again.
      const diverged = this.checkAll();
      if (diverged.length) this.divergence('state at boundary', 'prev', 'the state right after this exception entry/return differs:', this.regLines(diverged), diverged.map((id) => REG_NAMES[id]!));
    }
  }

  private finishNotes(): void {
    for (const side of [this.A, this.B]) {
      const r = side.cursor.reader;
      if (r.missingEnd) this.summary.notes.push(`${side.name} (${side.cursor.path}) ends without an end record: the run was interrupted or the file is cut short; compared what it has`);
      const src = r.src as { truncatedTail?: boolean };
      if (src.truncatedTail) this.summary.notes.push(`${side.name} (${side.cursor.path}): the QEMU log ends in the middle of a register dump (QEMU was stopped); that dump is ignored`);
    }
  }

  /** The closing summary lines. */
  summaryLines(): string[] {
    const s = this.summary;
    const A = this.A.cursor, B = this.B.cursor;
    const lines: string[] = [];
    const what = this.opts.exceptionsOnly ? `${s.boundaries} exception boundar${s.boundaries === 1 ? 'y' : 'ies'} compared` : `${s.compared} instructions compared`;
    lines.push(`summary: ${what} (A read ${A.stepsRead} of ${A.reader.endInsns ?? '?'}, B read ${B.stepsRead} of ${B.reader.endInsns ?? '?'}), ${s.divergences} divergence${s.divergences === 1 ? '' : 's'}${s.same ? ': the traces agree' : ''}`);
    if (!this.opts.exceptionsOnly) {
      if (s.controlFlow.length === 0) lines.push(`  control flow: ${s.same || !this.stop ? 'never diverged' : 'had not diverged by the first divergence'}`);
      else {
        const cf = s.controlFlow.slice(0, 5).map((c) => `A#${c.a} (0x${c.pcA.toString(16)}) / B#${c.b} (0x${c.pcB.toString(16)})`).join(', ');
        lines.push(`  control flow diverged at ${cf}${s.controlFlow.length > 5 ? ` and ${s.controlFlow.length - 5} more` : ''}${s.resyncs ? `; resynchronised ${s.resyncs} time${s.resyncs === 1 ? '' : 's'}` : ''}`);
      }
      lines.push(`  exception boundaries compared: ${s.boundaries}`);
    }
    const at = (n: number) => (n < 0 ? 'start' : `#${n}`);
    if (s.first) lines.push(`  first divergence: ${s.first.kind} at A${at(s.first.a)} / B${at(s.first.b)}${s.first.registers.length ? ` (${s.first.registers.join(', ')})` : ''}`);
    const tol = Object.entries(s.tolerated);
    if (tol.length) lines.push(`  tolerated QEMU deviations: ${tol.map(([r, n]) => `${r} x${n}`).join(', ')}`);
    for (const n of s.notes) lines.push(`  note: ${n}`);
    return lines;
  }
}

function sysText(s: Step): string {
  const parts: string[] = [];
  const r = s.insn;
  for (let k = 0; k < r.nSys; k++) parts.push(`${r.sysNames[k]}=${hex64(r.sysVals[k * 2]!, r.sysVals[k * 2 + 1]!)}`);
  for (let e = 0; e < s.nEvents; e++) {
    const ev = s.events[e]!;
    for (let k = 0; k < ev.nSys; k++) parts.push(`${ev.sysNames[k]}=${hex64(ev.sysVals[k * 2]!, ev.sysVals[k * 2 + 1]!)}`);
  }
  return parts.sort().join(' ');
}

/** Applies a step's register changes to a state array (look-ahead simulation). */
function applyTo(state: Int32Array, s: Step): void {
  const one = (r: TraceRecord) => {
    for (let k = 0; k < r.nRegs; k++) {
      const at = r.regIds[k]! * REG_WORDS, from = k * REG_WORDS;
      for (let w = 0; w < REG_WORDS; w++) state[at + w] = r.regVals[from + w]!;
    }
  };
  one(s.insn);
  for (let k = 0; k < s.nEvents; k++) one(s.events[k]!);
}

/** Runs a diff and prints its report and summary; returns the summary. Throws TraceFormatError/DiffInputError for bad input. */
export function diffTraces(pathA: string, pathB: string, opts: DiffOptions, out: (line: string) => void): DiffSummary {
  const d = new TraceDiff(pathA, pathB, opts, out);
  try {
    const s = d.run();
    for (const l of d.summaryLines()) out(l);
    return s;
  } finally {
    d.close();
  }
}

export { TraceFormatError };

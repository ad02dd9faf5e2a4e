/**
 * Traces as a sequence of steps over a register state, whatever the format.
 *
 * A step is one instruction record with the events it caused (or an event
 * taken without an instruction retiring, or a gap a filter left). The
 * cursor keeps the full register state: after `next()` it holds the state
 * *before* the returned step; the step's changes are applied when the next
 * step is requested. This is how our traces (changes after each
 * instruction) and QEMU's logs (state before each instruction) are put on
 * the same footing. Filters (address ranges, ELs, symbols, first/last N)
 * decide which steps a consumer sees; the others are applied silently, and
 * the registers they changed are left marked dirty for the next comparison.
 */
import { openTrace } from './open.js';
import {
  MEM_SIZE, MEM_WRITE, REG_COUNT, REG_WORDS, Rec, TraceRecord, TraceSymbols, regWords,
  type RecordSource, type TraceMeta,
} from './model.js';

export class Step {
  /** The instruction record (kind Insn), or for a pseudo step the fields of its first event. */
  readonly insn = new TraceRecord();
  /** An event taken without an instruction retiring (no instruction record). */
  pseudo = false;
  /** Steps a filter dropped (a skip record): only register changes, no instruction. */
  gap = false;
  skipped = 0;
  nEvents = 0;
  readonly events: TraceRecord[] = [];

  reset(): void {
    this.pseudo = false;
    this.gap = false;
    this.skipped = 0;
    this.nEvents = 0;
  }

  addEvent(r: TraceRecord): void {
    let e = this.events[this.nEvents];
    if (e === undefined) {
      e = new TraceRecord();
      this.events.push(e);
    }
    e.copyFrom(r);
    this.nEvents++;
  }

  get index(): number { return this.insn.index; }
  get pcLo(): number { return this.insn.pcLo; }
  get pcHi(): number { return this.insn.pcHi; }
  get el(): number { return this.insn.el; }

  /** Whether an exception entry or return happened in this step. */
  hasBoundary(): boolean {
    for (let k = 0; k < this.nEvents; k++) {
      const kind = this.events[k]!.kind;
      if (kind === Rec.Exception || kind === Rec.Eret || kind === Rec.IllegalEret) return true;
    }
    return false;
  }

  /** A copy that stays valid after the reader moves on. */
  clone(): Step {
    const s = new Step();
    s.insn.copyFrom(this.insn);
    s.pseudo = this.pseudo;
    s.gap = this.gap;
    s.skipped = this.skipped;
    for (let k = 0; k < this.nEvents; k++) s.addEvent(this.events[k]!);
    return s;
  }
}

const isEvent = (k: Rec): boolean => k !== Rec.Insn && k !== Rec.Skip && k !== Rec.End && k !== Rec.Start;

/** An exception taken before any instruction at the PC ran: a standalone event, or an instruction abort on the fetch of a word we never saw. */
function foldable(s: Step): boolean {
  if (s.pseudo) return true;
  const i = s.insn;
  if (i.hasWord || i.host !== undefined || i.nRegs > 0 || s.nEvents === 0) return false;
  const e = s.events[0]!;
  const ec = e.esrLo >>> 26;
  return e.kind === Rec.Exception && (ec === 0x20 || ec === 0x21) && e.hasFromPc && e.fromPcLo === i.pcLo && e.fromPcHi === i.pcHi;
}

/** Groups a record stream into steps. */
export class StepReader {
  readonly meta: TraceMeta;
  readonly start: TraceRecord;
  /** Two step buffers: the one returned, and the look-ahead that folding needs. */
  private readonly bufs = [new Step(), new Step()];
  private ahead: Step | undefined;
  private la: TraceRecord | undefined;
  private done = false;
  /** The end record's reason and count, once read. */
  endReason: string | undefined;
  endInsns: number | undefined;
  /** The input ended without an end record (an interrupted run, or a cut file). */
  missingEnd = false;

  /**
   * With `fold`, exceptions taken before an instruction ran (standalone
   * events, and steps whose fetch aborted) are folded into the step before
   * them, which is how QEMU logs them: the exception lines follow the dump
   * of the previous instruction, and no dump is printed for an aborted
   * fetch or an interrupted PC. The diff reads traces this way; conversion
   * keeps records as they are.
   */
  constructor(readonly src: RecordSource, readonly fold = false) {
    this.start = src.start;
    this.meta = src.start.meta;
  }

  next(): Step | undefined {
    if (!this.fold) return this.raw(this.bufs[0]!);
    const s = this.ahead ?? this.raw(this.bufs[0]!);
    this.ahead = undefined;
    if (s === undefined) return undefined;
    // The look-ahead goes into the other buffer (the previous step's, which the caller is done with).
    const other = s === this.bufs[0] ? this.bufs[1]! : this.bufs[0]!;
    for (;;) {
      const n = this.raw(other);
      if (n !== undefined && !s.gap && foldable(n)) {
        for (let k = 0; k < n.nEvents; k++) s.addEvent(n.events[k]!);
        continue;
      }
      this.ahead = n;
      return s;
    }
  }

  private raw(s: Step): Step | undefined {
    if (this.done) return undefined;
    const r = this.la ?? this.src.next();
    this.la = undefined;
    if (r === undefined || r.kind === Rec.End) {
      this.done = true;
      if (r === undefined) this.missingEnd = true;
      else {
        this.endReason = r.reason;
        this.endInsns = r.insns;
      }
      return undefined;
    }
    s.reset();
    if (r.kind === Rec.Insn) {
      s.insn.copyInsn(r);
    } else if (r.kind === Rec.Skip) {
      s.gap = true;
      s.skipped = r.skipped;
      s.insn.copyInsn(r);
      return s; // nothing attaches to a gap
    } else {
      // An event with no instruction record before it at its index.
      s.pseudo = true;
      const i = s.insn;
      i.clear(Rec.Insn);
      i.index = r.index;
      i.el = r.kind === Rec.Exception || r.kind === Rec.Eret || r.kind === Rec.IllegalEret ? r.fromEl : 0;
      // Where it was taken: from_pc when recorded, else ELR (the preferred return address of a fault).
      i.pcLo = r.hasFromPc ? r.fromPcLo : r.kind === Rec.Exception ? r.elrLo : r.pcLo;
      i.pcHi = r.hasFromPc ? r.fromPcHi : r.kind === Rec.Exception ? r.elrHi : r.pcHi;
      s.addEvent(r);
    }
    for (;;) {
      const n = this.src.next();
      if (n === undefined) break;
      if (isEvent(n.kind) && !n.standalone && n.index === s.insn.index) {
        s.addEvent(n);
        continue;
      }
      this.la = n;
      break;
    }
    return s;
  }

  close(): void {
    this.src.close();
  }
}

export interface StepFilterOptions {
  /** Keep steps whose PC is in one of these [lo, hi] (inclusive) ranges. */
  ranges?: [bigint, bigint][];
  /** Keep steps at these ELs. */
  els?: number[];
  /** Keep steps inside these symbols (from the trace's symbol table, or QEMU's per-line symbol). */
  symbols?: string[];
  /** Do not keep steps whose PC is in these ranges (diff --ignore-range). */
  excludeRanges?: [bigint, bigint][];
  /** Keep only the first N kept steps. */
  first?: number;
  /** Keep only the last N kept steps (a first pass counts them). */
  last?: number;
}

export function hasFilter(f: StepFilterOptions): boolean {
  return !!(f.ranges?.length || f.els?.length || f.symbols?.length || f.excludeRanges?.length || f.first !== undefined || f.last !== undefined);
}

interface Range32 { loHi: number; loLo: number; hiHi: number; hiLo: number }

const toRange32 = ([lo, hi]: [bigint, bigint]): Range32 => ({
  loHi: Number(lo >> 32n), loLo: Number(lo & 0xffffffffn), hiHi: Number(hi >> 32n), hiLo: Number(hi & 0xffffffffn),
});

function inRange(r: Range32, lo: number, hi: number): boolean {
  const h = hi >>> 0, l = lo >>> 0;
  if (h < r.loHi || (h === r.loHi && l < r.loLo)) return false;
  if (h > r.hiHi || (h === r.hiHi && l > r.hiLo)) return false;
  return true;
}

export class FilterError extends Error {}

/**
 * A trace being read step by step with its register state. `known[id]` says
 * whether the trace has told us register id's value (QEMU logs without
 * `-d fpu` never tell the V registers, for instance).
 */
export class TraceCursor {
  readonly reader: StepReader;
  readonly meta: TraceMeta;
  readonly symbols: TraceSymbols;
  readonly state = new Int32Array(REG_COUNT * REG_WORDS);
  readonly known = new Uint8Array(REG_COUNT);
  /** Registers changed since the last takeDirty(). */
  readonly dirty = new Uint8Array(REG_COUNT);
  readonly dirtyList = new Uint8Array(REG_COUNT);
  nDirty = 0;
  /** Steps read (kept or not) and kept. */
  stepsRead = 0;
  kept = 0;
  /** Steps applied without being kept since the last kept step (for messages). */
  skippedSinceKept = 0;
  /** The step returned by next(), applied on the next call. */
  private pending: Step | undefined;
  private readonly queue: Step[] = [];
  private readonly include: Range32[];
  private readonly exclude: Range32[];
  private readonly els: Set<number> | undefined;
  private readonly symbolNames: string[];
  private readonly firstN: number;
  private skipKept = 0;
  private seenKept = 0;
  /** The state after the last step is unknown (end of a QEMU log). */
  finalUnknown = false;
  /** The last exception entry applied (kept or not), for rules that look back at it. */
  readonly lastEntry = new TraceRecord();
  hasLastEntry = false;
  /** An exception entry was applied since the last clearDirty(). */
  entrySinceCheck = false;

  constructor(readonly path: string, readonly filter: StepFilterOptions = {}, source?: RecordSource, fold = false) {
    this.reader = new StepReader(source ?? openTrace(path), fold);
    this.meta = this.reader.meta;
    this.symbols = new TraceSymbols(this.meta.symbols);
    const start = this.reader.start;
    this.applyRegs(start, false);
    this.include = (filter.ranges ?? []).map(toRange32);
    this.exclude = (filter.excludeRanges ?? []).map(toRange32);
    this.els = filter.els?.length ? new Set(filter.els) : undefined;
    this.symbolNames = [];
    for (const name of filter.symbols ?? []) {
      const r = this.symbols.range(name);
      if (r) this.include.push(toRange32([r[0], r[1] - 1n]));
      else this.symbolNames.push(name);
    }
    this.firstN = filter.first ?? Number.POSITIVE_INFINITY;
    if (filter.last !== undefined) {
      // A first pass over the file counts the steps the other filters keep.
      const counter = new TraceCursor(path, { ...filter, last: undefined, first: undefined }, undefined, fold);
      let total = 0;
      try {
        while (counter.next()) total++;
      } finally {
        counter.close();
      }
      this.skipKept = Math.max(0, total - filter.last);
    }
  }

  /** Whether the filters keep step s (first/last aside). */
  private wanted(s: Step): boolean {
    if (s.gap) return false;
    const lo = s.insn.pcLo, hi = s.insn.pcHi;
    for (const r of this.exclude) if (inRange(r, lo, hi)) return false;
    if (this.els && !this.els.has(s.insn.el)) return false;
    if (this.include.length || this.symbolNames.length) {
      let hit = false;
      for (const r of this.include) if (inRange(r, lo, hi)) { hit = true; break; }
      if (!hit && this.symbolNames.length) {
        const sym = s.insn.sym;
        if (sym !== undefined) for (const n of this.symbolNames) if (sym === n || sym.startsWith(`${n}+`)) { hit = true; break; }
      }
      if (!hit) return false;
    }
    return true;
  }

  /** Whether `pending` is a private copy (from the look-ahead queue) rather than the reader's reused step. */
  private pendingOwned = false;
  private lastFromQueue = false;

  private readStep(): Step | undefined {
    this.lastFromQueue = this.queue.length > 0;
    if (this.lastFromQueue) return this.queue.shift();
    return this.reader.next();
  }

  /** The step last returned by next(), before it is applied. */
  get current(): Step | undefined {
    return this.pending;
  }

  /** The next kept step (state = before it), or undefined at the end. */
  next(): Step | undefined {
    if (this.pending) {
      this.apply(this.pending);
      this.pending = undefined;
    }
    if (this.kept >= this.firstN) return undefined;
    this.skippedSinceKept = 0;
    for (;;) {
      const s = this.readStep();
      if (s === undefined) return undefined;
      this.stepsRead++;
      if (this.wanted(s)) {
        if (this.seenKept++ >= this.skipKept) {
          this.kept++;
          this.pending = s;
          this.pendingOwned = this.lastFromQueue;
          return s;
        }
      }
      this.apply(s);
      this.skippedSinceKept++;
    }
  }

  /** Gives the current step back: the next call of next() returns it again (diff --resync). */
  unread(): void {
    const s = this.pending;
    if (!s) return;
    this.queue.unshift(this.pendingOwned ? s : s.clone());
    this.pending = undefined;
    this.kept--;
    this.seenKept--;
    this.stepsRead--;
  }

  /** Applies the last step returned by next() now (the state becomes the state after it). */
  settle(): void {
    if (this.pending) {
      this.apply(this.pending);
      this.pending = undefined;
    }
  }

  /**
   * Reads up to n steps beyond the current one into a queue, without
   * applying them, and returns them (copies) for look-ahead (diff --resync).
   */
  peek(n: number): Step[] {
    if (this.pending && !this.pendingOwned) {
      // Reading ahead reuses the reader's step object: keep a private copy of the current one.
      this.pending = this.pending.clone();
      this.pendingOwned = true;
    }
    while (this.queue.length < n) {
      const s = this.reader.next();
      if (s === undefined) break;
      this.queue.push(s.clone());
    }
    return this.queue.slice(0, n);
  }

  /** Whether step s would be kept by the filters (for look-ahead). */
  keeps(s: Step): boolean {
    return this.wanted(s);
  }

  private mark(id: number): void {
    if (this.dirty[id] === 0) {
      this.dirty[id] = 1;
      this.dirtyList[this.nDirty++] = id;
    }
  }

  /** Sets registers from a record's changes. */
  private applyRegs(r: TraceRecord, mark: boolean): void {
    const st = this.state, vals = r.regVals;
    for (let k = 0; k < r.nRegs; k++) {
      const id = r.regIds[k]!;
      const at = id * REG_WORDS, from = k * REG_WORDS;
      st[at] = vals[from]!;
      st[at + 1] = vals[from + 1]!;
      if (regWords(id) === 4) {
        st[at + 2] = vals[from + 2]!;
        st[at + 3] = vals[from + 3]!;
      }
      this.known[id] = 1;
      if (mark) this.mark(id);
    }
  }

  /** Applies a step's changes (instruction, then its events in order). */
  apply(s: Step): void {
    this.applyRegs(s.insn, true);
    for (let k = 0; k < s.nEvents; k++) {
      const e = s.events[k]!;
      this.applyRegs(e, true);
      if (e.kind === Rec.Exception) {
        this.lastEntry.copyFrom(e);
        this.hasLastEntry = true;
        this.entrySinceCheck = true;
      }
    }
    if (s.insn.afterUnknown) this.finalUnknown = true;
  }

  /** Clears the dirty set (after the caller compared those registers). */
  clearDirty(): void {
    for (let k = 0; k < this.nDirty; k++) this.dirty[this.dirtyList[k]!] = 0;
    this.nDirty = 0;
    this.entrySinceCheck = false;
  }

  /** `name+0xoff` for an address, from the trace's symbol table. */
  symbolize(lo: number, hi: number): string | undefined {
    if (this.symbols.size === 0) return undefined;
    return this.symbols.format((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  close(): void {
    this.reader.close();
  }
}

/** Memory accesses of a record as text, for reports. */
export function describeMem(r: TraceRecord): string[] {
  const out: string[] = [];
  for (let k = 0; k < r.nMem; k++) {
    const f = r.memFlags[k]!;
    const size = f & MEM_SIZE;
    const va = (BigInt(r.memVa[k * 2 + 1]! >>> 0) << 32n) | BigInt(r.memVa[k * 2]! >>> 0);
    let v = 0n;
    for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(r.memVal[k * 4 + w]! >>> 0);
    out.push(`${(f & MEM_WRITE) !== 0 ? 'W' : 'R'}${size}[0x${va.toString(16)}]=0x${v.toString(16)}`);
  }
  return out;
}

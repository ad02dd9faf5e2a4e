/**
 * The trace model shared by the recorder, the formats (JSON lines, binary,
 * imported QEMU logs), conversion and diff.
 *
 * A trace is a start record (the full register state and what the trace
 * contains), then per retired instruction an instruction record with the
 * registers it changed, each followed by the events it caused (exception
 * entry, eret, TLB maintenance, host calls, PSCI calls), and an end record.
 * Readers fill one reusable TraceRecord per record so that long traces are
 * read without allocating per instruction; 64-bit values are (lo, hi) int32
 * halves, as in the CPU.
 */

/** Register ids: X0..X30, SP, NZCV, PSTATE (without NZCV), FPCR, FPSR, V0..V31. */
export const REG_SP = 31;
export const REG_NZCV = 32;
/** PSTATE as saved in SPSR_ELx (EL, SP, DAIF, PAN, …) with the NZCV bits cleared: NZCV is its own register. */
export const REG_PSTATE = 33;
export const REG_FPCR = 34;
export const REG_FPSR = 35;
export const REG_V0 = 36;
export const REG_COUNT = REG_V0 + 32;
/** Words of storage per register in state arrays (a V register needs four). */
export const REG_WORDS = 4;

export const REG_NAMES: readonly string[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`),
  'sp', 'nzcv', 'pstate', 'fpcr', 'fpsr',
  ...Array.from({ length: 32 }, (_, i) => `v${i}`),
];
const REG_BY_NAME = new Map(REG_NAMES.map((n, i) => [n, i]));

/** Register id for a name (x0..x30, sp, nzcv, pstate, fpcr, fpsr, v0..v31; also w0..w30, q0..q31, lr, fp), or -1. */
export function regId(name: string): number {
  const n = name.toLowerCase();
  const id = REG_BY_NAME.get(n);
  if (id !== undefined) return id;
  if (n === 'lr') return 30;
  if (n === 'fp') return 29;
  const m = /^([wq])([0-9]+)$/.exec(n);
  if (m) {
    const k = Number(m[2]);
    if (m[1] === 'w' && k <= 30) return k;
    if (m[1] === 'q' && k <= 31) return REG_V0 + k;
  }
  return -1;
}

/** Number of 32-bit words that hold register `id`'s value. */
export const regWords = (id: number): number => (id >= REG_V0 ? 4 : 2);

export const enum Rec {
  Start = 1,
  Insn = 2,
  Exception = 3,
  Eret = 4,
  IllegalEret = 5,
  Tlbi = 6,
  HostCall = 7,
  Psci = 8,
  /** Steps a filter dropped: the register changes they made, folded together. */
  Skip = 9,
  End = 10,
}

export const EVENT_NAMES: Record<number, string> = {
  [Rec.Start]: 'start',
  [Rec.Exception]: 'exception',
  [Rec.Eret]: 'eret',
  [Rec.IllegalEret]: 'illegal-eret',
  [Rec.Tlbi]: 'tlbi',
  [Rec.HostCall]: 'host-call',
  [Rec.Psci]: 'psci',
  [Rec.Skip]: 'skip',
  [Rec.End]: 'end',
};

/** What a trace records besides X/SP/NZCV (the issue-3 recorder recorded only those). */
export type Feature = 'pstate' | 'fp' | 'sys' | 'mem' | 'psci' | 'tlbi' | 'host';
export const ALL_FEATURES: readonly Feature[] = ['pstate', 'fp', 'sys', 'mem', 'psci', 'tlbi', 'host'];

export interface TraceMeta {
  /** Who produced the trace: our recorder, or an imported QEMU log. */
  source: 'pkvm-lab' | 'qemu';
  features: Feature[];
  /** The image that ran, when known (name and SHA-256 of its bytes). */
  program?: { name?: string; sha256?: string };
  cpu?: string;
  /** Symbol name → address (hex), for symbol+offset and symbol filters. */
  symbols?: Record<string, string>;
}

export class TraceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFormatError';
  }
}

/**
 * One record, reused by readers. Which fields mean something depends on
 * `kind`; counts (nRegs, nSys, nMem) say how much of each array is valid.
 */
export class TraceRecord {
  kind: Rec = Rec.Insn;
  /** Instruction index (`i`): events carry the index of the instruction that caused them. */
  index = 0;
  /** An event taken without an instruction retiring (e.g. an instruction abort): it has its own index. */
  standalone = false;
  pcLo = 0;
  pcHi = 0;
  el = 0;
  hasWord = false;
  word = 0;
  asm: string | undefined = undefined;
  /** Symbol+offset of the PC. */
  sym: string | undefined = undefined;
  /** The instruction's effect is not known (the last dump of a QEMU log). */
  afterUnknown = false;
  /** Set on an instruction record when a host function ran instead of the code at the PC. */
  host: string | undefined = undefined;

  // Register changes (start: the full state). Values in REG_WORDS words per entry.
  nRegs = 0;
  regIds = new Uint8Array(REG_COUNT * 2);
  regVals = new Int32Array(REG_COUNT * 2 * REG_WORDS);

  // System registers written.
  nSys = 0;
  sysNames: string[] = [];
  sysVals = new Int32Array(64);

  // Memory accesses: flags = size | MEM_WRITE.
  nMem = 0;
  memFlags = new Uint8Array(16);
  memVa = new Int32Array(32);
  /** Physical address, or -1 when not recorded. */
  memPa = new Float64Array(16);
  /** Value: four words (up to 16 bytes) per access. */
  memVal = new Int32Array(64);

  // Exception / eret / psci.
  fromEl = 0;
  toEl = 0;
  esrLo = 0;
  esrHi = 0;
  hasFar = false;
  farLo = 0;
  farHi = 0;
  elrLo = 0;
  elrHi = 0;
  /** Vector offset (0x000…0x780) of an exception entry, -1 when unknown. */
  vector = -1;
  hasFromPc = false;
  fromPcLo = 0;
  fromPcHi = 0;

  // tlbi: op and Xt; host-call: name (text), address (a), args, result; psci: conduit (text), function (a).
  text = '';
  aLo = 0;
  aHi = 0;
  args: bigint[] = [];
  hasResult = false;
  resultLo = 0;
  resultHi = 0;

  // start
  meta: TraceMeta = { source: 'pkvm-lab', features: [] };
  // skip
  skipped = 0;
  // end
  reason = '';
  insns = 0;

  /** Resets the per-record parts (counts and optional fields). */
  clear(kind: Rec): void {
    this.kind = kind;
    this.standalone = false;
    this.hasWord = false;
    this.asm = undefined;
    this.sym = undefined;
    this.afterUnknown = false;
    this.host = undefined;
    this.nRegs = 0;
    this.nSys = 0;
    this.nMem = 0;
    this.hasFar = false;
    this.vector = -1;
    this.hasFromPc = false;
    this.hasResult = false;
    this.text = '';
    this.aLo = 0;
    this.aHi = 0;
    if (this.args.length) this.args = [];
  }

  /** Appends a register change; returns the index of its first value word. */
  addReg(id: number): number {
    const n = this.nRegs;
    if (n >= this.regIds.length) {
      const ids = new Uint8Array(n * 2);
      ids.set(this.regIds);
      this.regIds = ids;
      const vals = new Int32Array(n * 2 * REG_WORDS);
      vals.set(this.regVals);
      this.regVals = vals;
    }
    this.regIds[n] = id;
    this.nRegs = n + 1;
    const at = n * REG_WORDS;
    this.regVals[at + 2] = 0;
    this.regVals[at + 3] = 0;
    return at;
  }

  addReg64(id: number, lo: number, hi: number): void {
    const at = this.addReg(id);
    this.regVals[at] = lo;
    this.regVals[at + 1] = hi;
  }

  addSys(name: string, lo: number, hi: number): void {
    const n = this.nSys;
    if (n * 2 >= this.sysVals.length) {
      const v = new Int32Array(this.sysVals.length * 2);
      v.set(this.sysVals);
      this.sysVals = v;
    }
    this.sysNames[n] = name;
    this.sysVals[n * 2] = lo;
    this.sysVals[n * 2 + 1] = hi;
    this.nSys = n + 1;
  }

  /** Appends a memory access; returns its slot. The value words start zeroed. */
  addMem(write: boolean, size: number, vaLo: number, vaHi: number, pa: number): number {
    const n = this.nMem;
    if (n >= this.memFlags.length) {
      // every array holds a fixed number of elements per access, so doubling each keeps them in step
      const grow = <T extends Uint8Array | Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (len: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.memFlags = grow(this.memFlags);
      this.memVa = grow(this.memVa);
      this.memPa = grow(this.memPa);
      this.memVal = grow(this.memVal);
    }
    this.memFlags[n] = size | (write ? MEM_WRITE : 0);
    this.memVa[n * 2] = vaLo;
    this.memVa[n * 2 + 1] = vaHi;
    this.memPa[n] = pa;
    this.memVal.fill(0, n * 4, n * 4 + 4);
    this.nMem = n + 1;
    return n;
  }

  /** Copies the parts an instruction record uses (cheaper than copyFrom: no event or start fields). */
  copyInsn(r: TraceRecord): void {
    this.kind = r.kind;
    this.index = r.index;
    this.standalone = r.standalone;
    this.pcLo = r.pcLo;
    this.pcHi = r.pcHi;
    this.el = r.el;
    this.hasWord = r.hasWord;
    this.word = r.word;
    this.asm = r.asm;
    this.sym = r.sym;
    this.afterUnknown = r.afterUnknown;
    this.host = r.host;
    const n = r.nRegs;
    this.nRegs = 0;
    for (let k = 0; k < n; k++) {
      const at = this.addReg(r.regIds[k]!), from = k * REG_WORDS;
      this.regVals[at] = r.regVals[from]!;
      this.regVals[at + 1] = r.regVals[from + 1]!;
      this.regVals[at + 2] = r.regVals[from + 2]!;
      this.regVals[at + 3] = r.regVals[from + 3]!;
    }
    this.nSys = 0;
    for (let k = 0; k < r.nSys; k++) this.addSys(r.sysNames[k]!, r.sysVals[k * 2]!, r.sysVals[k * 2 + 1]!);
    this.nMem = 0;
    for (let k = 0; k < r.nMem; k++) {
      const f = r.memFlags[k]!;
      const s = this.addMem((f & MEM_WRITE) !== 0, f & MEM_SIZE, r.memVa[k * 2]!, r.memVa[k * 2 + 1]!, r.memPa[k]!);
      for (let w = 0; w < 4; w++) this.memVal[s * 4 + w] = r.memVal[k * 4 + w]!;
    }
  }

  /** Copies everything from `r` (for holding a record past the reader's next call). */
  copyFrom(r: TraceRecord): void {
    this.clear(r.kind);
    this.index = r.index;
    this.standalone = r.standalone;
    this.pcLo = r.pcLo; this.pcHi = r.pcHi; this.el = r.el;
    this.hasWord = r.hasWord; this.word = r.word;
    this.asm = r.asm; this.sym = r.sym; this.afterUnknown = r.afterUnknown; this.host = r.host;
    for (let k = 0; k < r.nRegs; k++) {
      const at = this.addReg(r.regIds[k]!);
      for (let w = 0; w < REG_WORDS; w++) this.regVals[at + w] = r.regVals[k * REG_WORDS + w]!;
    }
    for (let k = 0; k < r.nSys; k++) this.addSys(r.sysNames[k]!, r.sysVals[k * 2]!, r.sysVals[k * 2 + 1]!);
    for (let k = 0; k < r.nMem; k++) {
      const f = r.memFlags[k]!;
      const s = this.addMem((f & MEM_WRITE) !== 0, f & MEM_SIZE, r.memVa[k * 2]!, r.memVa[k * 2 + 1]!, r.memPa[k]!);
      for (let w = 0; w < 4; w++) this.memVal[s * 4 + w] = r.memVal[k * 4 + w]!;
    }
    this.fromEl = r.fromEl; this.toEl = r.toEl;
    this.esrLo = r.esrLo; this.esrHi = r.esrHi;
    this.hasFar = r.hasFar; this.farLo = r.farLo; this.farHi = r.farHi;
    this.elrLo = r.elrLo; this.elrHi = r.elrHi;
    this.vector = r.vector;
    this.hasFromPc = r.hasFromPc; this.fromPcLo = r.fromPcLo; this.fromPcHi = r.fromPcHi;
    this.text = r.text; this.aLo = r.aLo; this.aHi = r.aHi;
    this.args = r.args.slice();
    this.hasResult = r.hasResult; this.resultLo = r.resultLo; this.resultHi = r.resultHi;
    this.meta = r.meta;
    this.skipped = r.skipped;
    this.reason = r.reason;
    this.insns = r.insns;
  }
}

export const MEM_WRITE = 0x80;
export const MEM_SIZE = 0x1f;

/** A source of records (a reader of one of the formats). `next` returns the same object each time, refilled. */
export interface RecordSource {
  /** What the input is, for messages: 'binary trace', 'JSON-lines trace', 'QEMU log'. */
  readonly formatName: string;
  /** The start record (read when the source is opened). */
  readonly start: TraceRecord;
  next(): TraceRecord | undefined;
  close(): void;
}

/** Where records go (a writer of one of the formats). Records are consumed before the call returns. */
export interface RecordSink {
  write(rec: TraceRecord): void;
  close(): void;
}

// ---- 64-bit values as halves -------------------------------------------------

/** `0x…` without leading zeros, as BigInt's toString(16) gives. */
export function hex64(lo: number, hi: number): string {
  const h = hi >>> 0;
  if (h === 0) return `0x${(lo >>> 0).toString(16)}`;
  return `0x${h.toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

export function hex128(w: ArrayLike<number>, at: number): string {
  let s = '';
  let started = false;
  for (let k = 3; k >= 0; k--) {
    const v = w[at + k]! >>> 0;
    if (!started) {
      if (v === 0 && k > 0) continue;
      s = v.toString(16);
      started = true;
    } else {
      s += v.toString(16).padStart(8, '0');
    }
  }
  return `0x${s}`;
}

/** Fixed-width hex of a register value, for aligned columns in reports. */
export function hexFixed(vals: ArrayLike<number>, at: number, words: number): string {
  let s = '';
  for (let k = words - 1; k >= 0; k--) s += (vals[at + k]! >>> 0).toString(16).padStart(8, '0');
  return `0x${s}`;
}

/** Hex digit values by char code, -1 for anything else. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_DIGIT[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_DIGIT[97 + c] = HEX_DIGIT[65 + c] = 10 + c;

/** Parses `0x…` into `words` little-endian words at out[at]; false if malformed or too wide. Allocation-free (the JSON-lines reader's hot path). */
export function parseHexWords(text: unknown, out: Int32Array, at: number, words: number): boolean {
  if (typeof text !== 'string') return false;
  const n = text.length;
  if (n < 3 || text.charCodeAt(0) !== 48 || (text.charCodeAt(1) | 0x20) !== 120) return false;
  for (let w = 0; w < words; w++) out[at + w] = 0;
  // From the last digit: four bits at a time into successive words.
  let bit = 0;
  for (let k = n - 1; k >= 2; k--) {
    const c = text.charCodeAt(k);
    const d = c < 128 ? HEX_DIGIT[c]! : -1;
    if (d < 0) return false;
    if (d !== 0) {
      const w = bit >>> 5;
      if (w >= words) return false; // a non-zero digit beyond the value's width
      out[at + w] = out[at + w]! | (d << (bit & 31));
    }
    bit += 4;
  }
  return true;
}

const scratch = new Int32Array(4);

/** Parses a 64-bit hex value into [lo, hi], or undefined. */
export function parseHex64(text: unknown): [number, number] | undefined {
  if (!parseHexWords(text, scratch, 0, 2)) return undefined;
  return [scratch[0]!, scratch[1]!];
}

export const toBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
export const loOf = (v: bigint): number => Number(v & 0xffffffffn) | 0;
export const hiOf = (v: bigint): number => Number((v >> 32n) & 0xffffffffn) | 0;

/** Parses an address or size: decimal or 0x hex, `_` allowed. */
export function parseNumber(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) return undefined;
  const v = BigInt(t);
  return v < 2n ** 64n ? v : undefined;
}

// ---- symbols -----------------------------------------------------------------

/** Reverse symbol lookup over a trace's symbol table (name → hex address). */
export class TraceSymbols {
  private readonly addrs: bigint[] = [];
  private readonly names: string[] = [];
  readonly byName = new Map<string, bigint>();

  constructor(symbols: Record<string, string> | undefined) {
    const entries: [string, bigint][] = [];
    for (const [name, value] of Object.entries(symbols ?? {})) {
      const v = parseNumber(value);
      if (v === undefined) continue;
      entries.push([name, v]);
      this.byName.set(name, v);
    }
    // At one address prefer a name that is not a local .L label, then the shorter one.
    entries.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : rank(a[0]) - rank(b[0]) || a[0].length - b[0].length));
    for (const [name, v] of entries) {
      if (this.addrs.length && this.addrs[this.addrs.length - 1] === v) continue;
      this.addrs.push(v);
      this.names.push(name);
    }
  }

  get size(): number {
    return this.addrs.length;
  }

  /** Index of the last symbol at or below addr, or -1. */
  private find(addr: bigint): number {
    let lo = 0, hi = this.addrs.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.addrs[mid]! <= addr) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  /** `name+0xoff` or `name`, undefined when no symbol precedes addr. */
  format(addr: bigint): string | undefined {
    const k = this.find(addr);
    if (k < 0) return undefined;
    const off = addr - this.addrs[k]!;
    return off === 0n ? this.names[k] : `${this.names[k]}+0x${off.toString(16)}`;
  }

  /** [start, end) of a symbol: up to the next symbol at a higher address (end 2^64 for the last). */
  range(name: string): [bigint, bigint] | undefined {
    const v = this.byName.get(name);
    if (v === undefined) return undefined;
    const k = this.find(v);
    const next = this.addrs[k + 1];
    return [v, next ?? 2n ** 64n];
  }
}

const rank = (name: string): number => (name.startsWith('.L') ? 2 : name.startsWith('$') ? 3 : 0);

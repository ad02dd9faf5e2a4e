/**
 * The compact binary trace format (specified in the README, "Binary trace
 * format"): a 12-byte header, then length-framed records. Register changes
 * are zigzag varints of the difference from the register's previous value,
 * the PC is implicit when it is the previous instruction's + 4, indices are
 * implicit when they count up, and strings (disassembly, symbols, system
 * register names) are defined once in STRING records and referred to by
 * number. Writer and reader both stream through fixed-size buffers.
 */
import { ChunkReader, ChunkWriter } from './files.js';
import {
  MEM_SIZE, MEM_WRITE, REG_COUNT, REG_V0, REG_WORDS, Rec, TraceFormatError, TraceRecord, hiOf, loOf, toBig,
  type RecordSink, type RecordSource, type TraceMeta,
} from './model.js';

/** "\x89PKTR\r\n\x1a": a non-ASCII first byte (not text) and the CR/LF/^Z that text-mode transfers mangle. */
export const BINARY_MAGIC = new Uint8Array([0x89, 0x50, 0x4b, 0x54, 0x52, 0x0d, 0x0a, 0x1a]);
export const BINARY_VERSION = 1;
const HEADER_SIZE = 12;

const enum Tag {
  String = 1,
  Start = 2,
  Insn = 3,
  Exception = 4,
  Eret = 5,
  IllegalEret = 6,
  Tlbi = 7,
  HostCall = 8,
  Psci = 9,
  Skip = 10,
  End = 11,
}

// Flags common to every record after START.
const F_INDEX = 1 << 0;
const F_STANDALONE = 1 << 1;
// INSN
const FI_PC = 1 << 2;
const FI_EL = 1 << 3;
const FI_WORD = 1 << 4;
const FI_ASM = 1 << 5;
const FI_SYM = 1 << 6;
const FI_HOST = 1 << 7;
const FI_SYS = 1 << 8;
const FI_MEM = 1 << 9;
const FI_AFTER_UNKNOWN = 1 << 10;
/** Encoding, disassembly and symbol are those of the last instruction record at this PC (none of them follow). */
const FI_SAME = 1 << 11;
// EXCEPTION / ERET
const FE_FAR = 1 << 2;
const FE_FROM_PC = 1 << 3;
const FE_VECTOR = 1 << 4;
const FE_SYS = 1 << 5;
// HOST / PSCI
const FH_RESULT = 1 << 2;
// memory access byte: size (bits 0-4) | write (bit 7) | PA equals VA (bit 6) | PA not recorded (bit 5)
const M_PA_SAME = 0x40;
const M_PA_UNKNOWN = 0x20;

/** Strings beyond this many are not interned: optional disassembly/symbol text is then left out. */
const MAX_STRINGS = 1 << 20;
/** PCs remembered for FI_SAME; both sides forget them all when a new PC would exceed this. */
const MAX_PCS = 1 << 20;

/** What the last instruction record at a PC carried (FI_SAME). */
interface PcEntry {
  pcHi: number;
  hasWord: boolean;
  word: number;
  asm: string | undefined;
  sym: string | undefined;
}

function samePcEntry(e: PcEntry | undefined, r: TraceRecord): boolean {
  return e !== undefined && e.pcHi === r.pcHi && e.hasWord === r.hasWord && (!r.hasWord || e.word === r.word) && e.asm === r.asm && e.sym === r.sym;
}

function rememberPc(cache: Map<number, PcEntry>, r: TraceRecord): void {
  let e = cache.get(r.pcLo);
  if (e === undefined) {
    if (cache.size >= MAX_PCS) cache.clear();
    e = { pcHi: 0, hasWord: false, word: 0, asm: undefined, sym: undefined };
    cache.set(r.pcLo, e);
  }
  e.pcHi = r.pcHi;
  e.hasWord = r.hasWord;
  e.word = r.hasWord ? r.word : 0;
  e.asm = r.asm;
  e.sym = r.sym;
}

const TAG_OF: Record<number, Tag> = {
  [Rec.Insn]: Tag.Insn, [Rec.Exception]: Tag.Exception, [Rec.Eret]: Tag.Eret, [Rec.IllegalEret]: Tag.IllegalEret,
  [Rec.Tlbi]: Tag.Tlbi, [Rec.HostCall]: Tag.HostCall, [Rec.Psci]: Tag.Psci, [Rec.Skip]: Tag.Skip, [Rec.End]: Tag.End,
};

/** True when `head` starts with the binary trace magic. */
export function isBinaryTrace(head: Uint8Array): boolean {
  if (head.length < BINARY_MAGIC.length) return false;
  for (let k = 0; k < BINARY_MAGIC.length; k++) if (head[k] !== BINARY_MAGIC[k]) return false;
  return true;
}

// ---- writer --------------------------------------------------------------------

export class BinaryWriter implements RecordSink {
  private body = new Uint8Array(4096);
  private p = 0;
  private readonly strings = new Map<string, number>();
  private readonly state = new Int32Array(REG_COUNT * REG_WORDS);
  private prevIndex = -1;
  private lastPcLo = 0;
  private lastPcHi = 0;
  private lastEl = 0;
  private memLo = 0;
  private memHi = 0;
  private readonly encoder = new TextEncoder();
  private readonly pcs = new Map<number, PcEntry>();
  /** Records written (for tests and progress reports). */
  records = 0;

  constructor(private readonly out: ChunkWriter) {
    const h = new Uint8Array(HEADER_SIZE);
    h.set(BINARY_MAGIC);
    h[8] = BINARY_VERSION & 0xff;
    h[9] = BINARY_VERSION >> 8;
    out.bytes(h);
  }

  static open(path: string): BinaryWriter {
    return new BinaryWriter(ChunkWriter.open(path));
  }

  // -- body encoding --
  private room(n: number): void {
    if (this.p + n <= this.body.length) return;
    const b = new Uint8Array(Math.max(this.body.length * 2, this.p + n));
    b.set(this.body.subarray(0, this.p));
    this.body = b;
  }

  private u8(v: number): void {
    this.room(1);
    this.body[this.p++] = v;
  }

  private varint(v: number): void {
    this.room(10);
    const b = this.body;
    let p = this.p;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.p = p;
  }

  private varint64(lo: number, hi: number): void {
    this.room(10);
    const b = this.body;
    let p = this.p;
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.p = p;
  }

  /** Zigzag varint of (lo,hi) − (plo,phi) modulo 2^64. */
  private delta64(lo: number, hi: number, plo: number, phi: number): void {
    const d = (lo >>> 0) - (plo >>> 0);
    const dlo = d | 0;
    const dhi = (hi - phi - (d < 0 ? 1 : 0)) | 0;
    const s = dhi >> 31;
    this.varint64((dlo << 1) ^ s, ((dhi << 1) | (dlo >>> 31)) ^ s);
  }

  private bytesOf(s: string): void {
    this.room(s.length * 3);
    const { written } = this.encoder.encodeInto(s, this.body.subarray(this.p));
    this.p += written;
  }

  /** String id, defining it first with a STRING record; -1 when `optional` and the table is full. */
  private string(s: string, optional: boolean): number {
    const id = this.strings.get(s);
    if (id !== undefined) return id;
    if (optional && this.strings.size >= MAX_STRINGS) return -1;
    const next = this.strings.size;
    this.strings.set(s, next);
    // Emitted ahead of the record being encoded: save and restore its partial body.
    const saved = this.body.slice(0, this.p);
    this.p = 0;
    this.bytesOf(s);
    this.emit(Tag.String);
    this.room(saved.length);
    this.body.set(saved, 0);
    this.p = saved.length;
    return next;
  }

  private emit(tag: number): void {
    const len = this.p;
    const at = this.out.reserve(len + 6);
    const buf = this.out.buffer;
    let q = at;
    buf[q++] = tag;
    let v = len;
    while (v > 0x7f) {
      buf[q++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[q++] = v;
    buf.set(this.body.subarray(0, len), q);
    this.out.commit(q - at + len);
    this.p = 0;
    this.records++;
  }

  private regs(rec: TraceRecord): void {
    const n = rec.nRegs;
    this.varint(n);
    const st = this.state;
    for (let k = 0; k < n; k++) {
      const id = rec.regIds[k]!;
      const at = k * REG_WORDS, s = id * REG_WORDS;
      const v = rec.regVals;
      this.u8(id);
      this.delta64(v[at]!, v[at + 1]!, st[s]!, st[s + 1]!);
      st[s] = v[at]!;
      st[s + 1] = v[at + 1]!;
      if (id >= REG_V0) {
        this.delta64(v[at + 2]!, v[at + 3]!, st[s + 2]!, st[s + 3]!);
        st[s + 2] = v[at + 2]!;
        st[s + 3] = v[at + 3]!;
      }
    }
  }

  private sys(rec: TraceRecord): void {
    this.varint(rec.nSys);
    for (let k = 0; k < rec.nSys; k++) {
      const id = this.string(rec.sysNames[k]!, false);
      this.varint(id);
      this.varint64(rec.sysVals[k * 2]!, rec.sysVals[k * 2 + 1]!);
    }
  }

  private mem(rec: TraceRecord): void {
    this.varint(rec.nMem);
    for (let k = 0; k < rec.nMem; k++) {
      const f = rec.memFlags[k]!;
      const size = f & MEM_SIZE;
      const vaLo = rec.memVa[k * 2]!, vaHi = rec.memVa[k * 2 + 1]!;
      const pa = rec.memPa[k]!;
      const same = pa === (vaHi >>> 0) * 4294967296 + (vaLo >>> 0);
      this.u8((f & (MEM_WRITE | MEM_SIZE)) | (pa < 0 ? M_PA_UNKNOWN : same ? M_PA_SAME : 0));
      this.delta64(vaLo, vaHi, this.memLo, this.memHi);
      this.memLo = vaLo;
      this.memHi = vaHi;
      if (pa >= 0 && !same) this.varint(pa);
      this.room(size);
      for (let b = 0; b < size; b++) this.body[this.p++] = (rec.memVal[k * 4 + (b >> 2)]! >>> ((b & 3) * 8)) & 0xff;
    }
  }

  /** Common flags and index; returns the flags word with F_INDEX set when the index is not implicit. */
  private indexFlags(rec: TraceRecord, implicit: number): number {
    let f = rec.standalone ? F_STANDALONE : 0;
    if (rec.index !== implicit) f |= F_INDEX;
    return f;
  }

  write(rec: TraceRecord): void {
    switch (rec.kind) {
      case Rec.Start: {
        const meta = this.encoder.encode(JSON.stringify(rec.meta));
        this.varint(meta.length);
        this.room(meta.length);
        this.body.set(meta, this.p);
        this.p += meta.length;
        this.varint64(rec.pcLo, rec.pcHi);
        this.u8(rec.el);
        this.state.fill(0);
        this.regs(rec);
        this.emit(Tag.Start);
        // The first instruction at the start PC is "sequential".
        const d = (rec.pcLo >>> 0) - 4;
        this.lastPcLo = d | 0;
        this.lastPcHi = (rec.pcHi - (d < 0 ? 1 : 0)) | 0;
        this.lastEl = rec.el;
        this.prevIndex = -1;
        return;
      }
      case Rec.Insn: {
        let f = this.indexFlags(rec, this.prevIndex + 1);
        const seqLo = ((this.lastPcLo >>> 0) + 4);
        const seqHi = (this.lastPcHi + (seqLo > 0xffffffff ? 1 : 0)) | 0;
        if ((seqLo | 0) !== rec.pcLo || seqHi !== rec.pcHi) f |= FI_PC;
        if (rec.el !== this.lastEl) f |= FI_EL;
        // A PC seen before with the same encoding and text (every loop iteration): nothing to repeat.
        const same = samePcEntry(this.pcs.get(rec.pcLo), rec);
        if (same) f |= FI_SAME;
        else if (rec.hasWord) f |= FI_WORD;
        const asm = !same && rec.asm !== undefined ? this.string(rec.asm, true) : -1;
        const sym = !same && rec.sym !== undefined ? this.string(rec.sym, true) : -1;
        const host = rec.host !== undefined ? this.string(rec.host, false) : -1;
        if (asm >= 0) f |= FI_ASM;
        if (sym >= 0) f |= FI_SYM;
        if (host >= 0) f |= FI_HOST;
        if (rec.nSys) f |= FI_SYS;
        if (rec.nMem) f |= FI_MEM;
        if (rec.afterUnknown) f |= FI_AFTER_UNKNOWN;
        this.varint(f);
        if (f & F_INDEX) this.varint(rec.index);
        if (f & FI_PC) this.delta64(rec.pcLo, rec.pcHi, this.lastPcLo, this.lastPcHi);
        if (f & FI_EL) this.u8(rec.el);
        if (f & FI_WORD) {
          this.room(4);
          const w = rec.word;
          this.body[this.p++] = w & 0xff;
          this.body[this.p++] = (w >>> 8) & 0xff;
          this.body[this.p++] = (w >>> 16) & 0xff;
          this.body[this.p++] = (w >>> 24) & 0xff;
        }
        if (asm >= 0) this.varint(asm);
        if (sym >= 0) this.varint(sym);
        if (host >= 0) this.varint(host);
        this.regs(rec);
        if (rec.nSys) this.sys(rec);
        if (rec.nMem) this.mem(rec);
        this.emit(Tag.Insn);
        // What the reader will know for this PC (a string left out for the table cap is absent there too).
        if (!same) {
          const keep = { asm: rec.asm, sym: rec.sym };
          if (asm < 0) rec.asm = undefined;
          if (sym < 0) rec.sym = undefined;
          rememberPc(this.pcs, rec);
          rec.asm = keep.asm;
          rec.sym = keep.sym;
        }
        this.lastPcLo = rec.pcLo;
        this.lastPcHi = rec.pcHi;
        this.lastEl = rec.el;
        this.prevIndex = rec.index;
        return;
      }
      case Rec.Exception:
      case Rec.Eret:
      case Rec.IllegalEret: {
        let f = this.indexFlags(rec, rec.standalone ? this.prevIndex + 1 : this.prevIndex);
        const exc = rec.kind === Rec.Exception;
        if (exc && rec.hasFar) f |= FE_FAR;
        if (exc && rec.hasFromPc) f |= FE_FROM_PC;
        if (exc && rec.vector >= 0) f |= FE_VECTOR;
        if (rec.nSys) f |= FE_SYS;
        this.varint(f);
        if (f & F_INDEX) this.varint(rec.index);
        this.u8((rec.fromEl << 4) | rec.toEl);
        if (exc) {
          this.varint64(rec.esrLo, rec.esrHi);
          if (f & FE_FAR) this.varint64(rec.farLo, rec.farHi);
          this.varint64(rec.elrLo, rec.elrHi);
        }
        this.varint64(rec.pcLo, rec.pcHi);
        if (f & FE_VECTOR) this.varint(rec.vector);
        if (f & FE_FROM_PC) this.varint64(rec.fromPcLo, rec.fromPcHi);
        this.regs(rec);
        if (rec.nSys) this.sys(rec);
        this.emit(TAG_OF[rec.kind]!);
        this.prevIndex = rec.index;
        return;
      }
      case Rec.Tlbi: {
        const op = this.string(rec.text, false);
        this.varint(this.indexFlags(rec, this.prevIndex));
        if (rec.index !== this.prevIndex) this.varint(rec.index);
        this.varint(op);
        this.varint64(rec.aLo, rec.aHi);
        this.emit(Tag.Tlbi);
        this.prevIndex = rec.index;
        return;
      }
      case Rec.HostCall:
      case Rec.Psci: {
        const name = this.string(rec.text, false);
        let f = this.indexFlags(rec, this.prevIndex);
        if (rec.hasResult) f |= FH_RESULT;
        this.varint(f);
        if (f & F_INDEX) this.varint(rec.index);
        this.varint(name);
        this.varint64(rec.aLo, rec.aHi);
        if (rec.kind === Rec.HostCall) {
          this.varint(rec.args.length);
          for (const a of rec.args) this.varint64(loOf(a), hiOf(a));
        } else {
          this.u8(rec.fromEl);
        }
        if (rec.hasResult) this.varint64(rec.resultLo, rec.resultHi);
        this.emit(TAG_OF[rec.kind]!);
        this.prevIndex = rec.index;
        return;
      }
      case Rec.Skip: {
        const f = this.indexFlags(rec, this.prevIndex + 1);
        this.varint(f);
        if (f & F_INDEX) this.varint(rec.index);
        this.varint(rec.skipped);
        this.u8(rec.el);
        this.regs(rec);
        this.emit(Tag.Skip);
        this.prevIndex = rec.index + rec.skipped - 1;
        this.lastEl = rec.el;
        // The next instruction's PC is always explicit after a gap.
        this.lastPcLo = 1;
        this.lastPcHi = 0;
        return;
      }
      case Rec.End: {
        this.varint(rec.insns);
        this.bytesOf(rec.reason);
        this.emit(Tag.End);
        return;
      }
    }
  }

  close(): void {
    this.out.close();
  }
}

// ---- reader --------------------------------------------------------------------

export class BinaryReader implements RecordSource {
  readonly formatName = 'binary trace';
  readonly start = new TraceRecord();
  private readonly chunks: ChunkReader;
  private readonly rec = new TraceRecord();
  private readonly strings: string[] = [];
  private readonly state = new Int32Array(REG_COUNT * REG_WORDS);
  private readonly decoder = new TextDecoder();
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private prevIndex = -1;
  private lastPcLo = 0;
  private lastPcHi = 0;
  private lastEl = 0;
  private memLo = 0;
  private memHi = 0;
  private readonly pcs = new Map<number, PcEntry>();
  private vlo = 0;
  private vhi = 0;
  private ended = false;
  /** Records read so far (for error messages). */
  private count = 0;
  /** Set when the file ended at a record boundary without an END record. */
  missingEnd = false;

  constructor(readonly path: string) {
    this.chunks = new ChunkReader(path);
    try {
      const c = this.chunks;
      c.fill(HEADER_SIZE);
      if (!isBinaryTrace(c.buf.subarray(c.pos, c.end))) throw new TraceFormatError(`${path}: not a binary trace (bad magic)`);
      if (c.end - c.pos < HEADER_SIZE) throw new TraceFormatError(`${path}: truncated binary trace header`);
      const version = c.buf[8]! | (c.buf[9]! << 8);
      if (version !== BINARY_VERSION) throw new TraceFormatError(`${path}: binary trace version ${version} is not supported (this tool reads version ${BINARY_VERSION})`);
      c.pos += HEADER_SIZE;
      const first = this.read();
      if (first === undefined || first.kind !== Rec.Start) throw new TraceFormatError(`${path}: the first record is not the start record`);
      this.start.copyFrom(first);
    } catch (err) {
      this.chunks.close();
      throw err;
    }
  }

  private fail(msg: string): never {
    throw new TraceFormatError(`${this.path}: record ${this.count} at byte ${this.chunks.offset}: ${msg}`);
  }

  private varint(): number {
    const b = this.b;
    let v = 0, mul = 1;
    for (let k = 0; k < 8; k++) {
      const x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    this.fail('malformed varint');
  }

  /** Reads a 64-bit varint into vlo/vhi. */
  private varint64(): void {
    const b = this.b;
    let p = this.p;
    let lo = 0, hi = 0, x = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      x = b[p++]!;
      lo |= (x & 0x7f) << shift;
      if (x < 0x80) { this.p = p; this.vlo = lo; this.vhi = 0; return; }
    }
    x = b[p++]!;
    lo |= (x & 0x0f) << 28;
    hi = (x & 0x7f) >>> 4;
    if (x < 0x80) { this.p = p; this.vlo = lo; this.vhi = hi; return; }
    for (let shift = 3; shift < 32; shift += 7) {
      x = b[p++]!;
      hi |= (x & 0x7f) << shift;
      if (x < 0x80) { this.p = p; this.vlo = lo; this.vhi = hi; return; }
    }
    this.p = p;
    this.fail('malformed varint');
  }

  /** Reads a zigzag delta and adds it to (plo, phi): result in vlo/vhi. */
  private delta64(plo: number, phi: number): void {
    this.varint64();
    const zlo = this.vlo, zhi = this.vhi;
    const s = -(zlo & 1);
    const dlo = ((zlo >>> 1) | (zhi << 31)) ^ s;
    const dhi = (zhi >>> 1) ^ s;
    const sum = (plo >>> 0) + (dlo >>> 0);
    this.vlo = sum | 0;
    this.vhi = (phi + dhi + (sum > 0xffffffff ? 1 : 0)) | 0;
  }

  private str(optional = false): string {
    const id = this.varint();
    const s = this.strings[id];
    if (s === undefined) {
      if (optional) return '';
      this.fail(`string ${id} used before it is defined`);
    }
    return s;
  }

  private regs(rec: TraceRecord): void {
    const n = this.varint();
    if (n > REG_COUNT * 4) this.fail(`${n} register changes in one record`);
    const st = this.state;
    for (let k = 0; k < n; k++) {
      const id = this.b[this.p++]!;
      if (id >= REG_COUNT) this.fail(`unknown register id ${id}`);
      const at = rec.addReg(id), s = id * REG_WORDS;
      this.delta64(st[s]!, st[s + 1]!);
      rec.regVals[at] = st[s] = this.vlo;
      rec.regVals[at + 1] = st[s + 1] = this.vhi;
      if (id >= REG_V0) {
        this.delta64(st[s + 2]!, st[s + 3]!);
        rec.regVals[at + 2] = st[s + 2] = this.vlo;
        rec.regVals[at + 3] = st[s + 3] = this.vhi;
      }
    }
  }

  private sys(rec: TraceRecord): void {
    const n = this.varint();
    for (let k = 0; k < n; k++) {
      const name = this.str();
      this.varint64();
      rec.addSys(name, this.vlo, this.vhi);
    }
  }

  private mem(rec: TraceRecord): void {
    const n = this.varint();
    for (let k = 0; k < n; k++) {
      const f = this.b[this.p++]!;
      const size = f & MEM_SIZE;
      if (size < 1 || size > 16) this.fail(`memory access of ${size} bytes`);
      this.delta64(this.memLo, this.memHi);
      this.memLo = this.vlo;
      this.memHi = this.vhi;
      let pa = (this.vhi >>> 0) * 4294967296 + (this.vlo >>> 0);
      if (f & M_PA_UNKNOWN) pa = -1;
      else if (!(f & M_PA_SAME)) pa = this.varint();
      const slot = rec.addMem((f & MEM_WRITE) !== 0, size, this.vlo, this.vhi, pa);
      for (let b = 0; b < size; b++) rec.memVal[slot * 4 + (b >> 2)]! |= this.b[this.p++]! << ((b & 3) * 8);
    }
  }

  private index(rec: TraceRecord, f: number, implicit: number): void {
    rec.standalone = (f & F_STANDALONE) !== 0;
    rec.index = f & F_INDEX ? this.varint() : implicit;
  }

  /** Reads the next record (any tag); undefined at the end of the file. */
  private read(): TraceRecord | undefined {
    const c = this.chunks;
    for (;;) {
      if (c.end - c.pos < 16) c.fill(16);
      if (c.pos >= c.end) return undefined;
      // tag and body length
      let q = c.pos;
      const tag = c.buf[q++]!;
      let len = 0, shift = 0, x = 0x80;
      while (x & 0x80) {
        if (q >= c.end) this.fail('file ends inside a record header (truncated?)');
        x = c.buf[q++]!;
        len += (x & 0x7f) * 2 ** shift;
        shift += 7;
        if (shift > 35) this.fail('malformed record length (not a trace, or corrupted)');
      }
      const total = q - c.pos + len;
      if (c.end - c.pos < total) {
        c.fill(total);
        if (c.end - c.pos < total) this.fail(`file ends inside a ${len}-byte record (truncated?)`);
      }
      this.b = c.buf;
      const bodyStart = c.pos + (total - len);
      const bodyEnd = c.pos + total;
      this.p = bodyStart;
      this.count++;
      const rec = this.decode(tag, bodyEnd);
      if (this.p > bodyEnd) this.fail('record body shorter than its contents (corrupted?)');
      c.pos = bodyEnd;
      if (rec !== undefined) return rec;
    }
  }

  /** Decodes one body; undefined for STRING records and unknown tags (skipped). */
  private decode(tag: number, bodyEnd: number): TraceRecord | undefined {
    const rec = this.rec;
    switch (tag) {
      case Tag.String:
        this.strings.push(this.decoder.decode(this.b.subarray(this.p, bodyEnd)));
        this.p = bodyEnd;
        return undefined;
      case Tag.Start: {
        rec.clear(Rec.Start);
        const n = this.varint();
        if (this.p + n > bodyEnd) this.fail('start record metadata overruns the record');
        let meta: TraceMeta;
        try {
          meta = JSON.parse(this.decoder.decode(this.b.subarray(this.p, this.p + n))) as TraceMeta;
        } catch {
          this.fail('start record metadata is not JSON');
        }
        if (typeof meta !== 'object' || meta === null || !Array.isArray(meta.features)) this.fail('start record metadata is malformed');
        rec.meta = meta;
        this.p += n;
        this.varint64();
        rec.pcLo = this.vlo;
        rec.pcHi = this.vhi;
        rec.el = this.b[this.p++]!;
        this.state.fill(0);
        this.regs(rec);
        const d = (rec.pcLo >>> 0) - 4;
        this.lastPcLo = d | 0;
        this.lastPcHi = (rec.pcHi - (d < 0 ? 1 : 0)) | 0;
        this.lastEl = rec.el;
        this.prevIndex = -1;
        return rec;
      }
      case Tag.Insn: {
        rec.clear(Rec.Insn);
        const f = this.varint();
        this.index(rec, f, this.prevIndex + 1);
        if (f & FI_PC) {
          this.delta64(this.lastPcLo, this.lastPcHi);
          rec.pcLo = this.vlo;
          rec.pcHi = this.vhi;
        } else {
          const t = (this.lastPcLo >>> 0) + 4;
          rec.pcLo = t | 0;
          rec.pcHi = (this.lastPcHi + (t > 0xffffffff ? 1 : 0)) | 0;
        }
        rec.el = f & FI_EL ? this.b[this.p++]! : this.lastEl;
        if (f & FI_WORD) {
          const b = this.b, p = this.p;
          rec.word = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
          rec.hasWord = true;
          this.p += 4;
        }
        if (f & FI_ASM) rec.asm = this.str();
        if (f & FI_SYM) rec.sym = this.str();
        if (f & FI_SAME) {
          const e = this.pcs.get(rec.pcLo);
          if (e === undefined || e.pcHi !== rec.pcHi) this.fail('instruction refers to an earlier record at a PC never seen');
          rec.hasWord = e.hasWord;
          rec.word = e.word;
          rec.asm = e.asm;
          rec.sym = e.sym;
        } else {
          rememberPc(this.pcs, rec);
        }
        if (f & FI_HOST) rec.host = this.str();
        this.regs(rec);
        if (f & FI_SYS) this.sys(rec);
        if (f & FI_MEM) this.mem(rec);
        rec.afterUnknown = (f & FI_AFTER_UNKNOWN) !== 0;
        this.lastPcLo = rec.pcLo;
        this.lastPcHi = rec.pcHi;
        this.lastEl = rec.el;
        this.prevIndex = rec.index;
        return rec;
      }
      case Tag.Exception:
      case Tag.Eret:
      case Tag.IllegalEret: {
        const kind = tag === Tag.Exception ? Rec.Exception : tag === Tag.Eret ? Rec.Eret : Rec.IllegalEret;
        rec.clear(kind);
        const f = this.varint();
        this.index(rec, f, f & F_STANDALONE ? this.prevIndex + 1 : this.prevIndex);
        const els = this.b[this.p++]!;
        rec.fromEl = els >> 4;
        rec.toEl = els & 0xf;
        if (kind === Rec.Exception) {
          this.varint64(); rec.esrLo = this.vlo; rec.esrHi = this.vhi;
          if (f & FE_FAR) { this.varint64(); rec.farLo = this.vlo; rec.farHi = this.vhi; rec.hasFar = true; }
          this.varint64(); rec.elrLo = this.vlo; rec.elrHi = this.vhi;
        }
        this.varint64(); rec.pcLo = this.vlo; rec.pcHi = this.vhi;
        if (f & FE_VECTOR) rec.vector = this.varint();
        if (f & FE_FROM_PC) { this.varint64(); rec.fromPcLo = this.vlo; rec.fromPcHi = this.vhi; rec.hasFromPc = true; }
        this.regs(rec);
        if (f & FE_SYS) this.sys(rec);
        this.prevIndex = rec.index;
        return rec;
      }
      case Tag.Tlbi: {
        rec.clear(Rec.Tlbi);
        const f = this.varint();
        this.index(rec, f, this.prevIndex);
        rec.text = this.str();
        this.varint64(); rec.aLo = this.vlo; rec.aHi = this.vhi;
        this.prevIndex = rec.index;
        return rec;
      }
      case Tag.HostCall:
      case Tag.Psci: {
        rec.clear(tag === Tag.HostCall ? Rec.HostCall : Rec.Psci);
        const f = this.varint();
        this.index(rec, f, this.prevIndex);
        rec.text = this.str();
        this.varint64(); rec.aLo = this.vlo; rec.aHi = this.vhi;
        if (tag === Tag.HostCall) {
          const n = this.varint();
          if (n > 64) this.fail(`host call with ${n} arguments`);
          const args: bigint[] = [];
          for (let k = 0; k < n; k++) { this.varint64(); args.push(toBig(this.vlo, this.vhi)); }
          rec.args = args;
        } else {
          rec.fromEl = this.b[this.p++]!;
        }
        if (f & FH_RESULT) { this.varint64(); rec.resultLo = this.vlo; rec.resultHi = this.vhi; rec.hasResult = true; }
        this.prevIndex = rec.index;
        return rec;
      }
      case Tag.Skip: {
        rec.clear(Rec.Skip);
        const f = this.varint();
        this.index(rec, f, this.prevIndex + 1);
        rec.skipped = this.varint();
        rec.el = this.b[this.p++]!;
        this.regs(rec);
        this.prevIndex = rec.index + rec.skipped - 1;
        this.lastEl = rec.el;
        this.lastPcLo = 1;
        this.lastPcHi = 0;
        return rec;
      }
      case Tag.End:
        rec.clear(Rec.End);
        rec.insns = this.varint();
        rec.reason = this.decoder.decode(this.b.subarray(this.p, bodyEnd));
        this.p = bodyEnd;
        return rec;
      default:
        // A record type from a later revision of version 1: skip it.
        this.p = bodyEnd;
        return undefined;
    }
  }

  next(): TraceRecord | undefined {
    if (this.ended) return undefined;
    const rec = this.read();
    if (rec === undefined) {
      this.ended = true;
      this.missingEnd = true;
      return undefined;
    }
    if (rec.kind === Rec.Start) this.fail('a second start record');
    if (rec.kind === Rec.End) this.ended = true;
    return rec;
  }

  close(): void {
    this.chunks.close();
  }
}

/**
 * A QEMU `-d exec,cpu,int,nochain -singlestep` log as a trace in our model.
 *
 * QEMU dumps the state *before* each instruction; our records give the
 * changes *after* it. So instruction k's changed registers are the
 * difference between dumps k+1 and k, and the exception entries and returns
 * logged between the two dumps become event records that take those changes
 * (as our recorder gives them). The last instruction's effect is unknown (no
 * dump follows it): its record is marked after_unknown. PSCI calls QEMU's
 * firmware handled become psci events.
 */
import { ChunkReader } from './files.js';
import {
  REG_FPCR, REG_FPSR, REG_NZCV, REG_PSTATE, REG_SP, REG_V0, Rec, TraceFormatError, TraceRecord, hiOf, loOf,
  type Feature, type RecordSource,
} from './model.js';
import { QemuLogError, QemuLogParser, isInsnRecord, type QemuInsnRecord, type QemuRecord } from './qemu-log.js';

const CHUNK = 1 << 20;

export class QemuLogReader implements RecordSource {
  readonly formatName = 'QEMU log';
  readonly start = new TraceRecord();
  private readonly chunks: ChunkReader;
  private readonly parser: QemuLogParser;
  private readonly decoder = new TextDecoder();
  private parsed: QemuRecord[] = [];
  private at = 0;
  private parserDone = false;
  /** The dump whose instruction record is not written yet, and the events logged after it. */
  private held: QemuInsnRecord | undefined;
  private heldEvents: QemuRecord[] = [];
  private index = 0;
  /** Output queue: records built for one dump (instruction + events), handed out in order. */
  private readonly pool: TraceRecord[] = [];
  private out = 0;
  private outLen = 0;
  private ended = false;
  private lastEvent: QemuRecord | undefined;
  /** Set when QEMU's log ended in the middle of a dump (QEMU killed). */
  truncatedTail = false;

  constructor(readonly path: string) {
    this.chunks = new ChunkReader(path);
    // Killed QEMU runs end mid-dump; the incomplete item is dropped (and reported via truncatedTail).
    this.parser = new QemuLogParser({ allowTruncatedTail: true });
    try {
      const first = this.nextParsed(true);
      if (first === undefined) throw new TraceFormatError(`${path}: QEMU log without any register dump (was it run with -d exec,cpu -singlestep?)`);
      this.held = first as QemuInsnRecord;
      this.writeStart(this.held);
    } catch (err) {
      this.chunks.close();
      throw err;
    }
  }

  private wrap(err: unknown): never {
    if (err instanceof QemuLogError) throw new TraceFormatError(`${this.path}: ${err.message}`);
    throw err;
  }

  /** The next parsed QEMU record; with `dumpsOnly`, events before the first dump are dropped. */
  private nextParsed(dumpsOnly = false): QemuRecord | undefined {
    for (;;) {
      while (this.at < this.parsed.length) {
        const r = this.parsed[this.at++]!;
        if (dumpsOnly && !isInsnRecord(r)) continue;
        return r;
      }
      if (this.parserDone) return undefined;
      this.parsed = [];
      this.at = 0;
      const c = this.chunks;
      try {
        if (c.fill(CHUNK) === 0) {
          const rest = this.decoder.decode();
          if (rest) this.parsed = this.parser.push(rest);
          this.parsed.push(...this.parser.end());
          this.parserDone = true;
          this.truncatedTail = this.parser.truncatedTail;
        } else {
          const text = this.decoder.decode(c.buf.subarray(c.pos, c.end), { stream: true });
          c.pos = c.end;
          this.parsed = this.parser.push(text);
        }
      } catch (err) {
        this.wrap(err);
      }
    }
  }

  private writeStart(d: QemuInsnRecord): void {
    const rec = this.start;
    rec.clear(Rec.Start);
    rec.pcLo = loOf(d.pc);
    rec.pcHi = hiOf(d.pc);
    rec.el = d.el;
    for (let r = 0; r < 31; r++) rec.addReg64(r, loOf(d.x[r]!), hiOf(d.x[r]!));
    rec.addReg64(REG_SP, loOf(d.sp), hiOf(d.sp));
    rec.addReg64(REG_NZCV, d.nzcv, 0);
    rec.addReg64(REG_PSTATE, d.pstate & 0x0fffffff, 0);
    const features: Feature[] = ['pstate', 'psci'];
    if (d.q) {
      features.push('fp');
      rec.addReg64(REG_FPCR, d.fpcr ?? 0, 0);
      rec.addReg64(REG_FPSR, d.fpsr ?? 0, 0);
      for (let v = 0; v < 32; v++) this.addV(rec, v, d.q[v]!);
    }
    rec.meta = { source: 'qemu', features };
  }

  private addV(rec: TraceRecord, v: number, value: bigint): void {
    const at = rec.addReg(REG_V0 + v);
    for (let w = 0; w < 4; w++) rec.regVals[at + w] = Number((value >> BigInt(32 * w)) & 0xffffffffn) | 0;
  }

  /** Registers that differ between two consecutive dumps. */
  private changes(rec: TraceRecord, a: QemuInsnRecord, b: QemuInsnRecord): void {
    for (let r = 0; r < 31; r++) if (a.x[r] !== b.x[r]) rec.addReg64(r, loOf(b.x[r]!), hiOf(b.x[r]!));
    if (a.sp !== b.sp) rec.addReg64(REG_SP, loOf(b.sp), hiOf(b.sp));
    if (a.nzcv !== b.nzcv) rec.addReg64(REG_NZCV, b.nzcv, 0);
    if ((a.pstate & 0x0fffffff) !== (b.pstate & 0x0fffffff)) rec.addReg64(REG_PSTATE, b.pstate & 0x0fffffff, 0);
    if (a.fpcr !== undefined && b.fpcr !== undefined && a.fpcr !== b.fpcr) rec.addReg64(REG_FPCR, b.fpcr, 0);
    if (a.fpsr !== undefined && b.fpsr !== undefined && a.fpsr !== b.fpsr) rec.addReg64(REG_FPSR, b.fpsr, 0);
    if (a.q && b.q) for (let v = 0; v < 32; v++) if (a.q[v] !== b.q[v]) this.addV(rec, v, b.q[v]!);
  }

  private outRecord(kind: Rec): TraceRecord {
    let r = this.pool[this.outLen];
    if (r === undefined) {
      r = new TraceRecord();
      this.pool.push(r);
    }
    r.clear(kind);
    this.outLen++;
    return r;
  }

  /** Builds the records of the held dump, given the dump that follows it (undefined at the end of the log). */
  private flush(next: QemuInsnRecord | undefined): void {
    const d = this.held!;
    this.out = 0;
    this.outLen = 0;
    const insn = this.outRecord(Rec.Insn);
    insn.index = this.index;
    insn.pcLo = loOf(d.pc);
    insn.pcHi = hiOf(d.pc);
    insn.el = d.el;
    if (d.symbol) insn.sym = d.symbol;
    let changesTo: TraceRecord | undefined = next ? insn : undefined;
    for (const e of this.heldEvents) {
      if (isInsnRecord(e)) continue;
      switch (e.event) {
        case 'exception': {
          const r = this.outRecord(Rec.Exception);
          r.index = this.index;
          r.fromEl = e.from_el;
          r.toEl = e.to_el;
          r.esrLo = e.esr | 0;
          r.esrHi = 0;
          if (e.far !== undefined) {
            r.hasFar = true;
            r.farLo = loOf(e.far);
            r.farHi = hiOf(e.far);
          }
          r.elrLo = loOf(e.elr);
          r.elrHi = hiOf(e.elr);
          r.pcLo = loOf(e.pc);
          r.pcHi = hiOf(e.pc);
          // VBAR_ELx is 2 KiB aligned: the vector offset is the target's low 11 bits.
          r.vector = Number(e.pc & 0x7ffn);
          // No from_pc: QEMU does not say whether the instruction before ran (an abort on the next fetch is logged the same way).
          if (next) changesTo = r;
          break;
        }
        case 'eret': {
          const r = this.outRecord(Rec.Eret);
          r.index = this.index;
          r.fromEl = e.from_el;
          r.toEl = e.to_el;
          r.pcLo = loOf(e.pc);
          r.pcHi = hiOf(e.pc);
          if (next) changesTo = r;
          break;
        }
        case 'psci': {
          const r = this.outRecord(Rec.Psci);
          r.index = this.index;
          r.fromEl = e.from_el;
          r.text = e.ec === 0x16 ? 'hvc' : 'smc';
          r.aLo = loOf(d.x[0]!);
          r.aHi = hiOf(d.x[0]!);
          break;
        }
        default:
          break; // semihosting and unknown text say nothing about the state
      }
    }
    if (next && changesTo) this.changes(changesTo, d, next);
    if (!next) insn.afterUnknown = true;
    this.index++;
    this.heldEvents = [];
  }

  next(): TraceRecord | undefined {
    for (;;) {
      if (this.out < this.outLen) return this.pool[this.out++];
      if (this.ended) return undefined;
      if (this.held === undefined) {
        this.out = 0;
        this.outLen = 0;
        const end = this.outRecord(Rec.End);
        this.out = 1;
        end.insns = this.index;
        const last = this.lastEvent;
        end.reason = last && !isInsnRecord(last) && last.event === 'psci' ? 'psci' : this.truncatedTail ? 'log-truncated' : 'log-end';
        this.ended = true;
        return end;
      }
      // Collect the events after the held dump, up to the next dump.
      for (;;) {
        const r = this.nextParsed();
        if (r === undefined) {
          this.flush(undefined);
          this.held = undefined;
          break;
        }
        this.lastEvent = r;
        if (isInsnRecord(r)) {
          this.flush(r);
          this.held = r;
          break;
        }
        this.heldEvents.push(r);
      }
    }
  }

  close(): void {
    this.chunks.close();
  }
}

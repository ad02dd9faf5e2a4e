/**
 * The trace recorder: single-steps the interpreter and turns each retired
 * instruction into an instruction record (PC, EL, encoding, disassembly,
 * symbol+offset, changed X/SP/NZCV/PSTATE/FP-SIMD registers, system
 * registers written, optionally memory accessed) followed by event records
 * (exception entry, eret, TLB maintenance, host-function calls, PSCI calls).
 * Records go to a RecordSink (the JSON-lines or binary writer), which
 * streams them to disk, so a run of any length uses bounded memory.
 *
 * Observation is additive: the recorder wraps cpu.onException and
 * cpu.firmwareCall around each step, sets the memory port's onAccess/onTlbi
 * observers and SystemRegisters.trackWrites, and restores all of them
 * afterwards.
 */
import type { Cpu, StopReason } from '../cpu/cpu.js';
import type { ExceptionEvent } from '../cpu/exceptions.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import { predecoderFor } from '../cpu/exec/registry.js';
import { Op } from '../cpu/ops.js';
import { SP_SLOT } from '../cpu/registers.js';
import { sysregDef, sysregId } from '../cpu/sysregs/system-registers.js';
import { decodeBase, fieldsOf } from '../isa/decode.js';
import { disassemble } from '../isa/disasm.js';
import { Access } from '../mmu/memory-port.js';
import type { Emulator, HostCallEvent } from '../machine/emulator.js';
import { MemoryFault } from '../machine/physical-memory.js';
import {
  REG_FPCR, REG_FPSR, REG_NZCV, REG_PSTATE, REG_SP, REG_V0, Rec, TraceRecord, hiOf, loOf,
  type Feature, type RecordSink, type TraceMeta,
} from './model.js';

const ESR = [0, sysregId('esr_el1'), sysregId('esr_el2')];
const FAR = [0, sysregId('far_el1'), sysregId('far_el2')];
const ELR = [0, sysregId('elr_el1'), sysregId('elr_el2')];

export interface RecorderOptions {
  /** Symbolizer for branch targets in the disassembly: returns e.g. '<main+0x8>'. */
  symbolize?: (addr: bigint) => string | undefined;
  /** Symbol+offset of an address, for the records' `sym` field (e.g. 'init_kernel_el+0x10'); off when absent. */
  pcSymbol?: (addr: bigint) => string | undefined;
  /** Record every data access (address, size, value). Off by default: it slows recording. */
  memory?: boolean;
  /** Disassemble each instruction (default true). */
  asm?: boolean;
  /** Host-function calls of this emulator become host-call events. */
  emulator?: Emulator;
  /** Program, CPU and symbol table for the start record. */
  meta?: Pick<TraceMeta, 'program' | 'cpu' | 'symbols'>;
}

interface DisasmEntry {
  pcHi: number;
  word: number;
  asm: string | undefined;
  sym: string | undefined;
}

export class Recorder {
  private readonly cpu: Cpu;
  private readonly prevX = new Int32Array(64);
  private prevNzcv = 0;
  private prevPstate = 0;
  private readonly prevV = new Int32Array(128);
  private prevFpcr = 0;
  private prevFpsr = 0;
  private index = 0;
  private readonly insn = new TraceRecord();
  private readonly pool: TraceRecord[] = [];
  private events: TraceRecord[] = [];
  /** Exception/eret events of the current step (they take the register changes). */
  private entries = 0;
  private hostName: string | undefined;
  private stepPcLo = 0;
  private stepPcHi = 0;
  private readonly disasmCache = new Map<number, DisasmEntry>();
  private readonly seenSys = new Set<number>();
  private detachHost: (() => void) | undefined;
  private started = false;

  constructor(cpu: Cpu, private readonly sink: RecordSink, private readonly opts: RecorderOptions = {}) {
    this.cpu = cpu;
  }

  get features(): Feature[] {
    const f: Feature[] = ['pstate', 'fp', 'sys', 'psci', 'tlbi'];
    if (this.opts.memory) f.push('mem');
    if (this.opts.emulator) f.push('host');
    return f;
  }

  /** Writes the start record: the full register state and what the trace records. */
  start(): void {
    const cpu = this.cpu;
    const rec = new TraceRecord();
    rec.clear(Rec.Start);
    rec.pcLo = cpu.pcLo;
    rec.pcHi = cpu.pcHi;
    rec.el = cpu.el;
    for (let r = 0; r < 31; r++) rec.addReg64(r, cpu.x[r * 2]!, cpu.x[r * 2 + 1]!);
    rec.addReg64(REG_SP, cpu.x[SP_SLOT * 2]!, cpu.x[SP_SLOT * 2 + 1]!);
    rec.addReg64(REG_NZCV, cpu.nzcv, 0);
    rec.addReg64(REG_PSTATE, this.pstate(), 0);
    rec.addReg64(REG_FPCR, cpu.fpcr, 0);
    rec.addReg64(REG_FPSR, cpu.fpsr, 0);
    for (let v = 0; v < 32; v++) {
      const at = rec.addReg(REG_V0 + v);
      for (let w = 0; w < 4; w++) rec.regVals[at + w] = cpu.v[v * 4 + w]!;
    }
    rec.meta = { source: 'pkvm-lab', features: this.features, ...this.opts.meta };
    this.sink.write(rec);
    this.snapshot();
    if (this.opts.emulator && !this.detachHost) this.detachHost = this.opts.emulator.onHostCall((e) => this.hostCall(e));
    this.started = true;
  }

  /** PSTATE in SPSR layout without NZCV (those are the nzcv register). */
  private pstate(): number {
    return (this.cpu.spsrValue() & 0x0fffffff) | 0;
  }

  private snapshot(): void {
    const cpu = this.cpu;
    this.prevX.set(cpu.x.subarray(0, 62), 0);
    this.prevX[62] = cpu.x[SP_SLOT * 2]!;
    this.prevX[63] = cpu.x[SP_SLOT * 2 + 1]!;
    this.prevNzcv = cpu.nzcv;
    this.prevPstate = this.pstate();
    this.prevV.set(cpu.v);
    this.prevFpcr = cpu.fpcr;
    this.prevFpsr = cpu.fpsr;
  }

  /** Appends the registers changed since the last snapshot to `rec` and takes a new snapshot. */
  private captureChanges(rec: TraceRecord): void {
    const cpu = this.cpu, x = cpu.x, p = this.prevX;
    for (let r = 0; r < 31; r++) {
      const lo = x[r * 2]!, hi = x[r * 2 + 1]!;
      if (lo !== p[r * 2] || hi !== p[r * 2 + 1]) {
        rec.addReg64(r, lo, hi);
        p[r * 2] = lo;
        p[r * 2 + 1] = hi;
      }
    }
    const spLo = x[SP_SLOT * 2]!, spHi = x[SP_SLOT * 2 + 1]!;
    if (spLo !== p[62] || spHi !== p[63]) {
      rec.addReg64(REG_SP, spLo, spHi);
      p[62] = spLo;
      p[63] = spHi;
    }
    const nzcv = cpu.nzcv;
    if (nzcv !== this.prevNzcv) {
      rec.addReg64(REG_NZCV, nzcv, 0);
      this.prevNzcv = nzcv;
    }
    const ps = this.pstate();
    if (ps !== this.prevPstate) {
      rec.addReg64(REG_PSTATE, ps, 0);
      this.prevPstate = ps;
    }
    if (cpu.fpcr !== this.prevFpcr) {
      rec.addReg64(REG_FPCR, cpu.fpcr, 0);
      this.prevFpcr = cpu.fpcr;
    }
    if (cpu.fpsr !== this.prevFpsr) {
      rec.addReg64(REG_FPSR, cpu.fpsr, 0);
      this.prevFpsr = cpu.fpsr;
    }
    const v = cpu.v, pv = this.prevV;
    for (let k = 0; k < 32; k++) {
      const b = k * 4;
      if (v[b] !== pv[b] || v[b + 1] !== pv[b + 1] || v[b + 2] !== pv[b + 2] || v[b + 3] !== pv[b + 3]) {
        const at = rec.addReg(REG_V0 + k);
        for (let w = 0; w < 4; w++) rec.regVals[at + w] = pv[b + w] = v[b + w]!;
      }
    }
  }

  /** System registers written since the last call, each once with its final value. */
  private captureSys(rec: TraceRecord): void {
    const sys = this.cpu.sys;
    const written = sys.written;
    if (written.length === 0) return;
    const seen = this.seenSys;
    seen.clear();
    for (let k = written.length - 1; k >= 0; k--) seen.add(written[k]!);
    for (const id of [...seen].reverse()) rec.addSys(sysregDef(id).name, sys.lo(id), sys.hi(id));
    written.length = 0;
  }

  private eventRecord(kind: Rec): TraceRecord {
    let r = this.pool[this.events.length];
    if (r === undefined) {
      r = new TraceRecord();
      this.pool.push(r);
    }
    r.clear(kind);
    r.index = this.index;
    this.events.push(r);
    return r;
  }

  private onException(e: ExceptionEvent): void {
    const cpu = this.cpu;
    const r = this.eventRecord(e.kind === 'exception' ? Rec.Exception : e.kind === 'eret' ? Rec.Eret : Rec.IllegalEret);
    r.fromEl = e.fromEl;
    r.toEl = e.toEl;
    r.pcLo = cpu.pcLo;
    r.pcHi = cpu.pcHi;
    if (e.kind === 'exception') {
      const t = e.toEl;
      r.esrLo = cpu.sys.lo(ESR[t]!);
      r.esrHi = cpu.sys.hi(ESR[t]!);
      r.hasFar = true;
      r.farLo = cpu.sys.lo(FAR[t]!);
      r.farHi = cpu.sys.hi(FAR[t]!);
      r.elrLo = cpu.sys.lo(ELR[t]!);
      r.elrHi = cpu.sys.hi(ELR[t]!);
      r.vector = e.vector;
      r.hasFromPc = true;
      r.fromPcLo = this.stepPcLo;
      r.fromPcHi = this.stepPcHi;
    }
    // What changed so far (the entry or return itself) belongs to the event.
    this.captureChanges(r);
    this.captureSys(r);
    this.entries++;
  }

  /** Reports a host-function call made during the current step (wired to Emulator.onHostCall). */
  hostCall(e: HostCallEvent): void {
    const r = this.eventRecord(Rec.HostCall);
    r.text = e.name;
    r.aLo = loOf(e.address);
    r.aHi = hiOf(e.address);
    r.args = e.args.slice();
    if (e.result !== undefined) {
      r.hasResult = true;
      r.resultLo = loOf(e.result);
      r.resultHi = hiOf(e.result);
    }
    this.hostName = e.name;
  }

  /** Encoding, disassembly and symbol of the instruction at the PC (cached per address). */
  private describe(rec: TraceRecord): void {
    const cpu = this.cpu;
    const pcLo = cpu.pcLo, pcHi = cpu.pcHi;
    const pa = cpu.port.probe(pcLo, pcHi, Access.Fetch);
    if (pa < 0) return;
    const word = cpu.memory.read32(pa) | 0;
    if (cpu.memory.lastFault !== MemoryFault.None) return;
    rec.hasWord = true;
    rec.word = word;
    let e = this.disasmCache.get(pcLo);
    if (e === undefined || e.pcHi !== pcHi || e.word !== word) {
      const addr = (BigInt(pcHi >>> 0) << 32n) | BigInt(pcLo >>> 0);
      e = {
        pcHi,
        word,
        asm: this.opts.asm === false ? undefined : disassemble(word >>> 0, { address: addr, symbolize: this.opts.symbolize }).text,
        sym: this.opts.pcSymbol?.(addr),
      };
      if (this.disasmCache.size > 1 << 20) this.disasmCache.clear();
      this.disasmCache.set(pcLo, e);
    }
    rec.asm = e.asm;
    rec.sym = e.sym;
  }

  /** Executes one instruction (or takes one exception) and writes its records. Returns the interpreter's stop reason. */
  step(): StopReason {
    if (!this.started) this.start();
    const cpu = this.cpu;
    const port = cpu.port;
    const rec = this.insn;
    rec.clear(Rec.Insn);
    rec.index = this.index;
    rec.pcLo = this.stepPcLo = cpu.pcLo;
    rec.pcHi = this.stepPcHi = cpu.pcHi;
    rec.el = cpu.el;
    this.describe(rec);
    this.events = [];
    this.entries = 0;
    this.hostName = undefined;

    const prevException = cpu.onException;
    const prevFirmware = cpu.firmwareCall;
    const prevTrack = cpu.sys.trackWrites;
    cpu.onException = (e) => {
      this.onException(e);
      prevException?.(e);
    };
    if (prevFirmware) {
      cpu.firmwareCall = (conduit) => {
        const fnLo = cpu.x[0]!, fnHi = cpu.x[1]!, fromEl = cpu.el;
        const handled = prevFirmware(conduit);
        if (handled) {
          const r = this.eventRecord(Rec.Psci);
          r.text = conduit;
          r.fromEl = fromEl;
          r.aLo = fnLo;
          r.aHi = fnHi;
          r.hasResult = true;
          r.resultLo = cpu.x[0]!;
          r.resultHi = cpu.x[1]!;
        }
        return handled;
      };
    }
    port.onTlbi = (op, lo, hi) => {
      const r = this.eventRecord(Rec.Tlbi);
      r.text = op;
      r.aLo = lo;
      r.aHi = hi;
    };
    if (this.opts.memory) {
      port.onAccess = (write, vaLo, vaHi, pa, size, lo, hi) => {
        const slot = rec.addMem(write, size, vaLo, vaHi, pa);
        rec.memVal[slot * 4] = lo;
        rec.memVal[slot * 4 + 1] = hi;
      };
    }
    cpu.sys.trackWrites = true;
    cpu.sys.written.length = 0;
    const retiredBefore = cpu.retired;
    let reason: StopReason;
    try {
      const restore = this.opts.memory ? this.routeThroughPort() : undefined;
      try {
        reason = runInterpreter(cpu, 1);
      } finally {
        restore?.();
      }
    } finally {
      cpu.onException = prevException;
      cpu.firmwareCall = prevFirmware;
      cpu.sys.trackWrites = prevTrack;
      port.onTlbi = undefined;
      port.onAccess = undefined;
    }
    const retired = cpu.retired > retiredBefore;
    const events = this.events;
    if (retired) {
      if (this.hostName !== undefined) {
        // A TypeScript model ran instead of the code at this address.
        rec.hasWord = false;
        rec.asm = undefined;
        rec.host = this.hostName;
      }
      if (this.entries === 0) {
        this.captureChanges(rec);
        this.captureSys(rec);
      } else {
        // Anything changed after the entry/return (nothing, normally) goes with it.
        const last = events.filter((e) => e.kind === Rec.Exception || e.kind === Rec.Eret || e.kind === Rec.IllegalEret).pop()!;
        this.captureChanges(last);
        this.captureSys(last);
      }
      this.sink.write(rec);
    } else if (this.entries > 0) {
      // An exception taken before the instruction ran (e.g. an instruction abort): the event stands alone.
      for (const e of events) e.standalone = true;
    }
    // Otherwise nothing retired (a stop before the instruction): its changes, if any, go with the next record.
    for (const e of events) this.sink.write(e);
    if (retired || this.entries > 0) this.index++;
    return reason;
  }

  /**
   * With memory recording on, the interpreter's inline load/store ops (which
   * access RAM without the port) must not complete inline. For the one step,
   * a FAST load/store slot is turned into a handler slot: same operands, same
   * handler, the path the interpreter itself takes when the inline access
   * cannot complete. The interpreter still runs the step (interrupts, fetch,
   * retirement as usual). Returns the function that restores the slot.
   */
  private routeThroughPort(): (() => void) | undefined {
    const cpu = this.cpu;
    const pcLo = cpu.pcLo, pcHi = cpu.pcHi;
    // Hooked addresses keep their HOOK slot (a hooked load/store's accesses go unrecorded if its shadow completes inline).
    if ((pcLo & 3) !== 0 || (cpu.hooks.count > 0 && cpu.hooks.lookup(pcLo, pcHi) >= 0)) return undefined;
    const pa = cpu.port.probe(pcLo, pcHi, Access.Fetch);
    if (pa < 0) return undefined;
    const page = pa - (pa % 4096);
    const block = cpu.decodeCache.block(page / 4096);
    const i = (pcLo & 0xffc) << 1;
    let op = block[i]!;
    if (op === Op.UNDECODED) {
      const word = cpu.memory.read32(pa);
      if (cpu.memory.lastFault !== MemoryFault.None) return undefined;
      // The interpreter's decode of a slot (src/cpu/interpreter.ts decodeSlot), done ahead of it.
      block[i + 1] = word;
      const def = decodeBase(word);
      const p = def ? predecoderFor(def.exec) : undefined;
      if (!def || !p || !p(cpu, fieldsOf(def, word), def, block, i)) block[i] = Op.UNDEFINED;
      cpu.memory.markCodePage(page);
      op = block[i]!;
    }
    if (op < Op.LDR_X_IMM || op > Op.STP) return undefined;
    block[i] = Op.HANDLER;
    // A store into this page may drop the block; restoring into a dropped block is harmless.
    return () => {
      if (block[i] === Op.HANDLER) block[i] = op;
    };
  }

  /** Writes the end record and detaches from the emulator. Does not close the sink. */
  end(reason: string, insns: number): void {
    const rec = new TraceRecord();
    rec.clear(Rec.End);
    rec.reason = reason;
    rec.insns = insns;
    this.sink.write(rec);
    this.detachHost?.();
    this.detachHost = undefined;
  }
}

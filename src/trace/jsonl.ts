/**
 * The JSON-lines trace format (documented in the README): one JSON object per
 * line, readable by jq and friends. The issue-3 recorder's fields keep their
 * names and meaning; everything added since is optional.
 */
import {
  ALL_FEATURES, EVENT_NAMES, MEM_SIZE, MEM_WRITE, REG_NAMES, REG_NZCV, REG_PSTATE, REG_V0, REG_WORDS, Rec, TraceFormatError,
  TraceRecord, hex128, hex64, parseHexWords, regWords, toBig,
  type Feature, type RecordSink, type RecordSource, type TraceMeta,
} from './model.js';
import { ChunkWriter, LineReader } from './files.js';

// ---- writing -------------------------------------------------------------------

function regValue(rec: TraceRecord, k: number): string {
  const id = rec.regIds[k]!;
  const at = k * REG_WORDS;
  if (id >= REG_V0) return hex128(rec.regVals, at);
  // NZCV keeps the issue-3 spelling: the 4-bit value.
  return hex64(rec.regVals[at]!, rec.regVals[at + 1]!);
}

function regsObject(rec: TraceRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (let k = 0; k < rec.nRegs; k++) out[REG_NAMES[rec.regIds[k]!]!] = regValue(rec, k);
  return out;
}

function sysObject(rec: TraceRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (let k = 0; k < rec.nSys; k++) out[rec.sysNames[k]!] = hex64(rec.sysVals[k * 2]!, rec.sysVals[k * 2 + 1]!);
  return out;
}

function memArray(rec: TraceRecord): unknown[] {
  const out: unknown[] = [];
  for (let k = 0; k < rec.nMem; k++) {
    const f = rec.memFlags[k]!;
    const size = f & MEM_SIZE;
    const vaLo = rec.memVa[k * 2]!, vaHi = rec.memVa[k * 2 + 1]!;
    const m: Record<string, unknown> = { rw: (f & MEM_WRITE) !== 0 ? 'w' : 'r', addr: hex64(vaLo, vaHi), size };
    const pa = rec.memPa[k]!;
    if (pa >= 0 && pa !== (vaHi >>> 0) * 4294967296 + (vaLo >>> 0)) m['pa'] = `0x${pa.toString(16)}`;
    m['value'] = size > 8 ? hex128(rec.memVal, k * 4) : hex64(rec.memVal[k * 4]!, rec.memVal[k * 4 + 1]!);
    out.push(m);
  }
  return out;
}

/** The JSON object for one record. */
export function recordToJson(rec: TraceRecord): Record<string, unknown> {
  const pc = hex64(rec.pcLo, rec.pcHi);
  switch (rec.kind) {
    case Rec.Start: {
      const regs: Record<string, string> = {};
      const fpregs: Record<string, string> = {};
      let pstate: string | undefined;
      for (let k = 0; k < rec.nRegs; k++) {
        const id = rec.regIds[k]!;
        // The issue-3 start record has exactly x0..x30, sp, nzcv in regs; the rest lives beside it.
        if (id <= REG_NZCV) regs[REG_NAMES[id]!] = regValue(rec, k);
        else if (id === REG_PSTATE) pstate = regValue(rec, k);
        else fpregs[REG_NAMES[id]!] = regValue(rec, k);
      }
      const o: Record<string, unknown> = { event: 'start', pc, el: rec.el, regs };
      if (pstate !== undefined) o['pstate'] = pstate;
      if (Object.keys(fpregs).length) o['fpregs'] = fpregs;
      const m = rec.meta;
      o['source'] = m.source;
      o['features'] = m.features;
      if (m.program) o['program'] = m.program;
      if (m.cpu) o['cpu'] = m.cpu;
      if (m.symbols) o['symbols'] = m.symbols;
      return o;
    }
    case Rec.Insn: {
      const o: Record<string, unknown> = { i: rec.index, pc, el: rec.el };
      if (rec.hasWord) o['insn'] = `0x${(rec.word >>> 0).toString(16).padStart(8, '0')}`;
      if (rec.asm !== undefined) o['asm'] = rec.asm;
      if (rec.sym !== undefined) o['sym'] = rec.sym;
      if (rec.host !== undefined) o['host'] = rec.host;
      o['regs'] = regsObject(rec);
      if (rec.nSys) o['sys'] = sysObject(rec);
      if (rec.nMem) o['mem'] = memArray(rec);
      if (rec.afterUnknown) o['after_unknown'] = true;
      return o;
    }
    case Rec.Exception: {
      const o: Record<string, unknown> = { event: 'exception', i: rec.index, from_el: rec.fromEl, to_el: rec.toEl, esr: hex64(rec.esrLo, rec.esrHi) };
      if (rec.hasFar) o['far'] = hex64(rec.farLo, rec.farHi);
      o['elr'] = hex64(rec.elrLo, rec.elrHi);
      o['pc'] = pc;
      o['ec'] = `0x${(rec.esrLo >>> 26).toString(16)}`;
      if (rec.vector >= 0) o['vector'] = `0x${rec.vector.toString(16)}`;
      if (rec.hasFromPc) o['from_pc'] = hex64(rec.fromPcLo, rec.fromPcHi);
      if (rec.standalone) o['standalone'] = true;
      o['regs'] = regsObject(rec);
      if (rec.nSys) o['sys'] = sysObject(rec);
      return o;
    }
    case Rec.Eret:
    case Rec.IllegalEret: {
      const o: Record<string, unknown> = { event: EVENT_NAMES[rec.kind], i: rec.index, from_el: rec.fromEl, to_el: rec.toEl, pc };
      if (rec.standalone) o['standalone'] = true;
      o['regs'] = regsObject(rec);
      if (rec.nSys) o['sys'] = sysObject(rec);
      return o;
    }
    case Rec.Tlbi:
      return { event: 'tlbi', i: rec.index, op: rec.text, xt: hex64(rec.aLo, rec.aHi) };
    case Rec.HostCall: {
      const o: Record<string, unknown> = { event: 'host-call', i: rec.index, name: rec.text, addr: hex64(rec.aLo, rec.aHi), args: rec.args.map((a) => `0x${a.toString(16)}`) };
      if (rec.hasResult) o['result'] = hex64(rec.resultLo, rec.resultHi);
      return o;
    }
    case Rec.Psci: {
      const o: Record<string, unknown> = { event: 'psci', i: rec.index, from_el: rec.fromEl, conduit: rec.text, fn: hex64(rec.aLo, rec.aHi) };
      if (rec.hasResult) o['result'] = hex64(rec.resultLo, rec.resultHi);
      return o;
    }
    case Rec.Skip:
      return { event: 'skip', i: rec.index, count: rec.skipped, el: rec.el, regs: regsObject(rec) };
    case Rec.End:
      return { event: 'end', reason: rec.reason, insns: rec.insns };
  }
}

export class JsonlWriter implements RecordSink {
  constructor(private readonly out: ChunkWriter | ((line: string) => void)) {}

  static open(path: string): JsonlWriter {
    return new JsonlWriter(ChunkWriter.open(path));
  }

  write(rec: TraceRecord): void {
    const line = JSON.stringify(recordToJson(rec));
    if (typeof this.out === 'function') this.out(line);
    else this.out.text(line + '\n');
  }

  close(): void {
    if (typeof this.out !== 'function') this.out.close();
  }
}

// ---- reading -------------------------------------------------------------------

type Json = Record<string, unknown>;

/** Converts parsed JSON objects to records; `where` prefixes error messages. */
export class JsonRecordDecoder {
  readonly rec = new TraceRecord();
  where = '';

  private fail(msg: string): never {
    throw new TraceFormatError(`${this.where}${msg}`);
  }

  private int(o: Json, key: string, min: number, max: number): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`'${key}' must be an integer from ${min} to ${max}`);
    return v;
  }

  private hex(o: Json, key: string, out: Int32Array, at: number, words = 2): void {
    if (!parseHexWords(o[key], out, at, words)) this.fail(`'${key}' must be a hex string like "0x1f"`);
  }

  private readonly tmp = new Int32Array(4);

  private hexPair(o: Json, key: string): [number, number] {
    this.hex(o, key, this.tmp, 0);
    return [this.tmp[0]!, this.tmp[1]!];
  }

  private regs(o: unknown, what: string): void {
    if (o === undefined) return;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.fail(`'${what}' must be an object of register values`);
    const rec = this.rec;
    for (const [name, value] of Object.entries(o as Json)) {
      const id = REG_INDEX.get(name);
      if (id === undefined) this.fail(`unknown register '${name}' in '${what}'`);
      const at = rec.addReg(id);
      if (!parseHexWords(value, rec.regVals, at, regWords(id))) this.fail(`register ${name}: '${String(value)}' is not a hex value that fits`);
    }
  }

  private sys(o: unknown): void {
    if (o === undefined) return;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.fail(`'sys' must be an object of register values`);
    for (const [name, value] of Object.entries(o as Json)) {
      if (!parseHexWords(value, this.tmp, 0, 2)) this.fail(`system register ${name}: '${String(value)}' is not a 64-bit hex value`);
      this.rec.addSys(name, this.tmp[0]!, this.tmp[1]!);
    }
  }

  private mem(o: unknown): void {
    if (o === undefined) return;
    if (!Array.isArray(o)) this.fail(`'mem' must be an array`);
    for (const m of o as Json[]) {
      if (typeof m !== 'object' || m === null) this.fail('memory access must be an object');
      const rw = m['rw'];
      if (rw !== 'r' && rw !== 'w') this.fail(`memory access 'rw' must be "r" or "w"`);
      const size = this.int(m, 'size', 1, 16);
      const [vaLo, vaHi] = this.hexPair(m, 'addr');
      let pa = (vaHi >>> 0) * 4294967296 + (vaLo >>> 0);
      if (m['pa'] !== undefined) {
        const [pl, ph] = this.hexPair(m, 'pa');
        pa = (ph >>> 0) * 4294967296 + (pl >>> 0);
      }
      const slot = this.rec.addMem(rw === 'w', size, vaLo, vaHi, pa);
      this.hex(m, 'value', this.rec.memVal, slot * 4, 4);
    }
  }

  private index(o: Json): void {
    this.rec.index = this.int(o, 'i', 0, Number.MAX_SAFE_INTEGER);
    this.rec.standalone = o['standalone'] === true;
  }

  private pc(o: Json, key = 'pc'): void {
    const [lo, hi] = this.hexPair(o, key);
    this.rec.pcLo = lo;
    this.rec.pcHi = hi;
  }

  decode(o: unknown): TraceRecord {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.fail('not a trace record (expected a JSON object)');
    const j = o as Json;
    const rec = this.rec;
    const ev = j['event'];
    if (ev === undefined) {
      rec.clear(Rec.Insn);
      this.index(j);
      this.pc(j);
      rec.el = this.int(j, 'el', 0, 3);
      if (j['insn'] !== undefined) {
        this.hex(j, 'insn', this.tmp, 0, 1);
        rec.hasWord = true;
        rec.word = this.tmp[0]!;
      }
      if (typeof j['asm'] === 'string') rec.asm = j['asm'];
      if (typeof j['sym'] === 'string') rec.sym = j['sym'];
      if (typeof j['host'] === 'string') rec.host = j['host'];
      if (j['regs'] === undefined) this.fail(`instruction record without 'regs'`);
      this.regs(j['regs'], 'regs');
      this.sys(j['sys']);
      this.mem(j['mem']);
      rec.afterUnknown = j['after_unknown'] === true;
      return rec;
    }
    switch (ev) {
      case 'start': {
        rec.clear(Rec.Start);
        this.pc(j);
        rec.el = this.int(j, 'el', 0, 3);
        if (j['regs'] === undefined) this.fail(`start record without 'regs'`);
        this.regs(j['regs'], 'regs');
        if (j['pstate'] !== undefined) {
          const at = rec.addReg(REG_PSTATE);
          this.hex(j, 'pstate', rec.regVals, at);
        }
        this.regs(j['fpregs'], 'fpregs');
        const source = j['source'] ?? 'pkvm-lab';
        if (source !== 'pkvm-lab' && source !== 'qemu') this.fail(`unknown trace source '${String(source)}'`);
        const features = Array.isArray(j['features']) ? (j['features'] as unknown[]).filter((f): f is Feature => ALL_FEATURES.includes(f as Feature)) : [];
        const meta: TraceMeta = { source, features };
        if (typeof j['program'] === 'object' && j['program'] !== null) meta.program = j['program'] as TraceMeta['program'];
        if (typeof j['cpu'] === 'string') meta.cpu = j['cpu'];
        if (typeof j['symbols'] === 'object' && j['symbols'] !== null) meta.symbols = j['symbols'] as Record<string, string>;
        rec.meta = meta;
        return rec;
      }
      case 'exception': {
        rec.clear(Rec.Exception);
        this.index(j);
        rec.fromEl = this.int(j, 'from_el', 0, 3);
        rec.toEl = this.int(j, 'to_el', 0, 3);
        [rec.esrLo, rec.esrHi] = this.hexPair(j, 'esr');
        if (j['far'] !== undefined) {
          [rec.farLo, rec.farHi] = this.hexPair(j, 'far');
          rec.hasFar = true;
        }
        [rec.elrLo, rec.elrHi] = this.hexPair(j, 'elr');
        this.pc(j);
        if (j['vector'] !== undefined) rec.vector = this.hexPair(j, 'vector')[0];
        if (j['from_pc'] !== undefined) {
          [rec.fromPcLo, rec.fromPcHi] = this.hexPair(j, 'from_pc');
          rec.hasFromPc = true;
        }
        this.regs(j['regs'], 'regs');
        this.sys(j['sys']);
        return rec;
      }
      case 'eret':
      case 'illegal-eret':
        rec.clear(ev === 'eret' ? Rec.Eret : Rec.IllegalEret);
        this.index(j);
        rec.fromEl = this.int(j, 'from_el', 0, 3);
        rec.toEl = this.int(j, 'to_el', 0, 3);
        this.pc(j);
        this.regs(j['regs'], 'regs');
        this.sys(j['sys']);
        return rec;
      case 'tlbi':
        rec.clear(Rec.Tlbi);
        this.index(j);
        if (typeof j['op'] !== 'string') this.fail(`tlbi record without 'op'`);
        rec.text = j['op'];
        [rec.aLo, rec.aHi] = this.hexPair(j, 'xt');
        return rec;
      case 'host-call': {
        rec.clear(Rec.HostCall);
        this.index(j);
        if (typeof j['name'] !== 'string') this.fail(`host-call record without 'name'`);
        rec.text = j['name'];
        [rec.aLo, rec.aHi] = this.hexPair(j, 'addr');
        const args = j['args'];
        if (!Array.isArray(args)) this.fail(`host-call record without 'args'`);
        rec.args = args.map((a) => {
          if (!parseHexWords(a, this.tmp, 0, 2)) this.fail(`host-call argument '${String(a)}' is not a 64-bit hex value`);
          return toBig(this.tmp[0]!, this.tmp[1]!);
        });
        if (j['result'] !== undefined) {
          [rec.resultLo, rec.resultHi] = this.hexPair(j, 'result');
          rec.hasResult = true;
        }
        return rec;
      }
      case 'psci':
        rec.clear(Rec.Psci);
        this.index(j);
        rec.fromEl = j['from_el'] === undefined ? 0 : this.int(j, 'from_el', 0, 3);
        rec.text = typeof j['conduit'] === 'string' ? j['conduit'] : 'smc';
        [rec.aLo, rec.aHi] = this.hexPair(j, 'fn');
        if (j['result'] !== undefined) {
          [rec.resultLo, rec.resultHi] = this.hexPair(j, 'result');
          rec.hasResult = true;
        }
        return rec;
      case 'skip':
        rec.clear(Rec.Skip);
        this.index(j);
        rec.skipped = this.int(j, 'count', 0, Number.MAX_SAFE_INTEGER);
        rec.el = this.int(j, 'el', 0, 3);
        this.regs(j['regs'], 'regs');
        return rec;
      case 'end':
        rec.clear(Rec.End);
        rec.reason = typeof j['reason'] === 'string' ? j['reason'] : '';
        rec.insns = this.int(j, 'insns', 0, Number.MAX_SAFE_INTEGER);
        return rec;
      default:
        this.fail(`unknown event '${String(ev)}'`);
    }
  }
}

const REG_INDEX = new Map<string, number>(REG_NAMES.map((n, i) => [n, i]));

export class JsonlReader implements RecordSource {
  readonly formatName = 'JSON-lines trace';
  readonly start: TraceRecord;
  private readonly lines: LineReader;
  private readonly decoder = new JsonRecordDecoder();
  private ended = false;

  constructor(readonly path: string) {
    this.lines = new LineReader(path);
    try {
      const first = this.nextObject();
      if (first === undefined) throw new TraceFormatError(`${path}: empty trace`);
      const rec = this.decoder.decode(first);
      if (rec.kind !== Rec.Start) throw new TraceFormatError(`${path}: line ${this.lines.lineNo}: the first record must be the start record ({"event":"start",…})`);
      this.start = new TraceRecord();
      this.start.copyFrom(rec);
    } catch (err) {
      this.lines.close();
      throw err;
    }
  }

  private nextObject(): unknown {
    for (;;) {
      let line: string | undefined;
      try {
        line = this.lines.next();
      } catch (err) {
        throw new TraceFormatError(`${this.path}: ${(err as Error).message}`);
      }
      if (line === undefined) return undefined;
      if (line.trim() === '') continue;
      this.decoder.where = `${this.path}: line ${this.lines.lineNo}: `;
      try {
        return JSON.parse(line);
      } catch {
        const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
        throw new TraceFormatError(`${this.path}: line ${this.lines.lineNo}: not valid JSON (truncated file?): ${JSON.stringify(shown)}`);
      }
    }
  }

  next(): TraceRecord | undefined {
    if (this.ended) return undefined;
    const o = this.nextObject();
    if (o === undefined) {
      this.ended = true;
      return undefined;
    }
    const rec = this.decoder.decode(o);
    if (rec.kind === Rec.Start) throw new TraceFormatError(`${this.path}: line ${this.lines.lineNo}: a second start record (two traces concatenated?)`);
    if (rec.kind === Rec.End) this.ended = true;
    return rec;
  }

  close(): void {
    this.lines.close();
  }
}

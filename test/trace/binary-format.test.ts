/**
 * The binary trace format: round trips of every record kind (random and
 * edge-case values), equivalence with JSON lines, streaming of a long
 * trace, and clear errors for truncated, corrupted and foreign files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryReader, BinaryWriter, BINARY_MAGIC } from '../../src/trace/binary.js';
import { ChunkWriter } from '../../src/trace/files.js';
import { JsonlReader, JsonlWriter, recordToJson } from '../../src/trace/jsonl.js';
import {
  REG_COUNT, REG_FPCR, REG_NZCV, REG_PSTATE, REG_SP, REG_V0, Rec, TraceFormatError, TraceRecord, type RecordSink, type RecordSource,
} from '../../src/trace/model.js';
import { openTrace } from '../../src/trace/open.js';
import { tempDir } from './trace-support.js';

const { dir, cleanup } = tempDir('trace-bin-');
afterAll(() => { if (!process.env.KEEP) cleanup(); });

/** A deterministic xorshift generator, so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  return {
    u32: next,
    int: (n: number) => next() % n,
    word: () => {
      // Mostly small or "address-like" values, sometimes extremes: what register traffic looks like.
      switch (next() % 6) {
        case 0: return 0;
        case 1: return next() & 0xff;
        case 2: return -1;
        case 3: return 0x40080000 + (next() & 0xfff0);
        default: return next() | 0;
      }
    },
  };
}

/** Random records of every kind, as a consistent trace (start, steps with events, gaps, end). */
function randomTrace(seed: number, steps: number): TraceRecord[] {
  const r = rng(seed);
  const out: TraceRecord[] = [];
  const start = new TraceRecord();
  start.clear(Rec.Start);
  start.pcLo = 0x40080000;
  start.el = 2;
  for (let id = 0; id < REG_COUNT; id++) {
    const at = start.addReg(id);
    for (let w = 0; w < (id >= REG_V0 ? 4 : 2); w++) start.regVals[at + w] = r.word();
  }
  start.meta = { source: 'pkvm-lab', features: ['pstate', 'fp', 'sys', 'mem', 'psci', 'tlbi', 'host'], program: { name: 'x', sha256: 'ab' }, cpu: 'cortex-a57', symbols: { _start: '0x40080000' } };
  out.push(start);
  let index = 0;
  let pc = 0x40080000;
  for (let k = 0; k < steps; k++) {
    const kind = r.int(40);
    if (kind === 0) {
      const s = new TraceRecord();
      s.clear(Rec.Skip);
      s.index = index;
      s.skipped = 1 + r.int(100);
      s.el = r.int(3);
      s.addReg64(r.int(31), r.word(), r.word());
      out.push(s);
      index += s.skipped;
      pc = 0x40090000 + 4 * r.int(100);
      continue;
    }
    const insn = new TraceRecord();
    insn.clear(Rec.Insn);
    insn.index = index;
    pc = r.int(8) === 0 ? (r.u32() & ~3) | 0 : (pc + 4) | 0;
    insn.pcLo = pc;
    insn.pcHi = r.int(20) === 0 ? r.word() : 0;
    insn.el = r.int(10) === 0 ? r.int(4) : 2;
    if (r.int(5)) {
      insn.hasWord = true;
      insn.word = r.u32() | 0;
      insn.asm = `insn ${r.int(50)}`;
      if (r.int(2)) insn.sym = `sym+0x${r.int(64).toString(16)}`;
    }
    if (r.int(30) === 0) insn.host = 'kvm_hyp_reserve';
    const nregs = r.int(4);
    const used = new Set<number>();
    for (let j = 0; j < nregs; j++) {
      const id = r.int(4) === 0 ? REG_V0 + r.int(32) : [r.int(31), REG_SP, REG_NZCV, REG_PSTATE, REG_FPCR][r.int(5)]!;
      // JSON objects hold one value per register name
      if (used.has(id)) continue;
      used.add(id);
      const at = insn.addReg(id);
      for (let w = 0; w < (id >= REG_V0 ? 4 : 2); w++) insn.regVals[at + w] = r.word();
    }
    if (r.int(6) === 0) insn.addSys(['sctlr_el2', 'hcr_el2', 'vbar_el2'][r.int(3)]!, r.word(), r.word());
    if (r.int(4) === 0) {
      const n = 1 + r.int(3);
      for (let j = 0; j < n; j++) {
        const size = [1, 2, 4, 8, 16][r.int(5)]!;
        const va = 0x40100000 + r.int(0x10000);
        const pa = [va, 0x80000000 + r.int(0x1000)][r.int(2)]!;
        const s = insn.addMem(r.int(2) === 0, size, va, 0, pa);
        // only the bytes of the access are meaningful
        for (let b = 0; b < size; b++) insn.memVal[s * 4 + (b >> 2)]! |= (r.u32() & 0xff) << ((b & 3) * 8);
      }
    }
    if (r.int(25) === 0) insn.afterUnknown = true;
    const standalone = r.int(30) === 0;
    if (!standalone) out.push(insn);
    const nev = standalone ? 1 : r.int(12) === 0 ? 1 + r.int(3) : 0;
    for (let j = 0; j < nev; j++) {
      const e = new TraceRecord();
      const ek = standalone ? Rec.Exception : [Rec.Exception, Rec.Eret, Rec.IllegalEret, Rec.Tlbi, Rec.HostCall, Rec.Psci][r.int(6)]!;
      e.clear(ek);
      e.index = index;
      e.standalone = standalone && j === 0;
      switch (ek) {
        case Rec.Exception:
          e.fromEl = r.int(3); e.toEl = 1 + r.int(2);
          e.esrLo = r.u32() | 0;
          if (r.int(2)) { e.hasFar = true; e.farLo = r.word(); e.farHi = r.word(); }
          e.elrLo = r.word(); e.elrHi = r.word();
          e.pcLo = 0x40081200; e.pcHi = 0;
          if (r.int(2)) e.vector = 0x200;
          if (r.int(2)) { e.hasFromPc = true; e.fromPcLo = pc; e.fromPcHi = 0; }
          e.addReg64(REG_PSTATE, 0x3c5, 0);
          if (r.int(2)) e.addSys('esr_el2', e.esrLo, 0);
          break;
        case Rec.Eret: case Rec.IllegalEret:
          e.fromEl = 2; e.toEl = r.int(3);
          e.pcLo = r.word(); e.pcHi = 0;
          e.addReg64(REG_NZCV, r.int(16), 0);
          break;
        case Rec.Tlbi:
          e.text = ['vmalle1is', 'alle2', 'vae2is'][r.int(3)]!;
          e.aLo = r.word(); e.aHi = r.word();
          break;
        case Rec.HostCall:
          e.text = 'hyp_alloc';
          e.aLo = 0x40085000;
          e.args = [0n, 0xffffffffffffffffn, BigInt(r.u32()), 1n << 63n, 5n, 6n, 7n, 8n];
          if (r.int(2)) { e.hasResult = true; e.resultLo = r.word(); e.resultHi = r.word(); }
          break;
        case Rec.Psci:
          e.text = r.int(2) ? 'smc' : 'hvc';
          e.fromEl = r.int(3);
          e.aLo = 0x84000008 | 0;
          if (r.int(2)) { e.hasResult = true; e.resultLo = -1; e.resultHi = -1; }
          break;
        default: break;
      }
      out.push(e);
    }
    index++;
  }
  const end = new TraceRecord();
  end.clear(Rec.End);
  end.reason = 'psci-off';
  end.insns = index;
  out.push(end);
  return out;
}

function writeAll(sink: RecordSink, recs: TraceRecord[]): void {
  for (const r of recs) sink.write(r);
  sink.close();
}

function readAll(src: RecordSource): Record<string, unknown>[] {
  const out = [recordToJson(src.start)];
  for (let r = src.next(); r; r = src.next()) out.push(recordToJson(r));
  src.close();
  return out;
}

describe('binary trace format', () => {
  it('round-trips every record kind with random and extreme values', () => {
    for (const seed of [1, 2, 3, 0xdeadbeef]) {
      const recs = randomTrace(seed, 3000);
      const path = join(dir, `r${seed}.bin`);
      writeAll(BinaryWriter.open(path), recs);
      const back = readAll(new BinaryReader(path));
      expect(back).toEqual(recs.map(recordToJson));
    }
  });

  it('holds the same records as the JSON-lines format, and converting back gives the same bytes', () => {
    const recs = randomTrace(7, 2000);
    const bin = join(dir, 'same.bin'), jsonl = join(dir, 'same.jsonl'), bin2 = join(dir, 'same2.bin');
    writeAll(BinaryWriter.open(bin), recs);
    writeAll(JsonlWriter.open(jsonl), recs);
    expect(readAll(new JsonlReader(jsonl))).toEqual(readAll(new BinaryReader(bin)));
    // JSON lines back to binary: byte-identical to the direct binary write.
    const src = new JsonlReader(jsonl);
    const w = BinaryWriter.open(bin2);
    w.write(src.start);
    for (let r = src.next(); r; r = src.next()) w.write(r);
    w.close();
    src.close();
    expect(readFileSync(bin2).equals(readFileSync(bin))).toBe(true);
    // and it is much smaller
    expect(statSync(bin).size * 3).toBeLessThan(statSync(jsonl).size);
  });

  it('streams a long trace through fixed-size buffers', () => {
    const path = join(dir, 'long.bin');
    const w = new BinaryWriter(ChunkWriter.open(path));
    const rec = new TraceRecord();
    rec.clear(Rec.Start);
    rec.pcLo = 0x40080000;
    rec.el = 2;
    for (let id = 0; id < 33; id++) rec.addReg64(id, 0, 0);
    w.write(rec);
    const N = 400_000;
    for (let i = 0; i < N; i++) {
      rec.clear(Rec.Insn);
      rec.index = i;
      rec.pcLo = 0x40080000 + (i % 16) * 4;
      rec.el = 2;
      rec.hasWord = true;
      rec.word = 0x91000400;
      rec.asm = 'add\tx0, x0, #0x1';
      rec.addReg64(0, i + 1, 0);
      w.write(rec);
    }
    rec.clear(Rec.End);
    rec.insns = N;
    rec.reason = 'budget';
    w.write(rec);
    w.close();
    // ~6 bytes per instruction: implicit index, encoding/disassembly as at the last visit of the PC, a one-byte delta.
    expect(statSync(path).size).toBeLessThan(N * 8);
    const r = new BinaryReader(path);
    let n = 0, last = 0;
    for (let x = r.next(); x && x.kind === Rec.Insn; x = r.next()) {
      expect(x.index).toBe(n);
      last = x.regVals[0]!;
      n++;
    }
    r.close();
    expect(n).toBe(N);
    expect(last).toBe(N);
  });

  it('reports a file cut anywhere as truncated (or as ending without an end record), never anything else', () => {
    const recs = randomTrace(11, 60);
    const path = join(dir, 'cut-src.bin');
    writeAll(BinaryWriter.open(path), recs);
    const bytes = readFileSync(path);
    const cut = join(dir, 'cut.bin');
    for (let len = 1; len < bytes.length; len++) {
      writeFileSync(cut, bytes.subarray(0, len));
      let outcome = '';
      try {
        const src = openTrace(cut);
        while (src.next()) { /* read on */ }
        outcome = (src as BinaryReader).missingEnd ? 'no end' : 'complete';
        src.close();
      } catch (err) {
        expect(err).toBeInstanceOf(TraceFormatError);
        expect((err as Error).message).toMatch(/truncated|cut|header|magic|first record|not a trace/);
        outcome = 'error';
      }
      expect(outcome).not.toBe('complete');
    }
  });

  it('rejects foreign and corrupted files with clear messages', () => {
    const write = (name: string, data: Uint8Array | string) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    };
    const msg = (p: string) => {
      try {
        const s = openTrace(p);
        while (s.next()) { /* read on */ }
        s.close();
        return 'ok';
      } catch (err) {
        expect(err).toBeInstanceOf(TraceFormatError);
        return (err as Error).message;
      }
    };
    expect(msg(write('empty', ''))).toMatch(/empty file/);
    expect(msg(write('random', Uint8Array.from({ length: 500 }, (_, k) => (k * 7919 + 13) & 0xff)))).toMatch(/not a trace/);
    expect(msg(write('elf', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])))).toMatch(/ELF file, not a trace/);
    expect(msg(write('text', 'hello world\nthis is not a trace\n'))).toMatch(/not a trace.*"hello world"/);
    const v2 = new Uint8Array(16);
    v2.set(BINARY_MAGIC);
    v2[8] = 2;
    expect(msg(write('v2', v2))).toMatch(/version 2 is not supported/);
    // A valid file with a flipped byte inside a record.
    const recs = randomTrace(5, 50);
    const good = join(dir, 'good.bin');
    writeAll(BinaryWriter.open(good), recs);
    const bytes = readFileSync(good);
    let errors = 0;
    for (let k = 13; k < bytes.length; k += 7) {
      const bad = Uint8Array.from(bytes);
      bad[k] = bad[k]! ^ 0xff;
      const m = msg(write('flip', bad));
      if (m !== 'ok') {
        expect(m).toMatch(/^.*flip: /);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
    // JSON lines: garbage in the middle, a cut line, a second start.
    const lines = readFileSync(join(dir, 'same.jsonl'), 'utf8').split('\n');
    expect(msg(write('badline.jsonl', [...lines.slice(0, 5), '{"i":1,', ...lines.slice(5)].join('\n')))).toMatch(/line 6: not valid JSON/);
    expect(msg(write('badreg.jsonl', [lines[0], '{"i":0,"pc":"0x40080000","el":2,"regs":{"x99":"0x1"}}'].join('\n')))).toMatch(/line 2: unknown register 'x99'/);
    expect(msg(write('badval.jsonl', [lines[0], '{"i":0,"pc":"0x40080000","el":2,"regs":{"x1":"12"}}'].join('\n')))).toMatch(/register x1: '12' is not a hex value/);
    expect(msg(write('nostart.jsonl', lines.slice(1, 4).join('\n')))).toMatch(/line 1: the first record must be the start record/);
    expect(msg(write('twostarts.jsonl', [lines[0], lines[0]].join('\n')))).toMatch(/second start record/);
  });
});

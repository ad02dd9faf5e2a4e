/**
 * Trace throughput: `trace diff` on generated traces (binary vs binary, the
 * format for long runs, must compare at least 1 M instructions/s; JSON lines
 * and an imported QEMU log for comparison), beside the rate of merely reading
 * the same binary trace in the same run, plus the recorder's own rate on a
 * real program.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryReader, BinaryWriter } from '../src/trace/binary.js';
import { ChunkWriter } from '../src/trace/files.js';
import { JsonlWriter } from '../src/trace/jsonl.js';
import { diffTraces } from '../src/trace/diff.js';
import { REG_NZCV, REG_PSTATE, REG_SP, Rec, TraceRecord, type RecordSink } from '../src/trace/model.js';
import { Recorder } from '../src/trace/recorder.js';
import { Emulator } from '../src/machine/emulator.js';
import { assemble } from '../src/asm/assembler.js';
import { linkFlat } from '../src/asm/link-flat.js';

const BASE = 0x40080000;

/**
 * A plausible run: an 8-instruction loop body changing one or two registers
 * per instruction (counters, an address walking memory, flags), and every
 * 5,000 instructions an exception entry, a 4-instruction handler and an eret.
 */
export function generateTrace(sink: RecordSink, n: number): void {
  const rec = new TraceRecord();
  rec.clear(Rec.Start);
  rec.pcLo = BASE;
  rec.el = 2;
  for (let r = 0; r < 31; r++) rec.addReg64(r, 0, 0);
  rec.addReg64(REG_SP, 0x40100000, 0);
  rec.addReg64(REG_NZCV, 4, 0);
  rec.addReg64(REG_PSTATE, 0x3c9, 0);
  rec.meta = { source: 'pkvm-lab', features: ['pstate', 'sys', 'psci', 'tlbi'] };
  sink.write(rec);
  const asm = ['add\tx0, x0, #0x1', 'ldr\tx1, [x2], #8', 'eor\tx3, x3, x1', 'subs\tx4, x4, #0x1', 'add\tx5, x5, x3', 'mov\tx6, x0', 'cmp\tx0, x7', 'b.ne\t40080000'];
  const x = new Float64Array(8);
  let i = 0;
  let addr = 0x40200000;
  while (i < n) {
    for (let k = 0; k < 8 && i < n; k++, i++) {
      rec.clear(Rec.Insn);
      rec.index = i;
      rec.pcLo = BASE + k * 4;
      rec.el = 2;
      rec.hasWord = true;
      rec.word = 0x91000400 + k;
      rec.asm = asm[k];
      switch (k) {
        case 0: x[0]! += 1; rec.addReg64(0, x[0]!, 0); break;
        case 1: addr += 8; rec.addReg64(1, (i * 2654435761) | 0, i >>> 3); rec.addReg64(2, addr, 0); break;
        case 2: rec.addReg64(3, (i * 40503) | 0, 0); break;
        case 3: rec.addReg64(4, -i | 0, -1); rec.addReg64(REG_NZCV, 8, 0); break;
        case 4: rec.addReg64(5, (i * 7) | 0, 0); break;
        case 5: rec.addReg64(6, x[0]!, 0); break;
        case 6: rec.addReg64(REG_NZCV, 2, 0); break;
        default: break;
      }
      sink.write(rec);
      if (i % 5000 === 4999) {
        rec.clear(Rec.Exception);
        rec.index = i;
        rec.fromEl = 2; rec.toEl = 2;
        rec.esrLo = 0x5a000000 | (i & 0xffff);
        rec.elrLo = BASE + k * 4 + 4;
        rec.pcLo = 0x40081200;
        rec.vector = 0x200;
        rec.hasFar = true;
        rec.addReg64(REG_PSTATE, 0x3c9, 0);
        rec.addSys('esr_el2', rec.esrLo, 0);
        sink.write(rec);
        for (let h = 0; h < 4 && i < n - 1; h++) {
          i++;
          rec.clear(Rec.Insn);
          rec.index = i;
          rec.pcLo = 0x40081200 + h * 4;
          rec.el = 2;
          rec.hasWord = true;
          rec.word = 0xd53c5200 + h;
          rec.asm = h === 3 ? 'eret' : 'mrs\tx10, esr_el2';
          if (h < 3) rec.addReg64(10, 0x5a000000 | ((i - h - 1) & 0xffff), 0);
          sink.write(rec);
          if (h === 3) {
            rec.clear(Rec.Eret);
            rec.index = i;
            rec.fromEl = 2; rec.toEl = 2;
            rec.pcLo = BASE + k * 4 + 4;
            sink.write(rec);
          }
        }
        // resume the loop where it was interrupted
        i++;
        k++;
        for (; k < 8 && i < n; k++, i++) {
          rec.clear(Rec.Insn);
          rec.index = i;
          rec.pcLo = BASE + k * 4;
          rec.el = 2;
          rec.hasWord = true;
          rec.word = 0x91000400 + k;
          rec.asm = asm[k];
          sink.write(rec);
        }
        break;
      }
    }
  }
  rec.clear(Rec.End);
  rec.reason = 'psci-off';
  rec.insns = n;
  sink.write(rec);
  sink.close();
}

/** The same run as a QEMU -d exec,cpu log: the state before each instruction. */
function generateQemuLog(path: string, n: number): void {
  const out = ChunkWriter.open(path);
  const x = new Array<bigint>(31).fill(0n);
  const h16 = (v: bigint) => v.toString(16).padStart(16, '0');
  for (let i = 0; i < n; i++) {
    const pc = BigInt(BASE + (i % 8) * 4);
    let s = `Trace 0: 0x7f0000000000 [0000000000000000/${h16(pc)}/00000061/ff000201] \n PC=${h16(pc)}`;
    for (let r = 0; r < 31; r++) s += `${r % 3 === 1 ? '\n' : ' '}X${String(r).padStart(2, '0')}=${h16(x[r]!)}`;
    s += `  SP=${h16(0x40100000n)}\nPSTATE=400003c9 -Z-- EL2h\n`;
    out.text(s);
    x[i % 8] = BigInt(i);
  }
  out.close();
}

function rate(n: number, ms: number): string {
  return `${(n / (ms / 1000) / 1e6).toFixed(2)} M insn/s`;
}

function timeDiff(a: string, b: string): { ms: number; compared: number } {
  const t0 = performance.now();
  const s = diffTraces(a, b, { context: 3 }, () => {});
  const ms = performance.now() - t0;
  if (!s.same) throw new Error(`benchmark traces unexpectedly differ: ${JSON.stringify(s.first)}`);
  return { ms, compared: s.compared };
}

function bestOf<T extends { ms: number }>(runs: number, fn: () => T): T {
  let best: T | undefined;
  for (let k = 0; k < runs; k++) {
    const r = fn();
    if (!best || r.ms < best.ms) best = r;
  }
  return best!;
}

const RECORD_LOOP = `
_start:
  movz x1, #50000
  movz x2, #0x4010, lsl #16
loop:
  add x0, x0, #1
  str x0, [x2]
  ldr x3, [x2]
  eor x4, x4, x3
  subs x1, x1, #1
  b.ne loop
  movz w0, #0x8400, lsl #16
  movk w0, #8
  smc #0
`;

export async function runTraceDiffBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trace-bench-'));
  try {
    const N = 2_000_000;
    const binA = join(dir, 'a.bin'), binB = join(dir, 'b.bin');
    let t0 = performance.now();
    generateTrace(new BinaryWriter(ChunkWriter.open(binA)), N);
    const writeMs = performance.now() - t0;
    generateTrace(new BinaryWriter(ChunkWriter.open(binB)), N);
    const size = statSync(binA).size;
    console.log(`generated binary trace: ${N.toLocaleString('en')} instructions, ${(size / 1e6).toFixed(1)} MB (${(size / N).toFixed(1)} bytes/instruction), written at ${rate(N, writeMs)}`);

    const read = bestOf(3, () => {
      const t = performance.now();
      const r = new BinaryReader(binA);
      let k = 0;
      while (r.next()) k++;
      r.close();
      return { ms: performance.now() - t, k };
    });
    // Peak RSS before and after the diffs: streaming keeps it where it was, whatever the traces' size.
    const rssBefore = process.resourceUsage().maxRSS / 1024;
    const bin = bestOf(3, () => timeDiff(binA, binB));
    const rssAfter = process.resourceUsage().maxRSS / 1024;
    console.log(`trace diff, binary vs binary:        ${rate(bin.compared, bin.ms)} (${bin.compared.toLocaleString('en')} compared in ${(bin.ms / 1000).toFixed(2)} s; target >= 1 M insn/s; peak RSS ${rssAfter.toFixed(0)} MB, ${rssBefore.toFixed(0)} MB before, for ${(2 * size / 1e6).toFixed(0)} MB of traces)`);
    console.log(`  reference, reading one binary trace:  ${(read.k / (read.ms / 1000) / 1e6).toFixed(2)} M records/s (diff reads two traces: ${((read.ms * 2) / bin.ms).toFixed(2)}x of the pure-read bound)`);

    const NJ = 200_000;
    const jA = join(dir, 'a.jsonl'), jB = join(dir, 'b.jsonl');
    generateTrace(JsonlWriter.open(jA), NJ);
    generateTrace(JsonlWriter.open(jB), NJ);
    const js = bestOf(2, () => timeDiff(jA, jB));
    console.log(`trace diff, JSON lines vs JSON lines: ${rate(js.compared, js.ms)} (${NJ.toLocaleString('en')} instructions)`);

    const NQ = 200_000;
    const q = join(dir, 'q.log'), qa = join(dir, 'q.bin');
    generateQemuLog(q, NQ);
    // Our side of the same run: the QEMU log converted once (the importer is what is measured).
    const { convertTrace } = await import('../src/trace/convert.js');
    convertTrace(q, qa, { to: 'bin' });
    const qd = bestOf(2, () => timeDiff(qa, q));
    console.log(`trace diff, binary vs QEMU log:       ${rate(qd.compared, qd.ms)} (${NQ.toLocaleString('en')} instructions; QEMU itself logs at ~0.1 M insn/s)`);

    // The recorder on a real program (single-stepping, changes, disassembly cache).
    const asm = assemble(RECORD_LOOP, { file: 'loop.s' });
    const image = linkFlat(asm, BigInt(BASE));
    for (const memory of [false, true]) {
      const emu = new Emulator({ uartSink: () => {} });
      emu.load(image.bytes, { address: BigInt(BASE) });
      const path = join(dir, `rec-${memory}.bin`);
      const sink = new BinaryWriter(ChunkWriter.open(path));
      const recorder = new Recorder(emu.cpu, sink, { memory });
      t0 = performance.now();
      recorder.start();
      let reason = recorder.step();
      while (reason.kind === 'budget') reason = recorder.step();
      recorder.end(reason.kind, emu.cpu.retired);
      sink.close();
      const ms = performance.now() - t0;
      // The same program untraced, best of three (the first runs warm the interpreter up).
      let pms = Number.POSITIVE_INFINITY, plainInsns = 0;
      for (let k = 0; k < 3; k++) {
        const plain = new Emulator({ uartSink: () => {} });
        plain.load(image.bytes, { address: BigInt(BASE) });
        const p0 = performance.now();
        plain.run();
        pms = Math.min(pms, performance.now() - p0);
        plainInsns = plain.cpu.retired;
      }
      console.log(`recording${memory ? ' with memory accesses' : ''} (binary): ${rate(emu.cpu.retired, ms)}; ${(statSync(path).size / emu.cpu.retired).toFixed(1)} bytes/instruction (untraced run of the same program: ${rate(plainInsns, pms)})`);
    }
    writeFileSync(join(dir, 'done'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('trace-diff.js')) await runTraceDiffBench();

/**
 * `trace convert`: any readable trace (binary, JSON lines, QEMU log) to our
 * binary or JSON-lines format, or to a text listing, through the step
 * filters. A filtered trace stays self-contained: its start record holds
 * the full state before the first kept step, and a skip record folds the
 * register changes of every run of dropped steps.
 */
import { disassemble } from '../isa/disasm.js';
import { ChunkWriter } from './files.js';
import { createWriter } from './open.js';
import {
  REG_COUNT, REG_NAMES, REG_WORDS, Rec, TraceRecord, hex64, regWords, toBig,
  type RecordSink,
} from './model.js';
import { TraceCursor, describeMem, type Step, type StepFilterOptions } from './steps.js';

export interface ConvertOptions {
  to: 'bin' | 'jsonl' | 'text';
  filter?: StepFilterOptions;
}

export interface ConvertResult {
  /** Steps written, and steps read from the input. */
  written: number;
  read: number;
  format: string;
  notes: string[];
}

/** A text listing, one line per instruction and one per event (not read back). */
class TextSink implements RecordSink {
  private readonly out: ChunkWriter;

  constructor(path: string) {
    this.out = ChunkWriter.open(path);
  }

  write(rec: TraceRecord): void {
    this.out.text(textOf(rec) + '\n');
  }

  close(): void {
    this.out.close();
  }
}

function changes(rec: TraceRecord, max = 12): string {
  const parts: string[] = [];
  for (let k = 0; k < rec.nRegs && k < max; k++) {
    const id = rec.regIds[k]!, at = k * REG_WORDS;
    const v = regWords(id) === 4
      ? `0x${[3, 2, 1, 0].map((w) => (rec.regVals[at + w]! >>> 0).toString(16).padStart(8, '0')).join('').replace(/^0+(?=.)/, '')}`
      : hex64(rec.regVals[at]!, rec.regVals[at + 1]!);
    parts.push(`${REG_NAMES[id]}=${v}`);
  }
  if (rec.nRegs > max) parts.push(`(+${rec.nRegs - max} more)`);
  for (let k = 0; k < rec.nSys; k++) parts.push(`${rec.sysNames[k]}=${hex64(rec.sysVals[k * 2]!, rec.sysVals[k * 2 + 1]!)}`);
  return parts.join(' ');
}

export function textOf(rec: TraceRecord): string {
  const pc = hex64(rec.pcLo, rec.pcHi);
  switch (rec.kind) {
    case Rec.Start:
      return `# trace from ${rec.meta.source} (records: ${rec.meta.features.join(', ') || 'x, sp, nzcv'}); start at ${pc} EL${rec.el}\n#   ${changes(rec, 40)}`;
    case Rec.Insn: {
      const text = rec.host !== undefined ? `<host function ${rec.host}>` : rec.asm ?? (rec.hasWord ? disassemble(rec.word >>> 0, { address: toBig(rec.pcLo, rec.pcHi) }).text : '?');
      const word = rec.hasWord ? (rec.word >>> 0).toString(16).padStart(8, '0') : '        ';
      const sym = rec.sym ? ` <${rec.sym}>` : '';
      const mem = rec.nMem ? `  ${describeMem(rec).join(' ')}` : '';
      return `#${String(rec.index).padEnd(9)} ${(pc + sym).padEnd(36)} EL${rec.el}  ${word}  ${text.replace(/\t/g, ' ').padEnd(32)} ${changes(rec)}${mem}${rec.afterUnknown ? ' (effect unknown)' : ''}`;
    }
    case Rec.Exception:
      return `           -> exception EL${rec.fromEl}->EL${rec.toEl} ec=0x${(rec.esrLo >>> 26).toString(16)} esr=${hex64(rec.esrLo, rec.esrHi)}${rec.hasFar ? ` far=${hex64(rec.farLo, rec.farHi)}` : ''} elr=${hex64(rec.elrLo, rec.elrHi)} to ${pc}  ${changes(rec)}`;
    case Rec.Eret:
    case Rec.IllegalEret:
      return `           -> ${rec.kind === Rec.Eret ? 'eret' : 'illegal eret'} EL${rec.fromEl}->EL${rec.toEl} to ${pc}  ${changes(rec)}`;
    case Rec.Tlbi:
      return `           -> tlbi ${rec.text}, ${hex64(rec.aLo, rec.aHi)}`;
    case Rec.HostCall:
      return `           -> host call ${rec.text} at ${hex64(rec.aLo, rec.aHi)}(${rec.args.map((a) => `0x${a.toString(16)}`).join(', ')})${rec.hasResult ? ` = ${hex64(rec.resultLo, rec.resultHi)}` : ''}`;
    case Rec.Psci:
      return `           -> psci ${rec.text} function ${hex64(rec.aLo, rec.aHi)}${rec.hasResult ? ` = ${hex64(rec.resultLo, rec.resultHi)}` : ''}`;
    case Rec.Skip:
      return `# ${rec.skipped} step${rec.skipped === 1 ? '' : 's'} not shown; they changed: ${changes(rec, 40)}`;
    case Rec.End:
      return `# end: ${rec.reason}, ${rec.insns} instructions`;
  }
}

/** Converts `input` to `output`. Throws TraceFormatError for unreadable input. */
export function convertTrace(input: string, output: string, opts: ConvertOptions): ConvertResult {
  const cursor = new TraceCursor(input, opts.filter ?? {});
  let sink: RecordSink | undefined;
  try {
    sink = opts.to === 'text' ? new TextSink(output) : createWriter(output, opts.to);
    const rec = new TraceRecord();
    const outState = new Int32Array(REG_COUNT * REG_WORDS);
    const outKnown = new Uint8Array(REG_COUNT);
    let started = false;
    let written = 0;
    let lastIndex = -1;
    const writeStart = (pcLo: number, pcHi: number, el: number) => {
      rec.clear(Rec.Start);
      rec.pcLo = pcLo;
      rec.pcHi = pcHi;
      rec.el = el;
      for (let id = 0; id < REG_COUNT; id++) {
        if (!cursor.known[id]) continue;
        const at = rec.addReg(id);
        for (let w = 0; w < REG_WORDS; w++) rec.regVals[at + w] = outState[id * REG_WORDS + w] = cursor.state[id * REG_WORDS + w]!;
        outKnown[id] = 1;
      }
      rec.meta = cursor.meta;
      sink!.write(rec);
      started = true;
    };
    const applyOut = (r: TraceRecord) => {
      for (let k = 0; k < r.nRegs; k++) {
        const id = r.regIds[k]!;
        for (let w = 0; w < REG_WORDS; w++) outState[id * REG_WORDS + w] = r.regVals[k * REG_WORDS + w]!;
        outKnown[id] = 1;
      }
    };
    let s: Step | undefined;
    while ((s = cursor.next()) !== undefined) {
      if (!started) {
        writeStart(s.pcLo, s.pcHi, s.el);
      } else if (cursor.skippedSinceKept > 0) {
        // The dropped steps' net effect, so that the output's state stays right.
        rec.clear(Rec.Skip);
        rec.index = lastIndex + 1;
        rec.skipped = cursor.skippedSinceKept;
        rec.el = s.el;
        for (let id = 0; id < REG_COUNT; id++) {
          if (!cursor.known[id]) continue;
          let same = outKnown[id] === 1;
          for (let w = 0; w < REG_WORDS && same; w++) if (outState[id * REG_WORDS + w] !== cursor.state[id * REG_WORDS + w]) same = false;
          if (same) continue;
          const at = rec.addReg(id);
          for (let w = 0; w < REG_WORDS; w++) rec.regVals[at + w] = cursor.state[id * REG_WORDS + w]!;
        }
        applyOut(rec);
        sink.write(rec);
      }
      if (!s.pseudo) {
        sink.write(s.insn);
        applyOut(s.insn);
      }
      for (let k = 0; k < s.nEvents; k++) {
        sink.write(s.events[k]!);
        applyOut(s.events[k]!);
      }
      lastIndex = s.index;
      written++;
    }
    if (!started) {
      // Nothing kept: the input's start state.
      const st = cursor.reader.start;
      writeStart(st.pcLo, st.pcHi, st.el);
    }
    rec.clear(Rec.End);
    rec.reason = cursor.reader.endReason ?? 'truncated';
    rec.insns = written;
    sink.write(rec);
    const notes: string[] = [];
    if (cursor.reader.missingEnd) notes.push(`${input} ends without an end record (an interrupted run or a cut file); converted what it has`);
    const src = cursor.reader.src as { truncatedTail?: boolean };
    if (src.truncatedTail) notes.push(`${input}: the QEMU log ends in the middle of a register dump; that dump is dropped`);
    return { written, read: cursor.stepsRead, format: cursor.reader.src.formatName, notes };
  } finally {
    sink?.close();
    cursor.close();
  }
}

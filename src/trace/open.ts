/**
 * Opening a trace file of any supported kind, recognised by its content:
 * our binary format (magic), our JSON lines (a start record), or a raw QEMU
 * `-d exec,cpu[,int]` log (a `Trace N: 0x…` line). And creating a writer by
 * format name or file extension.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { BinaryReader, BinaryWriter, isBinaryTrace } from './binary.js';
import { JsonlReader, JsonlWriter } from './jsonl.js';
import { QemuLogReader } from './qemu-import.js';
import { TraceFormatError, type RecordSink, type RecordSource } from './model.js';

export type TraceFormat = 'bin' | 'jsonl' | 'qemu';

/** What kind of trace `path` holds, from its first bytes; throws TraceFormatError with the reason otherwise. */
export function detectFormat(path: string): TraceFormat {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new TraceFormatError(`${path}: is a directory`);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof TraceFormatError) throw err;
    throw new TraceFormatError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const head = new Uint8Array(4096);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n === 0) throw new TraceFormatError(`${path}: empty file`);
  const bytes = head.subarray(0, n);
  if (isBinaryTrace(bytes)) return 'bin';
  if (n >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    throw new TraceFormatError(`${path}: is an ELF file, not a trace (record one with \`trace record ${path} -o OUT\`)`);
  }
  if (bytes.subarray(0, 6).every((b, k) => b === [0x89, 0x50, 0x4b, 0x54, 0x52, 0x0d][k])) {
    throw new TraceFormatError(`${path}: truncated binary trace header`);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (/[\0-\x08\x0e-\x1a]/.test(text.slice(0, 512))) {
    throw new TraceFormatError(`${path}: not a trace (binary data that is not a pkvm-lab binary trace)`);
  }
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  if (first.trimStart().startsWith('{')) return 'jsonl';
  if (/^Trace \d+: 0x[0-9a-f]+ \[/.test(first) || /^(Taking exception|Exception return|\s?PC=)/.test(first)) return 'qemu';
  throw new TraceFormatError(
    `${path}: not a trace: expected a pkvm-lab binary trace, a JSON-lines trace or a QEMU -d exec,cpu log; the file starts with ${JSON.stringify(first.slice(0, 60))}`,
  );
}

/** Opens a trace of any supported kind for reading. */
export function openTrace(path: string): RecordSource {
  const format = detectFormat(path);
  switch (format) {
    case 'bin': return new BinaryReader(path);
    case 'jsonl': return new JsonlReader(path);
    case 'qemu': return new QemuLogReader(path);
  }
}

/** The output format for a path: by extension (.jsonl/.json → jsonl, .txt → text), else binary. */
export function formatForPath(path: string): 'bin' | 'jsonl' | 'text' {
  if (/\.(jsonl|json|ndjson)$/i.test(path)) return 'jsonl';
  if (/\.(txt|text|lst)$/i.test(path)) return 'text';
  return 'bin';
}

/** A writer for `path` in our binary or JSON-lines format. */
export function createWriter(path: string, format: 'bin' | 'jsonl' = formatForPath(path) === 'jsonl' ? 'jsonl' : 'bin'): RecordSink {
  return format === 'jsonl' ? JsonlWriter.open(path) : BinaryWriter.open(path);
}

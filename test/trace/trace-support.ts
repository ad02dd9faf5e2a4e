/**
 * Helpers for the trace suites: images from gas source (with the project's
 * preprocessor and asm/ include paths), recording our run of an image into
 * a trace file, and reading a trace back as JSON objects.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { Emulator } from '../../src/machine/emulator.js';
import type { StopReason } from '../../src/cpu/cpu.js';
import { Recorder, type RecorderOptions } from '../../src/trace/recorder.js';
import { createWriter } from '../../src/trace/open.js';

export const ROOT = join(import.meta.dirname, '../..');
export const BASE = 0x40080000n;
export const POWER_OFF = 'movz w0, #0x8400, lsl #16\n movk w0, #8\n smc #0\n';

export interface Image {
  elf: Uint8Array;
  symbols: Map<string, bigint>;
}

/** Assembles (a .S name runs our preprocessor with asm/include and asm/ on the path), links at BASE, wraps in an ELF. */
export function buildImage(source: string, file = 'prog.s'): Image {
  const r = assemble(source, { file, includeDirs: [join(ROOT, 'asm/include'), join(ROOT, 'asm')] });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`assembly failed:\n${errors.map(formatDiagnostic).join('\n')}`);
  const linked = linkFlat(r, BASE);
  const entry = linked.symbols.get('_start') ?? BASE;
  const elf = writeExecutable({
    entry,
    segments: [{ vaddr: BASE, data: linked.bytes, memsz: BigInt(linked.bytes.length), flags: 'rwx' }],
    symbols: [...linked.symbols].map(([name, value]) => ({ name, value, size: 0n, type: 'notype' as const })),
  });
  return { elf, symbols: linked.symbols };
}

export interface RecordResult {
  reason: StopReason;
  insns: number;
  emu: Emulator;
}

/** Runs `elf` on a fresh emulator under the recorder, writing `out` (format by extension). */
export function recordImage(
  elf: Uint8Array,
  out: string,
  opts: Omit<RecorderOptions, 'emulator'> & { maxInsns?: number; setup?: (emu: Emulator) => void; hostEvents?: boolean } = {},
): RecordResult {
  const emu = new Emulator({ uartSink: () => {} });
  emu.load(elf);
  opts.setup?.(emu);
  const symbols: Record<string, string> = {};
  for (const [n, v] of emu.symbols) symbols[n] = `0x${v.toString(16)}`;
  const sink = createWriter(out);
  const rec = new Recorder(emu.cpu, sink, {
    symbolize: (a) => (emu.symbols.lookup(Number(a)) ? `<${emu.symbols.format(Number(a))}>` : undefined),
    pcSymbol: (a) => (emu.symbols.lookup(Number(a)) ? emu.symbols.format(Number(a)) : undefined),
    ...opts,
    emulator: opts.hostEvents === false ? undefined : emu,
    meta: { symbols, cpu: 'cortex-a57', ...opts.meta },
  });
  rec.start();
  let reason: StopReason = { kind: 'budget' };
  const max = opts.maxInsns ?? 1_000_000;
  const start = emu.cpu.retired;
  while (emu.cpu.retired - start < max) {
    reason = rec.step();
    if (reason.kind !== 'budget') break;
  }
  rec.end(reason.kind, emu.cpu.retired - start);
  sink.close();
  return { reason, insns: emu.cpu.retired - start, emu };
}

export function readJsonl(path: string): Record<string, any>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

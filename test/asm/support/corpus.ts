/**
 * Generated instruction corpora, checked against GNU as. Lines come from the
 * instruction table itself: random words that match an entry's pattern,
 * printed by our disassembler. GNU as then decides which lines are valid and
 * what they encode to; our assembler must agree line by line (same bytes for
 * accepted lines, an error for rejected ones).
 */
export { rng, generateFromTable, type CorpusLine } from '../../../src/isa/random-corpus.js';
import { assemble } from '../../../src/asm/assembler.js';
import { gnuAssemble } from '../../helpers/oracle.js';
import { findSection } from '../../../src/elf/read.js';

/** Every feature GNU as 2.40 knows that the table uses, so feature-gated lines are comparable. */
export const ALL_FEATURES_PREAMBLE = '.arch armv8.5-a+lse+crc+rcpc+pauth+sb+predres+ssbs+memtag+flagm+rng';

export interface Comparison {
  accepted: number;
  rejected: number;
  /** Lines where both accepted but the words differ. */
  mismatches: { line: string; ours: string; gnu: string }[];
  /** Lines GNU rejected and we accepted. */
  weAccepted: string[];
  /** Lines GNU accepted and we rejected (with our message). */
  weRejected: { line: string; message: string }[];
}

const LINE_ERROR = /^[^:]+:(\d+): Error: (.*)$/;

/**
 * Assembles `lines` (one instruction each, after `preamble`) with GNU as and
 * with ours, and compares them line by line.
 */
export function compareLinesWithGnu(lines: string[], preamble = ALL_FEATURES_PREAMBLE): Comparison {
  const header = `${preamble}\n`;
  const first = gnuAssemble(header + lines.join('\n') + '\n');
  const rejectedLines = new Set<number>();
  const stderr = first.ok ? first.stderr ?? '' : first.stderr;
  for (const l of stderr.split('\n')) {
    const m = LINE_ERROR.exec(l);
    if (m) rejectedLines.add(Number(m[1]) - 2); // line 1 is the preamble
  }
  const accepted = lines.filter((_l, i) => !rejectedLines.has(i));
  const rejected = lines.filter((_l, i) => rejectedLines.has(i));
  const gnu = gnuAssemble(header + accepted.join('\n') + '\n');
  if (!gnu.ok) throw new Error(`GNU as failed on lines it accepted before:\n${gnu.stderr.slice(0, 2000)}`);
  const text = findSection(gnu.elf, '.text');
  const gnuBytes = text ? text.data : new Uint8Array(0);
  const ours = assemble(header + accepted.join('\n') + '\n', { file: 'corpus.s' });
  const ourErrors = new Map<number, string>();
  for (const d of ours.diagnostics) if (d.severity === 'error') ourErrors.set(d.loc.line - 2, d.message);
  const ourText = ours.sections.find((s) => s.name === '.text')!;
  // Where each accepted line's instruction landed in our output (lines with errors may still occupy a word).
  const offsetOfLine = new Map<number, number>();
  for (const e of ourText.listing) offsetOfLine.set(e.loc.line - 2, e.offset);
  const result: Comparison = { accepted: accepted.length, rejected: rejected.length, mismatches: [], weAccepted: [], weRejected: [] };
  // Both outputs lay the lines out the same way, so compare each line's word at the offset our listing gives it.
  for (let i = 0; i < accepted.length; i++) {
    if (ourErrors.has(i)) { result.weRejected.push({ line: accepted[i]!, message: ourErrors.get(i)! }); continue; }
    const at = offsetOfLine.get(i);
    if (at === undefined) continue; // a label-only or directive line
    const g = word(gnuBytes, at);
    const o = word(ourText.data, at);
    if (o !== g) result.mismatches.push({ line: accepted[i]!, ours: hex8(o), gnu: hex8(g) });
  }
  if (rejected.length > 0) {
    const oursRejected = assemble(header + rejected.join('\n') + '\n', { file: 'rejected.s' });
    const errLines = new Set(oursRejected.diagnostics.filter((d) => d.severity === 'error').map((d) => d.loc.line - 2));
    rejected.forEach((l, i) => { if (!errLines.has(i)) result.weAccepted.push(l); });
  }
  return result;
}

function word(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16) | ((b[off + 3] ?? 0) << 24)) >>> 0;
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

/** A readable summary for assertion messages (first few of each kind). */
export function describeComparison(c: Comparison, max = 15): string {
  const parts: string[] = [`accepted ${c.accepted}, rejected ${c.rejected}`];
  if (c.mismatches.length) parts.push(`${c.mismatches.length} mismatches:\n` + c.mismatches.slice(0, max).map((m) => `  ${m.line}  ours ${m.ours} gnu ${m.gnu}`).join('\n'));
  if (c.weRejected.length) parts.push(`${c.weRejected.length} valid lines we rejected:\n` + c.weRejected.slice(0, max).map((m) => `  ${m.line}  -- ${m.message.split('\n')[0]}`).join('\n'));
  if (c.weAccepted.length) parts.push(`${c.weAccepted.length} invalid lines we accepted:\n` + c.weAccepted.slice(0, max).map((l) => `  ${l}`).join('\n'));
  return parts.join('\n');
}

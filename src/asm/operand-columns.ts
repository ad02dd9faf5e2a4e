/**
 * Shared post-processing of a parsed operand list, whichever parser produced
 * it: each operand gets the 1-based column where its text starts (for
 * diagnostics), and `[base], #imm` / `[base], xM` pairs become one
 * post-indexed memory operand.
 */
import type { Operand } from '../isa/operand-ir.js';

/** Start columns (1-based) of the top-level comma-separated pieces of `text`. */
export function operandColumns(text: string): number[] {
  const cols: number[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  const push = (from: number) => {
    let i = from;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    cols.push(i + 1);
  };
  push(0);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === '[' || c === '(' || c === '{') depth++;
    else if (c === ']' || c === ')' || c === '}') depth--;
    else if (c === ',' && depth === 0) { start = i + 1; push(start); }
  }
  return cols;
}

/**
 * Folds post-index pairs. Columns are not filled in here (they cost a scan of
 * the text per line): diagnostics compute them with operandColumns when needed.
 */
export function finishOperands(raw: Operand[], _text: string): Operand[] {
  let fold = false;
  for (let i = 0; i + 1 < raw.length; i++) if (raw[i]!.k === 'mem') { fold = true; break; }
  if (!fold) return raw;
  const out: Operand[] = [];
  for (let i = 0; i < raw.length; i++) {
    const op = raw[i]!;
    const next = raw[i + 1];
    if (op.k === 'mem' && op.mode === 'offset' && !op.offset && next && (next.k === 'imm' || next.k === 'reg')) {
      out.push({ ...op, mode: 'post', postOffset: next.k === 'imm' ? { imm: next.e } : { reg: next.reg } });
      i++;
      continue;
    }
    out.push(op);
  }
  return out;
}

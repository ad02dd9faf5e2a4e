/**
 * Runs the nearley grammar over an instruction's operand text or a
 * directive's expression list.
 */
import nearley from 'nearley';
import grammar from './generated/grammar.js';
import type { Expr, Operand } from '../isa/operand-ir.js';
import { finishOperands } from './operand-columns.js';
import { scanSimpleOperands } from './operand-fast-path.js';

function grammarFor(start: string): nearley.Grammar {
  const g = nearley.Grammar.fromCompiled(grammar);
  g.start = start;
  return g;
}

const OPERANDS = grammarFor('operands');
const EXPRLIST = grammarFor('exprlist');
const EXPR = grammarFor('exprOnly');

export class ParseError extends Error {
  /** 1-based column within the parsed text, 0 when unknown. */
  constructor(message: string, readonly col: number) {
    super(message);
  }
}

function run<T>(g: nearley.Grammar, text: string): T {
  const parser = new nearley.Parser(g);
  try {
    parser.feed(text);
  } catch (err) {
    const tok = (err as { token?: { col?: number; text?: string } }).token;
    if (tok) throw new ParseError(`unexpected '${tok.text}'`, tok.col ?? 0);
    const m = /line \d+ col (\d+)/.exec(String((err as Error).message));
    throw new ParseError('invalid character', m ? Number(m[1]) : 0);
  }
  if (parser.results.length === 0) throw new ParseError('unexpected end of operands', text.length + 1);
  return parser.results[0] as T;
}

/** Operands through the nearley grammar (the reference parser). */
export function parseOperandsWithGrammar(text: string): Operand[] {
  return finishOperands(run<Operand[]>(OPERANDS, text), text);
}

/**
 * Operands of one instruction: common simple shapes take a hand-written
 * scanner that builds the same IR as the grammar (checked by a differential
 * test on every corpus line); everything else goes through the grammar.
 */
export function parseOperands(text: string): Operand[] {
  const fast = scanSimpleOperands(text);
  if (fast) return finishOperands(fast, text);
  return parseOperandsWithGrammar(text);
}

export function parseExprList(text: string): Expr[] {
  return run<Expr[]>(EXPRLIST, text);
}

export function parseExpr(text: string): Expr {
  return run<Expr>(EXPR, text);
}

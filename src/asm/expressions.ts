/**
 * Evaluation of assembler expressions with gas semantics: a value is either
 * absolute, relative to a section (label + offset), or relative to an
 * undefined/global symbol (which then needs a relocation).
 */
import type { Expr } from '../isa/operand-ir.js';
import type { AsmSymbol, Section } from './sections.js';

export interface Value {
  /** undefined = absolute. */
  section?: Section;
  /** Set when the value is `symbol + offset` for a symbol that must stay symbolic (undefined, global, weak). */
  symbol?: AsmSymbol;
  offset: bigint;
}

export class ExprError extends Error {}

export interface EvalContext {
  lookup(name: string): AsmSymbol;
  dot(): { section: Section; offset: bigint };
  localLabel(n: number, dir: 'b' | 'f'): AsmSymbol;
  /** Nesting guard for equated symbols defined in terms of each other. */
  depth?: number;
}

const MASK64 = (1n << 64n) - 1n;
const toSigned = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * Evaluates `e`. With `final` false, an undefined symbol yields a symbolic
 * value rather than an error (the caller decides whether it may wait).
 */
export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.t) {
    case 'num': return { offset: toSigned(e.v) };
    case 'str': throw new ExprError(`string or floating-point value '${e.v}' not allowed in an integer expression`);
    case 'dot': { const d = ctx.dot(); return { section: d.section, offset: d.offset }; }
    case 'localref': return symbolValue(ctx.localLabel(e.n, e.dir), ctx);
    case 'sym': return symbolValue(ctx.lookup(e.name), ctx);
    case 'reloc': throw new ExprError(`relocation operator :${e.op}: is not allowed here`);
    case 'un': {
      const a = evaluate(e.a, ctx);
      if (e.op === '+') return a;
      requireAbsolute(a, e.op);
      switch (e.op) {
        case '-': return { offset: toSigned(-a.offset) };
        case '~': return { offset: toSigned(~a.offset) };
        case '!': return { offset: a.offset === 0n ? 1n : 0n };
      }
      break;
    }
    case 'bin': {
      const a = evaluate(e.a, ctx);
      const b = evaluate(e.b, ctx);
      return binary(e.op, a, b);
    }
  }
  throw new ExprError('invalid expression');
}

function symbolValue(s: AsmSymbol, ctx: EvalContext): Value {
  s.referenced = true;
  if (s.equated) {
    const depth = (ctx.depth ?? 0) + 1;
    if (depth > 64) throw new ExprError(`symbol '${s.name}' is defined in terms of itself`);
    return evaluate(s.equated, { ...ctx, depth });
  }
  if (!s.defined) return { symbol: s, offset: 0n };
  if (s.section) return { section: s.section, offset: s.value, symbol: s.binding !== 'local' ? s : undefined };
  return { offset: s.value };
}

function requireAbsolute(v: Value, op: string): void {
  if (v.section || v.symbol) throw new ExprError(`operator '${op}' needs absolute operands`);
}

function binary(op: string, a: Value, b: Value): Value {
  if (op === '+') {
    if (isAbs(a)) return { ...b, offset: toSigned(a.offset + b.offset) };
    if (isAbs(b)) return { ...a, offset: toSigned(a.offset + b.offset) };
    throw new ExprError('cannot add two relocatable values');
  }
  if (op === '-') {
    if (isAbs(b)) return { ...a, offset: toSigned(a.offset - b.offset) };
    // label - label in the same section is absolute (global labels too: their offsets are known).
    if (a.section && b.section && a.section === b.section && !isUndefined(a) && !isUndefined(b)) {
      return { offset: toSigned(a.offset - b.offset) };
    }
    throw new ExprError('the difference of symbols in different sections cannot be resolved');
  }
  requireAbsolute(a, op);
  requireAbsolute(b, op);
  const x = a.offset, y = b.offset;
  const truth = (c: boolean) => ({ offset: c ? -1n : 0n }); // gas: true is -1
  switch (op) {
    case '*': return { offset: toSigned(x * y) };
    case '/': if (y === 0n) throw new ExprError('division by zero'); return { offset: toSigned(x / y) };
    case '%': if (y === 0n) throw new ExprError('division by zero'); return { offset: toSigned(x % y) };
    case '<<': return { offset: y >= 64n || y < 0n ? 0n : toSigned((x << y) & MASK64) };
    case '>>': return { offset: y >= 64n || y < 0n ? 0n : toSigned((x & MASK64) >> y) };
    case '|': return { offset: toSigned(x | y) };
    case '&': return { offset: toSigned(x & y) };
    case '^': return { offset: toSigned(x ^ y) };
    case '!': return { offset: toSigned(x | ~y) };
    case '==': return truth(x === y);
    case '!=': case '<>': return truth(x !== y);
    case '<': return truth(x < y);
    case '>': return truth(x > y);
    case '<=': return truth(x <= y);
    case '>=': return truth(x >= y);
    case '&&': return { offset: x !== 0n && y !== 0n ? 1n : 0n };
    case '||': return { offset: x !== 0n || y !== 0n ? 1n : 0n };
  }
  throw new ExprError(`unknown operator '${op}'`);
}

function isAbs(v: Value): boolean {
  return !v.section && !v.symbol;
}

function isUndefined(v: Value): boolean {
  return !!v.symbol && !v.symbol.defined;
}

/** True when the expression mentions a symbol that is not yet defined (a forward reference). */
export function hasUndefined(e: Expr, ctx: EvalContext): boolean {
  switch (e.t) {
    case 'sym': {
      const s = ctx.lookup(e.name);
      if (s.equated) return hasUndefined(s.equated, ctx);
      return !s.defined;
    }
    case 'localref': return !ctx.localLabel(e.n, e.dir).defined;
    case 'un': case 'reloc': return hasUndefined(e.a, ctx);
    case 'bin': return hasUndefined(e.a, ctx) || hasUndefined(e.b, ctx);
    default: return false;
  }
}

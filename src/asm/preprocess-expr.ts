/**
 * `#if` / `#elif` expression evaluation: C integer constant expressions in
 * 64-bit intmax_t / uintmax_t arithmetic, as gcc's preprocessor computes them.
 */
import { TF, TK, type Token } from './preprocess-lexer.js';

/** What the evaluator needs from the preprocessor. */
export interface ExprHost {
  /** Next token, macro-expanded unless `raw`; an EOF token at the end of the directive. */
  next(raw: boolean): Token;
  isDefined(name: string): boolean;
  /** `__has_include` / `__has_include_next`: the header spec with its quotes or angle brackets. */
  hasInclude(spec: string, includeNext: boolean, at: Token): boolean;
  /** Throws a diagnostic at `at`. */
  fail(at: Token, message: string): never;
}

interface Value {
  v: bigint;
  unsigned: boolean;
}

const MAX_NESTING = 500;
const MASK64 = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;

function signed(v: bigint): Value {
  return { v: BigInt.asIntN(64, v), unsigned: false };
}
function unsignedValue(v: bigint): Value {
  return { v: BigInt.asUintN(64, v), unsigned: true };
}
function make(v: bigint, isUnsigned: boolean): Value {
  return isUnsigned ? unsignedValue(v) : signed(v);
}
const ZERO: Value = { v: 0n, unsigned: false };
const ONE: Value = { v: 1n, unsigned: false };
const bool = (b: boolean): Value => (b ? ONE : ZERO);

/** Binary operator precedences (higher binds tighter). */
const BINARY_PRECEDENCE: Record<string, number> = {
  ',': 1,
  '?': 2,
  '||': 3,
  '&&': 4,
  '|': 5,
  '^': 6,
  '&': 7,
  '==': 8,
  '!=': 8,
  '<': 9,
  '>': 9,
  '<=': 9,
  '>=': 9,
  '<<': 10,
  '>>': 10,
  '+': 11,
  '-': 11,
  '*': 12,
  '/': 12,
  '%': 12,
};

/** Evaluates the rest of the directive line; `directive` names it in messages ("#if"). */
export function evaluateCondition(host: ExprHost, directive: string, directiveToken: Token): boolean {
  const parser = new ExprParser(host);
  const first = parser.peek();
  if (first.kind === TK.EOF) host.fail(directiveToken, `${directive} with no expression`);
  const result = parser.parse(1, true);
  const rest = parser.peek();
  if (rest.kind !== TK.EOF) parser.failUnexpected(rest);
  return result.v !== 0n;
}

class ExprParser {
  private lookahead: Token | null = null;
  /** The last operator consumed, for "has no right operand". */
  private lastOperator: Token | null = null;
  private lastWasOpenParen = false;
  private depth = 0;

  constructor(private readonly host: ExprHost) {}

  peek(): Token {
    if (this.lookahead === null) this.lookahead = this.host.next(false);
    return this.lookahead;
  }

  private take(): Token {
    const t = this.peek();
    this.lookahead = null;
    return t;
  }

  /** Reads a token without macro expansion (operands of `defined`). */
  private takeRaw(): Token {
    if (this.lookahead !== null) return this.take();
    return this.host.next(true);
  }

  failUnexpected(t: Token): never {
    if (t.kind === TK.Punct) {
      if (t.text === ')') this.host.fail(t, "missing '(' in expression");
      if (t.text === ':') this.host.fail(t, "':' without preceding '?'");
      if (!(t.text in BINARY_PRECEDENCE) && t.text !== '(' && !isUnaryOperator(t.text)) {
        this.host.fail(t, `token "${t.text}" is not valid in preprocessor expressions`);
      }
    }
    if (t.kind === TK.String || t.kind === TK.Other || t.kind === TK.HeaderName) {
      this.host.fail(t, `token "${t.text}" is not valid in preprocessor expressions`);
    }
    this.host.fail(t, `missing binary operator before token "${t.text}"`);
  }

  /** Precedence climbing; `evaluate` is false inside short-circuited operands. */
  parse(minPrecedence: number, evaluate: boolean): Value {
    let left = this.parseUnary(evaluate);
    for (;;) {
      const op = this.peek();
      if (op.kind !== TK.Punct) {
        if (op.kind === TK.EOF) return left;
        this.failUnexpected(op);
      }
      const precedence = BINARY_PRECEDENCE[op.text];
      if (precedence === undefined) {
        if (op.text === ')' || op.text === ':') return left;
        this.failUnexpected(op);
      }
      if (precedence < minPrecedence) return left;
      this.take();
      this.lastOperator = op;
      if (op.text === '?') {
        const condition = left.v !== 0n;
        const whenTrue = this.parse(1, evaluate && condition);
        const colon = this.peek();
        if (colon.kind !== TK.Punct || colon.text !== ':') this.host.fail(colon, "'?' without following ':'");
        this.take();
        this.lastOperator = colon;
        // Right associative: a ? b : c ? d : e.
        const whenFalse = this.parse(precedence, evaluate && !condition);
        const isUnsigned = whenTrue.unsigned || whenFalse.unsigned;
        left = make(condition ? whenTrue.v : whenFalse.v, isUnsigned);
        continue;
      }
      if (op.text === '&&' || op.text === '||') {
        const decided = op.text === '&&' ? left.v === 0n : left.v !== 0n;
        const right = this.parse(precedence + 1, evaluate && !decided);
        left = op.text === '&&' ? bool(left.v !== 0n && right.v !== 0n) : bool(left.v !== 0n || right.v !== 0n);
        continue;
      }
      const right = this.parse(precedence + 1, evaluate);
      left = this.binary(op, left, right, evaluate);
    }
  }

  private binary(op: Token, a: Value, b: Value, evaluate: boolean): Value {
    const text = op.text;
    if (text === ',') return b;
    if (text === '<<' || text === '>>') return shift(a, b, text === '<<');
    // The usual arithmetic conversions: unsigned wins.
    const isUnsigned = a.unsigned || b.unsigned;
    const x = isUnsigned ? BigInt.asUintN(64, a.v) : a.v;
    const y = isUnsigned ? BigInt.asUintN(64, b.v) : b.v;
    switch (text) {
      case '+':
        return make(x + y, isUnsigned);
      case '-':
        return make(x - y, isUnsigned);
      case '*':
        return make(x * y, isUnsigned);
      case '/':
      case '%':
        if (y === 0n) {
          if (evaluate) this.host.fail(op, 'division by zero in #if');
          return make(0n, isUnsigned);
        }
        return make(text === '/' ? x / y : x % y, isUnsigned);
      case '&':
        return make(x & y, isUnsigned);
      case '|':
        return make(x | y, isUnsigned);
      case '^':
        return make(x ^ y, isUnsigned);
      case '==':
        return bool(x === y);
      case '!=':
        return bool(x !== y);
      case '<':
        return bool(x < y);
      case '>':
        return bool(x > y);
      case '<=':
        return bool(x <= y);
      case '>=':
        return bool(x >= y);
      default:
        return this.host.fail(op, `token "${text}" is not valid in preprocessor expressions`);
    }
  }

  private parseUnary(evaluate: boolean): Value {
    const t = this.take();
    // Parentheses and unary operators recurse; keep clear of the JS stack limit.
    if (++this.depth > MAX_NESTING) this.host.fail(t, '#if expression nested too deeply');
    try {
      return this.parseUnaryToken(t, evaluate);
    } finally {
      this.depth--;
    }
  }

  private parseUnaryToken(t: Token, evaluate: boolean): Value {
    const previousOperator = this.lastOperator;
    const afterOpenParen = this.lastWasOpenParen;
    this.lastWasOpenParen = false;
    switch (t.kind) {
      case TK.Number:
        return parseNumber(t, this.host);
      case TK.Char:
        return parseCharConstant(t, this.host);
      case TK.Ident:
        return this.identifier(t);
      case TK.EOF:
        if (afterOpenParen) this.host.fail(t, "missing expression between '(' and ')'");
        if (previousOperator !== null) this.host.fail(t, `operator '${previousOperator.text}' has no right operand`);
        return this.host.fail(t, '#if with no expression');
      case TK.Punct:
        break;
      default:
        return this.host.fail(t, `token "${t.text}" is not valid in preprocessor expressions`);
    }
    switch (t.text) {
      case '(': {
        const close = this.peek();
        if (close.kind === TK.Punct && close.text === ')') {
          this.host.fail(close, "missing expression between '(' and ')'");
        }
        this.lastOperator = t;
        this.lastWasOpenParen = true;
        const inner = this.parse(1, evaluate);
        const after = this.peek();
        if (after.kind !== TK.Punct || after.text !== ')') this.host.fail(t, "missing ')' in expression");
        this.take();
        return inner;
      }
      case '+':
      case '-':
      case '~':
      case '!': {
        this.lastOperator = t;
        const operand = this.parseUnary(evaluate);
        if (t.text === '+') return operand;
        if (t.text === '-') return make(-operand.v, operand.unsigned);
        if (t.text === '~') return make(~operand.v, operand.unsigned);
        return bool(operand.v === 0n);
      }
      case ')':
        if (afterOpenParen) this.host.fail(t, "missing expression between '(' and ')'");
        if (previousOperator !== null && previousOperator.text !== '(') {
          this.host.fail(t, `operator '${previousOperator.text}' has no right operand`);
        }
        return this.host.fail(t, "missing '(' in expression");
      default:
        if (t.text in BINARY_PRECEDENCE || t.text === ':') {
          if (previousOperator !== null) this.host.fail(t, `operator '${previousOperator.text}' has no right operand`);
          if (t.text === ':') this.host.fail(t, "':' without preceding '?'");
          this.host.fail(t, `operator '${t.text}' has no left operand`);
        }
        return this.host.fail(t, `token "${t.text}" is not valid in preprocessor expressions`);
    }
  }

  private identifier(t: Token): Value {
    switch (t.text) {
      case 'defined': {
        let name = this.takeRaw();
        let paren: Token | null = null;
        if (name.kind === TK.Punct && name.text === '(') {
          paren = name;
          name = this.takeRaw();
        }
        if (name.kind !== TK.Ident) this.host.fail(name, 'operator "defined" requires an identifier');
        if (paren !== null) {
          const close = this.takeRaw();
          if (close.kind !== TK.Punct || close.text !== ')') this.host.fail(close, 'missing \')\' after "defined"');
        }
        return bool(this.host.isDefined(name.text));
      }
      case '__has_include':
      case '__has_include_next': {
        const open = this.takeRaw();
        if (open.kind !== TK.Punct || open.text !== '(') this.host.fail(open, `missing '(' after "${t.text}"`);
        let spec = '';
        let first = this.host.next(false);
        if (first.kind === TK.String && first.text.startsWith('"')) {
          spec = first.text;
        } else if (first.kind === TK.Punct && first.text === '<') {
          spec = '<';
          for (;;) {
            const part = this.host.next(false);
            if (part.kind === TK.EOF) this.host.fail(t, `missing terminating > character`);
            if (part.kind === TK.Punct && part.text === '>') break;
            if (spec.length > 1 && (part.flags & TF.WS) !== 0) spec += ' ';
            spec += part.text;
          }
          spec += '>';
        } else {
          this.host.fail(first, `operator "${t.text}" requires a header-name`);
        }
        first = this.host.next(false);
        if (first.kind !== TK.Punct || first.text !== ')') this.host.fail(first, `missing ')' after "${t.text}" operand`);
        return bool(this.host.hasInclude(spec, t.text === '__has_include_next', t));
      }
      case '__has_attribute':
      case '__has_cpp_attribute':
      case '__has_builtin': {
        // No attributes or builtins exist for assembly: consume the operand, answer 0.
        const open = this.takeRaw();
        if (open.kind !== TK.Punct || open.text !== '(') this.host.fail(open, `missing '(' after "${t.text}"`);
        let depth = 1;
        while (depth > 0) {
          const part = this.takeRaw();
          if (part.kind === TK.EOF) this.host.fail(t, `missing ')' after "${t.text}" operand`);
          if (part.kind === TK.Punct && part.text === '(') depth++;
          else if (part.kind === TK.Punct && part.text === ')') depth--;
        }
        return ZERO;
      }
      default:
        // Identifiers that are not macros evaluate to 0.
        return ZERO;
    }
  }
}

function isUnaryOperator(text: string): boolean {
  return text === '+' || text === '-' || text === '~' || text === '!';
}

function shift(a: Value, b: Value, left: boolean): Value {
  // A negative count shifts the other way, as gcc does.
  let count = b.unsigned ? BigInt.asUintN(64, b.v) : b.v;
  if (count < 0n) {
    left = !left;
    count = -count;
  }
  if (left) {
    if (count >= 64n) return make(0n, a.unsigned);
    return make(a.v << count, a.unsigned);
  }
  if (count >= 64n) return make(!a.unsigned && a.v < 0n ? -1n : 0n, a.unsigned);
  return make(a.v >> count, a.unsigned);
}

/** Integer constant with optional u/l/ll suffixes; decimal, 0x hex, 0b binary or 0 octal. */
export function parseNumber(t: Token, host: Pick<ExprHost, 'fail'>): Value {
  const text = t.text;
  const lower = text.toLowerCase();
  let radix = 10;
  let digitsStart = 0;
  if (lower.startsWith('0x')) {
    radix = 16;
    digitsStart = 2;
  } else if (lower.startsWith('0b')) {
    radix = 2;
    digitsStart = 2;
  } else if (lower.startsWith('0')) {
    radix = 8;
  }
  const isFloat =
    text.includes('.') ||
    (radix === 16 && /[pP]/.test(text)) ||
    (radix !== 16 && radix !== 2 && /^[0-9]+[eE]/.test(text));
  if (isFloat) host.fail(t, 'floating constant in preprocessor expression');
  let end = digitsStart;
  const digitPattern = radix === 16 ? /[0-9a-fA-F]/ : /[0-9]/;
  while (end < text.length && digitPattern.test(text[end])) end++;
  const digits = text.slice(digitsStart, end);
  const suffix = text.slice(end);
  if (!/^(?:[uU]?(?:l|L|ll|LL)?|(?:l|L|ll|LL)[uU])$/.test(suffix) || (digits.length === 0 && radix !== 8)) {
    host.fail(t, `invalid suffix "${digits.length === 0 ? text.slice(1) : suffix}" on integer constant`);
  }
  if (radix === 8 || radix === 2) {
    const limit = radix === 8 ? 7 : 1;
    for (const ch of digits) {
      if (Number(ch) > limit) host.fail(t, `invalid digit "${ch}" in ${radix === 8 ? 'octal' : 'binary'} constant`);
    }
  }
  let value = 0n;
  const big = BigInt(radix);
  for (const ch of digits) value = value * big + BigInt(parseInt(ch, 16));
  value &= MASK64;
  const isUnsigned = /[uU]/.test(suffix) || value > INT64_MAX;
  return make(value, isUnsigned);
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  e: 27,
  E: 27,
  '\\': 92,
  "'": 39,
  '"': 34,
  '?': 63,
};

/** Character constant: `'a'`, escapes, multi-character (int), and `L'x'`. Plain char is unsigned, as on AArch64. */
export function parseCharConstant(t: Token, host: Pick<ExprHost, 'fail'>): Value {
  const wide = t.text.startsWith('L');
  const body = t.text.slice(wide ? 2 : 1, -1);
  const units: number[] = [];
  for (let i = 0; i < body.length; ) {
    const ch = body[i];
    if (ch !== '\\') {
      const cp = body.codePointAt(i) ?? 0;
      i += cp > 0xffff ? 2 : 1;
      if (wide) units.push(cp);
      else for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) units.push(byte);
      continue;
    }
    const esc = body[i + 1] ?? '';
    if (esc in SIMPLE_ESCAPES) {
      units.push(SIMPLE_ESCAPES[esc]);
      i += 2;
    } else if (/[0-7]/.test(esc)) {
      let j = i + 1;
      let v = 0;
      while (j < body.length && j < i + 4 && /[0-7]/.test(body[j])) v = v * 8 + Number(body[j++]);
      units.push(v);
      i = j;
    } else if (esc === 'x') {
      let j = i + 2;
      let v = 0;
      while (j < body.length && /[0-9a-fA-F]/.test(body[j])) v = (v * 16 + parseInt(body[j++], 16)) >>> 0;
      if (j === i + 2) host.fail(t, '\\x used with no following hex digits');
      units.push(v);
      i = j;
    } else {
      // Unknown escapes stand for the character itself (gcc warns).
      units.push(esc.charCodeAt(0) || 92);
      i += 2;
    }
  }
  if (units.length === 0) host.fail(t, 'empty character constant');
  if (wide) return signed(BigInt.asIntN(32, BigInt(units[units.length - 1])));
  if (units.length === 1) return signed(BigInt(units[0] & 0xff));
  let v = 0n;
  for (const u of units) v = ((v << 8n) | BigInt(u & 0xff)) & 0xffffffffn;
  return signed(BigInt.asIntN(32, v));
}

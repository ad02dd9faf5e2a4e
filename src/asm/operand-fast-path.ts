/**
 * A hand-written scanner for the operand shapes that make up most real
 * assembly: registers, `#number`, bare identifiers, `lsl #n`-style shifts and
 * simple memory operands (`[xN]`, `[xN, #n]`, `[xN, #n]!`, `[xN], #n`,
 * `[xN, xM{, ext #n}]`). It builds exactly the IR the nearley grammar builds
 * (test/asm/operand-fast-path.test.ts checks this on every corpus line) and
 * returns undefined for anything else, which then goes to the grammar.
 * It exists because the Earley parser costs ~20 µs a line.
 */
import type { Expr, Operand, RegRef, Shift, ShiftOp } from '../isa/operand-ir.js';
import { parseRegister } from './grammar-builders.js';

const SHIFT_OPS = new Set(['lsl', 'lsr', 'asr', 'ror', 'msl', 'uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx']);

const enum Ch {
  Space = 32, Tab = 9, Hash = 35, Comma = 44, Minus = 45, LBracket = 91, RBracket = 93, Bang = 33,
  Zero = 48, Nine = 57,
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 36;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= Ch.Zero && c <= Ch.Nine);
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  skipWs(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== Ch.Space && c !== Ch.Tab) break;
      this.i++;
    }
  }

  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  ident(): string | undefined {
    const s = this.s;
    const start = this.i;
    if (start >= s.length || !isIdentStart(s.charCodeAt(start))) return undefined;
    let j = start + 1;
    while (j < s.length && isIdentPart(s.charCodeAt(j))) j++;
    this.i = j;
    return s.slice(start, j);
  }

  /** A plain number (decimal, 0x hex, 0b binary; leading 0 = octal as in gas). */
  number(): bigint | undefined {
    const s = this.s;
    const start = this.i;
    let j = start;
    if (j >= s.length) return undefined;
    const c0 = s.charCodeAt(j);
    if (c0 < Ch.Zero || c0 > Ch.Nine) return undefined;
    let text: string;
    if (c0 === Ch.Zero && (s[j + 1] === 'x' || s[j + 1] === 'X')) {
      j += 2;
      const digits = j;
      while (j < s.length && /[0-9a-fA-F]/.test(s[j]!)) j++;
      if (j === digits) return undefined;
      text = s.slice(start, j);
    } else if (c0 === Ch.Zero && (s[j + 1] === 'b' || s[j + 1] === 'B') && (s[j + 2] === '0' || s[j + 2] === '1')) {
      j += 2;
      while (j < s.length && (s[j] === '0' || s[j] === '1')) j++;
      text = s.slice(start, j);
    } else {
      while (j < s.length && s.charCodeAt(j) >= Ch.Zero && s.charCodeAt(j) <= Ch.Nine) j++;
      text = s.slice(start, j);
    }
    // A letter, '.' or '_' right after the digits is a local label, float or something else: not ours.
    if (j < s.length && isIdentPart(s.charCodeAt(j))) return undefined;
    this.i = j;
    if (text.length > 1 && text[0] === '0' && /^[0-9]+$/.test(text)) {
      if (!/^[0-7]+$/.test(text)) return undefined;
      return BigInt('0o' + text.slice(1));
    }
    return BigInt(text);
  }

  /** A number → the grammar's Expr for it (hex spellings marked, as the grammar does). */
  numberExpr(): Expr | undefined {
    const s = this.s, at = this.i;
    const hex = s.charCodeAt(at) === Ch.Zero && (s[at + 1] === 'x' || s[at + 1] === 'X');
    const v = this.number();
    if (v === undefined) return undefined;
    return hex ? { t: 'num', v, hex: true } : { t: 'num', v };
  }

  /** `-`? number → the grammar's Expr for it. */
  signedNumberExpr(): Expr | undefined {
    if (this.peek() === Ch.Minus) {
      this.i++;
      this.skipWs();
      const a = this.numberExpr();
      return a === undefined ? undefined : { t: 'un', op: '-', a };
    }
    return this.numberExpr();
  }

  /** True at the end of an operand: a comma or the end of the text (after blanks). */
  atOperandEnd(): boolean {
    this.skipWs();
    const c = this.peek();
    return c === -1 || c === Ch.Comma;
  }
}

function shiftName(name: string): ShiftOp | undefined {
  // The lexer's keywords are the lower- and upper-case spellings only.
  const lower = name.toLowerCase();
  if (!SHIFT_OPS.has(lower)) return undefined;
  return name === lower || name === name.toUpperCase() ? (lower as ShiftOp) : undefined;
}

function identExpr(name: string): Expr {
  return name === '.' ? { t: 'dot' } : { t: 'sym', name };
}

function memoryOperand(sc: Scanner): Operand | undefined {
  sc.i++; // '['
  sc.skipWs();
  const baseName = sc.ident();
  if (baseName === undefined) return undefined;
  const base: RegRef = parseRegister(baseName) ?? { cls: 'w', num: -1 };
  sc.skipWs();
  let c = sc.peek();
  if (c === Ch.RBracket) {
    sc.i++;
    sc.skipWs();
    if (sc.peek() === Ch.Bang) { sc.i++; return { k: 'mem', base, mode: 'pre' }; }
    return { k: 'mem', base, mode: 'offset' };
  }
  if (c !== Ch.Comma) return undefined;
  sc.i++;
  sc.skipWs();
  let offset: { imm: Expr } | { reg: RegRef; shift?: Shift };
  if (sc.peek() === Ch.Hash) {
    sc.i++;
    sc.skipWs();
    const e = sc.signedNumberExpr();
    if (!e) return undefined;
    offset = { imm: e };
  } else {
    const name = sc.ident();
    if (name === undefined) return undefined;
    const reg = parseRegister(name);
    if (!reg) return undefined; // a symbolic offset: leave it to the grammar
    sc.skipWs();
    let shift: Shift | undefined;
    if (sc.peek() === Ch.Comma) {
      sc.i++;
      sc.skipWs();
      const sname = sc.ident();
      const op = sname !== undefined ? shiftName(sname) : undefined;
      if (!op) return undefined;
      sc.skipWs();
      if (sc.peek() === Ch.Hash) {
        sc.i++;
        sc.skipWs();
        const e = sc.signedNumberExpr();
        if (!e) return undefined;
        shift = { op, amount: e };
      } else {
        shift = { op };
      }
    }
    offset = { reg, shift };
  }
  sc.skipWs();
  if (sc.peek() !== Ch.RBracket) return undefined;
  sc.i++;
  sc.skipWs();
  if (sc.peek() === Ch.Bang) { sc.i++; return { k: 'mem', base, offset, mode: 'pre' }; }
  return { k: 'mem', base, offset, mode: 'offset' };
}

function operand(sc: Scanner): Operand | undefined {
  sc.skipWs();
  const c = sc.peek();
  if (c === Ch.Hash) {
    sc.i++;
    sc.skipWs();
    const e = sc.signedNumberExpr();
    if (!e) return undefined;
    return { k: 'imm', e, hash: true };
  }
  if (c === Ch.LBracket) return memoryOperand(sc);
  if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) {
    const e = sc.signedNumberExpr();
    if (!e) return undefined;
    return { k: 'imm', e, hash: false };
  }
  const name = sc.ident();
  if (name === undefined) return undefined;
  const op = shiftName(name);
  if (op) {
    sc.skipWs();
    if (sc.peek() === Ch.Hash) {
      sc.i++;
      sc.skipWs();
      const e = sc.signedNumberExpr();
      if (!e) return undefined;
      return { k: 'shift', shift: { op, amount: e } };
    }
    if (sc.atOperandEnd()) return { k: 'shift', shift: { op } };
    return undefined;
  }
  const reg = parseRegister(name);
  if (reg) return { k: 'reg', reg };
  return { k: 'imm', e: identExpr(name), hash: false };
}

export function scanSimpleOperands(text: string): Operand[] | undefined {
  const sc = new Scanner(text);
  sc.skipWs();
  if (sc.peek() === -1) return [];
  const out: Operand[] = [];
  for (;;) {
    const op = operand(sc);
    if (!op) return undefined;
    out.push(op);
    sc.skipWs();
    const c = sc.peek();
    if (c === -1) return out;
    if (c !== Ch.Comma) return undefined;
    sc.i++;
  }
}

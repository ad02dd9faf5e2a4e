/**
 * Post-processors for the nearley grammar's rules (grammar/aarch64.ne): they
 * build the operand IR. Register names are recognised here, after parsing,
 * because in gas a register is just an identifier in an operand position.
 */
import type { Token } from './lexer.js';
import type { Expr, Operand, RegRef, Shift, ShiftOp } from '../isa/operand-ir.js';

type D = any[]; // nearley hands each rule its matched parts as an untyped array


const registerCache = new Map<string, RegRef | null>();

/**
 * Maps register names to RegRefs; `.req` aliases are resolved by the assembler
 * before parsing. RegRefs are shared and must not be mutated (copy to change).
 */
export function parseRegister(name: string): RegRef | undefined {
  const cached = registerCache.get(name);
  if (cached !== undefined) return cached ?? undefined;
  const r = parseRegisterUncached(name);
  if (registerCache.size < 4096) registerCache.set(name, r ? Object.freeze(r) as RegRef : null);
  return r;
}

function parseRegisterUncached(name: string): RegRef | undefined {
  const lower = name.toLowerCase();
  switch (lower) {
    case 'sp': return { cls: 'sp', num: 31 };
    case 'wsp': return { cls: 'wsp', num: 31 };
    case 'xzr': return { cls: 'xzr', num: 31 };
    case 'wzr': return { cls: 'wzr', num: 31 };
    case 'lr': return { cls: 'x', num: 30 };
    case 'fp': return { cls: 'x', num: 29 };
  }
  const m = /^([xwbhsdqvzp])([0-9]{1,2})(?:\.([0-9]*[bhsdq]))?$/.exec(lower);
  if (!m) return undefined;
  const num = Number(m[2]);
  const cls = m[1] as RegRef['cls'];
  if (num > 31 || (num === 31 && (cls === 'x' || cls === 'w'))) return undefined;
  if (m[3] !== undefined && cls !== 'v' && cls !== 'z' && cls !== 'p') return undefined;
  if (cls === 'z' || cls === 'p') return undefined; // SVE is not part of the supported ISA
  return m[3] !== undefined ? { cls, num, arrangement: m[3] } : { cls, num };
}

function asOperand(e: Expr, hash: boolean): Operand {
  if (!hash && e.t === 'sym') {
    const reg = parseRegister(e.name);
    if (reg) return { k: 'reg', reg };
  }
  return { k: 'imm', e, hash };
}

function regOf(e: Expr): RegRef | undefined {
  return e.t === 'sym' ? parseRegister(e.name) : undefined;
}

export function operandList(d: D): Operand[] {
  const out: Operand[] = [d[0]];
  for (const rest of d[1]) out.push(rest[1]);
  return out;
}

export function exprList(d: D): Expr[] {
  const out: Expr[] = [d[0]];
  for (const rest of d[1]) out.push(rest[1]);
  return out;
}

export const hashImm = (d: D): Operand => ({ k: 'imm', e: d[1], hash: true });
export const bareImm = (d: D): Operand => asOperand(d[0], false);
export const literal = (d: D): Operand => ({ k: 'literal', e: d[1] });

export const shiftNoAmount = (d: D): Operand => ({ k: 'shift', shift: { op: d[0].value.toLowerCase() as ShiftOp } });
export const shiftAmount = (d: D): Operand => ({ k: 'shift', shift: { op: d[0].value.toLowerCase() as ShiftOp, amount: d[2] } });
export const shiftAmountBare = (d: D): Operand => ({ k: 'shift', shift: { op: d[0].value.toLowerCase() as ShiftOp, amount: d[1] } });

function baseReg(e: Expr): RegRef {
  // A non-register base is reported by the operand kind ("base register must be …").
  return regOf(e) ?? { cls: 'w', num: -1 };
}

export function memBase(d: D): Operand {
  return { k: 'mem', base: baseReg(d[1]), mode: d[3] ? 'pre' : 'offset' };
}

export function memOffset(d: D): Operand {
  const off = d[3] as { imm: Expr; shift?: Shift };
  const reg = regOf(off.imm);
  const offset = reg ? { reg, shift: off.shift } : { imm: off.imm };
  return { k: 'mem', base: baseReg(d[1]), offset, mode: d[5] ? 'pre' : 'offset' };
}

export function regListItems(d: D): RegRef[] {
  const items: Expr[] = [d[0], ...d[1].map((x: D) => x[1])];
  // `{v0.4s-v3.4s}` also parses as one subtraction (nearley keeps that reading first): it is the range.
  const only = items[0]!;
  if (items.length === 1 && only.t === 'bin' && only.op === '-' && regOf(only.a) && regOf(only.b)) return regRange([only.a, null, only.b]);
  return items.map((e) => regOf(e) ?? { cls: 'w', num: -1 });
}

export function regRange(d: D): RegRef[] {
  const a = regOf(d[0]);
  const b = regOf(d[2]);
  // GNU as rejects a range that wraps past v31 ({v31.16b-v1.16b}); the comma form may wrap.
  if (!a || !b || b.num < a.num) return [{ cls: 'w', num: -1 }];
  const out: RegRef[] = [];
  for (let n = a.num; ; n = (n + 1) & 31) {
    out.push({ ...a, num: n });
    if (n === b.num || out.length > 4) break;
  }
  return out;
}

export function regList(d: D): Operand {
  const index = d[3] ? d[3][1] : undefined;
  return { k: 'list', regs: d[1], index: index && index.t === 'num' ? Number(index.v) : undefined };
}

export function elementIndex(d: D): Operand {
  const reg = parseRegister(d[0].value);
  const idx: Expr = d[2];
  if (reg && idx.t === 'num') return { k: 'reg', reg: { ...reg, index: Number(idx.v) } };
  // Not a register element: keep it as an (invalid) immediate so the operand kind reports it.
  return { k: 'imm', e: { t: 'sym', name: d[0].value }, hash: false };
}

export const reloc = (d: D): Expr => ({ t: 'reloc', op: d[0].value.slice(1, -1).toLowerCase(), a: d[1] });

export function binary(d: D): Expr {
  const opTok = Array.isArray(d[1]) ? d[1][0] : d[1];
  return { t: 'bin', op: opTok.value, a: d[0], b: d[2] };
}

export function unary(d: D): Expr {
  const opTok = Array.isArray(d[0]) ? d[0][0] : d[0];
  return { t: 'un', op: opTok.value, a: d[1] };
}

export function number(d: D): Expr {
  const text: string = d[0].value;
  if (/^0[bB]/.test(text)) return { t: 'num', v: BigInt(text) };
  if (/^0[xX]/.test(text)) return { t: 'num', v: BigInt(text), hex: true };
  // gas reads a leading 0 as octal.
  if (text.length > 1 && text[0] === '0') return { t: 'num', v: BigInt('0o' + text.slice(1)) };
  return { t: 'num', v: BigInt(text) };
}

export function charConst(d: D): Expr {
  const text: string = d[0].value;
  let body = text.slice(1);
  if (body.endsWith("'") && body.length > 1) body = body.slice(0, -1);
  const ch = body.startsWith('\\') ? unescapeChar(body.slice(1)) : body.charCodeAt(0);
  return { t: 'num', v: BigInt(ch) };
}

function unescapeChar(s: string): number {
  const map: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, '\\': 92, "'": 39, '"': 34, '0': 0 };
  return map[s[0] ?? ''] ?? s.charCodeAt(0);
}

export const floatConst = (d: D): Expr => ({ t: 'str', v: d[0].value });
export const stringConst = (d: D): Expr => ({ t: 'str', v: d[0].value });

export function localRef(d: D): Expr {
  const text: string = d[0].value;
  return { t: 'localref', n: Number(text.slice(0, -1)), dir: text.endsWith('b') ? 'b' : 'f' };
}

export function symbol(d: D): Expr {
  const name: string = d[0].value;
  if (name === '.') return { t: 'dot' };
  return { t: 'sym', name };
}

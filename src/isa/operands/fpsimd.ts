/**
 * Operand kinds of the FP/SIMD table (src/isa/tables/fp-simd.ts).
 *
 * Vector registers:
 *   `Vd.B` `Vd.H` `Vd.S` `Vd.D`  element size fixed by the entry, count by Q (8b/16b, 4h/8h, 2s/4s, 1d/2d)
 *   `Vd.T!1d` `Vd.T!d`           arrangement from size:Q without 1d / without 1d and 2d
 *   `Vd.s[is]`                   one element; the index is the named field (its width bounds it)
 *   `Vd.d[1]`                    the upper doubleword of FMOV (general)
 * Register lists of the structure loads/stores:
 *   `list3.T`, `list3.T!1d`      three consecutive registers, arrangement from size:Q
 *   `list3.s[]`                  three consecutive registers, one lane (index in Q:S:size)
 *   `mem.vbase`                  `[Xn|sp]` only (no `#0` offset, unlike `mem.base`)
 *   `mem.vpost`                  `[Xn|sp], #<bytes transferred>` or `[Xn|sp], Xm` (Rm = 31 for the immediate)
 * Immediates:
 *   `#fpimm` / `#simd.fpimm`     8-bit float immediate (imm8, or abc:defgh of AdvSIMD modified immediate)
 *   `#fpzero`                    `#0.0` of fcmp/fcmpe
 *   `#simd.imm8`                 byte of a modified immediate (GNU accepts -128..255)
 *   `#simd.imm64`                64-bit byte mask (each byte 0x00 or 0xff) of `movi Dd / Vd.2d`
 *   `lsl8?` / `lsl0?` / `msl`     modified-immediate shifts: lsl by 8 * cmsh, only lsl #0, msl #8/#16
 *   `#fbits`                     fixed-point fraction bits, encoded as scale = 64 - fbits
 *   `#ext`                       EXT byte index, 0..7 (8b) or 0..15 (16b)
 */
import type { Expr, Operand, RegRef } from '../operand-ir.js';
import type { Fields, InsnDef } from '../insn-def.js';
import { decodeFp8, kindHelpers, registerKinds, type EncodeEnv, type OperandKind } from '../operand-kinds.js';

const { immOperand, constantOf, inRange, baseRegister, baseText } = kindHelpers;

type ElementSize = 'b' | 'h' | 's' | 'd';

const ARRANGEMENTS = ['8b', '16b', '4h', '8h', '2s', '4s', '1d', '2d'];
const ELEMENT_BYTES: Record<ElementSize, number> = { b: 1, h: 2, s: 4, d: 8 };

function fieldWidth(def: InsnDef, name: string): number {
  const spec = def.fields.find((s) => s.name === name);
  if (!spec) throw new Error(`${def.id}: no field ${name}`);
  return spec.width;
}

/** Sets a field that several operands share (Q, size), reporting a clash with an earlier operand or the pattern. */
function setShared(f: Fields, name: string, v: number): boolean {
  if (f[name] !== undefined && f[name] !== v) return false;
  f[name] = v;
  return true;
}

function vectorReg(op: Operand | undefined): RegRef | string {
  if (!op || op.k !== 'reg' || op.reg.cls !== 'v') return 'expected a SIMD vector register';
  return op.reg;
}

// ---------------------------------------------------------------------------
// whole vector registers

/** Element size fixed by the entry; Q chooses 64 or 128 bits. */
function vectorByQ(field: string, esize: ElementSize): OperandKind {
  const forms = ARRANGEMENTS.filter((a) => a.endsWith(esize));
  return {
    fields: [field, 'Q'],
    encode(ops, i, f) {
      const r = vectorReg(ops[i]);
      if (typeof r === 'string') return r;
      if (r.index !== undefined) return 'expected a vector register without an element index';
      const q = forms.indexOf(r.arrangement ?? '');
      if (q < 0) return `invalid arrangement .${r.arrangement ?? '(none)'}: expected .${forms.join(' or .')}`;
      if (!setShared(f, 'Q', q)) return 'operand arrangements differ';
      f[field] = r.num;
      return 1;
    },
    format: (f) => `v${f[field]}.${forms[f['Q']!]}`,
  };
}

/** Arrangement from size:Q, limited to `allowed`. */
function vectorBySizeQ(field: string, allowed: readonly string[]): OperandKind {
  return {
    fields: [field, 'size', 'Q'],
    encode(ops, i, f) {
      const r = vectorReg(ops[i]);
      if (typeof r === 'string') return r;
      if (r.index !== undefined) return 'expected a vector register without an element index';
      const a = r.arrangement ?? '';
      const idx = ARRANGEMENTS.indexOf(a);
      if (idx < 0 || !allowed.includes(a)) return `invalid arrangement .${a || '(none)'}`;
      if (!setShared(f, 'size', idx >> 1) || !setShared(f, 'Q', idx & 1)) return 'operand arrangements differ';
      f[field] = r.num;
      return 1;
    },
    format: (f) => `v${f[field]}.${ARRANGEMENTS[(f['size']! << 1) | f['Q']!]}`,
  };
}

/** GNU accepts `v0.s[1]` and also a full arrangement with the same element size (`v0.4s[1]`). */
function elementArrangementOk(arrangement: string | undefined, esize: ElementSize): boolean {
  if (arrangement === esize) return true;
  return arrangement !== undefined && ARRANGEMENTS.includes(arrangement) && arrangement.endsWith(esize);
}

/** One vector element `Vn.<esize>[index]`; the index lives in `indexField` (or is the constant `fixedIndex`). */
function vectorElement(field: string, esize: ElementSize, indexField: string | undefined, fixedIndex?: number): OperandKind {
  return {
    fields: indexField ? [field, indexField] : [field],
    encode(ops, i, f, _env, def) {
      const r = vectorReg(ops[i]);
      if (typeof r === 'string') return r;
      if (r.index === undefined) return 'expected a vector element v<n>.<T>[<index>]';
      if (!elementArrangementOk(r.arrangement, esize)) return `expected element size .${esize}`;
      if (indexField) {
        const max = (1 << fieldWidth(def, indexField)) - 1;
        if (r.index < 0 || r.index > max) return `register element index out of range 0 to ${max}`;
        f[indexField] = r.index;
      } else if (r.index !== fixedIndex) {
        return `expected element index ${fixedIndex}`;
      }
      f[field] = r.num;
      return 1;
    },
    format: (f) => `v${f[field]}.${esize}[${indexField ? f[indexField] : fixedIndex}]`,
  };
}

// ---------------------------------------------------------------------------
// register lists of structure loads/stores

function listText(first: number, count: number, suffix: string, index?: number): string {
  const last = (first + count - 1) & 31;
  const regs = count > 2 && last > first
    ? `v${first}${suffix}-v${last}${suffix}`
    : Array.from({ length: count }, (_x, k) => `v${(first + k) & 31}${suffix}`).join(', ');
  return `{${regs}}${index === undefined ? '' : `[${index}]`}`;
}

/** Checks a `{...}` list of `count` consecutive vector registers with one common arrangement string. */
function listRegisters(op: Operand | undefined, count: number): { first: number; arrangement: string; index?: number } | string {
  if (!op || op.k !== 'list') return 'expected a vector register list {v<n>.<T>, ...}';
  if (op.regs.length === 0) return 'invalid register list';
  if (op.regs.length !== count) return op.regs.length > 4 ? 'too many registers in vector register list' : `expected a list of ${count} register${count > 1 ? 's' : ''}`;
  const first = op.regs[0]!;
  for (let k = 0; k < op.regs.length; k++) {
    const r = op.regs[k]!;
    if (r.cls !== 'v' || r.index !== undefined) return 'expected SIMD vector registers in the list';
    if (r.num !== ((first.num + k) & 31)) return 'invalid register list: registers must be consecutive';
    if ((r.arrangement ?? '') !== (first.arrangement ?? '')) return 'type mismatch in vector register list';
  }
  return { first: first.num, arrangement: first.arrangement ?? '', index: op.index };
}

/** Whole-register list (LD1..LD4 multiple structures, LDnR): arrangement from size:Q. */
function vectorList(count: number, allowed: readonly string[]): OperandKind {
  return {
    fields: ['Rt', 'size', 'Q'],
    encode(ops, i, f) {
      const l = listRegisters(ops[i], count);
      if (typeof l === 'string') return l;
      if (l.index !== undefined) return 'unexpected element index after a whole-register list';
      const idx = ARRANGEMENTS.indexOf(l.arrangement);
      if (idx < 0 || !allowed.includes(l.arrangement)) return `invalid arrangement .${l.arrangement || '(none)'} in register list`;
      if (!setShared(f, 'size', idx >> 1) || !setShared(f, 'Q', idx & 1)) return 'operand mismatch';
      f['Rt'] = l.first;
      return 1;
    },
    format: (f) => listText(f['Rt']!, count, `.${ARRANGEMENTS[(f['size']! << 1) | f['Q']!]}`),
  };
}

/** Fields that hold a lane index of a single-structure load/store: index = Q:S:size, low bits fixed per size. */
const LANE_FIELDS: Record<ElementSize, string[]> = { b: ['Q', 'S', 'size'], h: ['Q', 'S', 'size1'], s: ['Q', 'S'], d: ['Q'] };

function laneToFields(esize: ElementSize, index: number, f: Fields): void {
  switch (esize) {
    case 'b': f['Q'] = index >> 3; f['S'] = (index >> 2) & 1; f['size'] = index & 3; break;
    case 'h': f['Q'] = index >> 2; f['S'] = (index >> 1) & 1; f['size1'] = index & 1; break;
    case 's': f['Q'] = index >> 1; f['S'] = index & 1; break;
    case 'd': f['Q'] = index; break;
  }
}

function laneFromFields(esize: ElementSize, f: Fields): number {
  switch (esize) {
    case 'b': return (f['Q']! << 3) | (f['S']! << 2) | f['size']!;
    case 'h': return (f['Q']! << 2) | (f['S']! << 1) | f['size1']!;
    case 's': return (f['Q']! << 1) | f['S']!;
    case 'd': return f['Q']!;
  }
}

/** One-lane list (`{v0.s, v1.s}[3]`); GNU wants the bare element size, not an arrangement. */
function laneList(count: number, esize: ElementSize): OperandKind {
  const lanes = 16 / ELEMENT_BYTES[esize];
  return {
    fields: ['Rt', ...LANE_FIELDS[esize]],
    encode(ops, i, f) {
      const l = listRegisters(ops[i], count);
      if (typeof l === 'string') return l;
      if (l.arrangement !== esize) {
        return ARRANGEMENTS.includes(l.arrangement) ? 'expected element type rather than vector type' : `expected element size .${esize}`;
      }
      if (l.index === undefined) return 'expected index';
      if (l.index < 0 || l.index >= lanes) return `register element index out of range 0 to ${lanes - 1}`;
      laneToFields(esize, l.index, f);
      f['Rt'] = l.first;
      return 1;
    },
    format: (f) => listText(f['Rt']!, count, `.${esize}`, laneFromFields(esize, f)),
  };
}

/** Bytes one structure load/store moves: the post-index immediate must equal it. */
function transferBytes(f: Fields, def: InsnDef): number {
  const selem = Number(def.params['selem']);
  switch (def.params['form']) {
    case 'multiple': return Number(def.params['regs']) * (f['Q'] ? 16 : 8);
    case 'replicate': return selem << f['size']!;
    default: return selem * ELEMENT_BYTES[def.params['esize'] as ElementSize];
  }
}

const vectorBase: OperandKind = {
  fields: ['Rn'],
  encode(ops, i, f) {
    const op = ops[i];
    if (!op || op.k !== 'mem') return 'expected an address [Xn|SP]';
    if (op.mode === 'pre') return 'missing offset in the pre-indexed address';
    if (op.mode !== 'offset' || op.offset) return 'invalid addressing mode';
    const base = baseRegister(op.base);
    if (typeof base === 'string') return base;
    f['Rn'] = base;
    return 1;
  },
  format: (f) => `[${baseText(f['Rn']!)}]`,
};

const vectorPostIndex: OperandKind = {
  fields: ['Rn', 'Rm'],
  encode(ops, i, f, env, def) {
    const op = ops[i];
    if (!op || op.k !== 'mem') return 'expected an address [Xn|SP]';
    if (op.mode !== 'post' || op.offset || !op.postOffset) return 'expected a post-indexed address [Xn|SP], #imm or Xm';
    const base = baseRegister(op.base);
    if (typeof base === 'string') return base;
    f['Rn'] = base;
    const post = op.postOffset;
    if ('reg' in post) {
      if (post.reg.cls !== 'x') return 'integer 64-bit register expected';
      f['Rm'] = post.reg.num;
      return 1;
    }
    const v = env.constant(post.imm);
    if (v === undefined) return 'post-increment must be a constant';
    if (v !== BigInt(transferBytes(f, def))) return 'invalid post-increment amount';
    f['Rm'] = 31;
    return 1;
  },
  format: (f, _env, def) => `[${baseText(f['Rn']!)}], ${f['Rm'] === 31 ? `#${transferBytes(f, def)}` : `x${f['Rm']}`}`,
};

// ---------------------------------------------------------------------------
// floating-point immediates

const FP8_VALUES = Array.from({ length: 256 }, (_x, i) => decodeFp8(i));

function encodeFp8(v: number): number | undefined {
  const i = FP8_VALUES.indexOf(v);
  return i < 0 || Object.is(v, -0) ? undefined : i;
}

/** IEEE bits → value, for the `#0x3f800000` spelling (GNU reads a hex integer as the bit pattern). */
function floatFromBits(bits: bigint, width: number): number | undefined {
  if (bits < 0n || bits >= 1n << BigInt(width)) return undefined;
  const view = new DataView(new ArrayBuffer(8));
  if (width === 32) { view.setUint32(0, Number(bits)); return view.getFloat32(0); }
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/**
 * The value of an FMOV immediate. GNU as reads a floating-point literal (with
 * an optional sign) or a decimal integer as a value, and a hex integer
 * (expression) as the register's bit pattern; the operand IR marks numbers
 * written in hex.
 */
function fpImmediateValue(e: Expr, env: EncodeEnv, width: number): number | undefined {
  if (e.t === 'str') return /^[0-9.eE+-]+$/.test(e.v) ? Number(e.v) : undefined;
  if (e.t === 'un' && (e.op === '-' || e.op === '+')) {
    const inner = e.a.t === 'str' ? fpImmediateValue(e.a, env, width) : e.a.t === 'num' ? Number(e.a.v) : undefined;
    return inner === undefined ? undefined : e.op === '-' ? -inner : inner;
  }
  const v = env.constant(e);
  if (v === undefined) return undefined;
  if (e.t === 'num' && !e.hex) return Number(v);
  return floatFromBits(v, width);
}

function formatFloat(v: number): string {
  const [m, e] = v.toExponential(18).split('e');
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** The 8-bit float immediate, in imm8 (scalar FMOV) or abc:defgh (vector FMOV). `params.fpbits` = element width. */
function fpImmediate(split: boolean): OperandKind {
  return {
    fields: split ? ['abc', 'defgh'] : ['imm8'],
    encode(ops, i, f, env, def) {
      const e = immOperand(ops[i]);
      if (!e) return 'expected a floating-point immediate';
      const value = fpImmediateValue(e, env, Number(def.params['fpbits'] ?? 32));
      const enc = value === undefined || Number.isNaN(value) ? undefined : encodeFp8(value);
      if (enc === undefined) return 'invalid floating-point constant';
      if (split) { f['abc'] = enc >> 5; f['defgh'] = enc & 31; } else f['imm8'] = enc;
      return 1;
    },
    format: (f) => `#${formatFloat(decodeFp8(split ? (f['abc']! << 5) | f['defgh']! : f['imm8']!))}`,
  };
}

/** `#0.0` of the compare-with-zero forms; GNU also takes `#0` and `0.0`, but not `#-0.0`. */
const fpZero: OperandKind = {
  fields: [],
  encode(ops, i, _f, env) {
    const e = immOperand(ops[i]);
    if (e && e.t === 'str' && /^[0-9.eE+-]+$/.test(e.v) && Number(e.v) === 0) return 1;
    if (e && e.t !== 'str' && e.t !== 'un' && env.constant(e) === 0n) return 1;
    return 'immediate zero expected';
  },
  format: () => '#0.0',
};

// ---------------------------------------------------------------------------
// AdvSIMD modified immediates

const simdByte: OperandKind = {
  fields: ['abc', 'defgh'],
  encode(ops, i, f, env) {
    const v = constantOf(ops[i], env);
    if (typeof v === 'string') return v;
    const err = inRange(v, -128n, 255n, 'immediate value');
    if (err) return err;
    const b = Number(v) & 0xff;
    f['abc'] = b >> 5; f['defgh'] = b & 31;
    return 1;
  },
  format: (f) => kindHelpers.imm((f['abc']! << 5) | f['defgh']!),
};

/** `movi Dd|Vd.2d, #imm`: each byte all zeros or all ones; bit i of abc:defgh is byte i. */
const simdByteMask: OperandKind = {
  fields: ['abc', 'defgh'],
  encode(ops, i, f, env) {
    const v0 = constantOf(ops[i], env);
    if (typeof v0 === 'string') return v0;
    if (v0 < -(1n << 63n) || v0 >= 1n << 64n) return 'immediate out of range';
    const v = BigInt.asUintN(64, v0);
    let bits = 0;
    for (let b = 0; b < 8; b++) {
      const byte = (v >> BigInt(8 * b)) & 0xffn;
      if (byte === 0xffn) bits |= 1 << b;
      else if (byte !== 0n) return 'invalid immediate: each byte must be 0x00 or 0xff';
    }
    f['abc'] = bits >> 5; f['defgh'] = bits & 31;
    return 1;
  },
  format(f) {
    const bits = (f['abc']! << 5) | f['defgh']!;
    let v = 0n;
    for (let b = 0; b < 8; b++) if (bits & (1 << b)) v |= 0xffn << BigInt(8 * b);
    return kindHelpers.imm(v);
  },
};

function shiftAmount(op: Operand | undefined, env: EncodeEnv, name: 'lsl' | 'msl'): bigint | string | undefined {
  if (!op) return undefined;
  if (op.k !== 'shift' || op.shift.op !== name) return 'invalid shift operator';
  if (!op.shift.amount) return 'missing shift amount';
  const v = env.constant(op.shift.amount);
  return v === undefined ? 'shift amount must be a constant' : v;
}

/** Optional `lsl #n` with n = 8 * cmsh (cmsh is 1 bit for halfwords, 2 bits for words). */
const simdLsl: OperandKind = {
  fields: ['cmsh'],
  encode(ops, i, f, env, def) {
    const amount = shiftAmount(ops[i], env, 'lsl');
    if (typeof amount === 'string') return amount;
    if (amount === undefined) { f['cmsh'] = 0; return 0; }
    const max = ((1 << fieldWidth(def, 'cmsh')) - 1) * 8;
    if (amount < 0n || amount > BigInt(max) || amount % 8n !== 0n) return `shift amount must be a multiple of 8 in 0 to ${max}`;
    f['cmsh'] = Number(amount) / 8;
    return 1;
  },
  format: (f) => (f['cmsh'] ? `lsl #${f['cmsh']! * 8}` : undefined),
};

/** Byte forms accept an explicit `lsl #0` and nothing else. */
const simdLslZero: OperandKind = {
  fields: [],
  encode(ops, i, _f, env) {
    const amount = shiftAmount(ops[i], env, 'lsl');
    if (typeof amount === 'string') return amount;
    if (amount === undefined) return 0;
    return amount === 0n ? 1 : 'shift amount must be 0';
  },
  format: () => undefined,
};

/** `msl #8` (cmsh=0) or `msl #16` (cmsh=1). */
const simdMsl: OperandKind = {
  fields: ['cmsh'],
  encode(ops, i, f, env) {
    const amount = shiftAmount(ops[i], env, 'msl');
    if (amount === undefined) return 'expected msl #8 or msl #16';
    if (typeof amount === 'string') return amount;
    if (amount !== 8n && amount !== 16n) return 'shift amount must be 8 or 16';
    f['cmsh'] = amount === 16n ? 1 : 0;
    return 1;
  },
  format: (f) => `msl #${f['cmsh'] ? 16 : 8}`,
};

// ---------------------------------------------------------------------------
// other immediates

/** Fixed-point fraction bits of scvtf/ucvtf/fcvtzs/fcvtzu: 1..params.gprbits, encoded as 64 - fbits. */
const fractionBits: OperandKind = {
  fields: ['scale'],
  encode(ops, i, f, env, def) {
    const v = constantOf(ops[i], env);
    if (typeof v === 'string') return v;
    const err = inRange(v, 1n, BigInt(def.params['gprbits'] ?? 64), 'immediate value');
    if (err) return err;
    f['scale'] = 64 - Number(v);
    return 1;
  },
  format: (f) => `#${64 - f['scale']!}`,
};

/** EXT's byte index: 0..7 for 8b, 0..15 for 16b (Q comes from the register operands). */
const extIndex: OperandKind = {
  fields: ['imm4'],
  encode(ops, i, f, env) {
    const v = constantOf(ops[i], env);
    if (typeof v === 'string') return v;
    const err = inRange(v, 0n, f['Q'] ? 15n : 7n, 'immediate value');
    if (err) return err;
    f['imm4'] = Number(v);
    return 1;
  },
  format: (f) => `#${f['imm4']}`,
};

// ---------------------------------------------------------------------------
// registry

const kinds: Record<string, OperandKind> = {
  'mem.vbase': vectorBase,
  'mem.vpost': vectorPostIndex,
  '#fpimm': fpImmediate(false),
  '#simd.fpimm': fpImmediate(true),
  '#fpzero': fpZero,
  '#simd.imm8': simdByte,
  '#simd.imm64': simdByteMask,
  'lsl8?': simdLsl,
  'lsl0?': simdLslZero,
  'msl': simdMsl,
  '#fbits': fractionBits,
  '#ext': extIndex,
};

const NO_1D = ARRANGEMENTS.filter((a) => a !== '1d');
const NO_D = ARRANGEMENTS.filter((a) => !a.endsWith('d'));
const ELEMENT_SIZES: ElementSize[] = ['b', 'h', 's', 'd'];

for (const r of ['d', 'n', 'm']) {
  const field = `R${r}`;
  for (const e of ELEMENT_SIZES) {
    kinds[`V${r}.${e.toUpperCase()}`] = vectorByQ(field, e);
    // Element index in the imm5 part (i*) or, for INS (element), the imm4 part (j*).
    for (const idx of ['i', 'j']) kinds[`V${r}.${e}[${idx}${e}]`] = vectorElement(field, e, `${idx}${e}`);
  }
  kinds[`V${r}.T!1d`] = vectorBySizeQ(field, NO_1D);
  kinds[`V${r}.T!d`] = vectorBySizeQ(field, NO_D);
  kinds[`V${r}.d[1]`] = vectorElement(field, 'd', undefined, 1);
}
for (const n of [1, 2, 3, 4]) {
  kinds[`list${n}.T`] = vectorList(n, ARRANGEMENTS);
  kinds[`list${n}.T!1d`] = vectorList(n, NO_1D);
  for (const e of ELEMENT_SIZES) kinds[`list${n}.${e}[]`] = laneList(n, e);
}

registerKinds(kinds);

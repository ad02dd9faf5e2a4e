/**
 * Operand kinds: each one knows, for the fields it owns, how to encode an
 * assembler operand (from src/isa/operand-ir) and how to print the operand as
 * objdump does. Table entries name kinds by token ('Xd|sp', '#aimm', 'mem.u12').
 */
import type { Expr, Operand, RegRef, ShiftOp } from './operand-ir.js';
import type { Fields, InsnDef } from './insn-def.js';
import type { FixupKind } from './fixups.js';
import { encodeBitMask, decodeBitMask } from './bitmask.js';
import { lookupSysreg, sysregName } from './sysreg-names.js';
import { SYSOP_NAMES, type SysOpClass, lookupSysOp, sysOpName } from './sysop-names.js';

export interface EncodeEnv {
  /** The value of an absolute expression, or undefined when it needs a fixup (labels, undefined symbols). */
  constant(e: Expr): bigint | undefined;
  /** Requests a fixup of this instruction for expression `e`. */
  fixup(kind: FixupKind, e: Expr): void;
  /** `ldr Rt, =expr`: place `e` in the literal pool and fix up the load to it. */
  literal(e: Expr, size: 4 | 8 | 16): void;
}

export interface FormatEnv {
  /** Address of the instruction being printed. */
  address: bigint;
  /** Prints a target address the way objdump does: `4008c <sym+0x8>`. */
  target(addr: bigint): string;
}

export interface OperandKind {
  fields: readonly string[];
  /** How many IR operands the kind can consume [min, max]; lets the encoder skip entries quickly. Unset = [0, 2]. */
  consumes?: readonly [number, number];
  /** Consumes operands from ops[i]; returns how many it used or an error message. */
  encode(ops: readonly Operand[], i: number, f: Fields, env: EncodeEnv, def: InsnDef): number | string;
  /** objdump-style text, or undefined when an optional operand is at its default and omitted. */
  format(f: Fields, env: FormatEnv, def: InsnDef): string | undefined;
}

// ---------------------------------------------------------------------------
// helpers

const hex = (v: bigint | number): string => {
  const b = BigInt(v);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
};
const imm = (v: bigint | number): string => `#${hex(v)}`;
const dec = (v: bigint | number): string => `#${BigInt(v).toString()}`;

function signExtend(v: number, bits: number): number {
  const shift = 32 - bits;
  return (v << shift) >> shift;
}

function immOperand(op: Operand | undefined): Expr | undefined {
  return op && op.k === 'imm' ? op.e : undefined;
}

function constantOf(op: Operand | undefined, env: EncodeEnv, what = 'immediate'): bigint | string {
  const e = immOperand(op);
  if (!e) return `expected ${what}`;
  if (e.t === 'reloc') return `relocation operator :${e.op}: not allowed here`;
  const v = env.constant(e);
  if (v === undefined) return `${what} must be a constant expression`;
  return v;
}

function inRange(v: bigint, lo: bigint, hi: bigint, what: string): string | undefined {
  if (v < lo || v > hi) return `${what} out of range ${lo} to ${hi}`;
  return undefined;
}

// ---------------------------------------------------------------------------
// registers

type GprWidth = 'w' | 'x';

function regText(cls: 'w' | 'x', num: number, sp: boolean): string {
  if (num === 31) return sp ? (cls === 'x' ? 'sp' : 'wsp') : (cls === 'x' ? 'xzr' : 'wzr');
  return `${cls}${num}`;
}

function matchGpr(op: Operand | undefined, width: GprWidth, sp: boolean): number | string {
  if (!op || op.k !== 'reg') return 'expected an integer register';
  const r = op.reg;
  if (width === 'x') {
    if (r.cls === 'x') return r.num;
    if (r.cls === 'sp') return sp ? 31 : 'sp not allowed here (use xzr?)';
    if (r.cls === 'xzr') return sp ? 'xzr not allowed here' : 31;
    if (r.cls === 'w' || r.cls === 'wzr' || r.cls === 'wsp') return 'expected a 64-bit integer register';
  } else {
    if (r.cls === 'w') return r.num;
    if (r.cls === 'wsp') return sp ? 31 : 'wsp not allowed here';
    if (r.cls === 'wzr') return sp ? 'wzr not allowed here' : 31;
    if (r.cls === 'x' || r.cls === 'xzr' || r.cls === 'sp') return 'expected a 32-bit integer register';
  }
  return 'expected an integer register';
}

function gpr(field: string, width: GprWidth, sp: boolean): OperandKind {
  return {
    fields: [field],
    encode(ops, i, f) {
      const n = matchGpr(ops[i], width, sp);
      if (typeof n === 'string') return n;
      f[field] = n;
      return 1;
    },
    format: (f) => regText(width, f[field]!, sp),
  };
}

const FP_CLASSES = ['b', 'h', 's', 'd', 'q'] as const;
type FpClass = (typeof FP_CLASSES)[number];

function fpreg(field: string, cls: FpClass): OperandKind {
  return {
    fields: [field],
    encode(ops, i, f) {
      const op = ops[i];
      if (!op || op.k !== 'reg' || op.reg.cls !== cls) return `expected a ${cls}-register`;
      f[field] = op.reg.num;
      return 1;
    },
    format: (f) => `${cls}${f[field]}`,
  };
}

/** Vector register with a fixed arrangement such as '16b'. */
function vecreg(field: string, arrangement: string): OperandKind {
  return {
    fields: [field],
    encode(ops, i, f) {
      const op = ops[i];
      if (!op || op.k !== 'reg' || op.reg.cls !== 'v' || op.reg.index !== undefined) return `expected a vector register v<n>.${arrangement}`;
      if ((op.reg.arrangement ?? '') !== arrangement) return `expected arrangement .${arrangement}`;
      f[field] = op.reg.num;
      return 1;
    },
    format: (f) => `v${f[field]}.${arrangement}`,
  };
}

const ARRANGEMENTS = ['8b', '16b', '4h', '8h', '2s', '4s', '1d', '2d'];

/** Vector register whose arrangement is size:Q (T in the Arm ARM). `allowed` limits the arrangements. */
function vecregT(field: string, allowed: readonly string[]): OperandKind {
  return {
    fields: [field, 'size', 'Q'],
    encode(ops, i, f) {
      const op = ops[i];
      if (!op || op.k !== 'reg' || op.reg.cls !== 'v' || op.reg.index !== undefined) return 'expected a vector register';
      const a = op.reg.arrangement ?? '';
      const idx = ARRANGEMENTS.indexOf(a);
      if (idx < 0 || !allowed.includes(a)) return `invalid arrangement .${a || '(none)'}`;
      const size = idx >> 1, q = idx & 1;
      if (f['size'] !== undefined && f['size'] !== size) return 'operand arrangements differ';
      if (f['Q'] !== undefined && f['Q'] !== q) return 'operand arrangements differ';
      f['size'] = size; f['Q'] = q; f[field] = op.reg.num;
      return 1;
    },
    format: (f) => `v${f[field]}.${ARRANGEMENTS[(f['size']! << 1) | f['Q']!]}`,
  };
}

// ---------------------------------------------------------------------------
// integer immediates

/** ADD/SUB immediate: imm12 with an optional `lsl #12`, auto-shifted like GNU as; `:lo12:sym` fixups. */
const addSubImmediate: OperandKind = {
  fields: ['imm12', 'sh'],
  encode(ops, i, f, env) {
    const e = immOperand(ops[i]);
    if (!e) return 'expected an immediate';
    const next = ops[i + 1];
    let explicitShift: number | undefined;
    if (next && next.k === 'shift') {
      if (next.shift.op !== 'lsl') return "only 'lsl #0' or 'lsl #12' is allowed here";
      const amt = next.shift.amount ? env.constant(next.shift.amount) : 0n;
      if (amt !== 0n && amt !== 12n) return "shift amount must be 0 or 12";
      explicitShift = Number(amt);
    }
    const used = explicitShift === undefined ? 1 : 2;
    if (e.t === 'reloc') {
      const r = relocFixupForAdd(e.op);
      if (!r) return `relocation operator :${e.op}: not allowed in add/sub`;
      f['imm12'] = 0; f['sh'] = explicitShift === 12 ? 1 : 0;
      env.fixup(r, e.a);
      return used;
    }
    const v = env.constant(e);
    if (v === undefined) {
      // A symbol as a plain immediate: GNU as emits an R_AARCH64_ADD_ABS_LO12_NC only with :lo12:.
      return 'immediate must be a constant expression (use :lo12: for a symbol)';
    }
    if (explicitShift !== undefined) {
      if (v < 0n || v > 4095n) return 'immediate out of range 0 to 4095';
      f['imm12'] = Number(v); f['sh'] = explicitShift === 12 ? 1 : 0;
      return used;
    }
    if (v >= 0n && v <= 4095n) { f['imm12'] = Number(v); f['sh'] = 0; return 1; }
    if (v > 0n && (v & 0xfffn) === 0n && (v >> 12n) <= 4095n) { f['imm12'] = Number(v >> 12n); f['sh'] = 1; return 1; }
    return 'immediate out of range';
  },
  format(f) {
    return f['sh'] ? `${imm(f['imm12']!)}, lsl #12` : imm(f['imm12']!);
  },
};

/** GNU as turns `add Rd, Rn, #-imm` into `sub Rd, Rn, #imm` (and the other way round): the negated form. */
const addSubNegatedImmediate: OperandKind = {
  fields: ['imm12', 'sh'],
  encode(ops, i, f, env, def) {
    const op = ops[i];
    if (!op || op.k !== 'imm' || op.e.t === 'reloc') return 'expected an immediate';
    const v = env.constant(op.e);
    if (v === undefined || v >= 0n) return 'immediate out of range';
    const negated: Operand = { ...op, e: { t: 'num', v: -v } };
    const rest = [...ops.slice(0, i), negated, ...ops.slice(i + 1)];
    return addSubImmediate.encode(rest, i, f, env, def);
  },
  format: addSubImmediate.format,
};

function relocFixupForAdd(op: string): FixupKind | undefined {
  return op === 'lo12' ? 'add_lo12' : undefined;
}

/** Logical immediate, encoded as N:immr:imms (the width comes from the entry's datasize). */
const logicalImmediate: OperandKind = {
  fields: ['N', 'immr', 'imms'],
  encode(ops, i, f, env, def) {
    const v = constantOf(ops[i], env);
    if (typeof v === 'string') return v;
    const is64 = def.datasize === 64;
    const width = is64 ? 64 : 32;
    // GNU as accepts a 32-bit value written as a negative number or with the high bits all ones.
    let value = v;
    if (!is64) {
      if (value < -(1n << 31n) || value > 0xffffffffn) return `immediate out of range`;
      value &= 0xffffffffn;
    } else {
      if (value < -(1n << 63n) || value > 0xffffffffffffffffn) return 'immediate out of range';
      value &= 0xffffffffffffffffn;
    }
    const enc = encodeBitMask(value, is64);
    if (!enc) return `immediate ${hex(v)} is not a valid ${width}-bit bitmask immediate`;
    f['N'] = enc.n; f['immr'] = enc.immr; f['imms'] = enc.imms;
    return 1;
  },
  format(f, _env, def) {
    const out = [0, 0];
    decodeBitMask(f['N']!, f['immr']!, f['imms']!, def.datasize === 64, out);
    const v = def.datasize === 64 ? (BigInt(out[1]!) << 32n) | BigInt(out[0]!) : BigInt(out[0]!);
    return imm(v);
  },
};

/** `bic Rd, Rn, #imm`: GNU as encodes AND with the inverted immediate. */
const invertedLogicalImmediate: OperandKind = {
  fields: ['N', 'immr', 'imms'],
  encode(ops, i, f, env, def) {
    const op = ops[i];
    if (!op || op.k !== 'imm' || op.e.t === 'reloc') return 'expected an immediate';
    const v = env.constant(op.e);
    if (v === undefined) return 'immediate must be a constant expression';
    const width = BigInt(def.datasize);
    const inverted: Operand = { ...op, e: { t: 'num', v: ~v & ((1n << width) - 1n) } };
    const rest = [...ops.slice(0, i), inverted, ...ops.slice(i + 1)];
    return logicalImmediate.encode(rest, i, f, env, def);
  },
  format: () => undefined,
};

/** The logical immediate of the `mov` bitmask alias: like logicalImmediate but printed as the value. */

const MOVW_RELOCS: Record<string, [FixupKind, number]> = {
  abs_g0: ['movw_uabs_g0', 0], abs_g0_nc: ['movw_uabs_g0_nc', 0], abs_g1: ['movw_uabs_g1', 1],
  abs_g1_nc: ['movw_uabs_g1_nc', 1], abs_g2: ['movw_uabs_g2', 2], abs_g2_nc: ['movw_uabs_g2_nc', 2],
  abs_g3: ['movw_uabs_g3', 3], abs_g0_s: ['movw_sabs_g0', 0], abs_g1_s: ['movw_sabs_g1', 1],
  abs_g2_s: ['movw_sabs_g2', 2], prel_g0: ['movw_prel_g0', 0], prel_g0_nc: ['movw_prel_g0_nc', 0],
  prel_g1: ['movw_prel_g1', 1], prel_g1_nc: ['movw_prel_g1_nc', 1], prel_g2: ['movw_prel_g2', 2],
  prel_g2_nc: ['movw_prel_g2_nc', 2], prel_g3: ['movw_prel_g3', 3],
};

/** MOVZ/MOVN/MOVK: imm16 with an optional `lsl #16*hw`, or a :abs_gN: relocation operator. */
const moveWideImmediate: OperandKind = {
  fields: ['imm16', 'hw'],
  encode(ops, i, f, env, def) {
    const e = immOperand(ops[i]);
    if (!e) return 'expected an immediate';
    const next = ops[i + 1];
    let shift: number | undefined;
    if (next && next.k === 'shift') {
      if (next.shift.op !== 'lsl') return "only 'lsl' shifts are allowed here";
      const amt = next.shift.amount ? env.constant(next.shift.amount) : 0n;
      if (amt === undefined || amt % 16n !== 0n || amt < 0n || amt > (def.datasize === 64 ? 48n : 16n)) {
        return `shift amount must be ${def.datasize === 64 ? '0, 16, 32 or 48' : '0 or 16'}`;
      }
      shift = Number(amt);
    }
    const used = shift === undefined ? 1 : 2;
    if (e.t === 'reloc') {
      const r = MOVW_RELOCS[e.op];
      if (!r) return `relocation operator :${e.op}: not allowed in a move-wide instruction`;
      if (shift !== undefined) return 'a shift is not allowed with a relocation operator';
      if (def.datasize === 32 && r[1] > 1) return `:${e.op}: needs a 64-bit register`;
      f['imm16'] = 0; f['hw'] = r[1];
      env.fixup(r[0], e.a);
      return 1;
    }
    const v = env.constant(e);
    if (v === undefined) return 'immediate must be a constant expression';
    if (shift !== undefined) {
      if (v < 0n || v > 0xffffn) return 'immediate out of range 0 to 65535';
      f['imm16'] = Number(v); f['hw'] = shift / 16;
      return used;
    }
    if (v < 0n || v > 0xffffn) {
      return 'immediate out of range 0 to 65535';
    }
    f['imm16'] = Number(v); f['hw'] = 0;
    return 1;
  },
  format(f) {
    return f['hw'] ? `${imm(f['imm16']!)}, lsl #${f['hw']! * 16}` : imm(f['imm16']!);
  },
};

/** The value a MOVZ alias (`mov Rd, #imm`) loads; the table picks MOVZ or MOVN by value. */
function movWideAlias(inverted: boolean): OperandKind {
  return {
    fields: ['imm16', 'hw'],
    encode(ops, i, f, env, def) {
      const v0 = constantOf(ops[i], env);
      if (typeof v0 === 'string') return v0;
      const width = BigInt(def.datasize);
      const full = (1n << width) - 1n;
      if (def.datasize === 32 ? (v0 < -(1n << 31n) || v0 > full) : (v0 < -(1n << 63n) || v0 > full)) return 'immediate out of range';
      let v = v0 & full;
      if (inverted) v = ~v & full;
      for (let hw = 0; hw < def.datasize / 16; hw++) {
        const sh = BigInt(hw * 16);
        if ((v & ~(0xffffn << sh)) === 0n) {
          f['imm16'] = Number((v >> sh) & 0xffffn); f['hw'] = hw;
          return 1;
        }
      }
      return 'immediate cannot be moved by a single instruction';
    },
    format(f, _env, def) {
      const width = BigInt(def.datasize);
      const full = (1n << width) - 1n;
      let v = BigInt(f['imm16']!) << BigInt(f['hw']! * 16);
      if (inverted) v = ~v & full;
      return imm(v);
    },
  };
}

/** A plain unsigned immediate in one field. */
function uimm(field: string, bits: number, opts: { print?: 'hex' | 'dec'; max?: number; min?: number } = {}): OperandKind {
  const max = BigInt(opts.max ?? 2 ** bits - 1);
  const min = BigInt(opts.min ?? 0);
  return {
    fields: [field],
    encode(ops, i, f, env) {
      const v = constantOf(ops[i], env);
      if (typeof v === 'string') return v;
      const err = inRange(v, min, max, 'immediate');
      if (err) return err;
      f[field] = Number(v);
      return 1;
    },
    format: (f) => (opts.print === 'dec' ? dec(f[field]!) : imm(f[field]!)),
  };
}

/** Optional unsigned immediate (e.g. `brk` needs one, `ret` has an optional register instead). */
function optionalUimm(field: string, bits: number): OperandKind {
  const base = uimm(field, bits);
  return {
    fields: [field],
    encode(ops, i, f, env, def) {
      if (i >= ops.length) { f[field] = 0; return 0; }
      return base.encode(ops, i, f, env, def);
    },
    format: base.format,
  };
}

/** Shift amount of a shifted-register operand; `noRor` for add/sub, which have no ROR. */
function registerShift(noRor: boolean): OperandKind {
  const ops_ = noRor ? ['lsl', 'lsr', 'asr'] : ['lsl', 'lsr', 'asr', 'ror'];
  return {
    fields: ['shift', 'imm6'],
    encode(ops, i, f, env, def) {
      const op = ops[i];
      if (!op) { f['shift'] = 0; f['imm6'] = 0; return 0; }
      if (op.k !== 'shift') return 'expected a shift (lsl, lsr, asr' + (noRor ? ')' : ', ror)');
      const idx = ops_.indexOf(op.shift.op);
      if (idx < 0) return `shift '${op.shift.op}' not allowed here`;
      if (!op.shift.amount) return 'shift amount required';
      const v = env.constant(op.shift.amount);
      if (v === undefined) return 'shift amount must be a constant';
      const err = inRange(v, 0n, BigInt(def.datasize - 1), 'shift amount');
      if (err) return err;
      f['shift'] = idx; f['imm6'] = Number(v);
      return 1;
    },
    format(f) {
      if (f['shift'] === 0 && f['imm6'] === 0) return undefined;
      return `${ops_[f['shift']!] ?? 'ror'} ${dec(f['imm6']!)}`;
    },
  };
}

const EXTENDS: ShiftOp[] = ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'];

/**
 * Extended register: `Wm|Xm{, <extend> {#amount}}` (fields Rm, option, imm3).
 * With Rd or Rn being SP, `lsl` stands for uxtw (32-bit) / uxtx (64-bit).
 */
const extendedRegister: OperandKind = {
  fields: ['Rm', 'option', 'imm3'],
  encode(ops, i, f, env, def) {
    const reg = ops[i];
    if (!reg || reg.k !== 'reg') return 'expected an integer register';
    const r = reg.reg;
    const isX = r.cls === 'x' || r.cls === 'xzr';
    const isW = r.cls === 'w' || r.cls === 'wzr';
    if (!isX && !isW) return 'expected an integer register';
    const ext = ops[i + 1];
    const spForm = f['Rd'] === 31 || f['Rn'] === 31;
    let option: number;
    let amount = 0n;
    let used = 1;
    if (ext && ext.k === 'shift') {
      used = 2;
      const s = ext.shift;
      if (s.amount) {
        const v = env.constant(s.amount);
        if (v === undefined) return 'shift amount must be a constant';
        amount = v;
      }
      if (s.op === 'lsl') {
        if (!spForm) return "'lsl' in an extended-register operand needs sp as a source or destination";
        if (!s.amount) return 'shift amount required';
        option = def.datasize === 64 ? 3 : 2;
      } else {
        const k = EXTENDS.indexOf(s.op);
        if (k < 0) return `'${s.op}' is not an extend operator`;
        option = k;
      }
    } else {
      if (def.datasize === 64 && isW) return 'a 32-bit source needs an extend operator (uxtw, sxtw, …)';
      if (def.datasize === 32 && isX) return 'expected a 32-bit register';
      option = def.datasize === 64 ? 3 : 2;
      if (!spForm && def.datasize === 64) return 'use the shifted-register form';
      if (!spForm) return 'use the shifted-register form';
    }
    // GNU as takes the register number whatever its width once an extend is written
    // (`add x0, x1, w2, uxtx` assembles); only the implicit forms need the right width.
    const err = inRange(amount, 0n, 4n, 'extend amount');
    if (err) return err;
    f['Rm'] = r.num; f['option'] = option; f['imm3'] = Number(amount);
    return used;
  },
  format(f, _env, def) {
    const option = f['option']!;
    const reg = regText(def.datasize === 64 && (option & 3) === 3 ? 'x' : 'w', f['Rm']!, false);
    const spForm = f['Rd'] === 31 || f['Rn'] === 31;
    const defaultOpt = def.datasize === 64 ? 3 : 2;
    if (spForm && option === defaultOpt) {
      return f['imm3'] ? `${reg}, lsl ${dec(f['imm3']!)}` : reg;
    }
    return f['imm3'] ? `${reg}, ${EXTENDS[option]} ${dec(f['imm3']!)}` : `${reg}, ${EXTENDS[option]}`;
  },
};

// ---------------------------------------------------------------------------
// conditions

export const CONDITIONS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const CONDITION_ALIASES: Record<string, number> = { hs: 2, lo: 3 };

export function parseCondition(name: string): number | undefined {
  const lower = name.toLowerCase();
  const i = CONDITIONS.indexOf(lower);
  if (i >= 0) return i;
  return CONDITION_ALIASES[lower];
}

function condition(field: string, inverted: boolean): OperandKind {
  return {
    fields: [field],
    encode(ops, i, f) {
      const e = immOperand(ops[i]);
      const name = e && e.t === 'sym' ? e.name : undefined;
      const c = name !== undefined ? parseCondition(name) : undefined;
      if (c === undefined) return 'expected a condition code';
      if (inverted) {
        if (c >= 14) return 'condition al/nv not allowed here';
        f[field] = c ^ 1;
      } else {
        f[field] = c;
      }
      return 1;
    },
    format: (f) => CONDITIONS[inverted ? f[field]! ^ 1 : f[field]!]!,
  };
}

// ---------------------------------------------------------------------------
// PC-relative labels

function label(kind: FixupKind, fields: string[]): OperandKind {
  return {
    fields,
    encode(ops, i, f, env) {
      const e = immOperand(ops[i]);
      if (!e) return 'expected a label or address';
      for (const name of fields) f[name] = 0;
      if (e.t === 'reloc') {
        if (kind === 'adrp21' && (e.op === 'pg_hi21' || e.op === 'pg_hi21_nc' || e.op === 'got')) {
          env.fixup(e.op === 'got' ? 'got_page' : e.op === 'pg_hi21_nc' ? 'adrp21_nc' : 'adrp21', e.a);
          return 1;
        }
        return `relocation operator :${e.op}: not allowed here`;
      }
      env.fixup(kind, e);
      return 1;
    },
    format(f, env) {
      let offset: bigint;
      switch (kind) {
        case 'branch26': case 'call26': offset = BigInt(signExtend(f['imm26']!, 26)) * 4n; break;
        case 'condbr19': case 'ld_prel19': offset = BigInt(signExtend(f['imm19']!, 19)) * 4n; break;
        case 'tstbr14': offset = BigInt(signExtend(f['imm14']!, 14)) * 4n; break;
        case 'adr21': offset = BigInt(signExtend((f['immhi']! << 2) | f['immlo']!, 21)); break;
        default: {
          const pages = BigInt(signExtend((f['immhi']! << 2) | f['immlo']!, 21));
          return env.target((env.address & ~0xfffn) + pages * 4096n);
        }
      }
      return env.target(env.address + offset);
    },
  };
}

/** `ldr Rt, =expr`: literal pool entry of the load's size. */
function literalPool(size: 4 | 8 | 16): OperandKind {
  return {
    fields: ['imm19'],
    encode(ops, i, f, env) {
      const op = ops[i];
      if (!op || op.k !== 'literal') return 'expected =value';
      f['imm19'] = 0;
      env.literal(op.e, size);
      return 1;
    },
    format: () => undefined,
  };
}

/** Test bit number of tbz/tbnz: b5:b40; a W register limits it to 0..31. */
const testBit: OperandKind = {
  fields: ['b5', 'b40'],
  encode(ops, i, f, env, def) {
    const v = constantOf(ops[i], env, 'bit number');
    if (typeof v === 'string') return v;
    const err = inRange(v, 0n, def.datasize === 64 ? 63n : 31n, 'bit number');
    if (err) return err;
    f['b5'] = Number(v) >> 5; f['b40'] = Number(v) & 31;
    return 1;
  },
  format: (f) => dec((f['b5']! << 5) | f['b40']!),
};

// ---------------------------------------------------------------------------
// memory operands

function baseRegister(r: RegRef): number | string {
  if (r.cls === 'x') return r.num;
  if (r.cls === 'sp') return 31;
  return 'base register must be a 64-bit integer register or sp';
}

function baseText(n: number): string {
  return n === 31 ? 'sp' : `x${n}`;
}

type MemForm = 'u12' | 's9' | 'pre9' | 'post9' | 's7' | 'pre7' | 'post7' | 'reg' | 'base' | 'simd_post';

function memoryOperand(form: MemForm): OperandKind {
  const fieldsFor: Record<MemForm, string[]> = {
    u12: ['Rn', 'imm12'], s9: ['Rn', 'imm9'], pre9: ['Rn', 'imm9'], post9: ['Rn', 'imm9'],
    s7: ['Rn', 'imm7'], pre7: ['Rn', 'imm7'], post7: ['Rn', 'imm7'], reg: ['Rn', 'Rm', 'option', 'S'],
    base: ['Rn'], simd_post: ['Rn', 'Rm'],
  };
  return {
    fields: fieldsFor[form],
    encode(ops, i, f, env, def) {
      const op = ops[i];
      if (!op || op.k !== 'mem') return 'expected a memory operand [base, …]';
      const base = baseRegister(op.base);
      if (typeof base === 'string') return base;
      f['Rn'] = base;
      const scaleLog2 = Number(def.params['scale'] ?? 0);
      const scale = 1n << BigInt(scaleLog2);
      const offsetImm = op.offset && 'imm' in op.offset ? op.offset.imm : undefined;
      const offsetReg = op.offset && 'reg' in op.offset ? op.offset : undefined;
      const wantMode = form === 'pre9' || form === 'pre7' ? 'pre' : form === 'post9' || form === 'post7' || form === 'simd_post' ? 'post' : 'offset';
      if (op.mode !== wantMode) return wantMode === 'pre' ? 'expected pre-indexed address [base, #imm]!' : wantMode === 'post' ? 'expected post-indexed address [base], #imm' : 'unexpected writeback';
      if (wantMode === 'pre' && !op.offset) return 'missing offset in the pre-indexed address';
      switch (form) {
        case 'base': {
          if (offsetReg) return 'register offset not allowed';
          if (offsetImm) {
            const v = env.constant(offsetImm);
            if (v !== 0n) return 'only an offset of #0 is allowed';
          }
          return 1;
        }
        case 'u12': {
          if (offsetReg) return 'register offset not allowed in this form';
          if (!offsetImm) { f['imm12'] = 0; return 1; }
          if (offsetImm.t === 'reloc') {
            const fx = ldstLo12Fixup(offsetImm.op, scaleLog2);
            if (!fx) return `relocation operator :${offsetImm.op}: not allowed here`;
            f['imm12'] = 0;
            env.fixup(fx, offsetImm.a);
            return 1;
          }
          const v = env.constant(offsetImm);
          if (v === undefined) return 'offset must be a constant expression';
          if (v < 0n || v % scale !== 0n || v / scale > 4095n) return `offset must be a multiple of ${scale} in 0 to ${4095n * scale}`;
          f['imm12'] = Number(v / scale);
          return 1;
        }
        case 's9': case 'pre9': {
          if (offsetReg) return 'register offset not allowed in this form';
          const v = offsetImm ? env.constant(offsetImm) : 0n;
          if (v === undefined) return 'offset must be a constant expression';
          const err = inRange(v, -256n, 255n, 'offset');
          if (err) return err;
          f['imm9'] = Number(v) & 0x1ff;
          return 1;
        }
        case 'post9': {
          if (op.offset) return 'post-indexed address takes no offset inside the brackets';
          const post = op.postOffset;
          if (!post || !('imm' in post)) return 'expected post-index immediate';
          const v = env.constant(post.imm);
          if (v === undefined) return 'offset must be a constant expression';
          const err = inRange(v, -256n, 255n, 'offset');
          if (err) return err;
          f['imm9'] = Number(v) & 0x1ff;
          return 1;
        }
        case 's7': case 'pre7': case 'post7': {
          let e: Expr | undefined;
          if (form === 'post7') {
            if (op.offset) return 'post-indexed address takes no offset inside the brackets';
            if (!op.postOffset || !('imm' in op.postOffset)) return 'expected post-index immediate';
            e = op.postOffset.imm;
          } else {
            if (offsetReg) return 'register offset not allowed for pairs';
            e = offsetImm;
          }
          const v = e ? env.constant(e) : 0n;
          if (v === undefined) return 'offset must be a constant expression';
          if (v % scale !== 0n || v / scale < -64n || v / scale > 63n) return `offset must be a multiple of ${scale} in ${-64n * scale} to ${63n * scale}`;
          f['imm7'] = Number(v / scale) & 0x7f;
          return 1;
        }
        case 'reg': {
          if (!offsetReg) return 'expected a register offset';
          const r = offsetReg.reg;
          const isX = r.cls === 'x' || r.cls === 'xzr';
          const isW = r.cls === 'w' || r.cls === 'wzr';
          if (!isX && !isW) return 'offset register must be an integer register';
          let option = 3; // lsl (uxtx)
          let s = 0;
          const sh = offsetReg.shift;
          if (sh) {
            if (sh.op === 'lsl') option = 3;
            else if (sh.op === 'uxtw') option = 2;
            else if (sh.op === 'sxtw') option = 6;
            else if (sh.op === 'sxtx') option = 7;
            else return `'${sh.op}' not allowed in an address`;
            if (sh.amount) {
              const v = env.constant(sh.amount);
              if (v === undefined) return 'shift amount must be a constant';
              if (v !== 0n && v !== BigInt(scaleLog2)) return `shift amount must be 0 or ${scaleLog2}`;
              s = v === 0n ? 0 : 1;
              // A zero amount written explicitly is kept (S=1 only for byte accesses, where 0 is the scale).
              if (scaleLog2 === 0 && sh.amount) s = 1;
            } else if (sh.op === 'lsl') {
              return 'shift amount required';
            }
          }
          if ((option & 1) === 1 && !isX) return 'offset register must be 64-bit for lsl/sxtx';
          if ((option & 1) === 0 && !isW) return 'offset register must be 32-bit for uxtw/sxtw';
          f['Rm'] = r.num; f['option'] = option; f['S'] = s;
          return 1;
        }
        case 'simd_post': {
          if (op.offset) return 'post-indexed address takes no offset inside the brackets';
          const post = op.postOffset;
          if (!post) return 'expected a post-index';
          if ('reg' in post) {
            if (post.reg.cls !== 'x') return 'post-index register must be a 64-bit register';
            f['Rm'] = post.reg.num;
            return 1;
          }
          const v = env.constant(post.imm);
          const total = BigInt(def.params['total'] ?? 0);
          if (v !== total) return `post-index immediate must be #${total}`;
          f['Rm'] = 31;
          return 1;
        }
      }
    },
    format(f, _env, def) {
      const b = baseText(f['Rn']!);
      const scale = BigInt(1 << Number(def.params['scale'] ?? 0));
      switch (form) {
        case 'base': return `[${b}]`;
        case 'u12': return f['imm12'] ? `[${b}, ${dec(BigInt(f['imm12']!) * scale)}]` : `[${b}]`;
        case 's9': { const v = signExtend(f['imm9']!, 9); return v ? `[${b}, ${dec(v)}]` : `[${b}]`; }
        case 'pre9': return `[${b}, ${dec(signExtend(f['imm9']!, 9))}]!`;
        case 'post9': return `[${b}], ${dec(signExtend(f['imm9']!, 9))}`;
        case 's7': { const v = BigInt(signExtend(f['imm7']!, 7)) * scale; return v ? `[${b}, ${dec(v)}]` : `[${b}]`; }
        case 'pre7': return `[${b}, ${dec(BigInt(signExtend(f['imm7']!, 7)) * scale)}]!`;
        case 'post7': return `[${b}], ${dec(BigInt(signExtend(f['imm7']!, 7)) * scale)}`;
        case 'reg': {
          const option = f['option']!;
          const r = regText((option & 1) ? 'x' : 'w', f['Rm']!, false);
          const amount = f['S'] ? Number(def.params['scale'] ?? 0) : 0;
          const name = option === 3 ? 'lsl' : option === 2 ? 'uxtw' : option === 6 ? 'sxtw' : 'sxtx';
          if (option === 3 && !f['S']) return `[${b}, ${r}]`;
          return f['S'] ? `[${b}, ${r}, ${name} ${dec(amount)}]` : `[${b}, ${r}, ${name}]`;
        }
        case 'simd_post': return f['Rm'] === 31 ? `[${b}], ${dec(BigInt(def.params['total'] ?? 0))}` : `[${b}], x${f['Rm']}`;
      }
    },
  };
}

function ldstLo12Fixup(op: string, scaleLog2: number): FixupKind | undefined {
  if (op === 'lo12') return (['ldst8_lo12', 'ldst16_lo12', 'ldst32_lo12', 'ldst64_lo12', 'ldst128_lo12'] as const)[scaleLog2];
  if (op === 'got_lo12' && scaleLog2 === 3) return 'got_lo12';
  return undefined;
}

// ---------------------------------------------------------------------------
// system instructions

/** MRS/MSR system register: o0:op1:CRn:CRm:op2 in one 15-bit field `sysreg` (op0 = 2 + o0). */
const systemRegister: OperandKind = {
  fields: ['sysreg'],
  encode(ops, i, f) {
    const e = immOperand(ops[i]);
    if (!e || e.t !== 'sym') return 'expected a system register name';
    const enc = lookupSysreg(e.name);
    if (enc === undefined) return `unknown or missing system register name '${e.name}'`;
    f['sysreg'] = enc & 0x7fff;
    return 1;
  },
  format: (f) => sysregName(f['sysreg']! | 0x8000),
};

/** PSTATE fields for `msr <field>, #imm`: op1 and op2. */
export const PSTATE_FIELDS: Record<string, [number, number, Feature_?]> = {
  spsel: [0, 5], daifset: [3, 6], daifclr: [3, 7], uao: [0, 3, 'uao'], pan: [0, 4, 'pan'],
  dit: [3, 2, 'dit'], ssbs: [3, 1, 'ssbs'], tco: [3, 4, 'memtag'],
};
type Feature_ = import('./insn-def.js').Feature;

const pstateField: OperandKind = {
  fields: ['op1', 'op2'],
  encode(ops, i, f) {
    const e = immOperand(ops[i]);
    if (!e || e.t !== 'sym') return 'expected a PSTATE field name';
    const p = PSTATE_FIELDS[e.name.toLowerCase()];
    if (!p) return `unknown PSTATE field '${e.name}'`;
    f['op1'] = p[0]; f['op2'] = p[1];
    return 1;
  },
  format(f) {
    for (const [name, [op1, op2]] of Object.entries(PSTATE_FIELDS)) if (op1 === f['op1'] && op2 === f['op2']) return name;
    return `#${f['op1']}`;
  },
};

const BARRIER_OPTIONS = ['#0x0', 'oshld', 'oshst', 'osh', '#0x4', 'nshld', 'nshst', 'nsh', '#0x8', 'ishld', 'ishst', 'ish', '#0xc', 'ld', 'st', 'sy'];

/** DSB/DMB option in CRm: a name or #imm4. `isbStyle` prints only non-SY values (ISB). */
function barrierOption(isb: boolean): OperandKind {
  return {
    fields: ['CRm'],
    encode(ops, i, f, env) {
      const op = ops[i];
      if (!op) {
        if (isb) { f['CRm'] = 15; return 0; }
        return 'expected a barrier option';
      }
      const e = immOperand(op);
      if (!e) return 'expected a barrier option';
      if (e.t === 'sym') {
        const idx = BARRIER_OPTIONS.indexOf(e.name.toLowerCase());
        if (idx < 0 || BARRIER_OPTIONS[idx]!.startsWith('#') || (isb && e.name.toLowerCase() !== 'sy')) return `unknown barrier option '${e.name}'`;
        f['CRm'] = idx;
        return 1;
      }
      const v = env.constant(e);
      if (v === undefined) return 'barrier option must be a constant';
      const err = inRange(v, 0n, 15n, 'barrier option');
      if (err) return err;
      f['CRm'] = Number(v);
      return 1;
    },
    format(f) {
      if (isb) return f['CRm'] === 15 ? undefined : imm(f['CRm']!);
      return BARRIER_OPTIONS[f['CRm']!]!;
    },
  };
}

/** TLBI / DC / IC / AT operation: op1:CRm:op2 (CRn fixed by the pattern) by name. */
function sysOp(cls: SysOpClass): OperandKind {
  return {
    fields: ['op1', 'CRm', 'op2'],
    encode(ops, i, f) {
      const e = immOperand(ops[i]);
      if (!e || e.t !== 'sym') return `expected a ${cls} operation name`;
      const enc = lookupSysOp(cls, e.name);
      if (!enc) return `unknown ${cls} operation '${e.name}'`;
      f['op1'] = enc.op1; f['CRm'] = enc.crm; f['op2'] = enc.op2;
      return 1;
    },
    format: (f) => sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!) ?? `#${f['op1']}, C${f['CRm']}, #${f['op2']}`,
  };
}
void SYSOP_NAMES;

/** The register operand of a TLBI/DC/IC/AT; optional for operations that take none (Rt = 31). */
function sysOpRegister(cls: SysOpClass): OperandKind {
  return {
    fields: ['Rt'],
    encode(ops, i, f) {
      const needs = sysOpNeedsRegister(cls, f);
      if (i >= ops.length) {
        if (needs) return 'missing register operand';
        f['Rt'] = 31;
        return 0;
      }
      if (!needs) return 'this operation takes no register';
      const n = matchGpr(ops[i], 'x', false);
      if (typeof n === 'string') return n;
      f['Rt'] = n;
      return 1;
    },
    format(f) {
      if (!sysOpNeedsRegister(cls, f) && f['Rt'] === 31) return undefined;
      return regText('x', f['Rt']!, false);
    },
  };
}

function sysOpNeedsRegister(cls: SysOpClass, f: Fields): boolean {
  const name = sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!);
  if (cls === 'tlbi') return !!name && !/^(vmalle1|vmalle1is|vmalle1os|alle1|alle1is|alle1os|alle2|alle2is|alle2os|alle3|alle3is|alle3os|vmalls12e1|vmalls12e1is|vmalls12e1os|vmalle1nxs|vmalle1isnxs|alle2nxs|alle2isnxs|alle1nxs|alle1isnxs|vmalls12e1nxs|vmalls12e1isnxs)$/.test(name);
  if (cls === 'ic') return !!name && !/^(iallu|ialluis)$/.test(name);
  return true;
}

const PRFOPS = ['pldl1keep', 'pldl1strm', 'pldl2keep', 'pldl2strm', 'pldl3keep', 'pldl3strm', null, null,
  'plil1keep', 'plil1strm', 'plil2keep', 'plil2strm', 'plil3keep', 'plil3strm', null, null,
  'pstl1keep', 'pstl1strm', 'pstl2keep', 'pstl2strm', 'pstl3keep', 'pstl3strm'];

/** Prefetch operation in the Rt field: a name or #imm5. */
const prefetchOp: OperandKind = {
  fields: ['Rt'],
  encode(ops, i, f, env) {
    const e = immOperand(ops[i]);
    if (!e) return 'expected a prefetch operation';
    if (e.t === 'sym') {
      const idx = PRFOPS.indexOf(e.name.toLowerCase());
      if (idx < 0) return `unknown prefetch operation '${e.name}'`;
      f['Rt'] = idx;
      return 1;
    }
    const v = env.constant(e);
    if (v === undefined) return 'prefetch operation must be a constant';
    const err = inRange(v, 0n, 31n, 'prefetch operation');
    if (err) return err;
    f['Rt'] = Number(v);
    return 1;
  },
  // objdump prints an unnamed operation with two hex digits: #0x06.
  format: (f) => PRFOPS[f['Rt']!] ?? `#0x${f['Rt']!.toString(16).padStart(2, '0')}`,
};

/** Bitfield alias operands, written as lsb/width or shift amounts and encoded into immr/imms. */
type BitfieldAlias = 'lsl' | 'lsr' | 'asr' | 'ubfiz_lsb' | 'bfx_lsb' | 'bfx_width' | 'bfiz_width' | 'extr_lsb' | 'ror';

function bitfieldAlias(kind: BitfieldAlias): OperandKind {
  return {
    fields: kind === 'extr_lsb' || kind === 'ror' || kind === 'bfx_width' || kind === 'bfiz_width' ? ['imms'] : ['immr', 'imms'],
    encode(ops, i, f, env, def) {
      const v = constantOf(ops[i], env);
      if (typeof v === 'string') return v;
      const size = BigInt(def.datasize);
      const n = Number(v);
      switch (kind) {
        case 'lsl': {
          const err = inRange(v, 0n, size - 1n, 'shift amount'); if (err) return err;
          f['immr'] = Number((size - v) % size); f['imms'] = Number(size - 1n - v);
          return 1;
        }
        case 'lsr': case 'asr': {
          const err = inRange(v, 0n, size - 1n, 'shift amount'); if (err) return err;
          f['immr'] = n; f['imms'] = Number(size - 1n);
          return 1;
        }
        case 'ror': case 'extr_lsb': {
          const err = inRange(v, 0n, size - 1n, 'shift amount'); if (err) return err;
          f['imms'] = n;
          return 1;
        }
        case 'ubfiz_lsb': {
          const err = inRange(v, 0n, size - 1n, 'lsb'); if (err) return err;
          f['immr'] = Number((size - v) % size); f['lsb_'] = n;
          return 1;
        }
        case 'bfx_lsb': {
          const err = inRange(v, 0n, size - 1n, 'lsb'); if (err) return err;
          f['immr'] = n; f['lsb_'] = n;
          return 1;
        }
        case 'bfx_width': {
          const lsb = f['lsb_']!;
          const err = inRange(v, 1n, size - BigInt(lsb), 'width'); if (err) return err;
          f['imms'] = lsb + n - 1;
          return 1;
        }
        case 'bfiz_width': {
          const lsb = f['lsb_']!;
          const err = inRange(v, 1n, size - BigInt(lsb), 'width'); if (err) return err;
          f['imms'] = n - 1;
          return 1;
        }
      }
    },
    format(f, _env, def) {
      const size = def.datasize;
      const immr = f['immr']!, imms = f['imms']!;
      switch (kind) {
        case 'lsl': return dec(size - 1 - imms);
        case 'lsr': case 'asr': return dec(immr);
        case 'ror': case 'extr_lsb': return dec(imms);
        case 'ubfiz_lsb': return dec((size - immr) % size);
        case 'bfx_lsb': return dec(immr);
        case 'bfx_width': return dec(imms - immr + 1);
        case 'bfiz_width': return dec(imms + 1);
      }
    },
  };
}

/** FMOV (scalar, immediate): an 8-bit float immediate abcdefgh. */
const fpImmediate8: OperandKind = {
  fields: ['imm8'],
  encode(ops, i, f, env) {
    const e = immOperand(ops[i]);
    if (!e) return 'expected a floating-point immediate';
    let value: number | undefined;
    if (e.t === 'str') value = Number(e.v);
    else {
      const v = env.constant(e);
      if (v !== undefined) value = Number(v);
    }
    if (value === undefined || Number.isNaN(value)) return 'expected a floating-point immediate';
    const enc = encodeFp8(value);
    if (enc === undefined) return `floating-point immediate ${value} cannot be encoded`;
    f['imm8'] = enc;
    return 1;
  },
  format(f) {
    const v = decodeFp8(f['imm8']!);
    return `#${formatFloat(v)}`;
  },
};

export function decodeFp8(imm8: number): number {
  const sign = imm8 >> 7 ? -1 : 1;
  const exp = ((imm8 >> 4) & 7);
  const frac = imm8 & 15;
  // exponent: NOT(b):b:b:cd  -> value = (16+frac)/16 * 2^(e) with e in -3..4
  const e = (exp & 4) ? exp - 8 : exp;
  return sign * (16 + frac) / 16 * Math.pow(2, e + 1);
}

function encodeFp8(v: number): number | undefined {
  for (let i = 0; i < 256; i++) if (decodeFp8(i) === v) return i;
  return undefined;
}

function formatFloat(v: number): string {
  // objdump prints e.g. 1.000000000000000000e+00
  const s = v.toExponential(18);
  const [m, e] = s.split('e');
  const expNum = Number(e);
  return `${m}e${expNum < 0 ? '-' : '+'}${String(Math.abs(expNum)).padStart(2, '0')}`;
}

/** `#0.0` of fcmp/fcmpe zero forms. */
const fpZero: OperandKind = {
  fields: [],
  encode(ops, i, _f, env) {
    const e = immOperand(ops[i]);
    if (!e) return 'expected #0.0';
    if (e.t === 'str' && Number(e.v) === 0) return 1;
    if (env.constant(e) === 0n) return 1;
    return 'expected #0.0';
  },
  format: () => '#0.0',
};

// ---------------------------------------------------------------------------
// registry

const FIXED_KINDS: Record<string, OperandKind> = {
  '#aimm': addSubImmediate,
  '#aimm.neg': addSubNegatedImmediate,
  '#bimm': logicalImmediate,
  '#bimm.inv': invertedLogicalImmediate,
  '#mwimm': moveWideImmediate,
  '#movz': movWideAlias(false),
  '#movn': movWideAlias(true),
  'shift?': registerShift(true),
  'lshift?': registerShift(false),
  'Rm.ext': extendedRegister,
  'cond': condition('cond', false),
  'cond.inv': condition('cond', true),
  'label.b26': label('branch26', ['imm26']),
  'label.call26': label('call26', ['imm26']),
  'label.b19': label('condbr19', ['imm19']),
  'label.b14': label('tstbr14', ['imm14']),
  'label.lit19': label('ld_prel19', ['imm19']),
  'label.adr': label('adr21', ['immhi', 'immlo']),
  'label.adrp': label('adrp21', ['immhi', 'immlo']),
  '=lit4': literalPool(4),
  '=lit8': literalPool(8),
  '=lit16': literalPool(16),
  '#tbit': testBit,
  '#imm16': uimm('imm16', 16),
  '#imm16?': optionalUimm('imm16', 16),
  '#nzcv': uimm('nzcv', 4),
  '#imm5': uimm('imm5', 5),
  '#immr': uimm('immr', 6, { print: 'dec' }),
  '#imms': uimm('imms', 6, { print: 'dec' }),
  '#immr32': uimm('immr', 5, { print: 'dec' }),
  '#imms32': uimm('imms', 5, { print: 'dec' }),
  '#crm': uimm('CRm', 4),
  '#hint': uimm('imm7', 7),
  '#op1': uimm('op1', 3, { print: 'dec' }),
  '#op2': uimm('op2', 3, { print: 'dec' }),
  'Cn': crName('CRn'),
  'Cm': crName('CRm'),
  '#lsl': bitfieldAlias('lsl'),
  '#lsr': bitfieldAlias('lsr'),
  '#asr': bitfieldAlias('asr'),
  '#ror': bitfieldAlias('ror'),
  '#extr': bitfieldAlias('extr_lsb'),
  '#bfiz.lsb': bitfieldAlias('ubfiz_lsb'),
  '#bfx.lsb': bitfieldAlias('bfx_lsb'),
  '#bfx.width': bitfieldAlias('bfx_width'),
  '#bfiz.width': bitfieldAlias('bfiz_width'),
  'sysreg': systemRegister,
  'pstate': pstateField,
  'barrier': barrierOption(false),
  'isb?': barrierOption(true),
  'tlbi': sysOp('tlbi'),
  'dc': sysOp('dc'),
  'ic': sysOp('ic'),
  'at': sysOp('at'),
  'tlbi.Xt?': sysOpRegister('tlbi'),
  'ic.Xt?': sysOpRegister('ic'),
  'prfop': prefetchOp,
  '#fp8': fpImmediate8,
  '#0.0': fpZero,
  'mem.u12': memoryOperand('u12'),
  'mem.s9': memoryOperand('s9'),
  'mem.pre9': memoryOperand('pre9'),
  'mem.post9': memoryOperand('post9'),
  'mem.s7': memoryOperand('s7'),
  'mem.pre7': memoryOperand('pre7'),
  'mem.post7': memoryOperand('post7'),
  'mem.reg': memoryOperand('reg'),
  'mem.base': memoryOperand('base'),
  'mem.simdpost': memoryOperand('simd_post'),
};

function crName(field: string): OperandKind {
  return {
    fields: [field],
    encode(ops, i, f) {
      const e = immOperand(ops[i]);
      const m = e && e.t === 'sym' ? /^c(\d+)$/i.exec(e.name) : null;
      if (!m || Number(m[1]) > 15) return 'expected a control register name c0..c15';
      f[field] = Number(m[1]);
      return 1;
    },
    format: (f) => `C${f[field]}`,
  };
}

const kindCache = new Map<string, OperandKind>();

/**
 * Adds operand kinds defined elsewhere (e.g. src/isa/operands/*.ts for one
 * instruction area). Table files import their kinds module before declaring
 * entries, so registration happens first.
 */
export function registerKinds(kinds: Record<string, OperandKind>): void {
  for (const [token, kind] of Object.entries(kinds)) {
    if (FIXED_KINDS[token]) throw new Error(`operand kind '${token}' is already defined`);
    FIXED_KINDS[token] = kind;
  }
}

/** Shared helpers for kind modules. */
export const kindHelpers = { hex, imm, dec, signExtend, immOperand, constantOf, inRange, matchGpr, regText, baseRegister, baseText };

/**
 * `sbo.<field>`: a should-be-one field that is not written in the source
 * (e.g. Ra of SMULH, Rs of LDXR). The assembler fills it with ones, as GNU as
 * does; the decoder accepts any value there, as objdump and QEMU do.
 */
function shouldBeOne(field: string): OperandKind {
  return {
    fields: [field],
    consumes: [0, 0],
    encode(_ops, _i, f) {
      f[field] = 0xffff; // all ones: insertField keeps the field's width
      return 0;
    },
    format: () => undefined,
  };
}

/** Operand counts of the kinds defined in this file (kinds registered elsewhere may declare their own). */
function builtinArity(token: string): readonly [number, number] | undefined {
  if (/^([WXBHSDQ])(d|n|m|a|t|t2|s)(\|sp)?$/.test(token) || /^V(d|n|m|t|t2)\.\w+$/.test(token)) return [1, 1];
  if (token === '#aimm' || token === '#aimm.neg' || token === '#mwimm' || token === 'Rm.ext') return [1, 2];
  if (token.endsWith('?')) return [0, 1];
  if (token in FIXED_KINDS) return [1, 1];
  return undefined;
}

/** Resolves a table token to its kind: fixed names above, or a register token like 'Xd|sp', 'Wt2', 'Qt', 'Vd.16b', 'Vn.T'. */
export function resolveKind(token: string): OperandKind {
  const cached = kindCache.get(token);
  if (cached) return cached;
  let kind = FIXED_KINDS[token];
  if (!kind) {
    const gprMatch = /^([WX])(d|n|m|a|t|t2|s)(\|sp)?$/.exec(token);
    const fpMatch = /^([BHSDQ])(d|n|m|a|t|t2)$/.exec(token);
    const vecMatch = /^V(d|n|m|t|t2)\.(\w+)$/.exec(token);
    const sboMatch = /^sbo\.(\w+)$/.exec(token);
    if (sboMatch) kind = shouldBeOne(sboMatch[1]!);
    if (kind) { /* should-be-one field */ }
    else if (gprMatch) kind = gpr(`R${gprMatch[2]}`, gprMatch[1] === 'X' ? 'x' : 'w', !!gprMatch[3]);
    else if (fpMatch) kind = fpreg(`R${fpMatch[2]}`, fpMatch[1]!.toLowerCase() as FpClass);
    else if (vecMatch) {
      const field = `R${vecMatch[1]}`;
      const arr = vecMatch[2]!;
      kind = arr === 'T' ? vecregT(field, ARRANGEMENTS) : arr === 'Tb' ? vecregT(field, ['8b', '16b']) : vecreg(field, arr.toLowerCase());
    }
  }
  if (!kind) throw new Error(`unknown operand kind '${token}'`);
  if (!kind.consumes) {
    const arity = builtinArity(token);
    if (arity) kind = { ...kind, consumes: arity };
  }
  kindCache.set(token, kind);
  return kind;
}

/**
 * Scalar floating point (Arm ARM C7): FMOV (general, register, immediate),
 * FP/integer and FP/fixed-point conversions (FCVT<N,A,P,M,Z><S,U>,
 * SCVTF, UCVTF), FCVT between precisions, FABS/FNEG/FSQRT/FRINT*, the
 * two- and three-source arithmetic, FCMP/FCMPE/FCCMP/FCCMPE and FCSEL.
 * The IEEE behaviour lives in ./fp-arith.ts; this file decodes operands and
 * moves values between the register files. Scalar writes zero bits above
 * the element up to bit 127.
 */
import type { Cpu } from '../cpu.js';
import type { InsnDef } from '../../isa/insn-def.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { OP_HANDLER } from '../ops.js';
import { dstOrZr, srcOrZr } from '../registers.js';
import { sysregId } from '../sysregs/system-registers.js';
import { checkFpAccess } from '../sysregs/traps.js';
import { setD, setS } from './simd-regs.js';
import {
  fixedToFp, fpAdd, fpCompare, fpConvert, fpcrRounding, fpDiv, fpMaxMin, fpMul, fpMulAdd, fpResult, fpRoundInt,
  fpSqrt, fpToFixed, Rounding, vfpExpandImm,
} from './fp-arith.js';

const S = (slot: number): number => slot * 2;

function setSlot(out: Int32Array, i: number, h: number, a = 0, b = 0, c = 0, d = 0, e = 0): true {
  out[i] = OP_HANDLER;
  out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = h;
  return true;
}

/** Format width from the ftype field (bits 23:22): 00 single, 01 double, 11 half. */
function ftypeBits(word: number): number {
  switch ((word >>> 22) & 3) {
    case 0: return 32;
    case 1: return 64;
    case 3: return 16;
    default: return 0;
  }
}

/** V[r] as an n-bit scalar: the low word, and the high word for doubles. */
const lowOf = (v: Int32Array, r: number, n: number): number => (n === 16 ? v[r * 4]! & 0xffff : v[r * 4]!);
const highOf = (v: Int32Array, r: number, n: number): number => (n === 64 ? v[r * 4 + 1]! : 0);

/** V[r] = ZeroExtend(fpResult as an n-bit value). */
function writeResult(cpu: Cpu, r: number, n: number): void {
  if (n === 64) setD(cpu.v, r, fpResult[0]!, fpResult[1]!);
  else setS(cpu.v, r, n === 16 ? fpResult[0]! & 0xffff : fpResult[0]!);
}

const ROUNDINGS: Record<string, Rounding | -1> = {
  n: Rounding.TieEven, p: Rounding.PosInf, m: Rounding.NegInf, z: Rounding.Zero, a: Rounding.TieAway, fpcr: -1,
};
/** The rounding a slot holds: -1 means FPCR.RMode at execution time. */
const roundingAt = (cpu: Cpu, r: number): Rounding => (r < 0 ? fpcrRounding(cpu.fpcr) : (r as Rounding));

// ---- FMOV (general) ----------------------------------------------------------------------------------------
const enum MovKind { WfromS, SfromW, XfromD, DfromX, XfromHigh, HighFromX }

// a = destination (V register or X slot), b = source, c = kind
const H_FMOV_GEN = registerHandler('FMOV_GEN', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const x = cpu.x, v = cpu.v, rd = d[i + 2]!, rn = d[i + 3]!;
  switch (d[i + 4]! as MovKind) {
    case MovKind.WfromS: x[rd] = v[rn * 4]!; x[rd + 1] = 0; break;
    case MovKind.SfromW: setS(v, rd, x[rn]!); break;
    case MovKind.XfromD: x[rd] = v[rn * 4]!; x[rd + 1] = v[rn * 4 + 1]!; break;
    case MovKind.DfromX: setD(v, rd, x[rn]!, x[rn + 1]!); break;
    case MovKind.XfromHigh: x[rd] = v[rn * 4 + 2]!; x[rd + 1] = v[rn * 4 + 3]!; break;
    default: v[rd * 4 + 2] = x[rn]!; v[rd * 4 + 3] = x[rn + 1]!; // Vd.d[1] = Xn; the low half is kept
  }
});

registerPredecoder('FMOV_GEN', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const toFp = def.params['op'] === 'to_fp';
  const high = ((word >>> 22) & 3) === 2;
  const kind = high ? (toFp ? MovKind.HighFromX : MovKind.XfromHigh)
    : def.datasize === 64 ? (toFp ? MovKind.DfromX : MovKind.XfromD)
    : toFp ? MovKind.SfromW : MovKind.WfromS;
  const rd = toFp ? f['Rd']! : S(dstOrZr(f['Rd']!));
  const rn = toFp ? S(srcOrZr(f['Rn']!)) : f['Rn']!;
  return setSlot(out, i, H_FMOV_GEN, rd, rn, kind);
});

// ---- FP <-> integer / fixed point ------------------------------------------------------------------------------
// a = destination, b = source, c = info: bits 0-6 format bits, bit 7 unsigned, bit 8 to-integer,
// bits 9-15 integer bits, bits 16-22 fbits; d = rounding (-1 = FPCR)
const H_CVT = registerHandler('FP_CVT', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const info = d[i + 4]!;
  const n = info & 0x7f, unsigned = (info & 0x80) !== 0, toInt = (info & 0x100) !== 0;
  const intBits = (info >>> 9) & 0x7f, fbits = (info >>> 16) & 0x7f;
  const rounding = roundingAt(cpu, d[i + 5]!);
  const rd = d[i + 2]!, rn = d[i + 3]!;
  if (toInt) {
    fpToFixed(cpu, n, lowOf(cpu.v, rn, n), highOf(cpu.v, rn, n), fbits, unsigned, rounding, intBits);
    cpu.x[rd] = fpResult[0]!;
    cpu.x[rd + 1] = intBits === 64 ? fpResult[1]! : 0;
  } else {
    fixedToFp(cpu, n, cpu.x[rn]!, cpu.x[rn + 1]!, intBits, fbits, unsigned, rounding);
    writeResult(cpu, rd, n);
  }
});

function cvtSlot(def: InsnDef, word: number, f: Record<string, number>, out: Int32Array, i: number, fbits: number): boolean {
  const n = ftypeBits(word);
  if (n === 0 || n === 16) return false; // half-precision conversions need FEAT_FP16
  const op = String(def.params['op']);
  const toInt = !op.endsWith('cvtf');
  const unsigned = toInt ? op.endsWith('u') : op === 'ucvtf';
  const intBits = def.datasize;
  const rounding = def.exec === 'FP_CVT_FIXED' ? (toInt ? Rounding.Zero : -1) : ROUNDINGS[String(def.params['rounding'])]!;
  const info = n | (unsigned ? 0x80 : 0) | (toInt ? 0x100 : 0) | (intBits << 9) | (fbits << 16);
  const rd = toInt ? S(dstOrZr(f['Rd']!)) : f['Rd']!;
  const rn = toInt ? f['Rn']! : S(srcOrZr(f['Rn']!));
  return setSlot(out, i, H_CVT, rd, rn, info, rounding);
}

registerPredecoder('FP_CVT_INT', (_cpu, f, def, out, i) => cvtSlot(def, out[i + 1]!, f, out, i, 0));
registerPredecoder('FP_CVT_FIXED', (_cpu, f, def, out, i) => {
  const scale = f['scale']!;
  if (def.datasize === 32 && scale < 32) return false;
  return cvtSlot(def, out[i + 1]!, f, out, i, 64 - scale);
});

// ---- one source ------------------------------------------------------------------------------------------------
const enum Dp1 { Mov, Abs, Neg, Sqrt, RoundInt, RoundIntExact, RoundInt32, RoundInt64 }

// a = Rd, b = Rn, c = op, d = rounding (-1 = FPCR), e = format bits
const H_DP1 = registerHandler('FP_DP1', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, rd = d[i + 2]!, rn = d[i + 3]!, n = d[i + 6]!;
  const lo = lowOf(v, rn, n), hi = highOf(v, rn, n);
  const signBit = n === 64 ? 0 : 1 << 31; // in lo for singles; doubles use hi
  switch (d[i + 4]! as Dp1) {
    case Dp1.Mov: fpResult[0] = lo; fpResult[1] = hi; break;
    case Dp1.Abs:
      if (n === 64) { fpResult[0] = lo; fpResult[1] = hi & 0x7fffffff; } else { fpResult[0] = lo & ~signBit; fpResult[1] = 0; }
      break;
    case Dp1.Neg:
      if (n === 64) { fpResult[0] = lo; fpResult[1] = hi ^ (1 << 31); } else { fpResult[0] = lo ^ signBit; fpResult[1] = 0; }
      break;
    case Dp1.Sqrt: fpSqrt(cpu, n, lo, hi); break;
    case Dp1.RoundInt: fpRoundInt(cpu, n, lo, hi, roundingAt(cpu, d[i + 5]!), false); break;
    case Dp1.RoundIntExact: fpRoundInt(cpu, n, lo, hi, roundingAt(cpu, d[i + 5]!), true); break;
    case Dp1.RoundInt32: fpRoundInt(cpu, n, lo, hi, roundingAt(cpu, d[i + 5]!), false, 32); break;
    default: fpRoundInt(cpu, n, lo, hi, roundingAt(cpu, d[i + 5]!), false, 64);
  }
  writeResult(cpu, rd, n);
});

const ID_AA64ISAR1_EL1 = sysregId('id_aa64isar1_el1');

registerPredecoder('FP_DP1', (cpu, f, def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  const mn = String(def.params['op']);
  let op: Dp1;
  if (mn === 'fmov') op = Dp1.Mov;
  else if (mn === 'fabs') op = Dp1.Abs;
  else if (mn === 'fneg') op = Dp1.Neg;
  else if (mn === 'fsqrt') op = Dp1.Sqrt;
  else if (mn.startsWith('frint32') || mn.startsWith('frint64')) {
    // FEAT_FRINTTS: ID_AA64ISAR1_EL1.FRINTTS (bits 35:32).
    if ((cpu.sys.hi(ID_AA64ISAR1_EL1) & 0xf) === 0) return false;
    op = mn.startsWith('frint32') ? Dp1.RoundInt32 : Dp1.RoundInt64;
  } else op = mn === 'frintx' ? Dp1.RoundIntExact : Dp1.RoundInt;
  const rounding = def.params['rounding'] !== undefined ? ROUNDINGS[String(def.params['rounding'])]! : 0;
  return setSlot(out, i, H_DP1, f['Rd']!, f['Rn']!, op, rounding, n);
});

// a = Rd, b = Rn, c = from bits, d = to bits
const H_CVT_PREC = registerHandler('FP_CVT_PREC', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const from = d[i + 4]!, to = d[i + 5]!, rn = d[i + 3]!;
  fpConvert(cpu, from, to, lowOf(cpu.v, rn, from), highOf(cpu.v, rn, from), fpcrRounding(cpu.fpcr));
  writeResult(cpu, d[i + 2]!, to);
});

const PRECISION_BITS: Record<string, number> = { h: 16, s: 32, d: 64 };
registerPredecoder('FP_CVT_PREC', (_cpu, f, def, out, i) =>
  setSlot(out, i, H_CVT_PREC, f['Rd']!, f['Rn']!, PRECISION_BITS[String(def.params['from'])]!, PRECISION_BITS[String(def.params['to'])]!));

// ---- two and three sources -------------------------------------------------------------------------------------------
const DP2_OPS = ['fmul', 'fdiv', 'fadd', 'fsub', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fnmul'];

// a = Rd, b = Rn, c = Rm, d = op, e = format bits
const H_DP2 = registerHandler('FP_DP2', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, n = d[i + 6]!, rn = d[i + 3]!, rm = d[i + 4]!;
  const alo = lowOf(v, rn, n), ahi = highOf(v, rn, n), blo = lowOf(v, rm, n), bhi = highOf(v, rm, n);
  switch (d[i + 5]!) {
    case 0: fpMul(cpu, n, alo, ahi, blo, bhi); break;
    case 1: fpDiv(cpu, n, alo, ahi, blo, bhi); break;
    case 2: fpAdd(cpu, n, alo, ahi, blo, bhi, false); break;
    case 3: fpAdd(cpu, n, alo, ahi, blo, bhi, true); break;
    case 4: fpMaxMin(cpu, n, alo, ahi, blo, bhi, true, false); break;
    case 5: fpMaxMin(cpu, n, alo, ahi, blo, bhi, false, false); break;
    case 6: fpMaxMin(cpu, n, alo, ahi, blo, bhi, true, true); break;
    case 7: fpMaxMin(cpu, n, alo, ahi, blo, bhi, false, true); break;
    default: // FNMUL: FPNeg(FPMul(...)), NaNs included
      fpMul(cpu, n, alo, ahi, blo, bhi);
      if (n === 64) fpResult[1] ^= 1 << 31; else fpResult[0] ^= 1 << 31;
  }
  writeResult(cpu, d[i + 2]!, n);
});

registerPredecoder('FP_DP2', (_cpu, f, def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  return setSlot(out, i, H_DP2, f['Rd']!, f['Rn']!, f['Rm']!, DP2_OPS.indexOf(String(def.params['op'])), n);
});

// a = Rd, b = Rn, c = Rm, d = Ra | negations << 8 (bit 8: negate Ra, bit 9: negate Rn), e = format bits
const H_DP3 = registerHandler('FP_DP3', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, n = d[i + 6]!, rn = d[i + 3]!, rm = d[i + 4]!, info = d[i + 5]!, ra = info & 31;
  let alo = lowOf(v, ra, n), ahi = highOf(v, ra, n), nlo = lowOf(v, rn, n), nhi = highOf(v, rn, n);
  // FPNeg of the operands before FPMulAdd (a NaN's sign flips too).
  if ((info & 0x100) !== 0) { if (n === 64) ahi ^= 1 << 31; else alo ^= 1 << 31; }
  if ((info & 0x200) !== 0) { if (n === 64) nhi ^= 1 << 31; else nlo ^= 1 << 31; }
  fpMulAdd(cpu, n, alo, ahi, nlo, nhi, lowOf(v, rm, n), highOf(v, rm, n));
  writeResult(cpu, d[i + 2]!, n);
});

registerPredecoder('FP_DP3', (_cpu, f, def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  // FMADD: a + n*m; FMSUB: a - n*m; FNMADD: -a - n*m; FNMSUB: -a + n*m.
  const neg = { fmadd: 0, fmsub: 0x200, fnmadd: 0x300, fnmsub: 0x100 }[String(def.params['op'])] ?? 0;
  return setSlot(out, i, H_DP3, f['Rd']!, f['Rn']!, f['Rm']!, f['Ra']! | neg, n);
});

// ---- compare, conditional compare, select, immediate --------------------------------------------------------------------
// a = Rn, b = Rm (-1: compare with +0.0), c = signaling, d = condition (FCCMP, else -1), e = format bits | nzcv << 8
const H_CMP = registerHandler('FP_CMP', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, rn = d[i + 2]!, rm = d[i + 3]!, cond = d[i + 5]!, info = d[i + 6]!, n = info & 0x7f;
  if (cond >= 0 && !cpu.conditionHolds(cond)) { cpu.nzcv = (info >>> 8) & 15; return; }
  const blo = rm < 0 ? 0 : lowOf(v, rm, n), bhi = rm < 0 ? 0 : highOf(v, rm, n);
  cpu.nzcv = fpCompare(cpu, n, lowOf(v, rn, n), highOf(v, rn, n), blo, bhi, d[i + 4]! !== 0);
});

registerPredecoder('FP_CMP', (_cpu, f, def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  const rm = def.params['zero'] === 1 ? -1 : f['Rm']!;
  return setSlot(out, i, H_CMP, f['Rn']!, rm, Number(def.params['signaling']), -1, n);
});

registerPredecoder('FP_CCMP', (_cpu, f, def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  return setSlot(out, i, H_CMP, f['Rn']!, f['Rm']!, Number(def.params['signaling']), f['cond']!, n | (f['nzcv']! << 8));
});

// a = Rd, b = Rn, c = Rm, d = cond, e = format bits
const H_CSEL = registerHandler('FP_CSEL', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, n = d[i + 6]!;
  const src = cpu.conditionHolds(d[i + 5]!) ? d[i + 3]! : d[i + 4]!;
  fpResult[0] = lowOf(v, src, n); fpResult[1] = highOf(v, src, n);
  writeResult(cpu, d[i + 2]!, n);
});

registerPredecoder('FP_CSEL', (_cpu, f, _def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  return setSlot(out, i, H_CSEL, f['Rd']!, f['Rn']!, f['Rm']!, f['cond']!, n);
});

// a = Rd, c = value lo, d = value hi, e = format bits
const H_MOV_IMM = registerHandler('FP_MOV_IMM', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  fpResult[0] = d[i + 4]!; fpResult[1] = d[i + 5]!;
  writeResult(cpu, d[i + 2]!, d[i + 6]!);
});

registerPredecoder('FP_MOV_IMM', (_cpu, f, _def, out, i) => {
  const n = ftypeBits(out[i + 1]!);
  if (n !== 32 && n !== 64) return false;
  vfpExpandImm(f['imm8']!, n);
  return setSlot(out, i, H_MOV_IMM, f['Rd']!, 0, fpResult[0]!, fpResult[1]!, n);
});

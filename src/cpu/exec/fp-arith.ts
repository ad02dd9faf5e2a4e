/**
 * IEEE 754 arithmetic as the Arm pseudocode defines it (Arm ARM J1.3
 * shared/functions/float): FPUnpack, FPProcessNaN(s), FPRound, FPAdd, FPMul,
 * FPDiv, FPMulAdd, FPSqrt, FPMax/FPMin(Num), FPCompare, FPRoundInt(N),
 * FPConvert, FPToFixed and FixedToFP, for half (16), single (32) and double
 * (64) formats.
 *
 * Operands and results are bit patterns: (lo, hi) int32 halves, hi unused
 * below 64 bits; results land in `fpResult`. Every half, single and double
 * value is exactly a JS double, so operations compute in doubles and round
 * once, honouring FPCR.{RMode, FZ, DN, AHP} and accumulating the FPSR
 * cumulative flags (IOC, DZC, OFC, UFC, IXC, IDC) exactly as FPRound does:
 *
 *  - Single precision: the double result of +, -, *, /, sqrt is computed,
 *    its rounding error recovered with error-free transformations (TwoSum,
 *    TwoProduct), folded in by rounding to odd, then rounded once to single
 *    in the requested mode (round-to-odd at 53 bits is innocuous for 24).
 *  - Double precision: the JS result is the round-to-nearest-even value; the
 *    sign of the exact residual (again from error-free transformations) gives
 *    inexactness and the directed-rounding correction. Results near the
 *    overflow or underflow thresholds, FMA, and half-precision rounding go
 *    through an exact BigInt path (rare: kernel code does no FP arithmetic).
 *
 * Floating-point exception traps (FPCR.{IOE..IDE}) are not implemented: the
 * Arm ARM allows implementations without trapping, and QEMU has none.
 * FPCR.FZ16 (FEAT_FP16 arithmetic) and FPCR.AH/FIZ (FEAT_AFP) are absent.
 */

/** The state an FP operation reads (FPCR) and updates (FPSR). `Cpu` is one. */
export interface FpEnv {
  fpcr: number;
  fpsr: number;
}

// FPSR cumulative exception flags
export const FPSR_IOC = 1 << 0;
export const FPSR_DZC = 1 << 1;
export const FPSR_OFC = 1 << 2;
export const FPSR_UFC = 1 << 3;
export const FPSR_IXC = 1 << 4;
export const FPSR_IDC = 1 << 7;

// FPCR controls
export const FPCR_AHP = 1 << 26;
export const FPCR_DN = 1 << 25;
export const FPCR_FZ = 1 << 24;

/** FPRounding: the first four are FPCR.RMode's encodings. */
export const enum Rounding {
  TieEven = 0,
  PosInf = 1,
  NegInf = 2,
  Zero = 3,
  TieAway = 4,
}

/** FPRoundingMode(FPCR). */
export const fpcrRounding = (fpcr: number): Rounding => ((fpcr >>> 22) & 3) as Rounding;

export const enum FpType {
  Zero = 0,
  Nonzero = 1,
  Infinity = 2,
  QNaN = 3,
  SNaN = 4,
}

/** Result of the last operation: bits (lo, hi). */
export const fpResult = new Int32Array(2);

// ---- bit views -------------------------------------------------------------------
const f64 = new Float64Array(1);
const f64w = new Int32Array(f64.buffer);
const f32 = new Float32Array(1);
const f32w = new Int32Array(f32.buffer);

export function doubleFromBits(lo: number, hi: number): number {
  f64w[0] = lo; f64w[1] = hi;
  return f64[0]!;
}

export function singleFromBits(bits: number): number {
  f32w[0] = bits;
  return f32[0]!;
}

/** Bits of a single-precision value (x must be exactly representable or is rounded to nearest). */
export function singleBits(x: number): number {
  f32[0] = x;
  return f32w[0]!;
}

function setDouble(x: number): void {
  f64[0] = x;
  fpResult[0] = f64w[0]!; fpResult[1] = f64w[1]!;
}

/** Value of a half-precision pattern (IEEE, or Arm's alternative format when ahp). */
function halfValue(bits: number): number {
  const exp = (bits >>> 10) & 31, frac = bits & 0x3ff;
  const mag = exp === 0 ? frac * 2 ** -24 : (frac + 1024) * 2 ** (exp - 25);
  return (bits & 0x8000) !== 0 ? -mag : mag;
}

// ---- format parameters ------------------------------------------------------------
/** Exponent width E, fraction width F, minimum exponent, per format width N. */
const fmtE = (n: number): number => (n === 64 ? 11 : n === 32 ? 8 : 5);
const fmtF = (n: number): number => (n === 64 ? 52 : n === 32 ? 23 : 10);
const fmtMinExp = (n: number): number => 2 - 2 ** (fmtE(n) - 1);

export function setZero(n: number, sign: number): void {
  if (n === 64) { fpResult[0] = 0; fpResult[1] = sign << 31; }
  else { fpResult[0] = n === 32 ? sign << 31 : sign << 15; fpResult[1] = 0; }
}

export function setInfinity(n: number, sign: number): void {
  if (n === 64) { fpResult[0] = 0; fpResult[1] = (sign << 31) | 0x7ff00000; }
  else { fpResult[0] = n === 32 ? (sign << 31) | 0x7f800000 : (sign << 15) | 0x7c00; fpResult[1] = 0; }
}

function setMaxNormal(n: number, sign: number): void {
  if (n === 64) { fpResult[0] = -1; fpResult[1] = (sign << 31) | 0x7fefffff; }
  else { fpResult[0] = n === 32 ? (sign << 31) | 0x7f7fffff : (sign << 15) | 0x7bff; fpResult[1] = 0; }
}

export function setDefaultNaN(n: number): void {
  if (n === 64) { fpResult[0] = 0; fpResult[1] = 0x7ff80000; }
  else { fpResult[0] = n === 32 ? 0x7fc00000 : 0x7e00; fpResult[1] = 0; }
}

// ---- FPUnpack ---------------------------------------------------------------------
/** Unpacked operands 0..2: type, sign, value (a JS double; ±Infinity for infinities, 0 for NaNs). */
const uType = new Int32Array(3);
const uSign = new Int32Array(3);
const uValue = new Float64Array(3);

/**
 * FPUnpack(op, fpcr) into slot k. `cv` selects FPUnpackCV (conversions):
 * half precision observes FPCR.AHP. FPCR.FZ flushes single/double denormals
 * to zero and raises Input Denormal (IDC).
 */
function unpack(env: FpEnv, n: number, lo: number, hi: number, k: number, cv = false): void {
  let sign: number, exp: number, fracZero: boolean, quiet: number, expMax: number;
  if (n === 64) {
    sign = hi >>> 31; exp = (hi >>> 20) & 0x7ff; fracZero = (hi & 0xfffff) === 0 && lo === 0; quiet = (hi >>> 19) & 1; expMax = 0x7ff;
  } else if (n === 32) {
    sign = lo >>> 31; exp = (lo >>> 23) & 0xff; fracZero = (lo & 0x7fffff) === 0; quiet = (lo >>> 22) & 1; expMax = 0xff;
  } else {
    sign = (lo >>> 15) & 1; exp = (lo >>> 10) & 31; fracZero = (lo & 0x3ff) === 0; quiet = (lo >>> 9) & 1; expMax = 31;
  }
  uSign[k] = sign;
  if (exp === 0) {
    if (fracZero || (n !== 16 && (env.fpcr & FPCR_FZ) !== 0)) {
      uType[k] = FpType.Zero;
      uValue[k] = sign ? -0 : 0;
      if (!fracZero) env.fpsr |= FPSR_IDC;
      return;
    }
  } else if (exp === expMax && !(n === 16 && cv && (env.fpcr & FPCR_AHP) !== 0)) {
    if (fracZero) { uType[k] = FpType.Infinity; uValue[k] = sign ? -Infinity : Infinity; }
    else { uType[k] = quiet ? FpType.QNaN : FpType.SNaN; uValue[k] = 0; }
    return;
  }
  uType[k] = FpType.Nonzero;
  uValue[k] = n === 64 ? doubleFromBits(lo, hi) : n === 32 ? singleFromBits(lo) : halfValue(lo);
}

/** FPUnpack for callers outside this module: type of a pattern, ignoring FZ. */
const plainEnv: FpEnv = { fpcr: 0, fpsr: 0 };
export function fpTypeOf(n: number, lo: number, hi: number): FpType {
  unpack(plainEnv, n, lo, hi, 0);
  return uType[0] as FpType;
}

// ---- NaNs ---------------------------------------------------------------------------
/** FPProcessNaN: quiet a signalling NaN (raising Invalid Operation); FPCR.DN gives the default NaN. */
function processNaN(env: FpEnv, n: number, type: number, lo: number, hi: number): void {
  if (type === FpType.SNaN) {
    if (n === 64) hi |= 1 << 19; else if (n === 32) lo |= 1 << 22; else lo |= 1 << 9;
    env.fpsr |= FPSR_IOC;
  }
  if ((env.fpcr & FPCR_DN) !== 0) { setDefaultNaN(n); return; }
  fpResult[0] = lo; fpResult[1] = n === 64 ? hi : 0;
}

/** FPProcessNaNs: signalling NaNs first, then quiet ones, in operand order. True when a NaN was produced. */
function processNaNs(env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number): boolean {
  const t1 = uType[0]!, t2 = uType[1]!;
  if (t1 === FpType.SNaN) processNaN(env, n, t1, alo, ahi);
  else if (t2 === FpType.SNaN) processNaN(env, n, t2, blo, bhi);
  else if (t1 === FpType.QNaN) processNaN(env, n, t1, alo, ahi);
  else if (t2 === FpType.QNaN) processNaN(env, n, t2, blo, bhi);
  else return false;
  return true;
}

const NAN_PRIORITY = [FpType.SNaN, FpType.QNaN] as const;

/** FPProcessNaNs3 over unpacked slots 0, 1, 2. */
function processNaNs3(env: FpEnv, n: number, lo: readonly number[], hi: readonly number[]): boolean {
  for (const want of NAN_PRIORITY) {
    for (let k = 0; k < 3; k++) {
      if (uType[k] === want) { processNaN(env, n, want, lo[k]!, hi[k]!); return true; }
    }
  }
  return false;
}

// ---- exact values (slow path) ----------------------------------------------------------
/** An exact nonzero value (-1)^sign * mant * 2^exp. */
interface Exact {
  sign: number;
  mant: bigint;
  exp: number;
}

function bitLength(m: bigint): number {
  return m.toString(2).length;
}

/** A finite nonzero double as an exact value. */
function exactOf(x: number): Exact {
  f64[0] = x;
  const hi = f64w[1]!, lo = f64w[0]!;
  const e = (hi >>> 20) & 0x7ff;
  const frac = (hi & 0xfffff) * 4294967296 + (lo >>> 0);
  return e === 0
    ? { sign: hi >>> 31, mant: BigInt(frac), exp: -1074 }
    : { sign: hi >>> 31, mant: BigInt(frac + 2 ** 52), exp: e - 1075 };
}

function exactAdd(a: Exact, b: Exact): Exact | undefined {
  const e = Math.min(a.exp, b.exp);
  const av = (a.sign ? -a.mant : a.mant) << BigInt(a.exp - e);
  const bv = (b.sign ? -b.mant : b.mant) << BigInt(b.exp - e);
  const s = av + bv;
  if (s === 0n) return undefined;
  return s < 0n ? { sign: 1, mant: -s, exp: e } : { sign: 0, mant: s, exp: e };
}

function exactMul(a: Exact, b: Exact): Exact {
  return { sign: a.sign ^ b.sign, mant: a.mant * b.mant, exp: a.exp + b.exp };
}

/** a / b with at least 55 significant quotient bits plus a sticky bit: enough to round to any format. */
function exactDiv(a: Exact, b: Exact): Exact {
  const k = Math.max(0, 56 + bitLength(b.mant) - bitLength(a.mant));
  const num = a.mant << BigInt(k);
  const q = num / b.mant, r = num % b.mant;
  return { sign: a.sign ^ b.sign, mant: (q << 1n) | (r !== 0n ? 1n : 0n), exp: a.exp - b.exp - k - 1 };
}

function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(bitLength(v) / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(a) for positive a, with at least 55 significant bits plus a sticky bit. */
function exactSqrt(a: Exact): Exact {
  let m = a.mant, e = a.exp;
  if ((e & 1) !== 0) { m <<= 1n; e -= 1; }
  const k = Math.max(0, 56 - (bitLength(m) >> 1)) + 1;
  const big = m << BigInt(2 * k);
  const r = isqrt(big);
  const sticky = r * r !== big ? 1n : 0n;
  return { sign: 0, mant: (r << 1n) | sticky, exp: (e - 2 * k) / 2 - 1 };
}

/**
 * FPRound (FPRoundBase) of an exact nonzero value to format n. `cv` selects
 * FPRoundCV: half precision observes FPCR.AHP. FZ flushes tiny single/double
 * results to zero (Underflow, no Inexact).
 */
function roundExact(env: FpEnv, n: number, v: Exact, rounding: Rounding, cv = false): void {
  const E = fmtE(n), F = fmtF(n), minExp = fmtMinExp(n);
  const sign = v.sign;
  const exponent = v.exp + bitLength(v.mant) - 1; // value = 1.xxx * 2^exponent
  if (n !== 16 && (env.fpcr & FPCR_FZ) !== 0 && exponent < minExp) {
    env.fpsr |= FPSR_UFC;
    setZero(n, sign);
    return;
  }
  let biasedExp = Math.max(exponent - minExp + 1, 0);
  const lsbExp = biasedExp > 0 ? exponent - F : minExp - F;
  const shift = lsbExp - v.exp;
  let intMant: bigint;
  let errorNonZero = false;
  let errorVsHalf = -1; // sign of (error - 0.5 ulp)
  if (shift <= 0) {
    intMant = v.mant << BigInt(-shift);
  } else {
    const s = BigInt(shift);
    intMant = v.mant >> s;
    const rem = v.mant & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    errorNonZero = rem !== 0n;
    errorVsHalf = rem > half ? 1 : rem === half ? 0 : -1;
  }
  // Underflow: tiny before rounding and inexact.
  if (biasedExp === 0 && errorNonZero) env.fpsr |= FPSR_UFC;
  let roundUp: boolean, overflowToInf: boolean;
  switch (rounding) {
    case Rounding.TieEven:
      roundUp = errorVsHalf > 0 || (errorVsHalf === 0 && (intMant & 1n) === 1n);
      overflowToInf = true;
      break;
    case Rounding.TieAway:
      roundUp = errorVsHalf >= 0;
      overflowToInf = true;
      break;
    case Rounding.PosInf:
      roundUp = errorNonZero && sign === 0;
      overflowToInf = sign === 0;
      break;
    case Rounding.NegInf:
      roundUp = errorNonZero && sign === 1;
      overflowToInf = sign === 1;
      break;
    default:
      roundUp = false;
      overflowToInf = false;
  }
  if (roundUp) {
    intMant += 1n;
    if (intMant === 1n << BigInt(F)) biasedExp = 1; // denormal rounded up to normal
    if (intMant === 1n << BigInt(F + 1)) { biasedExp += 1; intMant >>= 1n; }
  }
  if (n === 16 && cv && (env.fpcr & FPCR_AHP) !== 0) {
    // Alternative half precision: no infinities; overflow saturates with Invalid Operation.
    if (biasedExp >= 2 ** E) {
      fpResult[0] = (sign << 15) | 0x7fff; fpResult[1] = 0;
      env.fpsr |= FPSR_IOC;
      return;
    }
  } else if (biasedExp >= 2 ** E - 1) {
    if (overflowToInf) setInfinity(n, sign); else setMaxNormal(n, sign);
    env.fpsr |= FPSR_OFC | FPSR_IXC; // overflow is always inexact
    return;
  }
  const frac = Number(intMant & ((1n << BigInt(F)) - 1n));
  if (n === 64) {
    fpResult[0] = frac % 4294967296 | 0;
    fpResult[1] = (sign << 31) | (biasedExp << 20) | Math.floor(frac / 4294967296);
  } else {
    fpResult[0] = n === 32 ? (sign << 31) | (biasedExp << 23) | frac : (sign << 15) | (biasedExp << 10) | frac;
    fpResult[1] = 0;
  }
  if (errorNonZero) env.fpsr |= FPSR_IXC;
}

// ---- fast rounding ----------------------------------------------------------------------
const MIN_NORMAL_S = 2 ** -126;
const TWO_128 = 2 ** 128;
const F32_INF_BITS = 0x7f800000;

/** True when `rounding` moves a value of this sign toward zero (never away). */
function towardZero(rounding: Rounding, sign: number): boolean {
  return rounding === Rounding.Zero || (rounding === Rounding.PosInf && sign === 1) || (rounding === Rounding.NegInf && sign === 0);
}

/**
 * FPRound of an exact double x (finite, nonzero) to single precision in any
 * rounding mode, with FZ, Underflow, Overflow and Inexact.
 */
function roundToSingle(env: FpEnv, x: number, rounding: Rounding): void {
  const sign = x < 0 ? 1 : 0;
  const ax = Math.abs(x);
  const tiny = ax < MIN_NORMAL_S;
  if (tiny && (env.fpcr & FPCR_FZ) !== 0) {
    env.fpsr |= FPSR_UFC;
    setZero(32, sign);
    return;
  }
  if (ax >= TWO_128) { // beyond the exponent range in every rounding mode
    if (rounding === Rounding.TieEven || rounding === Rounding.TieAway || !towardZero(rounding, sign)) setInfinity(32, sign);
    else setMaxNormal(32, sign);
    env.fpsr |= FPSR_OFC | FPSR_IXC;
    return;
  }
  f32[0] = ax; // round to nearest, ties to even
  let m = f32w[0]!;
  const r = f32[0]!;
  if (r !== ax) {
    if (rounding === Rounding.TieAway) {
      // Ties go away from zero: only an exact midpoint differs from ties-to-even.
      const other = r > ax ? m - 1 : m + 1;
      const o = singleFromBits(other);
      if (Math.abs(o - ax) === Math.abs(r - ax) && o > r) m = other;
    } else if (rounding !== Rounding.TieEven) {
      if (towardZero(rounding, sign)) { if (r > ax) m -= 1; }
      else if (r < ax) m += 1;
    }
    env.fpsr |= FPSR_IXC;
    if (tiny) env.fpsr |= FPSR_UFC;
    if (m === F32_INF_BITS) env.fpsr |= FPSR_OFC;
  }
  fpResult[0] = m | (sign << 31);
  fpResult[1] = 0;
}

/** Moves a finite double one unit in the last place away from (dir > 0) or toward (dir < 0) zero. */
function nudgeMagnitude(x: number, dir: number): number {
  f64[0] = x;
  let lo = f64w[0]!, hi = f64w[1]!;
  if (dir > 0) { lo = (lo + 1) | 0; if (lo === 0) hi = (hi + 1) | 0; }
  else { if (lo === 0) hi = (hi - 1) | 0; lo = (lo - 1) | 0; }
  f64w[0] = lo; f64w[1] = hi;
  return f64[0]!;
}

/**
 * Round to odd at double precision: s = RN(exact), resid = sign(exact - s).
 * Rounding the result once more to a narrower format gives the correctly
 * rounded value of `exact` (53 >= 2 * 24 + 2).
 */
function roundToOdd(s: number, resid: number): number {
  if (resid === 0) return s;
  f64[0] = s;
  if ((f64w[0]! & 1) !== 0) return s;
  // The neighbour on the residual's side is odd.
  return nudgeMagnitude(s, resid * (s < 0 ? -1 : 1));
}

/** Doubles whose products and quotients keep TwoProduct exact: the fast path's range. */
const SAFE_LO = 2 ** -900;
const SAFE_HI = 2 ** 900;
const inSafeRange = (x: number): boolean => {
  const a = Math.abs(x);
  return a > SAFE_LO && a < SAFE_HI;
};

/**
 * FPRound to double of an exact value given as s = RN(exact) (in the safe
 * range) and resid = sign(exact - s): the directed modes step one ulp.
 */
function roundToDouble(env: FpEnv, s: number, resid: number, rounding: Rounding): void {
  if (resid !== 0) {
    const sign = s < 0 ? 1 : 0;
    const magDir = sign ? -resid : resid; // +1: exact magnitude above |s|
    if (rounding === Rounding.TieEven) {
      // s is already the nearest-even value (ties-away is not an FPCR mode: never asked for here).
    } else if (towardZero(rounding, sign)) {
      if (magDir < 0) s = nudgeMagnitude(s, -1);
    } else if (magDir > 0) {
      s = nudgeMagnitude(s, 1);
    }
    env.fpsr |= FPSR_IXC;
    if (!Number.isFinite(s)) env.fpsr |= FPSR_OFC;
  }
  setDouble(s);
}

/** FPRound of an exact double x (finite, nonzero) to format n. */
function roundDouble(env: FpEnv, n: number, x: number, rounding: Rounding, cv = false): void {
  if (n === 32) { roundToSingle(env, x, rounding); return; }
  if (n === 64) {
    if (Math.abs(x) < 2 ** -1022 && (env.fpcr & FPCR_FZ) !== 0) {
      env.fpsr |= FPSR_UFC;
      setZero(64, x < 0 ? 1 : 0);
      return;
    }
    setDouble(x);
    return;
  }
  roundExact(env, n, exactOf(x), rounding, cv);
}

/** TwoSum: the exact error of s = RN(a + b). */
function twoSumError(a: number, b: number, s: number): number {
  const bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

const SPLITTER = 134217729; // 2^27 + 1

/** TwoProduct (Dekker/Veltkamp): the exact error of p = RN(a * b), for operands in the safe range. */
function twoProductError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

// ---- arithmetic -------------------------------------------------------------------------------
const enum Op { Add, Mul, Div, Sqrt }

/**
 * Rounds the exact result of `a op b` (finite, nonzero operands, nonzero
 * result) into fpResult for format n (32 or 64).
 */
function roundArith(env: FpEnv, n: number, op: Op, a: number, b: number, rounding: Rounding): void {
  let s: number;
  let resid: number;
  switch (op) {
    case Op.Add: {
      s = a + b;
      if (Number.isFinite(s)) {
        const e = twoSumError(a, b, s);
        resid = e > 0 ? 1 : e < 0 ? -1 : 0;
      } else resid = NaN;
      break;
    }
    case Op.Mul: {
      s = a * b;
      if (n === 32) { roundToSingle(env, s, rounding); return; } // exact in double
      if (inSafeRange(a) && inSafeRange(b) && inSafeRange(s)) {
        const e = twoProductError(a, b, s);
        resid = e > 0 ? 1 : e < 0 ? -1 : 0;
      } else resid = NaN;
      break;
    }
    case Op.Div: {
      s = a / b;
      if (inSafeRange(a) && inSafeRange(b) && inSafeRange(s)) {
        const p = s * b, e = twoProductError(s, b, p);
        const r = (a - p) - e; // a - s*b, exactly signed
        resid = r === 0 ? 0 : (r > 0) === (b > 0) ? 1 : -1;
      } else resid = NaN;
      break;
    }
    default: { // Sqrt of a > 0
      s = Math.sqrt(a);
      if (inSafeRange(a)) {
        const p = s * s, e = twoProductError(s, s, p);
        const r = (a - p) - e;
        resid = r > 0 ? 1 : r < 0 ? -1 : 0;
      } else resid = NaN;
    }
  }
  if (resid === resid) { // residual known
    if (n === 32) { roundToSingle(env, roundToOdd(s, resid), rounding); return; }
    if (Math.abs(s) > 2 ** -1000 && Number.isFinite(s)) { roundToDouble(env, s, resid, rounding); return; }
  }
  // Exact slow path: overflow, underflow, or operands outside the safe range.
  const ea = exactOf(a);
  let v: Exact;
  switch (op) {
    case Op.Add: v = exactAdd(ea, exactOf(b))!; break;
    case Op.Mul: v = exactMul(ea, exactOf(b)); break;
    case Op.Div: v = exactDiv(ea, exactOf(b)); break;
    default: v = exactSqrt(ea);
  }
  roundExact(env, n, v, rounding);
}

/** FPAdd (or FPSub when `subtract`). */
export function fpAdd(env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number, subtract: boolean): void {
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, blo, bhi, 1);
  if (processNaNs(env, n, alo, ahi, blo, bhi)) return;
  const t1 = uType[0]!, t2 = uType[1]!, s1 = uSign[0]!;
  const s2 = subtract ? uSign[1]! ^ 1 : uSign[1]!;
  const inf1 = t1 === FpType.Infinity, inf2 = t2 === FpType.Infinity;
  if (inf1 && inf2 && s1 !== s2) { setDefaultNaN(n); env.fpsr |= FPSR_IOC; return; }
  if ((inf1 && s1 === 0) || (inf2 && s2 === 0)) { setInfinity(n, 0); return; }
  if (inf1 || inf2) { setInfinity(n, 1); return; }
  const zero1 = t1 === FpType.Zero, zero2 = t2 === FpType.Zero;
  if (zero1 && zero2 && s1 === s2) { setZero(n, s1); return; }
  const rounding = fpcrRounding(env.fpcr);
  const a = uValue[0]!, b = subtract ? -uValue[1]! : uValue[1]!;
  if (a + b === 0 && (zero1 || zero2 || a === -b)) {
    // Exact zero: its sign depends on the rounding mode.
    setZero(n, rounding === Rounding.NegInf ? 1 : 0);
    return;
  }
  if (zero1 || zero2) { roundDouble(env, n, zero1 ? b : a, rounding); return; }
  roundArith(env, n, Op.Add, a, b, rounding);
}

/** FPMul; FNMUL negates the result (FPNeg, including NaNs). */
export function fpMul(env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number): void {
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, blo, bhi, 1);
  if (processNaNs(env, n, alo, ahi, blo, bhi)) return;
  const t1 = uType[0]!, t2 = uType[1]!, sign = uSign[0]! ^ uSign[1]!;
  const inf1 = t1 === FpType.Infinity, inf2 = t2 === FpType.Infinity, zero1 = t1 === FpType.Zero, zero2 = t2 === FpType.Zero;
  if ((inf1 && zero2) || (zero1 && inf2)) { setDefaultNaN(n); env.fpsr |= FPSR_IOC; return; }
  if (inf1 || inf2) { setInfinity(n, sign); return; }
  if (zero1 || zero2) { setZero(n, sign); return; }
  roundArith(env, n, Op.Mul, uValue[0]!, uValue[1]!, fpcrRounding(env.fpcr));
}

/** FPDiv. */
export function fpDiv(env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number): void {
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, blo, bhi, 1);
  if (processNaNs(env, n, alo, ahi, blo, bhi)) return;
  const t1 = uType[0]!, t2 = uType[1]!, sign = uSign[0]! ^ uSign[1]!;
  const inf1 = t1 === FpType.Infinity, inf2 = t2 === FpType.Infinity, zero1 = t1 === FpType.Zero, zero2 = t2 === FpType.Zero;
  if ((inf1 && inf2) || (zero1 && zero2)) { setDefaultNaN(n); env.fpsr |= FPSR_IOC; return; }
  if (inf1 || zero2) {
    setInfinity(n, sign);
    if (!inf1) env.fpsr |= FPSR_DZC;
    return;
  }
  if (zero1 || inf2) { setZero(n, sign); return; }
  roundArith(env, n, Op.Div, uValue[0]!, uValue[1]!, fpcrRounding(env.fpcr));
}

/** FPSqrt. */
export function fpSqrt(env: FpEnv, n: number, lo: number, hi: number): void {
  unpack(env, n, lo, hi, 0);
  const t = uType[0]!, sign = uSign[0]!;
  if (t === FpType.SNaN || t === FpType.QNaN) { processNaN(env, n, t, lo, hi); return; }
  if (t === FpType.Zero) { setZero(n, sign); return; }
  if (t === FpType.Infinity && sign === 0) { setInfinity(n, 0); return; }
  if (sign === 1) { setDefaultNaN(n); env.fpsr |= FPSR_IOC; return; }
  roundArith(env, n, Op.Sqrt, uValue[0]!, 0, fpcrRounding(env.fpcr));
}

const lo3 = [0, 0, 0];
const hi3 = [0, 0, 0];

/** FPMulAdd(addend, op1, op2) = addend + op1 * op2 with a single rounding (FMADD and friends negate operands first). */
export function fpMulAdd(
  env: FpEnv, n: number, alo: number, ahi: number, lo1: number, hi1: number, lo2: number, hi2: number,
): void {
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, lo1, hi1, 1);
  unpack(env, n, lo2, hi2, 2);
  const tA = uType[0]!, t1 = uType[1]!, t2 = uType[2]!;
  const inf1 = t1 === FpType.Infinity, inf2 = t2 === FpType.Infinity, zero1 = t1 === FpType.Zero, zero2 = t2 === FpType.Zero;
  lo3[0] = alo; lo3[1] = lo1; lo3[2] = lo2; hi3[0] = ahi; hi3[1] = hi1; hi3[2] = hi2;
  const done = processNaNs3(env, n, lo3, hi3);
  if (tA === FpType.QNaN && ((inf1 && zero2) || (zero1 && inf2))) {
    setDefaultNaN(n); env.fpsr |= FPSR_IOC;
    return;
  }
  if (done) return;
  const sA = uSign[0]!, sP = uSign[1]! ^ uSign[2]!;
  const infA = tA === FpType.Infinity, zeroA = tA === FpType.Zero;
  const infP = inf1 || inf2, zeroP = zero1 || zero2;
  if ((inf1 && zero2) || (zero1 && inf2) || (infA && infP && sA !== sP)) { setDefaultNaN(n); env.fpsr |= FPSR_IOC; return; }
  if ((infA && sA === 0) || (infP && sP === 0)) { setInfinity(n, 0); return; }
  if (infA || infP) { setInfinity(n, 1); return; }
  if (zeroA && zeroP && sA === sP) { setZero(n, sA); return; }
  const rounding = fpcrRounding(env.fpcr);
  const a = uValue[0]!, x = uValue[1]!, y = uValue[2]!;
  if (zeroP) { // the product is an exact zero: the result is the addend, or a zero of opposite-signed zeros
    if (zeroA) setZero(n, rounding === Rounding.NegInf ? 1 : 0);
    else roundDouble(env, n, a, rounding);
    return;
  }
  if (n === 32) {
    const p = x * y; // exact
    const s = p + a;
    const e = twoSumError(p, a, s);
    if (s === 0 && e === 0) { setZero(n, rounding === Rounding.NegInf ? 1 : 0); return; }
    roundToSingle(env, roundToOdd(s, e > 0 ? 1 : e < 0 ? -1 : 0), rounding);
    return;
  }
  // Double precision: exact with BigInt.
  const p = exactMul(exactOf(x), exactOf(y));
  const v = zeroA ? p : exactAdd(p, exactOf(a));
  if (!v) { setZero(n, rounding === Rounding.NegInf ? 1 : 0); return; }
  roundExact(env, n, v, rounding);
}

/** FPMax / FPMin; `num` gives FPMaxNum / FPMinNum (a single quiet NaN loses to a number). */
export function fpMaxMin(
  env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number, max: boolean, num: boolean,
): void {
  if (num) {
    const ta = fpTypeOf(n, alo, ahi), tb = fpTypeOf(n, blo, bhi);
    // Replace the quiet NaN by the infinity that always loses.
    if (ta === FpType.QNaN && tb !== FpType.QNaN) {
      setInfinity(n, max ? 1 : 0); alo = fpResult[0]!; ahi = fpResult[1]!;
    } else if (ta !== FpType.QNaN && tb === FpType.QNaN) {
      setInfinity(n, max ? 1 : 0); blo = fpResult[0]!; bhi = fpResult[1]!;
    }
  }
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, blo, bhi, 1);
  if (processNaNs(env, n, alo, ahi, blo, bhi)) return;
  const v1 = uValue[0]!, v2 = uValue[1]!;
  const first = max ? v1 > v2 : v1 < v2;
  const k = first ? 0 : 1;
  const type = uType[k]!;
  if (type === FpType.Infinity) { setInfinity(n, uSign[k]!); return; }
  if (type === FpType.Zero) {
    // The most positive (max) or most negative (min) zero.
    setZero(n, max ? uSign[0]! & uSign[1]! : uSign[0]! | uSign[1]!);
    return;
  }
  roundDouble(env, n, uValue[k]!, Rounding.TieEven);
}

/** FPCompare: NZCV (N=8 Z=4 C=2 V=1); unordered = 0011. FCMPE (`signalNaNs`) raises Invalid Operation for quiet NaNs too. */
export function fpCompare(env: FpEnv, n: number, alo: number, ahi: number, blo: number, bhi: number, signalNaNs: boolean): number {
  unpack(env, n, alo, ahi, 0);
  unpack(env, n, blo, bhi, 1);
  const t1 = uType[0]!, t2 = uType[1]!;
  if (t1 >= FpType.QNaN || t2 >= FpType.QNaN) {
    if (t1 === FpType.SNaN || t2 === FpType.SNaN || signalNaNs) env.fpsr |= FPSR_IOC;
    return 0b0011;
  }
  const v1 = uValue[0]!, v2 = uValue[1]!;
  return v1 === v2 ? 0b0110 : v1 < v2 ? 0b1000 : 0b0010;
}

/** Integer part of a finite double in a rounding mode, and whether it was inexact. */
const roundOut = { int: 0, error: 0 };
function roundToIntegral(value: number, rounding: Rounding): void {
  let intResult = Math.floor(value);
  const error = value - intResult;
  let up: boolean;
  switch (rounding) {
    case Rounding.TieEven: up = error > 0.5 || (error === 0.5 && intResult % 2 !== 0); break;
    case Rounding.PosInf: up = error !== 0; break;
    case Rounding.NegInf: up = false; break;
    case Rounding.Zero: up = error !== 0 && intResult < 0; break;
    default: up = error > 0.5 || (error === 0.5 && intResult >= 0); // TieAway
  }
  if (up) intResult += 1;
  roundOut.int = intResult;
  roundOut.error = error;
}

/**
 * FPRoundInt (FRINT<N,P,M,Z,A,X,I>); `exact` raises Inexact (FRINTX). With
 * intBits 32 or 64, FPRoundIntN (FRINT32*, FRINT64*): out-of-range, NaN and
 * infinite inputs give the most negative integer and Invalid Operation.
 */
export function fpRoundInt(env: FpEnv, n: number, lo: number, hi: number, rounding: Rounding, exact: boolean, intBits = 0): void {
  unpack(env, n, lo, hi, 0);
  const t = uType[0]!, sign = uSign[0]!;
  if (intBits !== 0 && (t === FpType.SNaN || t === FpType.QNaN || t === FpType.Infinity)) {
    roundDouble(env, n, -(2 ** (intBits - 1)), Rounding.Zero);
    env.fpsr |= FPSR_IOC;
    return;
  }
  if (t === FpType.SNaN || t === FpType.QNaN) { processNaN(env, n, t, lo, hi); return; }
  if (t === FpType.Infinity) { setInfinity(n, sign); return; }
  if (t === FpType.Zero) { setZero(n, sign); return; }
  roundToIntegral(uValue[0]!, rounding);
  let result = roundOut.int;
  let error = roundOut.error;
  if (intBits !== 0 && (result > 2 ** (intBits - 1) - 1 || result < -(2 ** (intBits - 1)))) {
    result = -(2 ** (intBits - 1));
    env.fpsr |= FPSR_IOC;
    error = 0;
  }
  if (result === 0) setZero(n, sign);
  else roundDouble(env, n, result, Rounding.Zero);
  if (error !== 0 && (exact || intBits !== 0)) env.fpsr |= FPSR_IXC;
}

/**
 * FPToFixed: FP to a signed or unsigned integer of intBits (32/64) bits with
 * fbits fraction bits, saturating with Invalid Operation; NaN gives 0.
 * Result in fpResult (lo, hi; hi = 0 for 32 bits).
 */
export function fpToFixed(
  env: FpEnv, n: number, lo: number, hi: number, fbits: number, unsigned: boolean, rounding: Rounding, intBits: number,
): void {
  unpack(env, n, lo, hi, 0);
  const t = uType[0]!;
  let value = uValue[0]!;
  if (t === FpType.SNaN || t === FpType.QNaN) { env.fpsr |= FPSR_IOC; value = 0; }
  value *= 2 ** fbits;
  let intResult: number, error: number;
  if (Number.isFinite(value)) {
    roundToIntegral(value, rounding);
    intResult = roundOut.int; error = roundOut.error;
  } else { intResult = value; error = 0; }
  // SatQ: the representable range is [lowest, limit).
  const limit = unsigned ? 2 ** intBits : 2 ** (intBits - 1);
  const lowest = unsigned ? 0 : -limit;
  if (intResult >= limit) {
    env.fpsr |= FPSR_IOC;
    if (intBits === 32) { fpResult[0] = unsigned ? -1 : 0x7fffffff; fpResult[1] = 0; }
    else { fpResult[0] = -1; fpResult[1] = unsigned ? -1 : 0x7fffffff; }
    return;
  }
  if (intResult < lowest) { env.fpsr |= FPSR_IOC; intResult = lowest; }
  else if (error !== 0) env.fpsr |= FPSR_IXC;
  if (intBits === 32) {
    fpResult[0] = intResult | 0; // the low 32 bits (ToInt32 wraps modulo 2^32)
    fpResult[1] = 0;
  } else {
    const h = Math.floor(intResult / 4294967296);
    fpResult[0] = (intResult - h * 4294967296) | 0;
    fpResult[1] = h | 0;
  }
}

/** FixedToFP: a signed/unsigned intBits-bit integer (lo, hi) with fbits fraction bits to format n. */
export function fixedToFp(
  env: FpEnv, n: number, lo: number, hi: number, intBits: number, fbits: number, unsigned: boolean, rounding: Rounding,
): void {
  const scale = 2 ** -fbits; // exact: no operand is small enough to underflow
  if (intBits === 32) {
    const v = unsigned ? lo >>> 0 : lo | 0;
    if (v === 0) { setZero(n, 0); return; }
    roundDouble(env, n, v * scale, rounding);
    return;
  }
  const big = (unsigned ? hi >>> 0 : hi | 0) * 4294967296; // exact
  const low = lo >>> 0;
  const s = big + low;
  if (s === 0) { setZero(n, 0); return; }
  const err = twoSumError(big, low, s);
  if (err === 0) { roundDouble(env, n, s * scale, rounding); return; }
  // More than 53 significant bits: s is rounded, err holds the rest.
  const resid = err > 0 ? 1 : -1;
  if (n === 32) { roundToSingle(env, roundToOdd(s, resid) * scale, rounding); return; }
  if (n === 64) { roundToDouble(env, s * scale, resid, rounding); return; }
  const v = exactAdd(exactOf(big), exactOf(low))!;
  roundExact(env, n, { sign: v.sign, mant: v.mant, exp: v.exp - fbits }, rounding);
}

/** FPConvertNaN: a quiet NaN of the new format carrying the top of the payload. */
function convertNaN(from: number, to: number, lo: number, hi: number): void {
  let sign: number;
  let payloadHi: number; // the payload below the quiet bit, left-aligned in 51 bits as (hi 19 bits, lo 32 bits)
  let payloadLo: number;
  if (from === 64) { sign = hi >>> 31; payloadHi = hi & 0x7ffff; payloadLo = lo; }
  else if (from === 32) { sign = lo >>> 31; payloadHi = (lo & 0x3fffff) >>> 3; payloadLo = (lo & 7) << 29; }
  else { sign = (lo >>> 15) & 1; payloadHi = (lo & 0x1ff) << 10; payloadLo = 0; }
  if (to === 64) { fpResult[0] = payloadLo; fpResult[1] = (sign << 31) | 0x7ff80000 | payloadHi; }
  else if (to === 32) {
    fpResult[0] = (sign << 31) | 0x7fc00000 | (payloadHi << 3) | (payloadLo >>> 29); fpResult[1] = 0;
  } else {
    fpResult[0] = (sign << 15) | 0x7e00 | (payloadHi >>> 10); fpResult[1] = 0;
  }
}

/** FPConvert between half (16), single (32) and double (64) precision (FCVT). */
export function fpConvert(env: FpEnv, from: number, to: number, lo: number, hi: number, rounding: Rounding): void {
  unpack(env, from, lo, hi, 0, true);
  const t = uType[0]!, sign = uSign[0]!;
  const altHp = to === 16 && (env.fpcr & FPCR_AHP) !== 0;
  if (t === FpType.SNaN || t === FpType.QNaN) {
    if (altHp) setZero(16, sign);
    else if ((env.fpcr & FPCR_DN) !== 0) setDefaultNaN(to);
    else convertNaN(from, to, lo, hi);
    if (t === FpType.SNaN || altHp) env.fpsr |= FPSR_IOC;
    return;
  }
  if (t === FpType.Infinity) {
    if (altHp) { fpResult[0] = (sign << 15) | 0x7fff; fpResult[1] = 0; env.fpsr |= FPSR_IOC; }
    else setInfinity(to, sign);
    return;
  }
  if (t === FpType.Zero) { setZero(to, sign); return; }
  roundDouble(env, to, uValue[0]!, rounding, true);
}

/** VFPExpandImm: the FMOV (immediate) constant for an 8-bit imm8, as bits of format n (32 or 64). */
export function vfpExpandImm(imm8: number, n: number): void {
  const sign = (imm8 >>> 7) & 1, b6 = (imm8 >>> 6) & 1, low = imm8 & 0x3f;
  if (n === 32) {
    // sign : NOT(b6) : Replicate(b6, 5) : imm8<5:4> : imm8<3:0> : Zeros(19)
    const exp = ((b6 ^ 1) << 7) | (b6 ? 0x7c : 0) | ((low >>> 4) & 3);
    fpResult[0] = (sign << 31) | (exp << 23) | ((low & 15) << 19);
    fpResult[1] = 0;
  } else {
    const exp = ((b6 ^ 1) << 10) | (b6 ? 0x3fc : 0) | ((low >>> 4) & 3);
    fpResult[0] = 0;
    fpResult[1] = (sign << 31) | (exp << 20) | ((low & 15) << 16);
  }
}

// ---- exported for tests: the exact (BigInt) reference for one operation --------------------------------
/** Rounds `a op b` through the exact path only (test reference for the fast paths). */
export function referenceArith(env: FpEnv, n: number, op: 'add' | 'mul' | 'div' | 'sqrt' | 'fma', a: number, b: number, c = 0): void {
  const rounding = fpcrRounding(env.fpcr);
  let v: Exact | undefined;
  switch (op) {
    case 'add': v = exactAdd(exactOf(a), exactOf(b)); break;
    case 'mul': v = exactMul(exactOf(a), exactOf(b)); break;
    case 'div': v = exactDiv(exactOf(a), exactOf(b)); break;
    case 'sqrt': v = exactSqrt(exactOf(a)); break;
    default: v = exactAdd(exactOf(c), exactMul(exactOf(a), exactOf(b)));
  }
  if (!v) { setZero(n, rounding === Rounding.NegInf ? 1 : 0); return; }
  roundExact(env, n, v, rounding);
}

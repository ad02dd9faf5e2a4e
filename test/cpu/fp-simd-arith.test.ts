/**
 * The IEEE core (src/cpu/exec/fp-arith.ts): its fast paths (error-free
 * transformations, round-to-odd, one-ulp directed corrections) against the
 * exact BigInt rounding in every rounding mode, plus the Arm-specific
 * special cases (NaN propagation, default NaN, flush-to-zero, FPCompare,
 * FPToFixed saturation, FPConvert of NaNs and alternative half precision).
 */
import { describe, expect, it } from 'vitest';
import {
  doubleFromBits, fixedToFp, fpAdd, fpCompare, fpConvert, fpDiv, fpMaxMin, fpMul, fpMulAdd, fpResult, fpRoundInt,
  fpSqrt, fpToFixed, referenceArith, Rounding, singleBits, singleFromBits, vfpExpandImm,
  FPSR_DZC, FPSR_IDC, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC, FPCR_AHP, FPCR_DN, FPCR_FZ, type FpEnv,
} from '../../src/cpu/exec/fp-arith.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

const f64 = new Float64Array(1);
const w64 = new Int32Array(f64.buffer);
const dbits = (x: number): [number, number] => { f64[0] = x; return [w64[0]!, w64[1]!]; };

/** A random finite nonzero value of format n, as a JS double, with exponents spread to the extremes. */
function randomValue(n: 32 | 64, next: () => number): number {
  const sign = next() & 1;
  if (n === 32) {
    const exp = next() % 4 === 0 ? next() % 255 : 100 + (next() % 55);
    const bits = (sign << 31) | (exp << 23) | (next() & 0x7fffff);
    const v = singleFromBits(bits);
    return v === 0 ? 1 : v;
  }
  const exp = next() % 4 === 0 ? next() % 2047 : 990 + (next() % 70);
  const v = doubleFromBits(next() | 0, (sign << 31) | (exp << 20) | (next() & 0xfffff));
  return v === 0 ? 1 : v;
}

const bitsOf = (n: 32 | 64, v: number): [number, number] => (n === 32 ? [singleBits(v), 0] : dbits(v));
const FPCRS = [0, 1 << 22, 2 << 22, 3 << 22, FPCR_FZ, FPCR_FZ | (3 << 22)];

describe('fast paths agree with exact rounding', () => {
  for (const n of [32, 64] as const) {
    for (const op of ['add', 'mul', 'div', 'sqrt', 'fma'] as const) {
      it(`${op}, ${n}-bit, all rounding modes and FZ`, () => {
        const next = rng(n * 100 + op.length);
        let checked = 0;
        for (let k = 0; k < 4000; k++) {
          let a = randomValue(n, next), b = randomValue(n, next);
          let c = randomValue(n, next);
          if (op === 'sqrt') a = Math.abs(a);
          if (op === 'add' && k % 3 === 0) b = -a * (1 + (next() % 16) * (n === 32 ? 2 ** -23 : 2 ** -52)); // cancellation
          if (op === 'fma' && k % 3 === 0) c = n === 32 ? Math.fround(-a * b) : -a * b; // the addend nearly cancels
          if (n === 32) b = Math.fround(b);
          if (![a, b, c].every((x) => Number.isFinite(x) && x !== 0)) continue;
          const fpcr = FPCRS[k % FPCRS.length]!;
          // FZ flushes denormal inputs in the operation but not in the reference: keep inputs normal there.
          const minNormal = n === 32 ? 2 ** -126 : 2 ** -1022;
          if ((fpcr & FPCR_FZ) && [a, b, c].some((x) => Math.abs(x) < minNormal)) continue;
          const [alo, ahi] = bitsOf(n, a), [blo, bhi] = bitsOf(n, b), [clo, chi] = bitsOf(n, c);
          const env: FpEnv = { fpcr, fpsr: 0 };
          switch (op) {
            case 'add': fpAdd(env, n, alo, ahi, blo, bhi, false); break;
            case 'mul': fpMul(env, n, alo, ahi, blo, bhi); break;
            case 'div': fpDiv(env, n, alo, ahi, blo, bhi); break;
            case 'sqrt': fpSqrt(env, n, alo, ahi); break;
            default: fpMulAdd(env, n, clo, chi, alo, ahi, blo, bhi);
          }
          const got = [fpResult[0], n === 64 ? fpResult[1] : 0, env.fpsr];
          const ref: FpEnv = { fpcr, fpsr: 0 };
          if (op === 'add' && a + b === 0) continue; // exact zero: sign rule, not rounding
          if (op === 'fma' && a * b + c === 0) continue;
          referenceArith(ref, n, op, a, b, c);
          expect(got, `${op} ${a} ${b} ${c} fpcr=${fpcr.toString(16)}`).toEqual([fpResult[0], n === 64 ? fpResult[1] : 0, ref.fpsr]);
          checked++;
        }
        expect(checked).toBeGreaterThan(1000);
      });
    }
  }
});

describe('Arm special cases', () => {
  const S = (x: number) => singleBits(x);
  const env = (fpcr = 0): FpEnv => ({ fpcr, fpsr: 0 });

  it('propagates NaNs as FPProcessNaNs: signalling first, quieted, default NaN with DN', () => {
    const e = env();
    fpAdd(e, 32, 0x7fc00001, 0, 0x7f800002, 0, false); // qNaN + sNaN: the sNaN wins, quieted
    expect(fpResult[0]).toBe(0x7fc00002);
    expect(e.fpsr).toBe(FPSR_IOC);
    const e2 = env();
    fpMul(e2, 32, 0xffc00005 | 0, 0, 0x7fc00007, 0); // two qNaNs: the first, no flag
    expect(fpResult[0]).toBe(0xffc00005 | 0);
    expect(e2.fpsr).toBe(0);
    const e3 = env(FPCR_DN);
    fpDiv(e3, 64, 1, 0x7ff00000, 0, 0x3ff00000); // sNaN / 1 with DN
    expect([fpResult[0], fpResult[1]]).toEqual([0, 0x7ff80000]);
    expect(e3.fpsr).toBe(FPSR_IOC);
    const e4 = env();
    fpMulAdd(e4, 32, 0x7fc00009, 0, S(0), 0, S(Infinity), 0); // qNaN addend with 0 * inf: default NaN + IOC
    expect(fpResult[0]).toBe(0x7fc00000);
    expect(e4.fpsr).toBe(FPSR_IOC);
  });

  it('raises Invalid Operation, Divide by Zero, Overflow, Underflow and Inexact', () => {
    let e = env();
    fpAdd(e, 32, S(Infinity), 0, S(-Infinity), 0, false);
    expect([fpResult[0], e.fpsr]).toEqual([0x7fc00000, FPSR_IOC]);
    e = env();
    fpDiv(e, 32, S(1), 0, S(-0), 0);
    expect([fpResult[0], e.fpsr]).toEqual([0xff800000 | 0, FPSR_DZC]);
    e = env();
    fpMul(e, 32, S(3e38), 0, S(10), 0);
    expect([fpResult[0], e.fpsr]).toEqual([0x7f800000, FPSR_OFC | FPSR_IXC]);
    e = env(3 << 22); // round toward zero overflows to the largest finite value
    fpMul(e, 32, S(3e38), 0, S(10), 0);
    expect([fpResult[0], e.fpsr]).toEqual([0x7f7fffff, FPSR_OFC | FPSR_IXC]);
    e = env();
    fpMul(e, 32, S(2 ** -100), 0, S((1 + 2 ** -23) * 2 ** -40), 0); // tiny and inexact
    expect(e.fpsr).toBe(FPSR_UFC | FPSR_IXC);
    e = env();
    fpMul(e, 32, S(2 ** -100), 0, S(2 ** -40), 0); // tiny but exact: no underflow
    expect(e.fpsr).toBe(0);
    e = env();
    fpSqrt(e, 64, ...dbits(-1));
    expect([fpResult[1], e.fpsr]).toEqual([0x7ff80000, FPSR_IOC]);
  });

  it('flushes denormals with FZ (Input Denormal on inputs, Underflow on results)', () => {
    let e = env(FPCR_FZ);
    fpAdd(e, 32, 1, 0, S(1), 0, false); // smallest denormal + 1
    expect([fpResult[0], e.fpsr]).toEqual([S(1), FPSR_IDC]);
    e = env(FPCR_FZ);
    fpMul(e, 32, S(2 ** -100), 0, S(2 ** -40), 0); // exact denormal result: flushed
    expect([fpResult[0], e.fpsr]).toEqual([0, FPSR_UFC]);
    e = env(FPCR_FZ);
    fpMul(e, 64, ...dbits(-(2 ** -1000)), ...dbits(2 ** -30));
    expect([fpResult[0], fpResult[1], e.fpsr]).toEqual([0, 1 << 31, FPSR_UFC]);
  });

  it('gives the zero signs of exact cancellation by rounding mode, and of FMAX/FMIN', () => {
    let e = env();
    fpAdd(e, 32, S(1.5), 0, S(1.5), 0, true);
    expect(fpResult[0]).toBe(0);
    e = env(2 << 22); // toward minus infinity
    fpAdd(e, 32, S(1.5), 0, S(1.5), 0, true);
    expect(fpResult[0]).toBe(1 << 31);
    fpMaxMin(env(), 32, S(-0), 0, S(0), 0, true, false);
    expect(fpResult[0]).toBe(0);
    fpMaxMin(env(), 32, S(0), 0, S(-0), 0, false, false);
    expect(fpResult[0]).toBe(1 << 31);
    fpMaxMin(env(), 32, 0x7fc00000, 0, S(-3), 0, true, true); // FMAXNM: the number beats a quiet NaN
    expect(fpResult[0]).toBe(S(-3));
    const e2 = env();
    fpMaxMin(e2, 32, 0x7f800001, 0, S(-3), 0, true, true); // but not a signalling NaN
    expect([fpResult[0], e2.fpsr]).toEqual([0x7fc00001, FPSR_IOC]);
  });

  it('compares as FPCompare: unordered 0011, FCMPE signals on quiet NaNs', () => {
    expect(fpCompare(env(), 32, S(1), 0, S(2), 0, false)).toBe(0b1000);
    expect(fpCompare(env(), 32, S(2), 0, S(2), 0, false)).toBe(0b0110);
    expect(fpCompare(env(), 32, S(3), 0, S(2), 0, false)).toBe(0b0010);
    expect(fpCompare(env(), 64, 0, 0, 0, 1 << 31, false)).toBe(0b0110); // +0 == -0
    let e = env();
    expect(fpCompare(e, 32, 0x7fc00000, 0, S(1), 0, false)).toBe(0b0011);
    expect(e.fpsr).toBe(0);
    e = env();
    expect(fpCompare(e, 32, 0x7fc00000, 0, S(1), 0, true)).toBe(0b0011);
    expect(e.fpsr).toBe(FPSR_IOC);
    e = env();
    expect(fpCompare(e, 32, S(1), 0, 0x7f800001, 0, false)).toBe(0b0011);
    expect(e.fpsr).toBe(FPSR_IOC);
  });

  it('converts to integers with rounding, saturation and NaN -> 0', () => {
    const cvt = (x: number, bits: number, unsigned: boolean, r: Rounding, fbits = 0) => {
      const e = env();
      fpToFixed(e, 64, ...dbits(x), fbits, unsigned, r, bits);
      return [fpResult[0], fpResult[1], e.fpsr];
    };
    expect(cvt(2.5, 32, false, Rounding.TieEven)).toEqual([2, 0, FPSR_IXC]);
    expect(cvt(-2.5, 32, false, Rounding.TieAway)).toEqual([-3, 0, FPSR_IXC]);
    expect(cvt(-2.5, 32, false, Rounding.Zero)).toEqual([-2, 0, FPSR_IXC]);
    expect(cvt(-0.5, 32, false, Rounding.NegInf)).toEqual([-1, 0, FPSR_IXC]);
    expect(cvt(0.25, 64, false, Rounding.PosInf)).toEqual([1, 0, FPSR_IXC]);
    expect(cvt(3e9, 32, false, Rounding.Zero)).toEqual([0x7fffffff, 0, FPSR_IOC]);
    expect(cvt(-3e9, 32, false, Rounding.Zero)).toEqual([1 << 31, 0, FPSR_IOC]);
    expect(cvt(3e9, 32, true, Rounding.Zero)).toEqual([3e9 | 0, 0, 0]);
    expect(cvt(-1, 32, true, Rounding.Zero)).toEqual([0, 0, FPSR_IOC]);
    expect(cvt(2 ** 63, 64, false, Rounding.Zero)).toEqual([-1, 0x7fffffff, FPSR_IOC]);
    expect(cvt(-(2 ** 63), 64, false, Rounding.Zero)).toEqual([0, 1 << 31, 0]);
    expect(cvt(2 ** 64, 64, true, Rounding.Zero)).toEqual([-1, -1, FPSR_IOC]);
    expect(cvt(Infinity, 64, true, Rounding.Zero)).toEqual([-1, -1, FPSR_IOC]);
    expect(cvt(-Infinity, 64, false, Rounding.Zero)).toEqual([0, 1 << 31, FPSR_IOC]);
    expect(cvt(NaN, 64, false, Rounding.Zero)).toEqual([0, 0, FPSR_IOC]);
    expect(cvt(1.75, 32, false, Rounding.Zero, 4)).toEqual([28, 0, 0]); // fixed point: 1.75 * 16
  });

  it('converts integers to FP with one rounding (64-bit values beyond 2^53)', () => {
    const e = env();
    fixedToFp(e, 64, -1, 0x7fffffff, 64, 0, false, Rounding.TieEven); // 2^63 - 1
    expect([fpResult[0], fpResult[1], e.fpsr]).toEqual([0, 0x43e00000, FPSR_IXC]);
    const e2 = env();
    fixedToFp(e2, 32, 0x00000003, 0x01000000, 64, 0, true, Rounding.Zero); // 2^56 + 3 to single, toward zero
    expect([fpResult[0], e2.fpsr]).toEqual([S(2 ** 56), FPSR_IXC]);
    const e3 = env();
    fixedToFp(e3, 32, -1, 0, 32, 0, true, Rounding.PosInf); // 2^32 - 1 rounded up
    expect([fpResult[0], e3.fpsr]).toEqual([S(2 ** 32), FPSR_IXC]);
    const e4 = env();
    fixedToFp(e4, 64, 12, 0, 32, 3, false, Rounding.TieEven); // 12 / 2^3
    expect([fpResult[0], fpResult[1], e4.fpsr]).toEqual([...dbits(1.5), 0]);
  });

  it('converts between precisions: NaN payloads, half precision and AHP', () => {
    let e = env();
    fpConvert(e, 32, 64, 0x7f812345, 0, Rounding.TieEven); // sNaN single -> quiet double, payload kept at the top
    expect([fpResult[0], fpResult[1], e.fpsr]).toEqual([0xa0000000 | 0, 0x7ff82468, FPSR_IOC]);
    e = env();
    fpConvert(e, 64, 16, ...dbits(65520), Rounding.TieEven); // rounds past the largest half: infinity
    expect([fpResult[0], e.fpsr]).toEqual([0x7c00, FPSR_OFC | FPSR_IXC]);
    e = env(FPCR_AHP);
    fpConvert(e, 64, 16, ...dbits(65536), Rounding.TieEven); // alternative half precision: exponent 31 is normal
    expect([fpResult[0], e.fpsr]).toEqual([0x7c00, 0]);
    e = env(FPCR_AHP);
    fpConvert(e, 32, 16, 0x7fc00000, 0, Rounding.TieEven); // NaN -> zero, Invalid Operation
    expect([fpResult[0], e.fpsr]).toEqual([0, FPSR_IOC]);
    e = env();
    fpConvert(e, 16, 32, 0x0001, 0, Rounding.TieEven); // smallest half denormal is exact in single
    expect([fpResult[0], e.fpsr]).toEqual([S(2 ** -24), 0]);
    e = env();
    fpConvert(e, 64, 32, ...dbits(2 ** -140), Rounding.TieEven); // exact single denormal
    expect([fpResult[0], e.fpsr]).toEqual([S(2 ** -140), 0]);
  });

  it('rounds to integral values (FRINT*) keeping the sign of zero', () => {
    const ri = (x: number, r: Rounding, exact = false) => {
      const e = env();
      fpRoundInt(e, 64, ...dbits(x), r, exact);
      return [doubleFromBits(fpResult[0]!, fpResult[1]!), e.fpsr];
    };
    expect(ri(2.5, Rounding.TieEven)).toEqual([2, 0]);
    expect(ri(2.5, Rounding.TieAway)).toEqual([3, 0]);
    expect(ri(-0.25, Rounding.PosInf)).toEqual([-0, 0]);
    expect(ri(-0.25, Rounding.NegInf, true)).toEqual([-1, FPSR_IXC]);
    expect(ri(1e300, Rounding.Zero, true)).toEqual([1e300, 0]);
    const e = env();
    fpRoundInt(e, 32, S(3e9), 0, Rounding.Zero, false, 32); // FRINT32Z out of range
    expect([fpResult[0], e.fpsr]).toEqual([S(-(2 ** 31)), FPSR_IOC]);
  });

  it('expands FMOV immediates (VFPExpandImm)', () => {
    vfpExpandImm(0x70, 32); expect(fpResult[0]).toBe(S(1));
    vfpExpandImm(0xf8, 32); expect(fpResult[0]).toBe(S(-1.5));
    vfpExpandImm(0x00, 64); expect([fpResult[0], fpResult[1]]).toEqual(dbits(2));
    vfpExpandImm(0x3f, 64); expect([fpResult[0], fpResult[1]]).toEqual(dbits(31));
    vfpExpandImm(0x40, 64); expect([fpResult[0], fpResult[1]]).toEqual(dbits(0.125));
  });
});

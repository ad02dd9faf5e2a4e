/**
 * Multiply-add on 32-bit halves (MADD/MSUB, SMADDL/SMSUBL, UMADDL/UMSUBL) and
 * the high-half products (SMULH/UMULH) against exact bigint arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { Emulator } from '../../src/machine/emulator.js';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';

const M = (1n << 64n) - 1n;
const s32 = (v: bigint) => BigInt.asIntN(32, v & 0xffffffffn);
const u32 = (v: bigint) => v & 0xffffffffn;
const VALUES = [0n, 1n, 2n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 0xffffffffffffffffn, 0x123456789abcdef0n, 0x8000000000000000n, 0xdeadbeefcafebaben, 0x00010001fffe0003n];

describe('multiply-add', () => {
  const src = `madd x3, x1, x2, x4\n msub x5, x1, x2, x4\n smaddl x6, w1, w2, x4\n umaddl x7, w1, w2, x4
 smsubl x8, w1, w2, x4\n umsubl x9, w1, w2, x4\n smulh x10, x1, x2\n umulh x11, x1, x2\n mul w12, w1, w2\n b .\n`;
  const image = linkFlat(assemble(src, { file: 'mul.s' }), 0x40080000n).bytes;
  it('matches exact arithmetic on edge values', () => {
    const mismatches: string[] = [];
    for (const a of VALUES) for (const b of VALUES) for (const c of [0n, 5n, M]) {
      const emu = new Emulator({ uartSink: () => {} });
      emu.load(image);
      emu.setReg('x1', a); emu.setReg('x2', b); emu.setReg('x4', c);
      emu.run({ maxInsns: 9 });
      const expected: Record<string, bigint> = {
        x3: (c + a * b) & M, x5: (c - a * b) & M,
        x6: (c + s32(a) * s32(b)) & M, x7: (c + u32(a) * u32(b)) & M,
        x8: (c - s32(a) * s32(b)) & M, x9: (c - u32(a) * u32(b)) & M,
        x10: ((BigInt.asIntN(64, a) * BigInt.asIntN(64, b)) >> 64n) & M, x11: (a * b) >> 64n,
        x12: (u32(a) * u32(b)) & 0xffffffffn,
      };
      for (const [r, v] of Object.entries(expected)) {
        if (emu.reg(r) !== v) mismatches.push(`${r} a=${a.toString(16)} b=${b.toString(16)} c=${c.toString(16)}: ${emu.reg(r).toString(16)} != ${v.toString(16)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe('divide', () => {
  const src = `sdiv x3, x1, x2\n udiv x4, x1, x2\n sdiv w5, w1, w2\n udiv w6, w1, w2\n b .\n`;
  const image = linkFlat(assemble(src, { file: 'div.s' }), 0x40080000n).bytes;
  const DIVISORS = [...VALUES, 3n, 7n, 0xfffffffffffffffdn, 0x100000000n, 0x7fffffffffffffffn];
  // Arm: a zero divisor gives 0; otherwise the quotient rounded toward zero (bigint division truncates).
  const sdiv = (a: bigint, b: bigint, bits: number) =>
    b === 0n ? 0n : BigInt.asUintN(bits, BigInt.asIntN(bits, a) / BigInt.asIntN(bits, b));
  const udiv = (a: bigint, b: bigint, bits: number) =>
    b === 0n ? 0n : BigInt.asUintN(bits, a) / BigInt.asUintN(bits, b);
  it('matches exact arithmetic on edge values (incl. INT_MIN / -1 and divisors >= 2^63)', () => {
    const mismatches: string[] = [];
    for (const a of DIVISORS) for (const b of DIVISORS) {
      const emu = new Emulator({ uartSink: () => {} });
      emu.load(image);
      emu.setReg('x1', a); emu.setReg('x2', b);
      emu.run({ maxInsns: 4 });
      const expected: Record<string, bigint> = {
        x3: sdiv(a, b, 64), x4: udiv(a, b, 64),
        x5: sdiv(u32(a), u32(b), 32), x6: udiv(u32(a), u32(b), 32),
      };
      for (const [r, v] of Object.entries(expected)) {
        if (emu.reg(r) !== v) mismatches.push(`${r} a=${a.toString(16)} b=${b.toString(16)}: ${emu.reg(r).toString(16)} != ${v.toString(16)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

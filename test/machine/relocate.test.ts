import { describe, expect, it } from 'vitest';
import { applyRelocation } from '../../src/machine/relocate.js';
import { SymbolTable } from '../../src/machine/symbol-table.js';

/** Applies one relocation to a single instruction word and returns the result (or the problem). */
function patch(insn: number, type: number, value: bigint, place: bigint): number | string {
  const image = new Uint8Array(8);
  const view = new DataView(image.buffer);
  view.setUint32(0, insn, true);
  const problem = applyRelocation(image, 0, type, value, place);
  return problem ?? view.getUint32(0, true);
}

describe('AArch64 relocations (encodings checked against GNU as output)', () => {
  it('patches branch immediates', () => {
    expect(patch(0x9400_0000, 283, 0x2000n, 0x1000n)).toBe((0x9400_0400) >>> 0); // bl .+0x1000
    expect(patch(0x1400_0000, 282, 0x0ff0n, 0x1000n)).toBe((0x17ff_fffc) >>> 0); // b .-0x10
    expect(patch(0x5400_0000, 280, 0x1008n, 0x1000n)).toBe((0x5400_0040) >>> 0); // b.eq .+8
    expect(patch(0x3618_0000, 279, 0x1010n, 0x1000n)).toBe((0x3618_0080) >>> 0); // tbz w0, #3, .+16
    expect(patch(0x5800_0006, 273, 0x1100n, 0x1000n)).toBe((0x5800_0806) >>> 0); // ldr x6, .+0x100
  });

  it('patches ADR and ADRP', () => {
    expect(patch(0x1000_0005, 274, 0x1003n, 0x1000n)).toBe((0x7000_0005) >>> 0); // adr x5, .+3
    expect(patch(0x9000_0000, 275, 0x4012_3456n, 0x4008_0004n)).toBe((0xf000_0500) >>> 0); // adrp x0, +0xa3 pages
    expect(patch(0x9000_0000, 275, 0x1000n, 0x5000n)).toBe(0x90ff_ffe0); // adrp x0, .-0x4000
  });

  it('patches low-12 and move-wide immediates', () => {
    expect(patch(0x9100_0000, 277, 0x4012_3456n, 0n)).toBe((0x9100_0000 | (0x456 << 10)) >>> 0);
    expect(patch(0xf940_0001, 286, 0x4012_3458n, 0n)).toBe((0xf940_0001 | ((0x458 >> 3) << 10)) >>> 0);
    expect(patch(0xf940_0001, 286, 0x4012_3454n, 0n)).toMatch(/not aligned to the 8-byte access/);
    expect(patch(0xd2a0_0009, 265, 0x1234_5678n, 0n)).toBe((0xd2a0_0009 | (0x1234 << 5)) >>> 0);
    expect(patch(0xd2a0_0009, 265, 0x1_0000_0000n, 0n)).toMatch(/does not fit in 32 unsigned bits/);
    expect(patch(0xd280_000b, 270, -5n, 0n)).toBe((0x9280_008b) >>> 0); // becomes movn x11, #4
    expect(patch(0x9280_000b, 270, 5n, 0n)).toBe((0xd280_00ab) >>> 0); // becomes movz x11, #5
  });

  it('writes data relocations and checks their ranges', () => {
    const image = new Uint8Array(16);
    expect(applyRelocation(image, 0, 257, 0x1_2345_6789_abcdn, 0n)).toBeNull();
    expect(applyRelocation(image, 8, 261, 0x1000n, 0x1010n)).toBeNull();
    const view = new DataView(image.buffer);
    expect(view.getBigUint64(0, true)).toBe(0x1_2345_6789_abcdn);
    expect(view.getInt32(8, true)).toBe(-16);
    expect(applyRelocation(image, 8, 258, 0x1_0000_0000n, 0n)).toMatch(/does not fit in 32 bits/);
    expect(applyRelocation(image, 8, 283, 0x1000_0000n, 0n)).toMatch(/out of range/);
    expect(applyRelocation(image, 8, 283, 0x1002n, 0n)).toMatch(/not a multiple of 4/);
    expect(applyRelocation(image, 8, 1027, 0n, 0n)).toMatch(/unsupported relocation type/);
  });
});

describe('SymbolTable', () => {
  it('maps addresses back to the nearest symbol, preferring globals', () => {
    const symbols = new SymbolTable();
    symbols.define('.Llocal', 0x1000);
    symbols.define('local_alias', 0x1000);
    symbols.define('entry', 0x1000, true);
    symbols.define('next', 0x1040);
    expect(symbols.lookup(0xfff)).toBeUndefined();
    expect(symbols.lookup(0x1000)).toEqual({ name: 'entry', offset: 0 });
    expect(symbols.format(0x1010)).toBe('entry+0x10');
    expect(symbols.format(0x1044)).toBe('next+0x4');
    expect(symbols.format(0x10)).toBe('0x10');
    symbols.delete('entry');
    expect(symbols.format(0x1000)).toBe('local_alias');
    expect(symbols.get('next')).toBe(0x1040);
  });

  it('keeps addresses beyond 2^53 exact in a separate map', () => {
    const symbols = new SymbolTable();
    expect(symbols.define('kernel_va', 0xffff_8000_1000_0001n)).toBe(false);
    expect(symbols.has('kernel_va')).toBe(false);
    expect(symbols.wide.get('kernel_va')).toBe(0xffff_8000_1000_0001n);
    expect(symbols.define('low', 0x4008_0000n)).toBe(true);
    expect(symbols.get('low')).toBe(0x4008_0000);
  });
});

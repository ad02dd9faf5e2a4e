/**
 * FMOV immediates: GNU as reads decimal numbers and float literals as values
 * and hexadecimal numbers as the register's bit pattern.
 */
import { describe, expect, it } from 'vitest';
import { requireOracle, GNU_AS } from '../helpers/oracle.js';
import { compareLinesWithGnu, describeComparison } from './support/corpus.js';

describe.runIf(requireOracle(GNU_AS))('FMOV immediate spellings match GNU as', () => {
  it('values and bit patterns', () => {
    const lines = [
      'fmov s0, #0x3f800000', 'fmov d1, #2', 'fmov d4, #0x4000000000000000', 'fmov s5, #1.0', 'fmov d6, #-0.125',
      'fmov s7, #31', 'fmov v0.4s, #0x3f800000', 'fmov v1.2d, #1.5',
      // rejected by both: a decimal integer that is no encodable value, a hex pattern that is none
      'fmov s2, #1065353216', 'fmov s3, #0x2', 'fmov s8, #0x3f800001',
    ];
    const c = compareLinesWithGnu(lines);
    expect(describeComparison(c)).toBe('accepted 8, rejected 3');
  });
});

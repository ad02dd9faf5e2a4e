import { describe, expect, it } from 'vitest';
import { requireOracle, GNU_AS } from '../helpers/oracle.js';
import { compareLinesWithGnu, describeComparison, generateFromTable } from './support/corpus.js';

describe.runIf(requireOracle(GNU_AS))('data-processing encodings match GNU as', () => {
  it('generated corpus from the table', () => {
    const lines = generateFromTable((d) => d.group !== 'base' && ['ADR', 'ADRP', 'ADD_SUB_IMM', 'LOGICAL_IMM', 'MOVE_WIDE', 'BITFIELD', 'EXTR', 'LOGICAL_REG', 'ADD_SUB_REG', 'ADD_SUB_EXT', 'ADC_SBC', 'COND_CMP_REG', 'COND_CMP_IMM', 'COND_SELECT', 'DP_1SRC', 'DP_2SRC', 'DP_3SRC', 'CRC32'].includes(d.exec), 12, 0x5eed);
    expect(lines.length).toBeGreaterThan(1000);
    const c = compareLinesWithGnu(lines.map((l) => l.text));
    expect(c.accepted).toBeGreaterThan(lines.length * 0.8);
    expect(describeComparison(c)).toBe(describeComparison({ ...c, mismatches: [], weAccepted: [], weRejected: [] }));
  });
});

describe.runIf(requireOracle(GNU_AS))('data-processing syntax forms and aliases match GNU as', () => {
  const valid = [
    'add x0, x1, #4', 'add x0, x1, 4', 'add x0, x1, #-4', 'sub x0, x1, #-4', 'adds w0, w1, #0x1000', 'add x0, x1, #0x1, lsl #12',
    'add sp, sp, #16', 'sub sp, sp, #0x40', 'mov x0, sp', 'mov sp, x1', 'mov wsp, w2', 'cmp x0, #-1', 'cmn w3, #5', 'cmp sp, #8',
    'mov x0, #0x12340000', 'mov x0, #-1', 'mov w0, #0xffff0000', 'mov x0, #0x5555555555555555', 'mov w1, #-2', 'mov x2, #0xffffffffffff1234',
    'mov w0, #0xffffffff', 'mov x0, #0', 'mov w9, #0x7fffffff', 'movz x0, #0x1234, lsl 16', 'movk x0, #0xbeef, lsl #48', 'movn w0, #3',
    'and x0, x1, #0xff', 'orr w2, w3, #0x80000001', 'eor x4, x5, #0xaaaaaaaaaaaaaaaa', 'ands x0, x1, #1', 'tst x1, #0x8', 'tst w0, #3',
    'and sp, x1, #0xfffffffffffffff0', 'orr x0, xzr, #0x3', 'mov x0, x1', 'mov w0, wzr', 'mvn x0, x1', 'mvn w0, w1, lsl #3',
    'and x0, x1, x2, ror #4', 'bic x0, x1, x2', 'eon w0, w1, w2, lsr #31', 'tst x0, x1', 'tst w1, w2, asr #2',
    'add x0, x1, x2, lsl #3', 'sub w0, w1, w2, asr #31', 'neg x0, x1', 'negs w0, w1, lsl #1', 'cmp x0, x1', 'cmn x0, x1, lsl #2',
    'add x0, sp, w1, uxtw #2', 'add sp, x1, x2', 'add x0, x1, w2, sxtw', 'sub sp, sp, x1, lsl #4', 'cmp sp, x1', 'cmp x0, w1, uxtb',
    'adds x0, sp, x1', 'add w0, wsp, w1', 'add x0, x1, x2, uxtx #1',
    'adc x0, x1, x2', 'sbcs w0, w1, w2', 'ngc x0, x1', 'ngcs w0, w1',
    'ccmp x0, x1, #4, ne', 'ccmn w0, #31, #0xf, hs', 'ccmp x1, #0, #0, lo',
    'csel x0, x1, x2, eq', 'csinc w0, w1, w2, lt', 'cset x0, ne', 'csetm w0, hs', 'cinc x0, x1, eq', 'cinv w0, w1, gt', 'cneg x0, x1, mi',
    'csinc x0, x1, x1, al', 'csneg x0, x1, x1, nv',
    'lsl x0, x1, #3', 'lsl w0, w1, #31', 'lsr x0, x1, #63', 'asr w0, w1, #0', 'ror x0, x1, #7', 'extr x0, x1, x2, #12',
    'ubfx x0, x1, #4, #8', 'sbfx w0, w1, #0, #1', 'ubfiz x0, x1, #12, #20', 'sbfiz x0, x1, #1, #63', 'bfi x0, x1, #8, #4', 'bfxil w0, w1, #3, #29',
    'uxtb w0, w1', 'uxth w0, w1', 'sxtb x0, w1', 'sxth w0, w1', 'sxtw x0, w1', 'ubfm x0, x1, #3, #2', 'bfm w0, w1, #31, #31',
    'lsl x0, x1, x2', 'lsr w0, w1, w2', 'asrv x0, x1, x2', 'ror w0, w1, w2', 'udiv x0, x1, x2', 'sdiv w0, w1, w2',
    'mul x0, x1, x2', 'madd w0, w1, w2, w3', 'mneg x0, x1, x2', 'msub x0, x1, x2, x3', 'smull x0, w1, w2', 'umull x0, w1, w2',
    'smulh x0, x1, x2', 'umulh x0, x1, x2', 'umaddl x0, w1, w2, x3', 'smnegl x0, w1, w2',
    'rbit x0, x1', 'rev w0, w1', 'rev x0, x1', 'rev64 x0, x1', 'rev16 x0, x1', 'rev32 x0, x1', 'clz w0, w1', 'cls x0, x1',
    'adr x0, .', 'adr x1, .+1048575', 'adrp x0, .', 'adrp x1, .+4096',
    'ADD X0, X1, #4', 'Mov x0, X1', 'add x0, x1, w2, uxtx', 'add x0, x1, x2, uxtw', 'uxtb x0, w1', 'uxth x0, w1',
  ];
  const invalid = [
    'add x0, x1, #4097000', 'add x0, w1, #4', 'add w0, w1, x2', 'and x0, x1, #0', 'and w0, w1, #0x12345', 'orr x0, x1, #-1',
    'mov x0, #0x123456789', 'mov w0, #0x100000000', 'movz x0, #0x10000', 'movk w0, #1, lsl #32', 'movz x0, #1, lsl #8',
    'lsl x0, x1, #64', 'lsl w0, w1, #32', 'ubfx x0, x1, #60, #8', 'bfi w0, w1, #0, #33', 'extr w0, w1, w2, #32',
    'add x0, x1, x2, ror #3', 'add x0, x1, x2, lsl #64', 'add w0, w1, w2, lsl #32', 'and x0, x1, x2, lsl #64',
    'add x0, sp, x1, lsl #5', 'add x0, x1, w2, lsl #2',
    'ccmp x0, #32, #0, eq', 'ccmp x0, x1, #16, eq', 'csel x0, x1, x2, xx', 'cset x0, al', 'cinc x0, x1, nv',
    'mul x0, x1, w2', 'smull x0, x1, x2', 'adc x0, sp, x1', 'neg sp, x1', 'mov x0, w1', 'cmp w0, x1', 'rev32 w0, w1',
    'frobnicate x0, x1', 'add x0, x1', 'add x0, x1, x2, x3', 'mov x0', 'sxtw w0, w1',
  ];
  it('accepts the same forms with the same encodings', () => {
    const c = compareLinesWithGnu(valid);
    expect(c.rejected).toBe(0);
    expect(describeComparison(c)).toBe(`accepted ${valid.length}, rejected 0`);
  });
  it('rejects what GNU rejects', () => {
    const c = compareLinesWithGnu(invalid);
    expect(describeComparison(c)).toBe(`accepted 0, rejected ${invalid.length}`);
  });
});

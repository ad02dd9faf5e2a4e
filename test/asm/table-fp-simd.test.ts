import { describe, expect, it } from 'vitest';
import { requireOracle, GNU_AS, GNU_OBJDUMP, gnuAssemble, gnuObjdump } from '../helpers/oracle.js';
import { ALL_FEATURES_PREAMBLE, compareLinesWithGnu, describeComparison, generateFromTable } from './support/corpus.js';
import { FP_SIMD } from '../../src/isa/tables/fp-simd.js';
import { disassemble } from '../../src/isa/disasm.js';
import { findSection } from '../../src/elf/read.js';

const OURS = new Set(FP_SIMD);

function expectClean(lines: string[]): ReturnType<typeof compareLinesWithGnu> {
  const c = compareLinesWithGnu(lines);
  expect(describeComparison(c)).toBe(describeComparison({ ...c, mismatches: [], weAccepted: [], weRejected: [] }));
  return c;
}

/** Lines GNU as must accept, written the way kernel and hypervisor sources do. */
const VALID = [
  // FP/SIMD register loads and stores in every addressing mode
  'ldr b0, [x0]', 'ldr h1, [x1, #2]', 'ldr s2, [sp, #4]', 'ldr d3, [x3, #32760]', 'ldr q4, [x4, #65520]',
  'str b0, [x0, #4095]', 'str h1, [x1, #8190]', 'str s2, [sp, #16380]', 'str d3, [x3, #8]', 'str q0, [x0, #0x1f0]',
  'ldr d3, [x3, #8]!', 'ldr q4, [x4], #16', 'str q5, [sp, #-32]!', 'str s6, [x6], #-256', 'ldr b7, [x7, #255]!',
  'ldur q5, [x5, #-1]', 'stur d0, [x1, #255]', 'ldur b0, [x0]', 'stur h0, [x0, #-256]',
  'ldr q0, [x0, #-16]', 'ldr q0, [x0, #17]', 'str d0, [x0, #-8]', 'ldr h0, [x0, #1]',
  'ldr q6, [x6, x7, lsl #4]', 'ldr q6, [x6, x7]', 'ldr q6, [x6, x7, lsl #0]', 'ldr b7, [x0, x1, lsl #0]', 'ldr b7, [x0, x1]',
  'ldr b7, [x0, w1, uxtw]', 'ldr b7, [x0, w1, uxtw #0]', 'ldr s0, [x0, w1, sxtw #2]', 'str q0, [x0, w1, sxtw #4]',
  'ldr q0, [x0, x1, sxtx]', 'str h0, [sp, x30, lsl #1]', 'ldr d0, [x0, xzr, sxtx #3]',
  'ldr s0, .+8', 'ldr d0, .-1048576', 'ldr q0, .+1048572', 'ldr q0, =0x123456789abcdef0123', 'ldr d0, =0x1234', 'ldr s0, =0x1234',
  'ldr q0, [x0, :lo12:sym]', 'str d1, [x2, :lo12:sym]',
  // the kernel's fpsimd_save/fpsimd_restore idioms
  'stp q0, q1, [x0, #16 * 0]', 'stp q2, q3, [x0, #16 * 2]', 'ldp q30, q31, [x0, #16 * 30]', 'stp q0, q1, [x0, #-32]!',
  'ldp q0, q1, [sp], #32', 'str q0, [x0, #0x1f0]', 'ldr q31, [x0, #16 * 31]',
  'stp q30, q31, [x0, #16 * 30]!', 'ldp q30, q31, [x0, #16 * 30]!', 'stp d8, d9, [sp, #-64]!', 'ldp d14, d15, [sp, #48]', 'ldp s0, s1, [x0], #8', 'stp s30, s31, [x1, #252]',
  'ldnp q0, q1, [x0, #32]', 'ldnp s0, s1, [x0]', 'stnp d0, d1, [x0, #-512]', 'ldp q0, q1, [x0, #1008]', 'ldp q0, q1, [x0, #-1024]',
  // structure loads/stores
  'ld1 {v0.16b}, [x0]', 'ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x0], #64', 'ld1 {v0.16b-v3.16b}, [x0], x2',
  'ld1 {v0.1d}, [x0], #8', 'st1 {v31.2d, v0.2d}, [sp]', 'ld1 {v31.16b, v0.16b, v1.16b}, [x0]', 'ld1 {v0.16b - v2.16b}, [sp]',
  'st1 {v0.2s, v1.2s}, [x0], #16', 'ld1 {v0.4s - v1.4s}, [x0]', 'st1 {v4.8h, v5.8h, v6.8h}, [x1], #48', 'st1 {v0.1d-v3.1d}, [x1], #32',
  'ld2 {v0.4s, v1.4s}, [x0]', 'st3 {v0.8b-v2.8b}, [x0], #24', 'ld4 {v0.2d-v3.2d}, [x0], x9', 'LD1 {V0.16B}, [X0]',
  'ld1r {v0.4s}, [x0], #4', 'ld1r {v0.4s}, [x0], x3', 'ld1r {v0.1d}, [x0]', 'ld4r {v0.2d-v3.2d}, [x0], #32', 'ld2r {v0.8b, v1.8b}, [x0], #2',
  'ld1 {v0.s}[1], [x0]', 'ld1 {v0.b}[15], [x0], #1', 'ld1 {v0.d}[1], [x0], x5', 'ld4 {v0.s, v1.s, v2.s, v3.s}[3], [x0], #16',
  'ld3 {v0.h-v2.h}[7], [x0], #6', 'ld2 {v0.d, v1.d}[1], [x0], #16', 'st1 {v9.h}[4], [sp]', 'st4 {v30.b, v31.b, v0.b, v1.b}[9], [x3], #4',
  // moves between register files
  'fmov s0, w1', 'fmov w1, s0', 'fmov d0, x1', 'fmov x1, d0', 'fmov s0, wzr', 'fmov d0, xzr', 'fmov v0.d[1], x0', 'fmov x0, v0.d[1]',
  'fmov v1.2d[1], x0', 'fmov s0, s1', 'fmov d30, d31',
  'fmov s0, #1.0', 'fmov s0, #1', 'fmov s0, #-1.5', 'fmov d0, #1.0e0', 'fmov s0, #+2.0', 'fmov s0, #0.125', 'fmov d0, #31.0',
  'fmov s0, #-31', 'fmov s0, #0x3f800000', 'fmov d0, #0x3ff0000000000000', 'fmov s0, 2.0',
  'mov v0.16b, v1.16b', 'mov v0.8b, v1.8b', 'orr v0.16b, v1.16b, v1.16b', 'orr v0.16b, v1.16b, v2.16b', 'and v0.8b, v1.8b, v2.8b',
  'eor v0.16b, v1.16b, v2.16b', 'bic v3.16b, v4.16b, v5.16b', 'orn v0.8b, v1.8b, v2.8b', 'bsl v0.8b, v1.8b, v2.8b', 'bit v0.16b, v1.16b, v2.16b', 'bif v0.16b, v1.16b, v2.16b',
  'not v0.16b, v1.16b', 'mvn v0.8b, v1.8b', 'cnt v0.8b, v1.8b', 'rbit v0.16b, v1.16b',
  'movi v0.2d, #0', 'movi d0, #0', 'movi v0.2d, #0xff00ff00ff00ff00', 'movi d0, #-1', 'movi v0.16b, #0x55', 'movi v0.8b, #0xff, lsl #0',
  'movi v0.4s, #0x12, lsl #8', 'movi v0.4s, #0x12, lsl #0', 'movi v0.2s, #255, lsl #24', 'movi v0.2s, #255, lsl 8', 'movi v0.4s, #0x12, msl #8',
  'movi v0.4h, #0xff, lsl #8', 'movi v0.4h, #-128', 'movi v0.8b, #-1', 'movi v0.8h, #1',
  'mvni v0.2s, #255, msl #16', 'mvni v0.4h, #1, lsl #8', 'mvni v1.4s, #0', 'orr v0.4s, #1, lsl #8', 'bic v0.4h, #1', 'bic v0.8h, #0xff, lsl #8',
  'fmov v0.4s, #1.0', 'fmov v0.2d, #-2.5', 'fmov v0.2s, #0.5',
  'dup v0.4s, w0', 'dup v0.2d, x0', 'dup v0.16b, w1', 'dup v0.8h, wzr', 'dup v0.4s, v1.s[1]', 'dup v0.16b, v1.b[15]', 'dup v0.2d, v1.d[1]', 'dup v0.4s, v1.4s[1]',
  'dup b0, v1.b[2]', 'dup s0, v1.s[1]', 'mov s0, v1.s[2]', 'mov d0, v1.d[1]', 'mov h0, v1.4h[3]',
  'ins v0.s[1], w0', 'ins v0.4s[1], w0', 'mov v0.s[1], w0', 'mov v0.d[1], x0', 'mov v0.2d[1], x0', 'mov v0.16b[1], w0', 'mov v0.b[15], w3', 'mov v0.h[7], wzr',
  'ins v0.s[1], v2.s[3]', 'mov v0.s[1], v2.s[3]', 'mov v0.s[1], v1.4s[2]', 'mov v31.b[0], v1.b[15]', 'mov v3.d[1], v4.d[0]', 'ins v3.h[2], v4.h[7]',
  'umov w0, v0.s[1]', 'umov x0, v0.d[1]', 'umov w0, v0.b[15]', 'umov w0, v0.h[7]', 'umov w0, v0.4s[1]', 'mov w0, v0.s[1]', 'mov x0, v0.d[1]',
  'smov x0, v0.s[1]', 'smov w0, v0.b[1]', 'smov x0, v0.h[7]', 'smov w1, v2.h[0]', 'smov x1, v2.b[15]',
  'ext v0.16b, v1.16b, v2.16b, #15', 'ext v0.8b, v1.8b, v2.8b, #7', 'ext v0.16b, v1.16b, v2.16b, #0',
  'zip1 v0.2d, v1.2d, v2.2d', 'zip2 v0.16b, v1.16b, v2.16b', 'uzp1 v0.4h, v1.4h, v2.4h', 'uzp2 v0.8h, v1.8h, v2.8h', 'trn1 v0.2s, v1.2s, v2.2s', 'trn2 v0.4s, v1.4s, v2.4s',
  'addv b0, v1.16b', 'addv s0, v1.4s', 'addv h0, v1.4h', 'umaxv h0, v1.8h', 'uminv b0, v1.8b', 'smaxv s3, v4.4s', 'sminv h1, v2.4h',
  'uaddlv d0, v1.4s', 'uaddlv h0, v1.8b', 'saddlv s0, v1.8h',
  'add v0.2d, v1.2d, v2.2d', 'add v0.16b, v1.16b, v2.16b', 'sub v0.4s, v1.4s, v2.4s', 'add d0, d1, d2', 'sub d0, d1, d2', 'mul v0.4s, v1.4s, v2.4s',
  'cmeq v0.2d, v1.2d, v2.2d', 'cmhi v0.8b, v1.8b, v2.8b', 'cmtst v0.4h, v1.4h, v2.4h', 'umax v0.16b, v1.16b, v2.16b', 'addp v0.2d, v1.2d, v2.2d',
  // scalar floating point
  'fadd s0, s1, s2', 'fsub d0, d1, d2', 'fmul s3, s4, s5', 'fdiv d6, d7, d8', 'fmax s0, s1, s2', 'fmin d0, d1, d2', 'fmaxnm s0, s1, s2', 'fminnm d0, d1, d2', 'fnmul s0, s1, s2',
  'fmadd s0, s1, s2, s3', 'fmsub d0, d1, d2, d3', 'fnmadd s0, s1, s2, s3', 'fnmsub d0, d1, d2, d3',
  'fabs s0, s1', 'fneg d0, d1', 'fsqrt s0, s1', 'fsqrt d31, d30',
  'frintn s0, s1', 'frintp d0, d1', 'frintm s0, s1', 'frintz d0, d1', 'frinta s0, s1', 'frintx d0, d1', 'frinti s0, s1', 'frint32x s0, s1', 'frint64z d0, d1',
  'fcmp s0, s1', 'fcmpe d0, d1', 'fcmp s0, #0.0', 'fcmp s0, #0', 'fcmp s0, 0.0', 'fcmp d0, #0x0', 'fcmpe d1, #0.0',
  'fccmp s0, s1, #4, eq', 'fccmpe d0, d1, #15, al', 'fcsel d0, d1, d2, nv', 'fcsel s0, s1, s2, hs',
  'fcvt d0, s1', 'fcvt s0, d1', 'fcvt h0, s1', 'fcvt d0, h1', 'fcvt h0, d1', 'fcvt s0, h1',
  'scvtf s0, w0', 'scvtf d0, x0', 'ucvtf s0, x1', 'ucvtf d0, w1', 'fcvtzs w0, s0', 'fcvtzs x0, d0', 'fcvtzu w0, d0', 'fcvtzu x0, s0',
  'fcvtns w0, s1', 'fcvtau x0, d1', 'fcvtps w0, d1', 'fcvtmu x0, s1',
  'scvtf s0, w0, #32', 'scvtf d0, x0, #64', 'ucvtf d0, w0, #1', 'fcvtzs w0, d0, #1', 'fcvtzu x0, s0, #64',
];

/** Lines GNU as rejects; so must we. */
const INVALID = [
  'ldr q0, [x0, #65536]', 'ldr b0, [x0, #4096]', 'ldr q0, [x0, #-257]', 'ldur q0, [x0, #256]', 'ldr d0, [x0, #256]!', 'str q0, [x0], #-257',
  'ldr h0, [x0, x1, lsl #2]', 'ldr q0, [x0, x1, lsl #3]', 'ldr q0, [x0, w1]', 'ldr s0, [x0, x1, uxtw #2]', 'ldr q0, [w0]',
  'ldp q0, q1, [x0, #1024]', 'ldp q0, q1, [x0, #8]', 'ldp s0, d1, [x0]', 'stp d0, d1, [x0, #-520]', 'ldnp q0, q1, [x0, #16]!', 'ldp b0, b1, [x0]', 'ldp h0, h1, [x0]',
  'ldr b0, =1', 'ldr h0, .+8',
  'ld1 {v0.16b, v2.16b}, [x0]', 'ld1 {v0.16b, v1.8b}, [x0]', 'ld1 {v0.16b}, [x0, #0]', 'ld1 {v0.16b}, [x0], xzr', 'ld1 {v0.16b}, [x0], #32',
  'ld1 {v0.16b, v1.16b, v2.16b, v3.16b, v4.16b}, [x0]', 'ld1 {v0.16b}, [x0, x1]', 'ld1 {v0.16b}, [x0]!', 'ld1 {v0.16b}, [w0]', 'ld1 {v0.16b}, [x0], w1',
  'ld2 {v0.1d, v1.1d}, [x0]', 'ld2 {v0.4s}, [x0]', 'st1 {v0.2s, v1.2s}, [x0], #32', 'ld1r {v0.4s}, [x0], #16', 'ld1r {v0.s}, [x0]', 'ld1r {v0.4s}, [x0, #0]',
  'ld1 {v0.s}, [x0]', 'ld1 {v0.4s}[1], [x0]', 'ld1 {v0.b}[16], [x0]', 'ld1 {v0.s}[1], [x0], #8', 'st1r {v0.4s}, [x0]', 'ld1 {v0.d}[2], [x0]',
  'fmov s0, #0.1', 'fmov s0, #0', 'fmov d0, #0.0', 'fmov s0, #32.0', 'fmov s0, #0x40', 'fmov d0, #0x3f800000', 'fmov s0, #-0.0',
  'fmov v0.2s, #0.1', 'fmov v0.1d, #1.0', 'fmov h0, w0', 'fmov h0, h1', 'fmov w1, d0', 'fmov x1, s0', 'fmov v1.d[0], x0', 'fmov x0, v1.d[0]', 'fmov s0, d1',
  'fcmp s0, #1.0', 'fcmp s0, #-0.0', 'fcmp s0, d1', 'fabs h0, h1', 'fadd s0, s1, d2', 'fcvt s0, s1', 'fcsel s0, s1, s2, #1',
  'mov v0.4s, v1.4s', 'mov w0, v0.b[1]', 'mov v0.8s[1], w0', 'mov v0.1s[1], w0', 'mov v0.1q[0], x0', 'ins v0.s[4], w0', 'umov w0, v0.b[16]',
  'smov w0, v0.s[1]', 'umov x0, v0.s[1]', 'umov w0, v0.d[1]', 'dup v0.2d, w0', 'dup v0.1d, v1.d[1]', 'dup v0.4s, x0', 'mov v0.d[1], w0',
  'and v0.4s, v1.4s, v2.4s', 'orr v0.16b, v1.16b, v2.8b', 'ext v0.8b, v1.8b, v2.8b, #8', 'ext v0.16b, v1.16b, v2.16b, #16',
  'cnt v0.4h, v1.4h', 'addv s0, v1.2s', 'addv d0, v1.2d', 'add v0.1d, v1.1d, v2.1d', 'add v0.4s, v1.4s, v2.2s', 'mul v0.2d, v1.2d, v2.2d', 'zip1 v0.1d, v1.1d, v2.1d',
  'movi v0.4s, #0x1200', 'movi v0.4h, #-129', 'movi v0.4h, #256', 'movi v0.2s, #255, lsl #32', 'movi v0.2s, #255, msl #24', 'movi v0.4h, #1, lsl #16',
  'movi v0.2d, #0x1234', 'movi v0.1d, #0', 'mvni v0.8b, #1', 'orr v0.8b, #1', 'movi v0.8b, #1, lsl #8', 'movi v0.4h, #1, msl #8',
  'scvtf s0, w0, #33', 'scvtf d0, x0, #0', 'fcvtzs w0, d0, #33', 'fcvtns w0, s1, #1',
];

/** Syntax corners, valid and invalid mixed: GNU as decides, we must agree line by line. */
const CORNERS = [
  'ldr q0, [x0, #:lo12:sym]',
  'fmov s0, #1.0e+0',
  'fmov d0, #-0.125',
  'movi v0.2d, #0xffffffffffffffff',
  "movi v0.16b, #'a'",
  'fcmp d0, #0.0e0',
  'ext v0.16b, v1.16b, v2.16b, #(3*4)',
  'st1 {v0.d}[0], [x1], x2',
  'ld1 {v0.2d, v1.2d}, [x0], #32',
  'ld1 { v0.16b }, [x0]',
  'ld1 {v0.16b,v1.16b},[x0],#32',
  'ld1 {v0.16B-v3.16B}, [x0]',
  'fmov s0, # 1.0',
  'fmov x0, v0.D[1]',
  'ldr q0, [x0, #-0]',
  'str q0, [x0, #16]!',
  'ldp q0, q1, [sp, #-0x20]!',
  'ld1 {v31.16b-v1.16b}, [x0]',
  'ld4 {v31.4s, v0.4s, v1.4s, v2.4s}, [x0]',
  'dup v0.8b, v31.b[0]',
  'movi v0.4s, #0xff, lsl #0x10',
  'mvn v0.16b, v0.16b',
  'orr v0.8b, v1.8b, v1.8b',
  'fcvtzs x0, d0, #0x40',
  'scvtf d0, w0, #32',
  'fccmp s0, s1, #0, hs',
  'fcsel s0, s1, s2, al',
  'ld1 {v0.16b, v1.16b}, [x0], #16',
  'fccmp s0, s1, #16, eq',
  'ext v0.16b, v1.8b, v2.16b, #1',
  'dup v0.4s, v1.h[1]',
  'ins v0.s[1], x0',
  'mov v0.d[1], v1.s[0]',
  'fmov v0.d[1], w0',
  'ld1 {v0.16b, v1.16b, v2.16b}, [x0], #48',
  'ld3 {v0.4s, v1.4s, v2.4s}, [x0], #48',
  'ld1 {v0.8b-v3.8b}, [x0], #32',
  'ld1 {v0.16b-v3.16b}[0], [x0]',
  'ld1 {v0.b-v3.b}[0], [x0]',
  'ld1 {v0.b - v0.b}[0], [x0]',
  'ld2 {v0.b, v0.b}[0], [x0]',
  'ld1 {v0.16b-v0.16b}, [x0]',
  'ld1 {}, [x0]',
  'ld1 {v0.16b}',
  'ld1 v0.16b, [x0]',
  'fmov s0, #1.0, lsl #1',
  'fmov d0, s1',
  'fadd d0, d1',
  'fadd s0, s1, s2, s3',
  'movi v0.4s, #1, lsl #8, lsl #8',
  'movi v0.2d, #0, lsl #0',
  'mov v0.s[1], wsp',
  'dup v0.4s, wsp',
  'fmov s0, wsp',
  'ldr q0, [x0, x1, lsl #4]!',
  'ldr s0, [x0], x1',
  'ldr q32, [x0]',
  'ldr v0, [x0]',
  'str q0, [x0, #1]',
  'str q0, [x0, #-255]',
  'ldr s0, [sp, #-4]!',
  'ldnp q0, q1, [x0], #32',
  'ldnp q0, q1, [x0, #32]!',
  'fcvtzs w0, s0, #0',
  'fcvtzs x0, s0, #65',
  'umov x0, v0.d[2]',
  'smov x0, v0.d[0]',
  'ld1r {v0.16b}, [x0], #1',
  'ld2r {v0.4h, v1.4h}, [x0], #4',
  'ld3r {v0.2d, v1.2d, v2.2d}, [x0], #24',
  'ld4r {v0.1d-v3.1d}, [x0], #32',
  'ld4 {v0.d-v3.d}[1], [x0], #32',
  'st2 {v0.h, v1.h}[7], [sp], #4',
  'st3 {v0.s-v2.s}[3], [x5], x6',
];

describe.runIf(requireOracle(GNU_AS))('FP/SIMD encodings match GNU as', () => {
  it('generated corpus from the table', () => {
    const lines = generateFromTable((d) => OURS.has(d), 12, 0xf95d).map((l) => l.text);
    expect(lines.length).toBeGreaterThan(2000);
    const c = expectClean(lines);
    expect(c.accepted).toBeGreaterThan(lines.length * 0.9);
  });

  it('hand-written valid lines', () => {
    const c = expectClean(['sym:', ...VALID]);
    expect(c.rejected).toBe(0);
  });

  it('syntax corners agree with GNU as', () => {
    const c = expectClean(['sym:', ...CORNERS]);
    expect(c.accepted).toBeGreaterThan(30);
    expect(c.rejected).toBeGreaterThan(30);
  });

  it('invalid lines are rejected', () => {
    const c = expectClean(INVALID);
    expect(c.accepted).toBe(0);
  });
});

/** objdump's text without comments and extra blanks. */
function normalise(text: string): string {
  return text.replace(/\s*\/\/.*$/, '').replace(/\s+/g, ' ').trim();
}

/** objdump names every target after the section symbol. */
const symbolize = (addr: bigint) => (addr === 0n ? '<.text>' : `<.text+0x${BigInt.asUintN(64, addr).toString(16)}>`);

describe.runIf(requireOracle(GNU_AS) && requireOracle(GNU_OBJDUMP))('FP/SIMD disassembly matches objdump', () => {
  it('generated words and GNU-assembled lines print the same', () => {
    // Random words of every entry as they are (don't-care bits included), then the hand-written lines.
    const corpus = generateFromTable((d) => OURS.has(d), 8, 0xd15a);
    const valid = VALID.filter((l) => !/=|:lo12:/.test(l));
    const source = [...corpus.map((l) => `.inst 0x${l.word.toString(16)}`), ...valid].join('\n');
    const gnu = gnuAssemble(`${ALL_FEATURES_PREAMBLE}\n${source}\n`);
    if (!gnu.ok) throw new Error(gnu.stderr);
    const dump = gnuObjdump(gnu.object, ['-d', '--no-show-raw-insn']);
    const text = findSection(gnu.elf, '.text')!.data;
    const objdumpLines = [...dump.matchAll(/^\s*([0-9a-f]+):\t(.*)$/gm)].map((m) => ({ offset: parseInt(m[1]!, 16), text: normalise(m[2]!) }));
    expect(objdumpLines.length).toBe(corpus.length + valid.length);
    const diffs: string[] = [];
    for (const { offset, text: theirs } of objdumpLines) {
      const word = (text[offset]! | (text[offset + 1]! << 8) | (text[offset + 2]! << 16) | (text[offset + 3]! << 24)) >>> 0;
      const ours = normalise(disassemble(word, { address: BigInt(offset), symbolize }).text);
      if (ours !== theirs) diffs.push(`${word.toString(16).padStart(8, '0')}: ours '${ours}' objdump '${theirs}'`);
    }
    expect(diffs.slice(0, 30).join('\n')).toBe('');
  });
});

describe.runIf(requireOracle(GNU_AS))('FP/SIMD feature gates match GNU as', () => {
  it('without fp and simd only the register loads/stores remain', () => {
    const lines = ['ldr q0, [x0]', 'ldp q0, q1, [x0, #32]', 'str b0, [x0]', 'ldur d0, [x0, #-8]', 'fmov d0, x0', 'fadd s0, s1, s2',
      'fmov s0, #1.0', 'fcvt s0, d0', 'scvtf d0, x1', 'mov v0.16b, v1.16b', 'movi d0, #0', 'ld1 {v0.16b}, [x0]', 'mov w0, v0.s[1]', 'fmov v0.d[1], x0'];
    const c = compareLinesWithGnu(lines, '.arch armv8-a+nofp+nosimd');
    expect(describeComparison(c)).toBe(describeComparison({ ...c, mismatches: [], weAccepted: [], weRejected: [] }));
    expect(c.accepted).toBe(4);
  });
});

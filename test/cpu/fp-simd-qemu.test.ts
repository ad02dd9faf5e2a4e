/**
 * FP/SIMD execution compared with QEMU 7.2 (`-d fpu` dumps V0-V31, FPCR and
 * FPSR): straight-line programs run on both, and the whole register state
 * (X, SP, PC, NZCV, V, FPCR, FPSR) must agree before every instruction.
 *
 * QEMU deviation avoided rather than tolerated: QEMU clears NZCV on exception
 * entry (QEMU-NOTES.md); the FP-trap program enters the exception with NZCV
 * already 0000, so both agree without special-casing.
 */
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../helpers/qemu.js';
import { diffWithQemu } from './fp-simd-harness.js';

/** Deterministic PRNG (xorshift32) so that failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** movz/movk sequence loading a 64-bit constant into Xd. */
function movImm(reg: string, v: bigint): string {
  const parts: string[] = [];
  for (let k = 0; k < 4; k++) {
    const h = Number((v >> BigInt(16 * k)) & 0xffffn);
    parts.push(`${k === 0 ? 'movz' : 'movk'} ${reg}, #0x${h.toString(16)}, lsl #${16 * k}`);
  }
  return parts.join('\n');
}

const rand64 = (next: () => number): bigint => (BigInt(next()) << 32n) | BigInt(next());


// ---- random FP operands -------------------------------------------------------------------------

/** Interesting bit patterns of a format (32 or 64 bits), as bigints. */
function specials(n: 32 | 64): bigint[] {
  const E = n === 32 ? 8n : 11n, F = n === 32 ? 23n : 52n;
  const sign = 1n << BigInt(n - 1), expAll = ((1n << E) - 1n) << F;
  const one = ((1n << (E - 1n)) - 1n) << F;
  const base = [
    0n, 1n, (1n << F) - 1n, 1n << F, expAll - 1n, expAll, expAll | 1n, expAll | (1n << (F - 1n)), expAll | (1n << (F - 1n)) | 5n,
    expAll | 0x15n, one, one | (1n << (F - 1n)), one - (1n << F), one + (1n << F), one + (1n << F) + (1n << (F - 1n)),
  ];
  return [...base, ...base.map((b) => b | sign)];
}

/** A mixture of special values, random patterns, integers, ties and boundary magnitudes. */
function fpOperand(n: 32 | 64, next: () => number): bigint {
  const F = n === 32 ? 23 : 52, bias = n === 32 ? 127 : 1023;
  const pick = next() % 8;
  const sp = specials(n);
  const sign = BigInt(next() & 1) << BigInt(n - 1);
  const withExp = (e: number): bigint => {
    const frac = n === 32 ? BigInt(next() & 0x7fffff) : ((BigInt(next() & 0xfffff) << 32n) | BigInt(next()));
    return sign | (BigInt(Math.max(0, Math.min(2 * bias, e + bias))) << BigInt(F)) | frac;
  };
  switch (pick) {
    case 0: return sp[next() % sp.length]!;
    case 1: return n === 32 ? BigInt(next()) : (BigInt(next()) << 32n) | BigInt(next());
    case 2: return withExp((next() % 70) - 5); // around integers up to 2^64
    case 3: { // small integers and halves: ties when rounding to integral
      const v = ((next() % 64) - 32) / 2;
      return floatBits(n, v);
    }
    case 4: return withExp((next() % 60) - bias + 2); // near the subnormal range
    case 5: return withExp(bias - (next() % 8)); // near the overflow threshold
    default: return withExp((next() % 40) - 20);
  }
}

function floatBits(n: 32 | 64, v: number): bigint {
  if (n === 32) { const f = new Float32Array([v]); return BigInt(new Uint32Array(f.buffer)[0]!); }
  const f = new Float64Array([v]);
  const w = new Uint32Array(f.buffer);
  return (BigInt(w[1]!) << 32n) | BigInt(w[0]!);
}

/** FPCR values: RMode, FZ, DN and AHP in every combination. */
const FPCR_MODES = Array.from({ length: 32 }, (_, k) => ((k & 3) << 22) | (((k >> 2) & 1) << 24) | (((k >> 3) & 1) << 25) | (((k >> 4) & 1) << 26));

/**
 * One test case per operand triple: set FPCR, load s0..s2 / d0..d2, then
 * every scalar operation with FPSR cleared before it, results in distinct
 * registers so that each instruction's result and flags are compared.
 */
function scalarFpProgram(n: 32 | 64, cases: number, seed: number): { body: string; data: string } {
  const next = rng(seed);
  const r = n === 32 ? 's' : 'd';
  const other = n === 32 ? 'd' : 's';
  const w = n === 32 ? 'w' : 'x';
  const lines: string[] = ['adr x1, operands'];
  const values: string[] = [];
  const op = (text: string) => { lines.push('msr fpsr, xzr', text); };
  for (let k = 0; k < cases; k++) {
    const fpcr = FPCR_MODES[next() % FPCR_MODES.length]!;
    lines.push(`movz x9, #${fpcr >>> 16}, lsl #16`, 'msr fpcr, x9');
    for (let j = 0; j < 3; j++) values.push(`0x${fpOperand(n, next).toString(16)}`);
    lines.push(`ldr ${r}0, [x1], #${n / 8}`, `ldr ${r}1, [x1], #${n / 8}`, `ldr ${r}2, [x1], #${n / 8}`);
    const bin = ['fadd', 'fsub', 'fmul', 'fdiv', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fnmul'];
    bin.forEach((m, i) => op(`${m} ${r}${3 + i}, ${r}0, ${r}1`));
    ['fmadd', 'fmsub', 'fnmadd', 'fnmsub'].forEach((m, i) => op(`${m} ${r}${12 + i}, ${r}0, ${r}1, ${r}2`));
    ['fsqrt', 'fabs', 'fneg', 'frintn', 'frintp', 'frintm', 'frintz', 'frinta', 'frintx', 'frinti'].forEach((m, i) =>
      op(`${m} ${r}${16 + i}, ${r}${i % 2}`));
    op(`fcmp ${r}0, ${r}1`);
    op(`fccmp ${r}1, ${r}2, #${next() % 16}, ${['eq', 'ne', 'ge', 'lt', 'gt', 'le', 'vs', 'hi'][next() % 8]}`);
    op(`fcmpe ${r}0, ${r}2`);
    op(`fcsel ${r}26, ${r}0, ${r}1, ${['eq', 'ne', 'ge', 'lt', 'gt', 'le', 'vs', 'mi'][next() % 8]}`);
    op(`fcmp ${r}1, #0.0`);
    op(`fcmpe ${r}2, #0.0`);
    op(`fcvt ${other}27, ${r}0`);
    op(`fcvt h28, ${r}1`);
    op(`fcvt ${r}29, h2`);
    op(`fcvt ${other}30, h0`);
    const toInt = ['fcvtzs', 'fcvtzu', 'fcvtns', 'fcvtnu', 'fcvtas', 'fcvtau', 'fcvtps', 'fcvtpu', 'fcvtms', 'fcvtmu'];
    toInt.forEach((m, i) => op(`${m} ${i % 2 ? 'x' : 'w'}${10 + i}, ${r}${i % 3}`));
    toInt.forEach((m, i) => op(`${m} ${i % 2 ? 'w' : 'x'}${20 + i}, ${r}${(i + 1) % 3}`));
    op(`fcvtzs w3, ${r}0, #${1 + (next() % 32)}`);
    op(`fcvtzu x4, ${r}1, #${1 + (next() % 64)}`);
    op(`fcvtzs x5, ${r}2, #${1 + (next() % 64)}`);
    op(`fcvtzu w6, ${r}0, #${1 + (next() % 32)}`);
    lines.push(`fmov ${w}7, ${r}0`, `fmov ${w}8, ${r}1`);
    op(`scvtf ${r}31, x7`);
    op(`ucvtf ${r}30, x8`);
    op(`scvtf ${other}29, w7`);
    op(`ucvtf ${r}28, w8`);
    op(`scvtf ${r}27, x8, #${1 + (next() % 64)}`);
    op(`ucvtf ${other}26, w7, #${1 + (next() % 32)}`);
    op(`fmov ${r}25, #${['1.0', '-2.5', '0.125', '31.0', '-0.1875'][next() % 5]}`);
  }
  const directive = n === 32 ? '.word' : '.quad';
  return { body: lines.join('\n'), data: `.balign 16\noperands:\n${values.map((v) => `${directive} ${v}`).join('\n')}\n` };
}

/** A random straight-line program over the AdvSIMD moves and integer operations. */
function randomSimdProgram(count: number, seed: number): string {
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const v = () => next() % 32;
  const x = () => next() % 29; // x0..x28 (x29/x30 untouched; 31 would be xzr/sp)
  const lines: string[] = [];
  for (let r = 0; r < 29; r++) lines.push(movImm(`x${r}`, rand64(next)));
  for (let r = 0; r < 32; r++) lines.push(`fmov d${r}, x${r % 29}`, `fmov v${r}.d[1], x${(r * 7 + 3) % 29}`);
  const elems = [['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const;
  const T = ['8b', '16b', '4h', '8h', '2s', '4s', '2d'] as const;
  const T1d = ['8b', '16b', '4h', '8h', '2s', '4s'] as const;
  const templates: (() => string)[] = [
    () => { const [e, n] = pick(elems); return `ins v${v()}.${e}[${next() % n}], ${e === 'd' ? 'x' : 'w'}${x()}`; },
    () => { const [e, n] = pick(elems); return `ins v${v()}.${e}[${next() % n}], v${v()}.${e}[${next() % n}]`; },
    () => { const [e, n] = pick(elems); return `umov ${e === 'd' ? 'x' : 'w'}${x()}, v${v()}.${e}[${next() % n}]`; },
    () => { const [e, n] = pick(elems.slice(0, 3)); return `smov ${e === 's' || next() & 1 ? 'x' : 'w'}${x()}, v${v()}.${e}[${next() % n}]`; },
    () => { const t = pick(T); const e = t.slice(-1) as 'b' | 'h' | 's' | 'd'; const n = { b: 16, h: 8, s: 4, d: 2 }[e]; return `dup v${v()}.${t}, v${v()}.${e}[${next() % n}]`; },
    () => { const t = pick(T); return `dup v${v()}.${t}, ${t === '2d' ? 'x' : 'w'}${x()}`; },
    () => { const [e, n] = pick(elems); return `dup ${e}${v()}, v${v()}.${e}[${next() % n}]`; },
    () => { const q = next() & 1; return `ext v${v()}.${q ? '16b' : '8b'}, v${v()}.${q ? '16b' : '8b'}, v${v()}.${q ? '16b' : '8b'}, #${next() % (q ? 16 : 8)}`; },
    () => { const t = pick(T); return `${pick(['zip1', 'zip2', 'uzp1', 'uzp2', 'trn1', 'trn2'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; },
    () => { const t = next() & 1 ? '16b' : '8b'; return `${pick(['and', 'bic', 'orr', 'orn', 'eor', 'bsl', 'bit', 'bif'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; },
    () => { const t = next() & 1 ? '16b' : '8b'; return `${pick(['not', 'cnt', 'rbit'])} v${v()}.${t}, v${v()}.${t}`; },
    () => { const op = pick(['add', 'sub', 'cmeq', 'cmtst', 'cmgt', 'cmge', 'cmhi', 'cmhs', 'addp']); const t = pick(T); return `${op} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; },
    () => { const op = pick(['mul', 'smax', 'smin', 'umax', 'umin']); const t = pick(T1d); return `${op} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; },
    () => `${pick(['add', 'sub'])} d${v()}, d${v()}, d${v()}`,
    () => {
      const op = pick(['addv', 'smaxv', 'sminv', 'umaxv', 'uminv', 'saddlv', 'uaddlv']);
      const t = pick(['8b', '16b', '4h', '8h', '4s'] as const);
      const wide = op.endsWith('lv');
      const r = t.endsWith('b') ? (wide ? 'h' : 'b') : t.endsWith('h') ? (wide ? 's' : 'h') : wide ? 'd' : 's';
      return `${op} ${r}${v()}, v${v()}.${t}`;
    },
    () => {
      const imm = next() & 0xff, q = next() & 1;
      switch (next() % 8) {
        case 0: return `movi v${v()}.${q ? '16b' : '8b'}, #${imm}`;
        case 1: return `${pick(['movi', 'mvni', 'orr', 'bic'])} v${v()}.${q ? '8h' : '4h'}, #${imm}, lsl #${pick([0, 8])}`;
        case 2: return `${pick(['movi', 'mvni', 'orr', 'bic'])} v${v()}.${q ? '4s' : '2s'}, #${imm}, lsl #${pick([0, 8, 16, 24])}`;
        case 3: return `${pick(['movi', 'mvni'])} v${v()}.${q ? '4s' : '2s'}, #${imm}, msl #${pick([8, 16])}`;
        case 4: { let m = 0n; for (let b = 0; b < 8; b++) if ((imm >> b) & 1) m |= 0xffn << BigInt(8 * b); return q ? `movi v${v()}.2d, #0x${m.toString(16)}` : `movi d${v()}, #0x${m.toString(16)}`; }
        case 5: return `fmov v${v()}.${pick(['2s', '4s', '2d'])}, #${pick(['1.0', '-0.5', '31.0', '0.125', '-1.9375'])}`;
        default: return `fmov ${pick(['d', 'v'])}${v()}${''}, x${x()}`.replace(/^fmov v(\d+), /, 'fmov v$1.d[1], ');
      }
    },
    () => pick([`fmov x${x()}, d${v()}`, `fmov w${x()}, s${v()}`, `fmov s${v()}, w${x()}`, `fmov x${x()}, v${v()}.d[1]`]),
  ];
  for (let k = 0; k < count; k++) lines.push(templates[next() % templates.length]!());
  return lines.join('\n');
}

function expectAgreement(body: string, data = '', minInsns = 1): void {
  const r = diffWithQemu(body, data);
  if (process.env.FP_SIMD_QEMU_STATS) console.log(`compared ${r.compared} instructions`);
  expect(r.mismatches).toEqual([]);
  expect(r.compared).toBeGreaterThanOrEqual(minInsns);
}

describe.runIf(qemuAvailable())('FP/SIMD against QEMU', () => {
  it('moves data between X and V registers (FMOV, MOVI, INS, UMOV, SMOV, DUP, vector logic)', () => {
    const next = rng(1);
    const lines: string[] = [];
    for (let r = 0; r < 8; r++) lines.push(movImm(`x${r}`, rand64(next)));
    lines.push(
      'fmov d0, x0', 'fmov s1, w1', 'fmov v0.d[1], x2', 'fmov x10, v0.d[1]', 'fmov x11, d0', 'fmov w12, s1',
      'fmov d2, x3', 'fmov v2.d[1], x4', 'mov v3.16b, v2.16b', 'fmov s3, w5', // the scalar write clears bits 127:32
      'ins v4.d[0], x6', 'ins v4.d[1], x7', 'ins v5.s[1], w0', 'ins v5.h[5], w1', 'ins v5.b[15], w2',
      'mov v6.s[2], v4.s[1]', 'mov v6.b[3], v4.b[14]', 'mov v6.d[1], v4.d[0]',
      'umov w13, v4.b[9]', 'umov w14, v4.h[6]', 'umov w15, v4.s[3]', 'umov x16, v4.d[1]', 'mov x17, v6.d[1]',
      'smov w18, v4.b[7]', 'smov x19, v4.h[3]', 'smov x20, v4.s[1]', 'smov w21, v2.h[7]',
      'dup v7.16b, w3', 'dup v8.8h, w4', 'dup v9.4s, w5', 'dup v10.2d, x6', 'dup v11.8b, v4.b[13]', 'dup v12.4h, v4.h[2]',
      'dup v13.2s, v4.s[3]', 'dup v14.2d, v4.d[1]', 'mov b15, v4.b[5]', 'mov h16, v4.h[7]', 'mov s17, v4.s[2]', 'mov d18, v4.d[1]',
      'movi v19.16b, #0xa5', 'movi v20.8b, #0x3c', 'movi v21.4h, #0x12, lsl #8', 'movi v22.4s, #0x80, lsl #24',
      'movi v23.2s, #0x4d, msl #16', 'movi d24, #0xff00ff0000ffff00', 'movi v25.2d, #0xffffffff00000000',
      'mvni v26.8h, #0x34', 'mvni v27.2s, #0x56, lsl #16', 'mvni v28.4s, #0x12, msl #8',
      'orr v19.8h, #0x5a, lsl #8', 'bic v22.4s, #0x80, lsl #24', 'orr v20.2s, #0x11', 'bic v26.4h, #0xff',
      'fmov v29.4s, #-1.25', 'fmov v30.2d, #31.0', 'fmov v31.2s, #0.125',
      'and v0.16b, v4.16b, v19.16b', 'bic v1.8b, v4.8b, v19.8b', 'orr v2.16b, v5.16b, v6.16b', 'orn v3.8b, v5.8b, v6.8b',
      'eor v7.16b, v4.16b, v7.16b', 'mov v8.16b, v4.16b', 'bsl v8.16b, v5.16b, v6.16b', 'mov v9.16b, v4.16b',
      'bit v9.16b, v5.16b, v6.16b', 'mov v10.16b, v4.16b', 'bif v10.8b, v5.8b, v6.8b', 'not v11.16b, v4.16b', 'mvn v12.8b, v5.8b',
      'ext v13.16b, v4.16b, v5.16b, #5', 'ext v14.8b, v4.8b, v5.8b, #3',
      'umov x22, v13.d[0]', 'umov x23, v13.d[1]', 'fmov x24, d14', 'fmov x25, d8', 'mov x26, v9.d[1]', 'fmov x27, d10',
    );
    expectAgreement(lines.join('\n'), '', 80);
  });

  it('loads and stores FP/SIMD registers in every addressing mode', () => {
    const next = rng(2);
    const words: string[] = [];
    for (let k = 0; k < 64; k++) words.push(`0x${next().toString(16)}`);
    // Every access is aligned to its size: with the MMU off the architecture faults unaligned
    // accesses (Device memory) and QEMU does not (QEMU-NOTES.md); alignment is a unit test.
    const body = `
      adr x0, buf
      add x1, x0, #256
      mov sp, x1
      ldr b0, [x0, #1]
      ldr h1, [x0, #2]
      ldr s2, [x0, #4]
      ldr d3, [x0, #8]
      ldr q4, [x0, #16]
      ldr q5, [x0, #32]!
      ldr d6, [x0], #8
      ldur s7, [x0, #-4]
      ldur q8, [x0, #-24]
      mov x2, #3
      ldr d9, [x0, x2, lsl #3]
      ldr s10, [x0, w2, uxtw #2]
      mov x3, #-2
      ldr h11, [x0, x3, sxtx #1]
      ldr b12, [x0, w3, sxtw]
      ldp s13, s14, [x0]
      ldp d15, d16, [x0, #-8]!
      ldp q17, q18, [x0], #32
      ldnp d19, d20, [x0, #-16]
      ldr s21, lit_s
      ldr d22, lit_d
      ldr q23, lit_q
      str q4, [sp, #-16]!
      stp d3, d6, [sp, #-16]!
      stur d9, [sp, #-16]
      str q23, [x1, #32]
      stp q17, q18, [x1, #64]
      stnp s13, s14, [x1, #100]
      str h1, [x1, #110]
      str b0, [x1, #113]
      add x4, x1, #128
      str d22, [x4], #16
      str q5, [x4, x2, lsl #4]
      stp s2, s7, [x4, #-8]!
      ldp x5, x6, [x1, #-16]
      ldp x7, x8, [x1, #-32]
      ldr x9, [x1, #-48]
      ldp x10, x11, [x1, #32]
      ldp x12, x13, [x1, #64]
      ldp x14, x15, [x1, #80]
      ldp x16, x17, [x1, #96]
      ldp x18, x19, [x1, #112]
      ldp x20, x21, [x1, #128]
      ldp x22, x23, [x1, #192]
`;
    const data = `
      .balign 16
      lit_q: .quad 0x0123456789abcdef, 0xfedcba9876543210
      lit_d: .quad 0x1122334455667788
      lit_s: .word 0x99aabbcc
      .balign 16
      buf: .word ${words.join(', ')}
      .space 512
    `;
    expectAgreement(body, data, 50);
  });

  it('structure loads and stores interleave elements (LD1-4, ST1-4, single lanes, replicate, post-index)', () => {
    const next = rng(3);
    const words: string[] = [];
    for (let k = 0; k < 64; k++) words.push(`0x${next().toString(16)}`);
    const body = `
      adr x0, src
      adr x1, dst
      mov x2, x0
      ld1 {v0.16b}, [x2], #16
      ld1 {v1.8h, v2.8h}, [x2]
      ld1 {v3.2s, v4.2s, v5.2s}, [x2], #24
      ld1 {v6.1d, v7.1d, v8.1d, v9.1d}, [x0]
      ld2 {v10.8b, v11.8b}, [x0]
      ld2 {v12.4s, v13.4s}, [x0]
      ld3 {v14.8h, v15.8h, v16.8h}, [x0]
      ld4 {v17.16b, v18.16b, v19.16b, v20.16b}, [x0]
      mov x3, #40
      ld4 {v21.2s, v22.2s, v23.2s, v24.2s}, [x2], x3
      ld1 {v25.b}[11], [x0]
      ld2 {v26.h, v27.h}[5], [x0], x3
      ld3 {v28.s, v29.s, v30.s}[3], [x0]
      ld4 {v30.d, v31.d, v0.d, v1.d}[1], [x0]
      ld1r {v2.8b}, [x0]
      ld2r {v3.4h, v4.4h}, [x0], x3
      ld1r {v12.2s}, [x0], #4
      ld1 {v13.h}[3], [x0], #2
      ld1 {v15.b}[1], [x0], #1
      ld1r {v16.16b}, [x0], #1
      add x0, x0, #8
      ld3r {v5.4s, v6.4s, v7.4s}, [x0]
      ld4r {v8.2d, v9.2d, v10.2d, v11.2d}, [x0], x3
      st1 {v17.16b}, [x1]
      st2 {v12.4s, v13.4s}, [x1]
      add x4, x1, #64
      st3 {v14.8b, v15.8b, v16.8b}, [x4], #24
      st4 {v17.4h, v18.4h, v19.4h, v20.4h}, [x4], x3
      st1 {v0.2d, v1.2d, v2.2d}, [x4], #48
      st1 {v28.s}[2], [x4], #4
      st2 {v26.b, v27.b}[9], [x4]
      st3 {v28.h, v29.h, v30.h}[6], [x4], x3
      st4 {v21.s, v22.s, v23.s, v24.s}[1], [x4]
      adr x5, dst
      ldp x6, x7, [x5]
      ldp x8, x9, [x5, #16]
      ldp x10, x11, [x5, #32]
      ldp x12, x13, [x5, #48]
      ldp x14, x15, [x5, #64]
      ldp x16, x17, [x5, #80]
      ldp x18, x19, [x5, #96]
      ldp x20, x21, [x5, #112]
      ldp x22, x23, [x5, #128]
      ldp x24, x25, [x5, #144]
      ldp x26, x27, [x5, #160]
      ldp x28, x29, [x5, #176]
    `;
    const data = `
      .balign 16
      src: .word ${words.join(', ')}
      .balign 16
      dst: .space 256
    `;
    expectAgreement(body, data, 40);
  });

  it('integer vector arithmetic, compares, min/max, pairwise and across lanes', () => {
    const next = rng(4);
    const lines: string[] = [];
    for (let r = 0; r < 8; r++) {
      lines.push(movImm('x0', rand64(next)), movImm('x1', rand64(next)), `fmov d${r}, x0`, `fmov v${r}.d[1], x1`);
    }
    // some equal and extreme lanes
    lines.push('mov v8.16b, v0.16b', 'ins v8.s[1], v1.s[1]', 'movi v9.2d, #0xffffffffffffffff', 'movi v10.16b, #0x80');
    const arrangements = ['8b', '16b', '4h', '8h', '2s', '4s'];
    let d = 11;
    const three = ['add', 'sub', 'mul', 'cmeq', 'cmtst', 'cmgt', 'cmge', 'cmhi', 'cmhs', 'smax', 'smin', 'umax', 'umin', 'addp'];
    for (const op of three) {
      for (const t of arrangements) {
        const n = (d * 7) % 11, m = (d * 5 + 3) % 11;
        lines.push(`${op} v${d}.${t}, v${n}.${t}, v${m}.${t}`);
        d = d === 31 ? 11 : d + 1;
      }
    }
    for (const op of ['add', 'sub', 'cmeq', 'cmtst', 'cmgt', 'cmge', 'cmhi', 'cmhs', 'addp']) {
      lines.push(`${op} v${d}.2d, v${(d * 3) % 11}.2d, v${(d + 4) % 11}.2d`);
      d = d === 31 ? 11 : d + 1;
    }
    lines.push('cmge v12.2d, v8.2d, v0.2d', 'cmeq v13.4s, v8.4s, v0.4s', 'add d14, d3, d4', 'sub d15, d5, d6');
    for (const t of ['8b', '16b', '4h', '8h']) {
      for (const op of ['addv', 'smaxv', 'sminv', 'umaxv', 'uminv', 'saddlv', 'uaddlv']) {
        const dst = op.endsWith('lv') ? (t.endsWith('b') ? 'h' : 's') : t.endsWith('b') ? 'b' : 'h';
        lines.push(`${op} ${dst}${d}, v${d % 11}.${t}`);
        d = d === 31 ? 11 : d + 1;
      }
    }
    for (const op of ['addv', 'smaxv', 'sminv', 'umaxv', 'uminv']) lines.push(`${op} s${d}, v${d % 11}.4s`), (d = d === 31 ? 11 : d + 1);
    lines.push('saddlv d20, v10.4s', 'uaddlv d21, v9.4s', 'saddlv d22, v3.4s', 'uaddlv d23, v4.4s');
    for (const op of ['zip1', 'zip2', 'uzp1', 'uzp2', 'trn1', 'trn2']) {
      for (const t of ['8b', '16b', '4h', '8h', '2s', '4s', '2d']) {
        lines.push(`${op} v${d}.${t}, v${d % 11}.${t}, v${(d + 5) % 11}.${t}`);
        d = d === 31 ? 11 : d + 1;
      }
    }
    lines.push('zip1 v0.16b, v0.16b, v1.16b', 'uzp2 v1.8h, v2.8h, v1.8h', 'trn1 v2.4s, v2.4s, v2.4s');
    lines.push('cnt v24.16b, v5.16b', 'cnt v25.8b, v9.8b', 'rbit v26.16b, v6.16b', 'rbit v27.8b, v7.8b');
    expectAgreement(lines.join('\n'), '', 200);
  });


  for (const [n, seed] of [[32, 11], [64, 12], [32, 13], [64, 14]] as const) {
    it(`scalar ${n === 32 ? 'single' : 'double'}-precision arithmetic, conversions and compares with random FPCR (seed ${seed})`, () => {
      const { body, data } = scalarFpProgram(n, 60, seed);
      expectAgreement(body, data, 60 * 100);
    });
  }


  for (const seed of [21, 22, 23]) {
    it(`random AdvSIMD moves, permutes and integer operations (seed ${seed})`, () => {
      expectAgreement(randomSimdProgram(1500, seed), '', 1500);
    });
  }

  it('takes the FP access trap when CPTR_EL2.TFP is set, with ESR_EL2 = 0x1fe00000', () => {
    const body = `
      adr x0, vectors
      msr vbar_el2, x0
      movz x1, #0x33ff          // CPTR_EL2 with its RES1 bits (QEMU reads them as 0: not compared)
      orr x2, x1, #(1 << 10)
      msr cptr_el2, x2
      adds x3, x3, #1           // NZCV = 0000 before the trap (see the file comment)
      fmov d0, x3               // traps
      b .                       // not reached
    after_trap:
      mov x20, #1
    ` ;
    const data = `
      .balign 2048
    vectors:
      .space 0x200
      // current EL with SP_ELx, synchronous
      mrs x10, esr_el2
      mrs x11, elr_el2
      mrs x12, far_el2
      msr cptr_el2, x1
      fmov d0, x3                 // allowed again
      adr x13, after_trap
      mov x20, #2
      movz w0, #0x8400, lsl #16
      movk w0, #8
      smc #0
    `;
    expectAgreement(body, data, 10);
  });
});

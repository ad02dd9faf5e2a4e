/**
 * FP/SIMD execution, one exec id of src/isa/tables/fp-simd.ts at a time:
 * register moves and the zeroing of upper bits, element indices, MOVI
 * immediates, loads/stores in every addressing mode and their alignment
 * faults, structure interleaving, FCMP flags, conversions with saturation,
 * and the FP access traps (CPACR_EL1.FPEN, CPTR_EL2.TFP).
 */
import { describe, expect, it } from 'vitest';
import { FP_SIMD } from '../../src/isa/tables/fp-simd.js';
import { predecoderFor } from '../../src/cpu/exec/registry.js';
import { sysregId } from '../../src/cpu/sysregs/system-registers.js';
import type { Cpu } from '../../src/cpu/cpu.js';
import '../../src/cpu/exec/all.js';
import { BASE, hex, runProgram, type Program } from './fp-simd-harness.js';

const ONES = (1n << 128n) - 1n;
const f32 = (x: number): bigint => BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]!);
const f64 = (x: number): bigint => {
  const w = new Uint32Array(new Float64Array([x]).buffer);
  return (BigInt(w[1]!) << 32n) | BigInt(w[0]!);
};
/** Bytes b0, b1, ... as a little-endian bigint. */
const bytes = (...b: number[]): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x & 0xff), 0n);
const seq = (start: number, n: number, step = 1): number[] => Array.from({ length: n }, (_, k) => start + k * step);

/** Runs `body` with V0..V31 preset to all ones (so that zeroing shows) unless told otherwise. */
function exec(body: string, opts: { data?: string; setup?: (cpu: Cpu, p: Program) => void; fillV?: bigint } = {}): Program {
  const p = runProgram(`${body}\nend: b end\n${opts.data ?? ''}`, (cpu, prog) => {
    for (let r = 0; r < 32; r++) cpu.setV(r, opts.fillV ?? ONES);
    opts.setup?.(cpu, prog);
  });
  expect(p.undefined).toEqual([]);
  return p;
}

const ESR_EL1 = sysregId('esr_el1');
const ESR_EL2 = sysregId('esr_el2');
const ELR_EL2 = sysregId('elr_el2');
const FAR_EL2 = sysregId('far_el2');
const esr = (cpu: Cpu, el: 1 | 2): number => cpu.sys.lo(el === 1 ? ESR_EL1 : ESR_EL2) >>> 0;

describe('coverage', () => {
  it('has a predecoder for every exec id of the FP/SIMD table', () => {
    const missing = [...new Set(FP_SIMD.map((d) => d.exec))].filter((e) => !predecoderFor(e));
    expect(missing).toEqual([]);
  });
});

describe('FMOV and scalar register writes', () => {
  it('FMOV (general) moves bits and zeroes the rest of the vector register', () => {
    const p = exec(`
      movz x1, #0x89ab
      movk x1, #0x1234, lsl #48
      fmov s0, w1
      fmov d1, x1
      fmov v2.d[1], x1        // keeps bits 63:0
      fmov x3, v2.d[1]
      fmov w4, s1
      fmov x5, d1
      fmov d6, xzr
    `);
    const { cpu } = p;
    expect(cpu.getV(0)).toBe(0x89abn);
    expect(cpu.getV(1)).toBe(0x1234_0000_0000_89abn);
    expect(cpu.getV(2)).toBe((0x1234_0000_0000_89abn << 64n) | 0xffff_ffff_ffff_ffffn);
    expect(cpu.getX(3)).toBe(0x1234_0000_0000_89abn);
    expect(cpu.getX(4)).toBe(0x89abn);
    expect(cpu.getX(5)).toBe(0x1234_0000_0000_89abn);
    expect(cpu.getV(6)).toBe(0n);
  });

  it('FMOV (immediate) and FMOV/FABS/FNEG (register) write zero-extended scalars', () => {
    const { cpu } = exec(`
      fmov s0, #1.0
      fmov d1, #-0.5
      fmov s2, s0
      fneg d3, d1
      fabs s4, s0
      fneg s5, s0
    `);
    expect(cpu.getV(0)).toBe(f32(1));
    expect(cpu.getV(1)).toBe(f64(-0.5));
    expect(cpu.getV(2)).toBe(f32(1));
    expect(cpu.getV(3)).toBe(f64(0.5));
    expect(cpu.getV(4)).toBe(f32(1));
    expect(cpu.getV(5)).toBe(f32(-1));
  });

  it('FNEG/FABS flip the sign of NaNs without quieting them or touching FPSR', () => {
    const { cpu } = exec(`
      movz w1, #0x7f80, lsl #16
      movk w1, #1
      fmov s0, w1
      fneg s1, s0
      fabs s2, s1
    `);
    expect(cpu.getV(1)).toBe(0xff800001n);
    expect(cpu.getV(2)).toBe(0x7f800001n);
    expect(cpu.fpsr).toBe(0);
  });
});

describe('FP loads and stores', () => {
  const data = `
    .balign 16
    src: .byte ${seq(0x10, 64).join(', ')}
    .balign 16
    dst: .space 128
  `;

  it('loads B/H/S/D/Q with zero extension, in offset, pre- and post-index forms', () => {
    const { cpu } = exec(`
      adr x0, src
      ldr b0, [x0, #3]
      ldr h1, [x0, #2]
      ldr s2, [x0, #4]
      ldr d3, [x0, #8]
      ldr q4, [x0, #16]
      mov x1, x0
      ldr d5, [x1, #8]!
      ldr s6, [x1], #-4
      ldur h7, [x1, #2]
      ldur q8, [x1, #12]      // x1 = src + 4: src + 16
    `, { data });
    expect(cpu.getV(0)).toBe(0x13n);
    expect(cpu.getV(1)).toBe(bytes(0x12, 0x13));
    expect(cpu.getV(2)).toBe(bytes(0x14, 0x15, 0x16, 0x17));
    expect(cpu.getV(3)).toBe(bytes(...seq(0x18, 8)));
    expect(cpu.getV(4)).toBe(bytes(...seq(0x20, 16)));
    expect(cpu.getV(5)).toBe(bytes(...seq(0x18, 8)));
    expect(cpu.getV(6)).toBe(bytes(...seq(0x18, 4)));
    expect(cpu.getX(1)).toBe(cpu.getX(0) + 4n);
    expect(cpu.getV(7)).toBe(bytes(0x16, 0x17));
    expect(cpu.getV(8)).toBe(bytes(...seq(0x20, 16)));
  });

  it('uses the register-offset forms with extension and scaling', () => {
    const { cpu } = exec(`
      adr x0, src
      mov x1, #2
      ldr d0, [x0, x1, lsl #3]
      mov w2, #-1
      add x3, x0, #8
      ldr s1, [x3, w2, sxtw #2]
      ldr q2, [x0, x1, lsl #4]
      mov x4, #5
      ldr b3, [x0, x4]
      ldr h4, [x0, w4, uxtw]
    `, { data: `${data}` });
    expect(cpu.getV(0)).toBe(bytes(...seq(0x20, 8)));
    expect(cpu.getV(1)).toBe(bytes(...seq(0x14, 4)));
    expect(cpu.getV(2)).toBe(bytes(...seq(0x30, 16)));
    expect(cpu.getV(3)).toBe(0x15n);
    // halfword at an odd address: unaligned on Device memory
    expect(cpu.getV(4)).toBe(ONES);
  });

  it('stores exactly the register bytes and writes back the base', () => {
    const { cpu, memory, symbols } = exec(`
      adr x0, dst
      movi v0.16b, #0xab
      movz x1, #0x1122
      fmov d1, x1
      str b0, [x0]
      str h1, [x0, #2]
      str s1, [x0, #8]!
      str d1, [x0], #8
      str q0, [x0, #16]
      stur d1, [x0, #40]
    `, { data });
    const dst = Number(symbols.get('dst')!);
    expect(cpu.getX(0)).toBe(BigInt(dst + 16));
    const d1 = [0x22, 0x11, 0, 0, 0, 0, 0, 0];
    expect([...memory.readBytes(dst, 64)!]).toEqual([
      0xab, 0, 0x22, 0x11, 0, 0, 0, 0, ...d1, ...Array(16).fill(0), ...Array(16).fill(0xab), ...Array(8).fill(0), ...d1,
    ]);
  });

  it('loads and stores pairs (LDP/STP/LDNP/STNP of S, D and Q) with writeback', () => {
    const { cpu, memory, symbols } = exec(`
      adr x0, src
      ldp s0, s1, [x0, #4]
      ldp d2, d3, [x0, #16]!
      ldp q4, q5, [x0], #-16
      ldnp d6, d7, [x0, #48]
      adr x1, dst
      stp q5, q4, [x1, #32]
      stp s1, s0, [x1, #-8]!
      stnp d3, d2, [x1, #8]
    `, { data });
    expect(cpu.getV(0)).toBe(bytes(...seq(0x14, 4)));
    expect(cpu.getV(1)).toBe(bytes(...seq(0x18, 4)));
    expect(cpu.getV(2)).toBe(bytes(...seq(0x20, 8)));
    expect(cpu.getV(3)).toBe(bytes(...seq(0x28, 8)));
    expect(cpu.getV(4)).toBe(bytes(...seq(0x20, 16)));
    expect(cpu.getV(5)).toBe(bytes(...seq(0x30, 16)));
    expect(cpu.getX(0)).toBe(BigInt(symbols.get('src')!));
    expect(cpu.getV(6)).toBe(bytes(...seq(0x40, 8)));
    const dst = Number(symbols.get('dst')!);
    expect(cpu.getX(1)).toBe(BigInt(dst - 8));
    expect([...memory.readBytes(dst + 32, 32)!]).toEqual([...seq(0x30, 16), ...seq(0x20, 16)]);
    expect([...memory.readBytes(dst - 8, 24)!]).toEqual([...seq(0x18, 4), ...seq(0x14, 4), ...seq(0x28, 8), ...seq(0x20, 8)]);
  });

  it('loads literals (S, D, Q) PC-relative', () => {
    const { cpu } = exec(`
      ldr s0, lit4
      ldr d1, lit8
      ldr q2, lit16
    `, { data: '.balign 16\nlit16: .quad 0x0123456789abcdef, 0xfedcba9876543210\nlit8: .quad 0x1122334455667788\nlit4: .word 0x99aabbcc' });
    expect(cpu.getV(0)).toBe(0x99aabbccn);
    expect(cpu.getV(1)).toBe(0x1122334455667788n);
    expect(cpu.getV(2)).toBe(0xfedcba9876543210_0123456789abcdefn);
  });

  it('faults unaligned accesses with the MMU off (Device memory), Q needing 16-byte alignment', () => {
    for (const [insn, far] of [['ldr d0, [x0, #4]', 4], ['ldr q0, [x0, #8]', 8], ['str s0, [x0, #2]', 2], ['add x0, x0, #4\nldp d0, d1, [x0]', 4]] as const) {
      const p = exec(`adr x0, src\n${insn}`, { data });
      expect(p.exceptions.map((e) => e.ec), insn).toEqual([0x25]);
      const iss = esr(p.cpu, 2) & 0x1ffffff;
      expect(iss & 0x3f, insn).toBe(0x21); // DFSC: alignment fault
      expect(iss & (1 << 6), insn).toBe(insn.startsWith('str') ? 1 << 6 : 0); // WnR
      expect(p.cpu.sys.lo(FAR_EL2), insn).toBe(Number(p.symbols.get('src')!) + far);
      expect(p.cpu.getV(0), insn).toBe(ONES); // no register change
    }
  });

  it('does not write back the base when the access faults', () => {
    const p = exec('adr x0, src\nadd x0, x0, #4\nldr d0, [x0, #8]!', { data });
    expect(p.exceptions.length).toBe(1);
    expect(p.cpu.getX(0)).toBe(BigInt(p.symbols.get('src')!) + 4n);
  });

  it('checks SP alignment for SP-based accesses when SCTLR_EL2.SA is set', () => {
    const body = 'adr x0, dst\nadd x0, x0, #8\nmov sp, x0\nstr d0, [sp]';
    const ok = exec(body, { data });
    expect(ok.exceptions).toEqual([]);
    const p = exec(body, { data, setup: (cpu) => cpu.sys.set(sysregId('sctlr_el2'), cpu.sys.lo(sysregId('sctlr_el2')) | 8, 0) });
    expect(p.exceptions.map((e) => e.ec)).toEqual([0x26]);
  });
});

describe('structure loads and stores', () => {
  const data = `
    .balign 16
    src: .byte ${seq(0, 64).join(', ')}
    .balign 16
    dst: .space 128
  `;

  it('LD1 of 1-4 registers keeps memory order; 64-bit arrangements zero the upper half', () => {
    const { cpu } = exec(`
      adr x0, src
      ld1 {v0.16b}, [x0]
      ld1 {v1.8b, v2.8b}, [x0]
      ld1 {v3.4s, v4.4s, v5.4s}, [x0]
      ld1 {v30.1d, v31.1d, v0.1d, v1.1d}, [x0]   // the list wraps from v31 to v0
    `, { data });
    expect(cpu.getV(2)).toBe(bytes(...seq(8, 8)));
    expect(cpu.getV(3)).toBe(bytes(...seq(0, 16)));
    expect(cpu.getV(5)).toBe(bytes(...seq(32, 16)));
    expect(cpu.getV(30)).toBe(bytes(...seq(0, 8)));
    expect(cpu.getV(31)).toBe(bytes(...seq(8, 8)));
    expect(cpu.getV(0)).toBe(bytes(...seq(16, 8)));
    expect(cpu.getV(1)).toBe(bytes(...seq(24, 8)));
  });

  it('LD2/LD3/LD4 de-interleave structures; ST2/ST3/ST4 interleave them back', () => {
    const { cpu, memory, symbols } = exec(`
      adr x0, src
      ld3 {v0.8b, v1.8b, v2.8b}, [x0]
      ld2 {v3.8h, v4.8h}, [x0]
      ld4 {v5.4s, v6.4s, v7.4s, v8.4s}, [x0]
      adr x1, dst
      st4 {v5.4s, v6.4s, v7.4s, v8.4s}, [x1], #64
      st3 {v0.8b, v1.8b, v2.8b}, [x1]
    `, { data });
    expect(cpu.getV(0)).toBe(bytes(...seq(0, 8, 3)));
    expect(cpu.getV(1)).toBe(bytes(...seq(1, 8, 3)));
    expect(cpu.getV(2)).toBe(bytes(...seq(2, 8, 3)));
    expect(cpu.getV(3)).toBe(bytes(...[0, 4, 8, 12, 16, 20, 24, 28].flatMap((b) => [b, b + 1])));
    expect(cpu.getV(4)).toBe(bytes(...[2, 6, 10, 14, 18, 22, 26, 30].flatMap((b) => [b, b + 1])));
    expect(cpu.getV(6)).toBe(bytes(...[4, 20, 36, 52].flatMap((b) => seq(b, 4))));
    const dst = Number(symbols.get('dst')!);
    expect(cpu.getX(1)).toBe(BigInt(dst + 64));
    expect([...memory.readBytes(dst, 64 + 24)!]).toEqual([...seq(0, 64), ...seq(0, 24)]);
  });

  it('single-lane forms touch only their lane; replicate forms fill every lane', () => {
    const { cpu, memory, symbols } = exec(`
      adr x0, src
      add x5, x0, #9
      ld1 {v0.b}[9], [x5]
      ld2 {v1.h, v2.h}[3], [x0]
      ld4 {v3.s, v4.s, v5.s, v6.s}[2], [x0]
      ld3 {v7.d, v8.d, v9.d}[1], [x0]
      ld1r {v10.8b}, [x0]
      ld2r {v11.4s, v12.4s}, [x0]
      ld4r {v13.2d, v14.2d, v15.2d, v16.2d}, [x0]
      adr x1, dst
      st1 {v0.b}[9], [x1]
      add x1, x1, #2
      st2 {v1.h, v2.h}[3], [x1]
    `, { data, fillV: 0n });
    expect(cpu.getV(0)).toBe(9n << 72n);
    expect(cpu.getV(1)).toBe(bytes(0, 1) << 48n);
    expect(cpu.getV(2)).toBe(bytes(2, 3) << 48n);
    expect(cpu.getV(5)).toBe(bytes(8, 9, 10, 11) << 64n);
    expect(cpu.getV(9)).toBe(bytes(...seq(16, 8)) << 64n);
    expect(cpu.getV(10)).toBe(0n);
    expect(cpu.getV(11)).toBe(bytes(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3));
    expect(cpu.getV(12)).toBe(bytes(4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7));
    expect(cpu.getV(16)).toBe(bytes(...seq(24, 8), ...seq(24, 8)));
    expect([...memory.readBytes(Number(symbols.get('dst')!), 6)!]).toEqual([9, 0, 0, 1, 2, 3]);
  });

  it('preserves other lanes of single-lane loads and zeroes the top of 64-bit replicates', () => {
    const { cpu } = exec(`
      adr x0, src
      ld1 {v0.s}[1], [x0]
      ld1r {v1.4h}, [x0]
    `, { data });
    expect(cpu.getV(0)).toBe((ONES & ~(0xffffffffn << 32n)) | (bytes(0, 1, 2, 3) << 32n));
    expect(cpu.getV(1)).toBe(bytes(0, 1, 0, 1, 0, 1, 0, 1));
  });

  it('post-indexes by the transfer size (Rm = 31) or by Xm', () => {
    const { cpu, symbols } = exec(`
      adr x0, src
      mov x1, x0
      ld2 {v0.4s, v1.4s}, [x1], #32
      mov x2, x0
      mov x3, #-3
      ld1 {v2.b}[0], [x2], x3
      mov x4, x0
      ld3r {v3.8b, v4.8b, v5.8b}, [x4], #3
      mov x5, x0
      ld4 {v6.h, v7.h, v8.h, v9.h}[1], [x5], #8
    `, { data });
    const src = BigInt(symbols.get('src')!);
    expect(cpu.getX(1)).toBe(src + 32n);
    expect(cpu.getX(2)).toBe(src - 3n);
    expect(cpu.getX(4)).toBe(src + 3n);
    expect(cpu.getX(5)).toBe(src + 8n);
  });

  it('faults elements at unaligned addresses and leaves the registers unchanged', () => {
    const p = exec('adr x0, src\nadd x0, x0, #2\nld2 {v0.4s, v1.4s}, [x0], #32', { data });
    expect(p.exceptions.map((e) => e.ec)).toEqual([0x25]);
    expect(p.cpu.getV(0)).toBe(ONES);
    expect(p.cpu.getX(0)).toBe(BigInt(p.symbols.get('src')!) + 2n);
  });
});

describe('AdvSIMD immediates and moves', () => {
  it('expands MOVI/MVNI/ORR/BIC/FMOV immediates (AdvSIMDExpandImm)', () => {
    const { cpu } = exec(`
      movi v0.16b, #0x5a
      movi v1.4h, #0x12, lsl #8
      movi v2.4s, #0x34, lsl #16
      movi v3.2s, #0x56, msl #8
      movi v4.4s, #0x78, msl #16
      movi d5, #0xff0000ff00ff00ff
      movi v6.2d, #0x00ffff0000000000
      mvni v7.8h, #0x1
      mvni v8.2s, #0x80, lsl #24
      mvni v9.4s, #0x12, msl #8
      movi v10.8h, #0xf0
      orr v10.8h, #0x0f, lsl #8
      movi v11.16b, #0xff
      bic v11.4s, #0xff, lsl #8
      fmov v12.4s, #-2.0
      fmov v13.2d, #0.25
      fmov v14.2s, #1.0
    `);
    const rep = (v: bigint, w: number): bigint => { let r = 0n; for (let k = 0; k < 128; k += w) r |= v << BigInt(k); return r; };
    expect(cpu.getV(0)).toBe(rep(0x5an, 8));
    expect(cpu.getV(1)).toBe(rep(0x1200n, 16) & ((1n << 64n) - 1n));
    expect(cpu.getV(2)).toBe(rep(0x340000n, 32));
    expect(cpu.getV(3)).toBe(rep(0x56ffn, 32) & ((1n << 64n) - 1n));
    expect(cpu.getV(4)).toBe(rep(0x78ffffn, 32));
    expect(cpu.getV(5)).toBe(0xff0000ff00ff00ffn);
    expect(cpu.getV(6)).toBe(rep(0x00ffff0000000000n, 64));
    expect(cpu.getV(7)).toBe(rep(0xfffen, 16));
    expect(cpu.getV(8)).toBe(rep(0x7fffffffn, 32) & ((1n << 64n) - 1n));
    expect(cpu.getV(9)).toBe(rep(0xffffed00n, 32));
    expect(cpu.getV(10)).toBe(rep(0x0ff0n, 16));
    expect(cpu.getV(11)).toBe(rep(0xffff00ffn, 32));
    expect(cpu.getV(12)).toBe(rep(f32(-2), 32));
    expect(cpu.getV(13)).toBe(rep(f64(0.25), 64));
    expect(cpu.getV(14)).toBe(rep(f32(1), 32) & ((1n << 64n) - 1n));
  });

  it('DUP, INS, UMOV and SMOV use the element size and index from imm5/imm4', () => {
    const { cpu } = exec(`
      movz x1, #0x8382
      movk x1, #0x8584, lsl #16
      movk x1, #0x8786, lsl #32
      movk x1, #0x8988, lsl #48
      movi v0.16b, #0
      ins v0.d[1], x1
      ins v0.b[2], w1
      ins v0.h[2], w1
      ins v0.s[1], w1
      dup v1.16b, v0.b[11]
      dup v2.4h, v0.h[5]
      dup v3.4s, v0.s[3]
      dup v4.2d, v0.d[1]
      dup v5.8b, w1
      dup v6.2d, x1
      mov b7, v0.b[15]
      mov h8, v0.h[6]
      mov d9, v0.d[1]
      mov v10.16b, v0.16b
      mov v10.b[0], v0.b[13]
      mov v10.h[7], v0.h[1]
      mov v10.s[1], v0.s[3]
      mov v10.d[0], v0.d[1]
      umov w11, v0.b[9]
      umov w12, v0.h[5]
      mov w13, v0.s[3]
      mov x14, v0.d[1]
      smov w15, v0.b[9]
      smov x16, v0.h[5]
      smov x17, v0.s[2]
      smov w18, v0.b[2]
    `);
    expect(cpu.getV(0)).toBe((0x8988878685848382n << 64n) | 0x8584838200820000n); // s[1] overwrote h[2]
    expect(cpu.getV(1)).toBe(bytes(...Array(16).fill(0x85)));
    expect(cpu.getV(2)).toBe(0x8584858485848584n);
    expect(cpu.getV(3)).toBe(0x89888786_89888786_89888786_89888786n);
    expect(cpu.getV(4)).toBe((0x8988878685848382n << 64n) | 0x8988878685848382n);
    expect(cpu.getV(5)).toBe(0x8282828282828282n);
    expect(cpu.getV(6)).toBe((0x8988878685848382n << 64n) | 0x8988878685848382n);
    expect(cpu.getV(7)).toBe(0x89n);
    expect(cpu.getV(8)).toBe(0x8786n);
    expect(cpu.getV(9)).toBe(0x8988878685848382n);
    // b[0], h[7], s[1] then d[0] (which overwrites b[0] and s[1])
    expect(cpu.getV(10)).toBe((0x0082878685848382n << 64n) | 0x8988878685848382n);
    expect(cpu.getX(11)).toBe(0x83n);
    expect(cpu.getX(12)).toBe(0x8584n);
    expect(cpu.getX(13)).toBe(0x89888786n);
    expect(cpu.getX(14)).toBe(0x8988878685848382n);
    expect(cpu.getX(15)).toBe(0xffffff83n);
    expect(cpu.getX(16)).toBe(0xffffffffffff8584n);
    expect(cpu.getX(17)).toBe(0xffffffff85848382n);
    expect(cpu.getX(18)).toBe(0xffffff82n);
  });

  it('EXT and the permutes select elements from Vn:Vm', () => {
    const { cpu } = exec(`
      adr x0, src
      ldp q0, q1, [x0]
      ext v2.16b, v0.16b, v1.16b, #3
      ext v3.8b, v0.8b, v1.8b, #7
      zip1 v4.16b, v0.16b, v1.16b
      zip2 v5.8h, v0.8h, v1.8h
      uzp1 v6.4s, v0.4s, v1.4s
      uzp2 v7.8b, v0.8b, v1.8b
      trn1 v8.4h, v0.4h, v1.4h
      trn2 v9.2d, v0.2d, v1.2d
      zip1 v0.4s, v0.4s, v0.4s   // destination aliases the sources
    `, { data: `.balign 16\nsrc: .byte ${seq(0, 16).join(', ')}, ${seq(0x80, 16).join(', ')}` });
    expect(cpu.getV(2)).toBe(bytes(...seq(3, 13), 0x80, 0x81, 0x82));
    expect(cpu.getV(3)).toBe(bytes(7, ...seq(0x80, 7)));
    expect(cpu.getV(4)).toBe(bytes(...seq(0, 8).flatMap((k) => [k, 0x80 + k])));
    expect(cpu.getV(5)).toBe(bytes(...[8, 10, 12, 14].flatMap((k) => [k, k + 1, 0x80 + k, 0x81 + k])));
    expect(cpu.getV(6)).toBe(bytes(...[0, 8, 0x80, 0x88].flatMap((k) => seq(k, 4))));
    expect(cpu.getV(7)).toBe(bytes(1, 3, 5, 7, 0x81, 0x83, 0x85, 0x87));
    expect(cpu.getV(8)).toBe(bytes(0, 1, 0x80, 0x81, 4, 5, 0x84, 0x85));
    expect(cpu.getV(9)).toBe(bytes(...seq(8, 8), ...seq(0x88, 8)));
    expect(cpu.getV(0)).toBe(bytes(0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7));
  });
});

describe('AdvSIMD integer operations', () => {
  it('vector logic: AND/BIC/ORR/ORN/EOR and the bitwise selects; 8B forms zero bits 127:64', () => {
    const { cpu } = exec(`
      movz x1, #0xff00
      movk x1, #0xf0f0, lsl #16
      dup v0.2d, x1               // n
      movz x2, #0x0ff0
      movk x2, #0xcccc, lsl #16
      dup v1.2d, x2               // m
      movz x3, #0xaaaa
      movk x3, #0x5555, lsl #16
      and v2.16b, v0.16b, v1.16b
      bic v3.16b, v0.16b, v1.16b
      orr v4.8b, v0.8b, v1.8b
      orn v5.16b, v0.16b, v1.16b
      eor v6.16b, v0.16b, v1.16b
      dup v7.2d, x3
      bsl v7.16b, v0.16b, v1.16b
      dup v8.2d, x3
      bit v8.16b, v0.16b, v1.16b
      dup v9.2d, x3
      bif v9.8b, v0.8b, v1.8b
      mov v10.16b, v1.16b
    `);
    const n = 0xf0f0ff00n, m = 0xcccc0ff0n, d = 0x5555aaaan, lo = (1n << 64n) - 1n;
    const q = (v: bigint): bigint => (v << 64n) | v;
    expect(cpu.getV(2)).toBe(q(n & m));
    expect(cpu.getV(3)).toBe(q(n & ~m));
    expect(cpu.getV(4)).toBe(n | m);
    expect(cpu.getV(5)).toBe(q((n | ~m) & lo));
    expect(cpu.getV(6)).toBe(q(n ^ m));
    expect(cpu.getV(7)).toBe(q((d & n) | (~d & m & lo)));
    expect(cpu.getV(8)).toBe(q((n & m) | (d & ~m & lo)));
    expect(cpu.getV(9)).toBe((d & m) | (n & ~m & lo));
    expect(cpu.getV(10)).toBe(q(m));
  });

  it('NOT, CNT and RBIT work on bytes', () => {
    const { cpu } = exec(`
      movz x1, #0x0f01
      movk x1, #0x80ff, lsl #16
      fmov d0, x1
      not v1.8b, v0.8b
      cnt v2.16b, v0.16b
      rbit v3.8b, v0.8b
    `);
    expect(cpu.getV(1)).toBe(0xffffffff7f00f0fen);
    expect(cpu.getV(2)).toBe(bytes(1, 4, 8, 1));
    expect(cpu.getV(3)).toBe(bytes(0x80, 0xf0, 0xff, 0x01));
  });

  it('ADD/SUB/MUL wrap per lane; compares give all-ones lanes; max/min are signed or unsigned', () => {
    const { cpu } = exec(`
      adr x0, src
      ldp q0, q1, [x0]
      add v2.16b, v0.16b, v1.16b
      sub v3.8h, v0.8h, v1.8h
      mul v4.4s, v0.4s, v1.4s
      add v5.2d, v0.2d, v1.2d
      cmgt v6.16b, v0.16b, v1.16b
      cmhi v7.16b, v0.16b, v1.16b
      cmeq v8.4s, v0.4s, v0.4s
      cmtst v9.8b, v0.8b, v1.8b
      cmge v10.2d, v1.2d, v0.2d
      smax v11.8h, v0.8h, v1.8h
      umin v12.8h, v0.8h, v1.8h
      addp v13.4s, v0.4s, v1.4s
      addp v14.2d, v0.2d, v1.2d
      add d15, d0, d1
      sub d16, d0, d1
    `, { data: `.balign 16\nsrc: .quad 0x80017f02fffe0003, 0x7fffffff00000001, 0x01ff7f01ff02ff02, 0x8000000100000002` });
    const a0 = 0x80017f02fffe0003n, a1 = 0x7fffffff00000001n, b0 = 0x01ff7f01ff02ff02n, b1 = 0x8000000100000002n;
    const lanes = (v: bigint, w: number, n: number) => Array.from({ length: n }, (_, k) => (v >> BigInt(w * k)) & ((1n << BigInt(w)) - 1n));
    const join = (ls: bigint[], w: number) => ls.reduceRight((acc, x) => (acc << BigInt(w)) | (x & ((1n << BigInt(w)) - 1n)), 0n);
    const A = (a1 << 64n) | a0, B = (b1 << 64n) | b0;
    const op = (w: number, n: number, f: (x: bigint, y: bigint) => bigint) => join(lanes(A, w, n).map((x, k) => f(x, lanes(B, w, n)[k]!)), w);
    const sx = (x: bigint, w: number) => BigInt.asIntN(w, x);
    expect(cpu.getV(2)).toBe(op(8, 16, (x, y) => x + y));
    expect(cpu.getV(3)).toBe(op(16, 8, (x, y) => x - y));
    expect(cpu.getV(4)).toBe(op(32, 4, (x, y) => x * y));
    expect(cpu.getV(5)).toBe(op(64, 2, (x, y) => x + y));
    expect(cpu.getV(6)).toBe(op(8, 16, (x, y) => (sx(x, 8) > sx(y, 8) ? 0xffn : 0n)));
    expect(cpu.getV(7)).toBe(op(8, 16, (x, y) => (x > y ? 0xffn : 0n)));
    expect(cpu.getV(8)).toBe(ONES);
    expect(cpu.getV(9)).toBe(op(8, 8, (x, y) => ((x & y) !== 0n ? 0xffn : 0n)) & ((1n << 64n) - 1n));
    expect(cpu.getV(10)).toBe(join(lanes(B, 64, 2).map((y, k) => (sx(y, 64) >= sx(lanes(A, 64, 2)[k]!, 64) ? ONES : 0n)), 64));
    expect(cpu.getV(11)).toBe(op(16, 8, (x, y) => (sx(x, 16) >= sx(y, 16) ? x : y)));
    expect(cpu.getV(12)).toBe(op(16, 8, (x, y) => (x <= y ? x : y)));
    const a32 = lanes(A, 32, 4), b32 = lanes(B, 32, 4);
    expect(cpu.getV(13)).toBe(join([a32[0]! + a32[1]!, a32[2]! + a32[3]!, b32[0]! + b32[1]!, b32[2]! + b32[3]!], 32));
    expect(cpu.getV(14)).toBe(join([a0 + a1, b0 + b1], 64));
    expect(cpu.getV(15)).toBe((a0 + b0) & ((1n << 64n) - 1n));
    expect(cpu.getV(16)).toBe((a0 - b0) & ((1n << 64n) - 1n));
  });

  it('reduces across lanes (ADDV, S/UMAXV, S/UMINV, S/UADDLV) into a zero-extended scalar', () => {
    const { cpu } = exec(`
      adr x0, src
      ldr q0, [x0]
      addv b1, v0.16b
      umaxv b2, v0.8b
      sminv h3, v0.8h
      smaxv s4, v0.4s
      uminv s5, v0.4s
      saddlv h6, v0.16b
      uaddlv s7, v0.8h
      saddlv d8, v0.4s
    `, { data: '.balign 16\nsrc: .byte 1, 0x80, 3, 0xff, 5, 6, 7, 0x7f, 9, 10, 11, 12, 13, 14, 0xf0, 16' });
    const b = [1, 0x80, 3, 0xff, 5, 6, 7, 0x7f, 9, 10, 11, 12, 13, 14, 0xf0, 16];
    const s8 = b.map((x) => (x << 24) >> 24);
    const h = seq(0, 8).map((k) => b[2 * k]! | (b[2 * k + 1]! << 8));
    const s16 = h.map((x) => (x << 16) >> 16);
    const w = seq(0, 4).map((k) => (h[2 * k]! | (h[2 * k + 1]! << 16)) | 0);
    expect(cpu.getV(1)).toBe(BigInt(b.reduce((x, y) => x + y) & 0xff));
    expect(cpu.getV(2)).toBe(BigInt(Math.max(...b.slice(0, 8))));
    expect(cpu.getV(3)).toBe(BigInt(Math.min(...s16) & 0xffff));
    expect(cpu.getV(4)).toBe(BigInt(Math.max(...w) >>> 0));
    expect(cpu.getV(5)).toBe(BigInt(Math.min(...w.map((x) => x >>> 0))));
    expect(cpu.getV(6)).toBe(BigInt(s8.reduce((x, y) => x + y) & 0xffff));
    expect(cpu.getV(7)).toBe(BigInt(h.reduce((x, y) => x + y)));
    expect(cpu.getV(8)).toBe(BigInt.asUintN(64, BigInt(w.reduce((x, y) => x + y))));
  });
});

describe('scalar floating point', () => {
  it('FCMP/FCMPE set NZCV: less 1000, equal 0110, greater 0010, unordered 0011', () => {
    const flags = (a: string, b: string, insn = 'fcmp') => {
      const p = exec(`fmov d0, #${a}\n${b === 'nan' ? 'movi v1.2d, #0xffffffffffffffff' : b === 'zero' ? '' : `fmov d1, #${b}`}\n${insn} d0, ${b === 'zero' ? '#0.0' : 'd1'}`);
      return [p.cpu.nzcv.toString(2).padStart(4, '0'), p.cpu.fpsr];
    };
    expect(flags('1.0', '2.0')).toEqual(['1000', 0]);
    expect(flags('2.0', '2.0')).toEqual(['0110', 0]);
    expect(flags('3.0', '2.0')).toEqual(['0010', 0]);
    expect(flags('-1.0', 'zero')).toEqual(['1000', 0]);
    expect(flags('1.0', 'nan')).toEqual(['0011', 0]); // a quiet NaN (all ones)
    expect(flags('1.0', 'nan', 'fcmpe')).toEqual(['0011', 1]); // FCMPE: Invalid Operation
  });

  it('FCCMP compares when the condition holds, else sets #nzcv; FCSEL selects', () => {
    const { cpu } = exec(`
      fmov s0, #1.0
      fmov s1, #2.0
      cmp x0, x0              // Z = 1
      fccmp s0, s1, #0b0011, eq
      mrs x2, nzcv
      fccmp s0, s1, #0b0101, eq   // eq now false (flags 1000): nzcv = 0101
      mrs x3, nzcv
      fcsel s4, s0, s1, vs
      fcsel d5, d1, d0, ne
    `);
    expect(cpu.getX(2)).toBe(0b1000n << 28n);
    expect(cpu.getX(3)).toBe(0b0101n << 28n);
    expect(cpu.getV(4)).toBe(f32(1));
    expect(cpu.getV(5)).toBe(f32(1)); // d0 holds s0 = 1.0 zero-extended
  });

  it('arithmetic writes zero-extended results and cumulative FPSR flags', () => {
    const { cpu } = exec(`
      fmov s0, #1.0
      fmov s1, #3.0
      fdiv s2, s0, s1
      fmov d3, #2.0
      fsqrt d4, d3
      fmadd s5, s0, s1, s1     // 1 * 3 + 3
      fnmul d6, d3, d3
      fmaxnm s7, s0, s1
      fcvt d8, s2
      fcvt h9, s1
      frinta d10, d3
      fsub s11, s1, s1
    `);
    expect(cpu.getV(2)).toBe(f32(1 / 3));
    expect(cpu.getV(4)).toBe(f64(Math.SQRT2));
    expect(cpu.getV(5)).toBe(f32(6));
    expect(cpu.getV(6)).toBe(f64(-4));
    expect(cpu.getV(7)).toBe(f32(3));
    expect(cpu.getV(8)).toBe(f64(Math.fround(1 / 3)));
    expect(cpu.getV(9)).toBe(0x4200n); // 3.0 in half precision
    expect(cpu.getV(10)).toBe(f64(2));
    expect(cpu.getV(11)).toBe(0n);
    expect(cpu.fpsr).toBe(0x10); // IXC (from the divide and the square root)
  });

  it('converts to integers with saturation and to FP with FPCR rounding; fixed point scales', () => {
    const { cpu } = exec(`
      movz x0, #0x4f00, lsl #16    // 2^31 as a single
      fmov s0, w0
      fcvtzs w1, s0                // saturates to 0x7fffffff (IOC)
      fcvtzu w2, s0                // 0x80000000 exactly
      fcvtzs x3, s0
      fmov d1, #-2.5
      fcvtns x4, d1                // -2 (ties to even)
      fcvtas x5, d1                // -3 (ties away)
      fcvtpu w6, d1                // 0, saturated (IOC)
      fcvtzs w7, d1, #4            // -40
      mov x8, #-1
      ucvtf d2, x8                 // 2^64
      scvtf s3, x8                 // -1
      scvtf d4, w8, #1             // -0.5
      mov x9, #3
      fmov d5, #1.5
      fcvtzu x10, d5, #2           // 6
    `);
    expect(cpu.getX(1)).toBe(0x7fffffffn);
    expect(cpu.getX(2)).toBe(0x80000000n);
    expect(cpu.getX(3)).toBe(0x80000000n);
    expect(cpu.getX(4)).toBe(BigInt.asUintN(64, -2n));
    expect(cpu.getX(5)).toBe(BigInt.asUintN(64, -3n));
    expect(cpu.getX(6)).toBe(0n);
    expect(cpu.getX(7)).toBe(BigInt.asUintN(32, -40n));
    expect(cpu.getV(2)).toBe(f64(2 ** 64));
    expect(cpu.getV(3)).toBe(f32(-1));
    expect(cpu.getV(4)).toBe(f64(-0.5));
    expect(cpu.getX(10)).toBe(6n);
    expect(cpu.fpsr & 0x1f).toBe(0x11); // IOC and IXC
  });

  it('honours FPCR.RMode in SCVTF and FRINTI, and FPCR.DN in arithmetic', () => {
    const { cpu } = exec(`
      movz x0, #0x0100, lsl #16
      movk x0, #1                  // 2^24 + 1: not a single
      mov x1, #(1 << 22)           // RMode = RP
      msr fpcr, x1
      scvtf s0, x0                 // rounds up to 2^24 + 2
      fmov d1, #-1.5
      frinti d2, d1                // -1
      mov x1, #(1 << 25)           // DN
      msr fpcr, x1
      movz w2, #0x7fc0, lsl #16
      movk w2, #0x1234
      fmov s3, w2
      fadd s4, s3, s3              // the default NaN, not the operand's payload
    `);
    expect(cpu.getV(0)).toBe(f32(2 ** 24 + 2));
    expect(cpu.getV(2)).toBe(f64(-1));
    expect(cpu.getV(4)).toBe(0x7fc00000n);
  });

  it('FRINT32/FRINT64 are UNDEFINED without FEAT_FRINTTS (Cortex-A57)', () => {
    const p = runProgram('.inst 0x1e28c020\nend: b end'); // frint32z s0, s1
    expect(p.undefined.length).toBe(1);
    expect(p.exceptions.map((e) => e.ec)).toEqual([0]);
  });
});

describe('FP access traps', () => {
  const CPTR_EL2 = sysregId('cptr_el2');
  const CPACR_EL1 = sysregId('cpacr_el1');
  const HCR_EL2 = sysregId('hcr_el2');

  function atEl(cpu: Cpu, el: number): void {
    cpu.el = el;
    cpu.spsel = el === 0 ? 0 : 1;
    cpu.syncStackPointer();
    cpu.fetchStale = true;
  }

  it('traps every FP/SIMD instruction, loads and stores included, to EL2 when CPTR_EL2.TFP = 1', () => {
    for (const insn of ['fmov d0, x1', 'add v0.4s, v1.4s, v2.4s', 'ldr q0, [x2]', 'str d0, [x2], #8', 'ld1 {v0.16b}, [x2], #16', 'fcmp s0, s1', 'umov w3, v1.s[1]']) {
      const p = exec(`adr x2, data\nmov x3, #7\n${insn}`, {
        data: '.balign 16\ndata: .space 32',
        setup: (cpu) => cpu.sys.write(CPTR_EL2, 0x33ff | (1 << 10), 0),
      });
      expect(p.exceptions.map((e) => [e.ec, e.toEl]), insn).toEqual([[0x07, 2]]);
      expect(esr(p.cpu, 2), insn).toBe(0x1fe00000);
      expect(p.cpu.sys.lo(ELR_EL2), insn).toBe(BASE + 8);
      // Nothing executed: no register, memory or base writeback change.
      expect(p.cpu.getV(0), insn).toBe(ONES);
      expect(p.cpu.getX(2), insn).toBe(BigInt(p.symbols.get('data')!));
      expect(p.cpu.getX(3), insn).toBe(7n);
    }
  });

  it('traps at EL1 and EL0 by CPACR_EL1.FPEN (00 both, 01 EL0 only, 11 neither)', () => {
    const run = (el: number, fpen: number) => exec('fmov d0, x1', {
      setup: (cpu) => {
        cpu.sys.write(CPACR_EL1, fpen << 20, 0);
        atEl(cpu, el);
      },
    });
    for (const [el, fpen, trapped] of [[1, 0, true], [1, 2, true], [1, 1, false], [1, 3, false], [0, 1, true], [0, 3, false]] as const) {
      const p = run(el, fpen);
      expect(p.exceptions.map((e) => [e.ec, e.toEl]), `EL${el} FPEN=${fpen}`).toEqual(trapped ? [[0x07, 1]] : []);
      if (trapped) expect(esr(p.cpu, 1)).toBe(0x1fe00000);
    }
  });

  it('routes an EL0 CPACR_EL1 trap to EL2 as an unknown-reason exception when HCR_EL2.TGE = 1', () => {
    const p = exec('fmov d0, x1', {
      setup: (cpu) => {
        cpu.sys.write(CPACR_EL1, 0, 0);
        cpu.sys.write(HCR_EL2, 1 << 27, 0);
        atEl(cpu, 0);
      },
    });
    expect(p.exceptions.map((e) => [e.ec, e.toEl])).toEqual([[0x00, 2]]);
    expect(esr(p.cpu, 2)).toBe(0x02000000);
  });

  it('checks CPTR_EL2.TFP at EL1 after CPACR_EL1 allows access', () => {
    const p = exec('fmov d0, x1', {
      setup: (cpu) => {
        cpu.sys.write(CPACR_EL1, 3 << 20, 0);
        cpu.sys.write(CPTR_EL2, 0x33ff | (1 << 10), 0);
        atEl(cpu, 1);
      },
    });
    expect(p.exceptions.map((e) => [e.ec, e.toEl])).toEqual([[0x07, 2]]);
  });
});

void hex;

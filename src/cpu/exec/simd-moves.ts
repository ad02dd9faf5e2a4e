/**
 * Advanced SIMD moves (Arm ARM C7): MOVI/MVNI/ORR/BIC/FMOV (vector,
 * immediate) through AdvSIMDExpandImm, DUP (element, general, scalar), INS
 * (general, element), UMOV, SMOV, EXT, and the permutes ZIP1/2, UZP1/2,
 * TRN1/2. A 64-bit vector result (Q = 0) clears bits [127:64].
 */
import type { Cpu } from '../cpu.js';
import type { Fields } from '../../isa/insn-def.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { OP_HANDLER } from '../ops.js';
import { dstOrZr, srcOrZr } from '../registers.js';
import { checkFpAccess } from '../sysregs/traps.js';
import { vecViews } from './simd-regs.js';

const S = (slot: number): number => slot * 2;

function setSlot(out: Int32Array, i: number, h: number, a = 0, b = 0, c = 0, d = 0, e = 0): true {
  out[i] = OP_HANDLER;
  out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = h;
  return true;
}

/** Result scratch (128 bits) with byte access, so that Vd may alias a source. */
const res = new Int32Array(4);
const res8 = new Uint8Array(res.buffer);

/** V[d] = result, 64 or 128 bits (q). */
function writeResult(cpu: Cpu, d: number, q: number): void {
  const v = cpu.v, w = d * 4;
  v[w] = res[0]!; v[w + 1] = res[1]!;
  v[w + 2] = q ? res[2]! : 0; v[w + 3] = q ? res[3]! : 0;
}

// ---- modified immediate ------------------------------------------------------------------------
/** AdvSIMDExpandImm(op, cmode, imm8) as [lo, hi] of the 64-bit pattern. */
export function advSimdExpandImm(op: number, cmode: number, imm8: number): [number, number] {
  let w: number; // the 32-bit pattern replicated twice, when there is one
  switch (cmode >>> 1) {
    case 0: w = imm8; break;
    case 1: w = imm8 << 8; break;
    case 2: w = imm8 << 16; break;
    case 3: w = imm8 << 24; break;
    case 4: w = imm8 | (imm8 << 16); break;
    case 5: w = (imm8 << 8) | (imm8 << 24); break;
    case 6: w = (cmode & 1) === 0 ? (imm8 << 8) | 0xff : (imm8 << 16) | 0xffff; break;
    default:
      if ((cmode & 1) === 0 && op === 0) { w = imm8 * 0x01010101; break; }
      if ((cmode & 1) === 0) { // each bit of imm8 becomes a byte of ones or zeros
        let lo = 0, hi = 0;
        for (let b = 0; b < 4; b++) {
          if ((imm8 >>> b) & 1) lo |= 0xff << (8 * b);
          if ((imm8 >>> (b + 4)) & 1) hi |= 0xff << (8 * b);
        }
        return [lo | 0, hi | 0];
      }
      if (op === 0) { // single-precision FMOV immediate
        const b6 = (imm8 >>> 6) & 1;
        w = ((imm8 >>> 7) << 31) | ((b6 ^ 1) << 30) | (b6 ? 0x1f << 25 : 0) | ((imm8 & 0x3f) << 19);
        break;
      }
      { // double-precision FMOV immediate
        const b6 = (imm8 >>> 6) & 1;
        return [0, ((imm8 >>> 7) << 31) | ((b6 ^ 1) << 30) | (b6 ? 0xff << 22 : 0) | ((imm8 & 0x3f) << 16)];
      }
  }
  return [w | 0, w | 0];
}

const IMM_MOVI = 0, IMM_MVNI = 1, IMM_ORR = 2, IMM_BIC = 3;

const H_MOVI = registerHandler('SIMD_MOVI', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const rd = d[i + 2]!, lo = d[i + 4]!, hi = d[i + 5]!, operation = d[i + 6]!, q = d[i + 3]!;
  const v = cpu.v, w = rd * 4;
  switch (operation) {
    case IMM_MOVI: res[0] = lo; res[1] = hi; res[2] = lo; res[3] = hi; break;
    case IMM_MVNI: res[0] = ~lo; res[1] = ~hi; res[2] = ~lo; res[3] = ~hi; break;
    case IMM_ORR: res[0] = v[w]! | lo; res[1] = v[w + 1]! | hi; res[2] = v[w + 2]! | lo; res[3] = v[w + 3]! | hi; break;
    default: res[0] = v[w]! & ~lo; res[1] = v[w + 1]! & ~hi; res[2] = v[w + 2]! & ~lo; res[3] = v[w + 3]! & ~hi;
  }
  writeResult(cpu, rd, q);
});

registerPredecoder('SIMD_MOVI', (_cpu, _f, def, out, i) => {
  const word = out[i + 1]!;
  const q = (word >>> 30) & 1, op = (word >>> 29) & 1, cmode = (word >>> 12) & 15;
  const imm8 = (((word >>> 16) & 7) << 5) | ((word >>> 5) & 31);
  const [lo, hi] = advSimdExpandImm(op, cmode, imm8);
  const operation = { movi: IMM_MOVI, fmov: IMM_MOVI, mvni: IMM_MVNI, orr: IMM_ORR, bic: IMM_BIC }[String(def.params['op'])] ?? IMM_MOVI;
  return setSlot(out, i, H_MOVI, word & 31, q, lo, hi, operation);
});

// ---- DUP, INS, UMOV, SMOV -----------------------------------------------------------------------------
/** log2 of the element size in bytes given by imm5 (lowest set bit), and the index above it. */
const esizeLogOf = (imm5: number): number => 31 - Math.clz32(imm5 & -imm5);
const indexOf = (imm5: number, log: number): number => imm5 >>> (log + 1);

/** Elem[V[r], index] of 2^log bytes as (lo, hi) into elem. */
const elem = new Int32Array(2);
function readElement(cpu: Cpu, r: number, index: number, log: number): void {
  const vv = vecViews(cpu);
  switch (log) {
    case 0: elem[0] = vv.u8[r * 16 + index]!; elem[1] = 0; break;
    case 1: elem[0] = vv.u16[r * 8 + index]!; elem[1] = 0; break;
    case 2: elem[0] = cpu.v[r * 4 + index]!; elem[1] = 0; break;
    default: elem[0] = cpu.v[r * 4 + index * 2]!; elem[1] = cpu.v[r * 4 + index * 2 + 1]!;
  }
}

/** Fills res with copies of the element (lo, hi) of 2^log bytes. */
function replicate(lo: number, hi: number, log: number): void {
  let w0: number, w1: number;
  switch (log) {
    case 0: w0 = (lo & 0xff) * 0x01010101; w1 = w0; break;
    case 1: w0 = (lo & 0xffff) * 0x00010001; w1 = w0; break;
    case 2: w0 = lo; w1 = lo; break;
    default: w0 = lo; w1 = hi;
  }
  res[0] = w0 | 0; res[1] = w1 | 0; res[2] = w0 | 0; res[3] = w1 | 0;
}

// a = Rd, b = Rn, c = log2(esize), d = index, e = Q (or 2 for the scalar form)
const H_DUP_ELEM = registerHandler('SIMD_DUP_ELEM', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const log = d[i + 4]!, q = d[i + 6]!;
  readElement(cpu, d[i + 3]!, d[i + 5]!, log);
  if (q === 2) { // scalar: V[d] = ZeroExtend(element)
    res[0] = elem[0]!; res[1] = elem[1]!;
    writeResult(cpu, d[i + 2]!, 0);
    return;
  }
  replicate(elem[0]!, elem[1]!, log);
  writeResult(cpu, d[i + 2]!, q);
});

registerPredecoder('SIMD_DUP_ELEM', (_cpu, _f, def, out, i) => {
  const word = out[i + 1]!;
  const imm5 = (word >>> 16) & 31, log = esizeLogOf(imm5);
  const q = def.params['scalar'] === 1 ? 2 : (word >>> 30) & 1;
  return setSlot(out, i, H_DUP_ELEM, word & 31, (word >>> 5) & 31, log, indexOf(imm5, log), q);
});

// a = Rd, b = Rn slot, c = log2(esize), e = Q
const H_DUP_GEN = registerHandler('SIMD_DUP_GEN', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const n = d[i + 3]!;
  replicate(cpu.x[n]!, cpu.x[n + 1]!, d[i + 4]!);
  writeResult(cpu, d[i + 2]!, d[i + 6]!);
});

registerPredecoder('SIMD_DUP_GEN', (_cpu, _f, _def, out, i) => {
  const word = out[i + 1]!;
  const imm5 = (word >>> 16) & 31, log = esizeLogOf(imm5);
  const q = (word >>> 30) & 1;
  if (log === 3 && q === 0) return false;
  return setSlot(out, i, H_DUP_GEN, word & 31, S(srcOrZr((word >>> 5) & 31)), log, 0, q);
});

/** Elem[V[r], index] = (lo, hi) of 2^log bytes; the other elements are unchanged. */
function writeElement(cpu: Cpu, r: number, index: number, log: number, lo: number, hi: number): void {
  const vv = vecViews(cpu);
  switch (log) {
    case 0: vv.u8[r * 16 + index] = lo; break;
    case 1: vv.u16[r * 8 + index] = lo; break;
    case 2: cpu.v[r * 4 + index] = lo; break;
    default: cpu.v[r * 4 + index * 2] = lo; cpu.v[r * 4 + index * 2 + 1] = hi;
  }
}

// a = Rd, b = Rn slot, c = log2(esize), d = index
const H_INS_GEN = registerHandler('SIMD_INS_GEN', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const n = d[i + 3]!;
  writeElement(cpu, d[i + 2]!, d[i + 5]!, d[i + 4]!, cpu.x[n]!, cpu.x[n + 1]!);
});

registerPredecoder('SIMD_INS_GEN', (_cpu, _f, _def, out, i) => {
  const word = out[i + 1]!;
  const imm5 = (word >>> 16) & 31, log = esizeLogOf(imm5);
  return setSlot(out, i, H_INS_GEN, word & 31, S(srcOrZr((word >>> 5) & 31)), log, indexOf(imm5, log));
});

// a = Rd, b = Rn, c = log2(esize), d = destination index, e = source index
const H_INS_ELEM = registerHandler('SIMD_INS_ELEM', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const log = d[i + 4]!;
  readElement(cpu, d[i + 3]!, d[i + 6]!, log);
  writeElement(cpu, d[i + 2]!, d[i + 5]!, log, elem[0]!, elem[1]!);
});

registerPredecoder('SIMD_INS_ELEM', (_cpu, _f, _def, out, i) => {
  const word = out[i + 1]!;
  const imm5 = (word >>> 16) & 31, imm4 = (word >>> 11) & 15, log = esizeLogOf(imm5);
  return setSlot(out, i, H_INS_ELEM, word & 31, (word >>> 5) & 31, log, indexOf(imm5, log), imm4 >>> log);
});

// a = Rd slot, b = Rn, c = log2(esize), d = index, e = 1 for a 64-bit destination
const H_UMOV = registerHandler('SIMD_UMOV', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  readElement(cpu, d[i + 3]!, d[i + 5]!, d[i + 4]!);
  const r = d[i + 2]!;
  cpu.x[r] = elem[0]!;
  cpu.x[r + 1] = elem[1]!;
});

const H_SMOV = registerHandler('SIMD_SMOV', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const log = d[i + 4]!;
  readElement(cpu, d[i + 3]!, d[i + 5]!, log);
  const v = log === 0 ? (elem[0]! << 24) >> 24 : log === 1 ? (elem[0]! << 16) >> 16 : elem[0]!;
  const r = d[i + 2]!;
  cpu.x[r] = v;
  cpu.x[r + 1] = d[i + 6]! ? v >> 31 : 0;
});

function moveToGeneral(h: number, signed: boolean) {
  return (_cpu: Cpu, _f: Fields, _def: unknown, out: Int32Array, i: number): boolean => {
    const word = out[i + 1]!;
    const imm5 = (word >>> 16) & 31, log = esizeLogOf(imm5), q = (word >>> 30) & 1;
    // UMOV: Q=1 only for D elements (X), Q=0 for B/H/S (W). SMOV: never D, Q=1 gives X; S elements need Q=1.
    if (imm5 === 0 || imm5 === 16) return false;
    if (!signed && (log === 3) !== (q === 1)) return false;
    if (signed && (log === 3 || (log === 2 && q === 0))) return false;
    return setSlot(out, i, h, S(dstOrZr(word & 31)), (word >>> 5) & 31, log, indexOf(imm5, log), q);
  };
}
registerPredecoder('SIMD_UMOV', moveToGeneral(H_UMOV, false));
registerPredecoder('SIMD_SMOV', moveToGeneral(H_SMOV, true));

// ---- EXT and permutes ----------------------------------------------------------------------------------
const H_EXT = registerHandler('SIMD_EXT', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const u8 = vecViews(cpu).u8;
  const n = d[i + 3]! * 16, m = d[i + 4]! * 16, pos = d[i + 5]!, q = d[i + 6]!;
  const bytes = q ? 16 : 8;
  // result = (Vm:Vn) >> (8 * pos), datasize bits
  for (let b = 0; b < bytes; b++) {
    const k = pos + b;
    res8[b] = k < bytes ? u8[n + k]! : u8[m + k - bytes]!;
  }
  writeResult(cpu, d[i + 2]!, q);
});

registerPredecoder('SIMD_EXT', (_cpu, f, _def, out, i) => {
  const q = f['Q']!, imm4 = f['imm4']!;
  if (q === 0 && imm4 >= 8) return false;
  return setSlot(out, i, H_EXT, f['Rd']!, f['Rn']!, f['Rm']!, imm4, q);
});

const PERM_UZP = 0, PERM_TRN = 1, PERM_ZIP = 2;

// a = Rd, b = Rn, c = Rm, d = log2(esize) | kind << 2 | part << 4, e = Q
const H_PERMUTE = registerHandler('SIMD_PERMUTE', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const u8 = vecViews(cpu).u8;
  const n = d[i + 3]! * 16, m = d[i + 4]! * 16, info = d[i + 5]!, q = d[i + 6]!;
  const log = info & 3, kind = (info >>> 2) & 3, part = (info >>> 4) & 1;
  const eb = 1 << log, elements = (q ? 16 : 8) >>> log, pairs = elements >>> 1;
  for (let e = 0; e < elements; e++) {
    // source register (byte offset) and element for result element e
    let src: number, se: number;
    if (kind === PERM_UZP) { // (Vm:Vn)[2e + part]
      const k = 2 * e + part;
      src = k < elements ? n : m; se = k < elements ? k : k - elements;
    } else if (kind === PERM_TRN) {
      src = (e & 1) === 0 ? n : m; se = (e & ~1) + part;
    } else { // ZIP
      src = (e & 1) === 0 ? n : m; se = part * pairs + (e >>> 1);
    }
    for (let b = 0; b < eb; b++) res8[e * eb + b] = u8[src + se * eb + b]!;
  }
  writeResult(cpu, d[i + 2]!, q);
});

registerPredecoder('SIMD_PERMUTE', (_cpu, f, def, out, i) => {
  const size = f['size']!, q = f['Q']!;
  if (size === 3 && q === 0) return false;
  const op = String(def.params['op']);
  const kind = op.startsWith('uzp') ? PERM_UZP : op.startsWith('trn') ? PERM_TRN : PERM_ZIP;
  const part = op.endsWith('2') ? 1 : 0;
  return setSlot(out, i, H_PERMUTE, f['Rd']!, f['Rn']!, f['Rm']!, size | (kind << 2) | (part << 4), q);
});

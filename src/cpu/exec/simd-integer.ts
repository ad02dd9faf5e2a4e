/**
 * Advanced SIMD integer operations (Arm ARM C7): the bitwise three-same
 * group (AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF), NOT/CNT/RBIT, the integer
 * three-same group (ADD, SUB, MUL, CMEQ, CMTST, CMGT, CMGE, CMHI, CMHS,
 * SMAX, SMIN, UMAX, UMIN, ADDP), scalar ADD/SUB (D), and the across-lanes
 * reductions (ADDV, SMAXV, SMINV, UMAXV, UMINV, SADDLV, UADDLV).
 */
import type { Cpu } from '../cpu.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { OP_HANDLER } from '../ops.js';
import { checkFpAccess } from '../sysregs/traps.js';

function setSlot(out: Int32Array, i: number, h: number, a = 0, b = 0, c = 0, d = 0, e = 0): true {
  out[i] = OP_HANDLER;
  out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = h;
  return true;
}

/** Operand copies and the result, 128 bits each, with views by element size (aliasing-safe). */
const A = new Int32Array(4), B = new Int32Array(4), R = new Int32Array(4);
const A8 = new Uint8Array(A.buffer), B8 = new Uint8Array(B.buffer), R8 = new Uint8Array(R.buffer);
const A8s = new Int8Array(A.buffer), B8s = new Int8Array(B.buffer);
const A16 = new Uint16Array(A.buffer), B16 = new Uint16Array(B.buffer), R16 = new Uint16Array(R.buffer);
const A16s = new Int16Array(A.buffer), B16s = new Int16Array(B.buffer);
const A32 = new Uint32Array(A.buffer), B32 = new Uint32Array(B.buffer);

function load(dst: Int32Array, v: Int32Array, r: number): void {
  const w = r * 4;
  dst[0] = v[w]!; dst[1] = v[w + 1]!; dst[2] = v[w + 2]!; dst[3] = v[w + 3]!;
}

/** V[d] = R, 64 or 128 bits. */
function writeR(cpu: Cpu, d: number, q: number): void {
  const v = cpu.v, w = d * 4;
  v[w] = R[0]!; v[w + 1] = R[1]!;
  v[w + 2] = q ? R[2]! : 0; v[w + 3] = q ? R[3]! : 0;
}

// ---- bitwise --------------------------------------------------------------------------------------
const LOGIC_OPS = ['and', 'bic', 'orr', 'orn', 'eor', 'bsl', 'bit', 'bif'];

// a = Rd, b = Rn, c = Rm, d = operation, e = Q
const H_LOGIC = registerHandler('SIMD_LOGIC', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v;
  const rd = d[i + 2]! * 4, n = d[i + 3]! * 4, m = d[i + 4]! * 4, op = d[i + 5]!, q = d[i + 6]!;
  const words = q ? 4 : 2;
  for (let k = 0; k < words; k++) {
    const x = v[n + k]!, y = v[m + k]!, z = v[rd + k]!;
    let r: number;
    switch (op) {
      case 0: r = x & y; break;
      case 1: r = x & ~y; break;
      case 2: r = x | y; break;
      case 3: r = x | ~y; break;
      case 4: r = x ^ y; break;
      case 5: r = y ^ ((y ^ x) & z); break; // BSL: Vd selects Vn (1) or Vm (0)
      case 6: r = z ^ ((z ^ x) & y); break; // BIT: insert Vn where Vm is 1
      default: r = z ^ ((z ^ x) & ~y); // BIF: insert Vn where Vm is 0
    }
    R[k] = r;
  }
  writeR(cpu, rd >> 2, q);
});

registerPredecoder('SIMD_LOGIC', (_cpu, f, def, out, i) =>
  setSlot(out, i, H_LOGIC, f['Rd']!, f['Rn']!, f['Rm']!, LOGIC_OPS.indexOf(String(def.params['op'])), f['Q']!));

// ---- NOT, CNT, RBIT ----------------------------------------------------------------------------------
const POPCOUNT8 = new Uint8Array(256);
const REVERSE8 = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let c = 0, r = 0;
  for (let k = 0; k < 8; k++) { c += (b >>> k) & 1; r |= ((b >>> k) & 1) << (7 - k); }
  POPCOUNT8[b] = c;
  REVERSE8[b] = r;
}

// a = Rd, b = Rn, c = 0 not | 1 cnt | 2 rbit, e = Q
const H_UNARY = registerHandler('SIMD_UNARY', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  load(A, cpu.v, d[i + 3]!);
  const op = d[i + 4]!, q = d[i + 6]!;
  if (op === 0) { R[0] = ~A[0]!; R[1] = ~A[1]!; R[2] = ~A[2]!; R[3] = ~A[3]!; }
  else {
    const table = op === 1 ? POPCOUNT8 : REVERSE8;
    for (let b = 0; b < 16; b++) R8[b] = table[A8[b]!]!;
  }
  writeR(cpu, d[i + 2]!, q);
});

registerPredecoder('SIMD_UNARY', (_cpu, f, def, out, i) => {
  const op = ['not', 'cnt', 'rbit'].indexOf(String(def.params['op']));
  return setSlot(out, i, H_UNARY, f['Rd']!, f['Rn']!, op, 0, f['Q']!);
});

// ---- three same ---------------------------------------------------------------------------------------
const OPS_3SAME = ['add', 'sub', 'mul', 'cmeq', 'cmtst', 'cmgt', 'cmge', 'cmhi', 'cmhs', 'smax', 'smin', 'umax', 'umin', 'addp'] as const;
const enum Op3 { Add, Sub, Mul, Cmeq, Cmtst, Cmgt, Cmge, Cmhi, Cmhs, Smax, Smin, Umax, Umin, Addp }

/** One element operation on 8/16/32-bit lanes: unsigned values a, b and signed sa, sb; returns the result bits. */
function laneOp(op: Op3, a: number, b: number, sa: number, sb: number, mask: number): number {
  switch (op) {
    case Op3.Add: return a + b;
    case Op3.Sub: return a - b;
    case Op3.Mul: return Math.imul(a, b);
    case Op3.Cmeq: return a === b ? mask : 0;
    case Op3.Cmtst: return (a & b) !== 0 ? mask : 0;
    case Op3.Cmgt: return sa > sb ? mask : 0;
    case Op3.Cmge: return sa >= sb ? mask : 0;
    case Op3.Cmhi: return a > b ? mask : 0;
    case Op3.Cmhs: return a >= b ? mask : 0;
    case Op3.Smax: return sa >= sb ? a : b;
    case Op3.Smin: return sa <= sb ? a : b;
    case Op3.Umax: return a >= b ? a : b;
    default: return a <= b ? a : b; // Umin
  }
}

/** 64-bit lanes: (alo, ahi) op (blo, bhi) into R[k], R[k + 1]. */
function laneOp64(op: Op3, alo: number, ahi: number, blo: number, bhi: number, k: number): void {
  let lo: number, hi: number;
  const ult = (ahi >>> 0) < (bhi >>> 0) || (ahi === bhi && (alo >>> 0) < (blo >>> 0));
  const slt = ahi < bhi || (ahi === bhi && (alo >>> 0) < (blo >>> 0));
  const eq = alo === blo && ahi === bhi;
  switch (op) {
    case Op3.Add: case Op3.Addp: {
      const s = (alo >>> 0) + (blo >>> 0);
      lo = s | 0; hi = (ahi + bhi + (s > 0xffffffff ? 1 : 0)) | 0;
      break;
    }
    case Op3.Sub: {
      const s = (alo >>> 0) - (blo >>> 0);
      lo = s | 0; hi = (ahi - bhi - (s < 0 ? 1 : 0)) | 0;
      break;
    }
    case Op3.Cmeq: lo = hi = eq ? -1 : 0; break;
    case Op3.Cmtst: lo = hi = (alo & blo) !== 0 || (ahi & bhi) !== 0 ? -1 : 0; break;
    case Op3.Cmgt: lo = hi = !slt && !eq ? -1 : 0; break;
    case Op3.Cmge: lo = hi = !slt ? -1 : 0; break;
    case Op3.Cmhi: lo = hi = !ult && !eq ? -1 : 0; break;
    case Op3.Cmhs: lo = hi = !ult ? -1 : 0; break;
    default: lo = 0; hi = 0; // mul/max/min have no 64-bit form (rejected when decoded)
  }
  R[k] = lo; R[k + 1] = hi;
}

// a = Rd, b = Rn, c = Rm, d = op | size << 8, e = Q
const H_3SAME = registerHandler('SIMD_3SAME', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v;
  load(A, v, d[i + 3]!);
  load(B, v, d[i + 4]!);
  const info = d[i + 5]!, q = d[i + 6]!;
  const op = (info & 0xff) as Op3, size = info >>> 8;
  const bytes = q ? 16 : 8;
  if (op === Op3.Addp) {
    // Pairwise over the concatenation Vm:Vn: the low half of the result from Vn, the high half from Vm.
    const half = bytes >>> 1;
    R[0] = R[1] = R[2] = R[3] = 0;
    if (size === 3) {
      laneOp64(Op3.Add, A[0]!, A[1]!, A[2]!, A[3]!, 0);
      laneOp64(Op3.Add, B[0]!, B[1]!, B[2]!, B[3]!, 2);
    } else {
      const pairsPerSource = half >>> size;
      for (let p = 0; p < pairsPerSource * 2; p++) {
        const fromM = p >= pairsPerSource;
        const e = (fromM ? p - pairsPerSource : p) * 2;
        if (size === 0) { const s = fromM ? B8 : A8; R8[p] = s[e]! + s[e + 1]!; }
        else if (size === 1) { const s = fromM ? B16 : A16; R16[p] = s[e]! + s[e + 1]!; }
        else { const s = fromM ? B : A; R[p] = (s[e]! + s[e + 1]!) | 0; }
      }
    }
    writeR(cpu, d[i + 2]!, q);
    return;
  }
  switch (size) {
    case 0:
      for (let e = 0; e < bytes; e++) R8[e] = laneOp(op, A8[e]!, B8[e]!, A8s[e]!, B8s[e]!, 0xff);
      break;
    case 1:
      for (let e = 0; e < bytes >>> 1; e++) R16[e] = laneOp(op, A16[e]!, B16[e]!, A16s[e]!, B16s[e]!, 0xffff);
      break;
    case 2:
      for (let e = 0; e < bytes >>> 2; e++) R[e] = laneOp(op, A32[e]!, B32[e]!, A[e]!, B[e]!, -1) | 0;
      break;
    default:
      for (let e = 0; e < bytes >>> 3; e++) laneOp64(op, A[2 * e]!, A[2 * e + 1]!, B[2 * e]!, B[2 * e + 1]!, 2 * e);
  }
  writeR(cpu, d[i + 2]!, q);
});

registerPredecoder('SIMD_3SAME', (_cpu, f, def, out, i) => {
  const op = OPS_3SAME.indexOf(String(def.params['op']) as (typeof OPS_3SAME)[number]);
  const size = f['size']!, q = f['Q']!;
  const no64 = op === Op3.Mul || (op >= Op3.Smax && op <= Op3.Umin);
  if (size === 3 && (no64 || q === 0)) return false;
  return setSlot(out, i, H_3SAME, f['Rd']!, f['Rn']!, f['Rm']!, op | (size << 8), q);
});

// ---- scalar ADD/SUB (D) ------------------------------------------------------------------------------
// a = Rd, b = Rn, c = Rm, d = 1 for SUB
const H_SCALAR_3SAME = registerHandler('SIMD_SCALAR_3SAME', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const v = cpu.v, n = d[i + 3]! * 4, m = d[i + 4]! * 4;
  laneOp64(d[i + 5]! ? Op3.Sub : Op3.Add, v[n]!, v[n + 1]!, v[m]!, v[m + 1]!, 0);
  R[2] = 0; R[3] = 0;
  writeR(cpu, d[i + 2]!, 0);
});

registerPredecoder('SIMD_SCALAR_3SAME', (_cpu, f, def, out, i) =>
  setSlot(out, i, H_SCALAR_3SAME, f['Rd']!, f['Rn']!, f['Rm']!, def.params['op'] === 'sub' ? 1 : 0));

// ---- across lanes -----------------------------------------------------------------------------------------
const OPS_ACROSS = ['addv', 'smaxv', 'sminv', 'umaxv', 'uminv', 'saddlv', 'uaddlv'];

/** Element e of the operand copy A, signed or unsigned. */
function acrossElement(log: number, signed: boolean, e: number): number {
  if (log === 0) return signed ? A8s[e]! : A8[e]!;
  if (log === 1) return signed ? A16s[e]! : A16[e]!;
  return signed ? A[e]! : A32[e]!;
}

// a = Rd, b = Rn, c = op, d = log2(esize), e = Q
const H_ACROSS = registerHandler('SIMD_ACROSS', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  load(A, cpu.v, d[i + 3]!);
  const op = d[i + 4]!, log = d[i + 5]!, q = d[i + 6]!;
  const elements = (q ? 16 : 8) >>> log;
  const signed = op === 1 || op === 2 || op === 5;
  let acc = acrossElement(log, signed, 0);
  for (let e = 1; e < elements; e++) {
    const x = acrossElement(log, signed, e);
    switch (op) {
      case 1: case 3: if (x > acc) acc = x; break; // max
      case 2: case 4: if (x < acc) acc = x; break; // min
      default: acc += x; // sums are exact in a double (at most 16 elements of 32 bits)
    }
  }
  R[0] = R[1] = R[2] = R[3] = 0;
  const wide = op >= 5; // the long forms produce a 2*esize result
  const rbits = 8 << (log + (wide ? 1 : 0));
  if (rbits === 64) {
    const h = Math.floor(acc / 4294967296);
    R[0] = (acc - h * 4294967296) | 0;
    R[1] = h | 0;
  } else {
    R[0] = rbits === 32 ? acc | 0 : acc & ((1 << rbits) - 1);
  }
  writeR(cpu, d[i + 2]!, 0);
});

registerPredecoder('SIMD_ACROSS', (_cpu, f, def, out, i) => {
  const log = Math.log2(Number(def.params['esize']));
  const q = log === 2 ? 1 : f['Q']!;
  return setSlot(out, i, H_ACROSS, f['Rd']!, f['Rn']!, OPS_ACROSS.indexOf(String(def.params['op'])), log, q);
});

/**
 * Access to the FP/SIMD register file (cpu.v: V0..V31, four little-endian
 * 32-bit words each) by element, and memory transfers of FP/SIMD data
 * through the CPU's memory port. Elem[V[n], e, esize] of the pseudocode is
 * a typed-array view indexed by n * (16 / esize) + e.
 *
 * Data is little-endian: SCTLR_ELx.EE/E0E big-endian data is not modelled.
 */
import type { Cpu } from '../cpu.js';
import { Access } from '../../mmu/memory-port.js';
import { EC, syncTargetEl, takeException, VectorKind } from '../exceptions.js';
import { sysregId } from '../sysregs/system-registers.js';

/** Views of one CPU's V registers by element size. */
export interface VecViews {
  u8: Uint8Array;
  i8: Int8Array;
  u16: Uint16Array;
  i16: Int16Array;
  u32: Uint32Array;
  i32: Int32Array;
}

let viewsOf: Int32Array | undefined;
let views: VecViews | undefined;

/** The element views of cpu.v (cached for the last register file asked for). */
export function vecViews(cpu: Cpu): VecViews {
  const v = cpu.v;
  if (v !== viewsOf || !views) {
    const b = v.buffer, o = v.byteOffset;
    views = {
      u8: new Uint8Array(b, o, 512), i8: new Int8Array(b, o, 512),
      u16: new Uint16Array(b, o, 256), i16: new Int16Array(b, o, 256),
      u32: new Uint32Array(b, o, 128), i32: v,
    };
    viewsOf = v;
  }
  return views;
}

/** Clears bits [127:64] of V[r] (a 64-bit vector or scalar write). */
export function clearHigh(v: Int32Array, r: number): void {
  v[r * 4 + 2] = 0;
  v[r * 4 + 3] = 0;
}

/** V[r] = ZeroExtend(32-bit value). */
export function setS(v: Int32Array, r: number, bits: number): void {
  const w = r * 4;
  v[w] = bits; v[w + 1] = 0; v[w + 2] = 0; v[w + 3] = 0;
}

/** V[r] = ZeroExtend(64-bit value). */
export function setD(v: Int32Array, r: number, lo: number, hi: number): void {
  const w = r * 4;
  v[w] = lo; v[w + 1] = hi; v[w + 2] = 0; v[w + 3] = 0;
}

// ---- memory --------------------------------------------------------------------------------

/** Scratch for 64-bit port reads. */
const word = new Int32Array(2);

/**
 * Reads `size` bytes (1, 2, 4, 8 or 16) at va into out[at..] as little-endian
 * words (a 1/2/4-byte value zero-extended into out[at]). A 16-byte access is
 * checked as one access (alignment, Device memory) and performed as two
 * 8-byte single-copy-atomic halves. False when an exception was taken.
 */
export function readMem(cpu: Cpu, lo: number, hi: number, size: number, out: Int32Array, at: number): boolean {
  const port = cpu.port;
  if (size <= 8) {
    if (!port.read(lo, hi, size, word, 0)) return false;
    out[at] = word[0]!;
    if (size === 8) out[at + 1] = word[1]!;
    return true;
  }
  if ((lo & 15) === 0) {
    const pa = port.translate(lo, hi, Access.Read, 16);
    if (pa < 0) return false;
    if (!port.readPhysical(pa, 8, out, at, lo, hi, Access.Read)) return false;
    return port.readPhysical(pa + 8, 8, out, at + 2, lo, hi, Access.Read);
  }
  // Unaligned: the 16-byte check first (Device memory faults), then each half on its own page.
  if (port.translate(lo, hi, Access.Read, 16) < 0) return false;
  if (!port.read(lo, hi, 8, out, at)) return false;
  const l2 = (lo >>> 0) + 8;
  return port.read(l2 | 0, l2 > 0xffffffff ? (hi + 1) | 0 : hi, 8, out, at + 2);
}

/** Writes `size` bytes (1, 2, 4, 8 or 16) from w[at..] to va; as readMem. */
export function writeMem(cpu: Cpu, lo: number, hi: number, size: number, w: Int32Array, at: number): boolean {
  const port = cpu.port;
  if (size <= 8) return port.write(lo, hi, size, w[at]!, size === 8 ? w[at + 1]! : 0);
  if ((lo & 15) === 0) {
    const pa = port.translate(lo, hi, Access.Write, 16);
    if (pa < 0) return false;
    if (!port.writePhysical(pa, 8, w[at]!, w[at + 1]!, lo, hi)) return false;
    return port.writePhysical(pa + 8, 8, w[at + 2]!, w[at + 3]!, lo, hi);
  }
  if (port.translate(lo, hi, Access.Write, 16) < 0) return false;
  if (!port.write(lo, hi, 8, w[at]!, w[at + 1]!)) return false;
  const l2 = (lo >>> 0) + 8;
  return port.write(l2 | 0, l2 > 0xffffffff ? (hi + 1) | 0 : hi, 8, w[at + 2]!, w[at + 3]!);
}

/** 64-bit address arithmetic: (lo, hi) + signed 32-bit offset, into `addr`. */
export const addr = new Int32Array(2);
export function addOffset(lo: number, hi: number, offset: number): void {
  const t = (lo >>> 0) + offset;
  addr[0] = t | 0;
  addr[1] = (hi + (t > 0xffffffff ? 1 : t < 0 ? -1 : 0)) | 0;
}

/** (lo, hi) + (olo, ohi), into `addr`. */
export function add64(lo: number, hi: number, olo: number, ohi: number): void {
  const t = (lo >>> 0) + (olo >>> 0);
  addr[0] = t | 0;
  addr[1] = (hi + ohi + (t > 0xffffffff ? 1 : 0)) | 0;
}

// ---- CheckSPAlignment ---------------------------------------------------------------------------------

const SCTLR_EL1 = sysregId('sctlr_el1');
const SCTLR_EL2 = sysregId('sctlr_el2');
const HCR_EL2 = sysregId('hcr_el2');

/**
 * CheckSPAlignment for an access based on SP: SCTLR_ELx.SA (SA0 at EL0, from
 * SCTLR_EL2 in the EL2&0 host regime) requires a 16-byte aligned SP; the SP
 * alignment fault is EC 0x26. False after taking it. (The integer load/store
 * code has the same check; the two can merge once both are in.)
 */
export function checkSpAlignment(cpu: Cpu, spLo: number): boolean {
  if ((spLo & 15) === 0) return true;
  let sa: number;
  if (cpu.el === 0) {
    const host = cpu.model.hasEl2 && (cpu.sys.hi(HCR_EL2) & (1 << 2)) !== 0 && (cpu.sys.lo(HCR_EL2) & (1 << 27)) !== 0;
    sa = cpu.sys.lo(host ? SCTLR_EL2 : SCTLR_EL1) & (1 << 4); // SA0
  } else {
    sa = cpu.sys.lo(cpu.el === 1 ? SCTLR_EL1 : SCTLR_EL2) & (1 << 3); // SA
  }
  if (sa === 0) return true;
  takeException(cpu, {
    targetEl: syncTargetEl(cpu), ec: EC.SP_ALIGN, iss: 0, il: 1,
    returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
  return false;
}

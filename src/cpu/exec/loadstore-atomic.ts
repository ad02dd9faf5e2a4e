/**
 * FEAT_LSE atomics: CAS, CASP, SWP and LD<op> (ADD, CLR, EOR, SET, SMAX,
 * SMIN, UMAX, UMIN; ST<op> is LD<op> with Rt = XZR), each in the plain,
 * acquire, release and acquire-release forms (the same thing on a single
 * in-order PE). Every one is a read-modify-write that must be naturally
 * aligned on any memory type (an alignment fault reports WnR = 1); it is
 * checked for read and then write permission, as AccType_ATOMICRW is, and
 * returns the old value.
 */
import type { Cpu } from '../cpu.js';
import { Access } from '../../mmu/memory-port.js';
import { registerHandler } from './registry.js';
import { LS } from './loadstore-slot.js';
import { accessFailed, checkAligned, checkSpAlignment } from './loadstore-access.js';
import { ZR_READ, ZR_WRITE } from '../registers.js';

/** The atomic operation of LSE_LDOP/LSE_SWP slots, at bits 24..27 of the info word. */
export const ATOMIC_SHIFT = 24;
export const ATOMIC_OPS = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin', 'swp'] as const;
const ADD = 0, CLR = 1, EOR = 2, SET = 3, SMAX = 4, SMIN = 5, UMAX = 6, UMIN = 7, SWP = 8;

const old = new Int32Array(4);

/** A register slot that was read as a source, as a destination: XZR's reads and writes use different slots. */
const writeSlot = (slot: number): number => (slot === ZR_READ * 2 ? ZR_WRITE * 2 : slot);

/** The common prologue: SP check, alignment, translation as a write. Returns the PA, or -1 after a fault. */
function atomicAddress(cpu: Cpu, d: Int32Array, i: number, bytes: number, va: Int32Array): number {
  const x = cpu.x;
  const rn = d[i + 3]!;
  if ((x[rn]! & d[i + 6]! & 15) !== 0 && !checkSpAlignment(cpu)) return -1;
  const vaLo = x[rn]!, vaHi = x[rn + 1]!;
  if (!checkAligned(cpu, vaLo, vaHi, bytes, Access.Write)) return -1;
  // AccType_ATOMICRW needs both permissions: a missing read permission reports WnR = 0, a missing write one WnR = 1
  const port = cpu.port;
  if (port.translate(vaLo, vaHi, Access.Read, bytes) < 0) { accessFailed(cpu); return -1; }
  const pa = port.translate(vaLo, vaHi, Access.Write, bytes);
  if (pa < 0) { accessFailed(cpu); return -1; }
  va[0] = vaLo; va[1] = vaHi;
  return pa;
}

const va = new Int32Array(2);

/** Signed/unsigned "a > b" at the access size (values zero-extended in lo for sizes below 8). */
function greater(alo: number, ahi: number, blo: number, bhi: number, size: number, signed: boolean): boolean {
  if (size < 8) {
    if (signed) {
      const sh = 32 - size * 8;
      return (alo << sh) >> sh > (blo << sh) >> sh;
    }
    return alo >>> 0 > blo >>> 0;
  }
  if (ahi !== bhi) return signed ? ahi > bhi : ahi >>> 0 > bhi >>> 0;
  return alo >>> 0 > blo >>> 0;
}

/** SWP and LD<op>: a = Rt (destination), c = Rs (operand). */
function atomicOp(cpu: Cpu, d: Int32Array, i: number): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rs = d[i + 4]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const op = (info >>> ATOMIC_SHIFT) & 15;
  const pa = atomicAddress(cpu, d, i, size, va);
  if (pa < 0) return;
  const port = cpu.port;
  if (!port.readPhysical(pa, size, old, 0, va[0]!, va[1]!, Access.Write)) { accessFailed(cpu); return; }
  const mlo = old[0]!, mhi = old[1]!;
  let slo = x[rs]!, shi = x[rs + 1]!;
  if (size < 8) { slo = size === 4 ? slo : slo & ((1 << (size * 8)) - 1); shi = 0; }
  let rlo: number, rhi: number;
  switch (op) {
    case ADD: {
      const lo = (mlo >>> 0) + (slo >>> 0);
      rlo = lo | 0; rhi = (mhi + shi + (lo > 0xffffffff ? 1 : 0)) | 0;
      break;
    }
    case CLR: rlo = mlo & ~slo; rhi = mhi & ~shi; break;
    case EOR: rlo = mlo ^ slo; rhi = mhi ^ shi; break;
    case SET: rlo = mlo | slo; rhi = mhi | shi; break;
    case SMAX: case SMIN: case UMAX: case UMIN: {
      const memGreater = greater(mlo, mhi, slo, shi, size, op === SMAX || op === SMIN);
      const takeMem = op === SMAX || op === UMAX ? memGreater : !memGreater;
      rlo = takeMem ? mlo : slo; rhi = takeMem ? mhi : shi;
      break;
    }
    case SWP: rlo = slo; rhi = shi; break;
    default: rlo = mlo; rhi = mhi;
  }
  if (!port.writePhysical(pa, size, rlo, rhi, va[0]!, va[1]!)) { accessFailed(cpu); return; }
  x[rt] = mlo;
  x[rt + 1] = (info & LS.REG64) !== 0 ? mhi : 0;
}

/** CAS: a = Rt (new value), c = Rs (compare value; receives the old value). */
function compareAndSwap(cpu: Cpu, d: Int32Array, i: number): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rs = d[i + 4]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const pa = atomicAddress(cpu, d, i, size, va);
  if (pa < 0) return;
  const port = cpu.port;
  if (!port.readPhysical(pa, size, old, 0, va[0]!, va[1]!, Access.Write)) { accessFailed(cpu); return; }
  const mlo = old[0]!, mhi = old[1]!;
  const mask = size >= 4 ? -1 : (1 << (size * 8)) - 1;
  const equal = ((x[rs]! ^ mlo) & mask) === 0 && (size < 8 || x[rs + 1]! === mhi);
  if (equal && !port.writePhysical(pa, size, x[rt]!, x[rt + 1]!, va[0]!, va[1]!)) { accessFailed(cpu); return; }
  const ws = writeSlot(rs);
  x[ws] = mlo;
  x[ws + 1] = (info & LS.REG64) !== 0 ? mhi : 0;
}

/** CASP: a = Rt (even; new value Rt, Rt+1), c = Rs (even; compare value Rs, Rs+1, receives the old value). */
function compareAndSwapPair(cpu: Cpu, d: Int32Array, i: number): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rs = d[i + 4]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const pa = atomicAddress(cpu, d, i, size * 2, va);
  if (pa < 0) return;
  const port = cpu.port;
  const rs1 = rs + 2, rt1 = rt + 2;
  let equal: boolean;
  if (size === 4) {
    // one doubleword: Rs (Rt) is the word at the lower address
    if (!port.readPhysical(pa, 8, old, 0, va[0]!, va[1]!, Access.Write)) { accessFailed(cpu); return; }
    equal = old[0] === x[rs] && old[1] === x[rs1];
    if (equal && !port.writePhysical(pa, 8, x[rt]!, x[rt1]!, va[0]!, va[1]!)) { accessFailed(cpu); return; }
    const w0 = writeSlot(rs), w1 = writeSlot(rs1);
    x[w1] = old[1]!; x[w1 + 1] = 0;
    x[w0] = old[0]!; x[w0 + 1] = 0;
  } else {
    if (!port.readPhysical(pa, 8, old, 0, va[0]!, va[1]!, Access.Write) ||
        !port.readPhysical(pa + 8, 8, old, 2, va[0]!, va[1]!, Access.Write)) { accessFailed(cpu); return; }
    equal = old[0] === x[rs] && old[1] === x[rs + 1] && old[2] === x[rs1] && old[3] === x[rs1 + 1];
    if (equal && !(port.writePhysical(pa, 8, x[rt]!, x[rt + 1]!, va[0]!, va[1]!) &&
                   port.writePhysical(pa + 8, 8, x[rt1]!, x[rt1 + 1]!, va[0]!, va[1]!))) { accessFailed(cpu); return; }
    const w0 = writeSlot(rs), w1 = writeSlot(rs1);
    x[w1] = old[2]!; x[w1 + 1] = old[3]!;
    x[w0] = old[0]!; x[w0 + 1] = old[1]!;
  }
}

export const H_ATOMIC_OP = registerHandler('LSE_ATOMIC_OP', atomicOp);
export const H_CAS = registerHandler('LSE_CAS', compareAndSwap);
export const H_CASP = registerHandler('LSE_CASP', compareAndSwapPair);

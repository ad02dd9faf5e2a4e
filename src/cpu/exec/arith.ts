/**
 * 64-bit integer arithmetic on 32-bit halves, as the Arm pseudocode's
 * AddWithCarry() and ShiftReg() define it. Results go to the register file
 * (and PSTATE.NZCV) or to the shared `shiftOut` pair, so nothing allocates.
 */
import type { Cpu } from '../cpu.js';

/** Result of shiftValue64: [lo, hi]. */
export const shiftOut = new Int32Array(2);

/** AddWithCarry(a, b, carry_in) for 64 bits; writes the result to register slot r and sets NZCV. */
export function addWithCarry64(cpu: Cpu, alo: number, ahi: number, blo: number, bhi: number, cin: number, r: number): void {
  const lo = (alo >>> 0) + (blo >>> 0) + cin;
  const c0 = lo > 0xffffffff ? 1 : 0;
  const hiSum = (ahi >>> 0) + (bhi >>> 0) + c0;
  const rlo = lo | 0;
  const rhi = hiSum | 0;
  const x = cpu.x;
  x[r] = rlo;
  x[r + 1] = rhi;
  cpu.nf = rhi >>> 31;
  cpu.zf = (rlo | rhi) === 0 ? 1 : 0;
  cpu.cf = hiSum > 0xffffffff ? 1 : 0;
  cpu.vf = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
}

/** AddWithCarry for 32 bits; the upper half of the destination is zeroed. */
export function addWithCarry32(cpu: Cpu, a: number, b: number, cin: number, r: number): void {
  const sum = (a >>> 0) + (b >>> 0) + cin;
  const res = sum | 0;
  const x = cpu.x;
  x[r] = res;
  x[r + 1] = 0;
  cpu.nf = res >>> 31;
  cpu.zf = res === 0 ? 1 : 0;
  cpu.cf = sum > 0xffffffff ? 1 : 0;
  cpu.vf = ((a ^ res) & (b ^ res)) >>> 31;
}

/** ShiftReg for 64 bits: type 0 LSL, 1 LSR, 2 ASR, 3 ROR; amount 0..63. Result in shiftOut. */
export function shiftValue64(lo: number, hi: number, type: number, amount: number): void {
  if (amount === 0) { shiftOut[0] = lo; shiftOut[1] = hi; return; }
  switch (type) {
    case 0: // LSL
      if (amount >= 32) { shiftOut[1] = lo << (amount - 32); shiftOut[0] = 0; }
      else { shiftOut[1] = (hi << amount) | (lo >>> (32 - amount)); shiftOut[0] = lo << amount; }
      return;
    case 1: // LSR
      if (amount >= 32) { shiftOut[0] = hi >>> (amount - 32); shiftOut[1] = 0; }
      else { shiftOut[0] = (lo >>> amount) | (hi << (32 - amount)); shiftOut[1] = hi >>> amount; }
      return;
    case 2: // ASR
      if (amount >= 32) { shiftOut[0] = hi >> (amount - 32); shiftOut[1] = hi >> 31; }
      else { shiftOut[0] = (lo >>> amount) | (hi << (32 - amount)); shiftOut[1] = hi >> amount; }
      return;
    default: { // ROR
      let l = lo, h = hi, a = amount;
      if (a >= 32) { const t = l; l = h; h = t; a -= 32; }
      if (a === 0) { shiftOut[0] = l; shiftOut[1] = h; return; }
      shiftOut[0] = (l >>> a) | (h << (32 - a));
      shiftOut[1] = (h >>> a) | (l << (32 - a));
    }
  }
}

/** ShiftReg for 32 bits; amount 0..31. */
export function shiftValue32(v: number, type: number, amount: number): number {
  if (amount === 0) return v;
  switch (type) {
    case 0: return v << amount;
    case 1: return (v >>> amount) | 0;
    case 2: return v >> amount;
    default: return ((v >>> amount) | (v << (32 - amount))) | 0;
  }
}

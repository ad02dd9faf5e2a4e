/**
 * Single-register loads and stores (LDR/STR and their byte, halfword and
 * signed forms in every addressing mode, LDUR/STUR, LDTR/STTR, literal loads,
 * LDAR/STLR/LDAPR/LDLAR/STLLR, LDAPUR/STLUR), following the Arm ARM's
 * shared decode for "load/store register" and its Mem[] accesses.
 *
 * CONSTRAINED UNPREDICTABLE choices, as QEMU 7.2 makes them: a load with
 * writeback whose Rt is Rn writes the loaded value and then the written-back
 * address (the address wins); a store with writeback whose Rt is Rn stores
 * Rt's value from before the writeback.
 */
import type { Cpu } from '../cpu.js';
import { Access } from '../../mmu/memory-port.js';
import { registerHandler } from './registry.js';
import { LS } from './loadstore-slot.js';
import { accessFailed, checkAligned, checkSpAlignment, extendedIndex, unprivilegedAccess } from './loadstore-access.js';

const value = new Int32Array(2);
const index = new Int32Array(2);

/** Extends a loaded value (zero-extended in value[0..1]) to the transfer register per the info word. */
export function extendLoaded(info: number, lo: number, hi: number, x: Int32Array, rt: number): void {
  if ((info & LS.SIGNED) !== 0) {
    const scale = info & LS.SIZE_MASK;
    if (scale === 0) lo = (lo << 24) >> 24;
    else if (scale === 1) lo = (lo << 16) >> 16;
    hi = (info & LS.REG64) !== 0 ? lo >> 31 : 0;
  }
  x[rt] = lo;
  x[rt + 1] = hi;
}

function loadStoreSingle(cpu: Cpu, d: Int32Array, i: number): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rn = d[i + 3]!, c = d[i + 4]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const load = (info & LS.LOAD) !== 0;

  // address = base + offset (post-index: the base itself; the sum is written back)
  let baseLo: number, baseHi: number;
  if ((info & LS.LITERAL) !== 0) {
    baseLo = cpu.pcLo; baseHi = cpu.pcHi;
  } else {
    if ((x[rn]! & d[i + 6]! & 15) !== 0 && !checkSpAlignment(cpu)) return;
    baseLo = x[rn]!; baseHi = x[rn + 1]!;
  }
  let offLo = c, offHi = c >> 31;
  if ((info & LS.REG_OFFSET) !== 0) {
    extendedIndex(x, c, info, index);
    offLo = index[0]!; offHi = index[1]!;
  }
  const sum = (baseLo >>> 0) + (offLo >>> 0);
  const newLo = sum | 0;
  const newHi = (baseHi + offHi + (sum > 0xffffffff ? 1 : 0)) | 0;
  const post = (info & LS.POST) !== 0;
  const vaLo = post ? baseLo : newLo, vaHi = post ? baseHi : newHi;

  if ((info & LS.ORDERED) !== 0 && !checkAligned(cpu, vaLo, vaHi, size, load ? Access.Read : Access.Write)) return;

  const port = cpu.port;
  port.accessSyndrome = d[i + 6]! & ~15;
  port.unprivileged = (info & LS.UNPRIV) !== 0 && unprivilegedAccess(cpu);
  const ok = load ? port.read(vaLo, vaHi, size, value, 0) : port.write(vaLo, vaHi, size, x[rt]!, x[rt + 1]!);
  port.accessSyndrome = 0;
  port.unprivileged = false;
  if (!ok) { accessFailed(cpu); return; }

  if (load) extendLoaded(info, value[0]!, value[1]!, x, rt);
  if ((info & LS.WRITEBACK) !== 0) { x[rn] = newLo; x[rn + 1] = newHi; }
}

export const H_LOAD_STORE_SINGLE = registerHandler('LOAD_STORE_SINGLE', loadStoreSingle);

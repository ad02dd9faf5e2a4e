/**
 * Load/store exclusive (LDXR/LDAXR/STXR/STLXR and their byte, halfword and
 * pair forms) with the local exclusive monitor of a single PE:
 * `cpu.exclusiveAddress` (physical, -1 when the monitor is open) and
 * `cpu.exclusiveSize`. A load-exclusive marks the address; a
 * store-exclusive succeeds (status 0) only while the monitor holds its
 * address, and always leaves the monitor open. CLREX, exception entry and
 * exception return open it too (exceptions.ts).
 *
 * Following AArch64.ExclusiveMonitorsPass: the alignment check comes first
 * (exclusives must be aligned to their total size on every memory type); a
 * store-exclusive whose virtual address is not the monitored one fails
 * without translating (no translation fault); otherwise the physical
 * addresses are compared. Like QEMU, a matching address passes whatever the
 * access sizes (a size mismatch is CONSTRAINED UNPREDICTABLE).
 */
import type { Cpu } from '../cpu.js';
import { Access } from '../../mmu/memory-port.js';
import { registerHandler } from './registry.js';
import { LS, reg2Of } from './loadstore-slot.js';
import { accessFailed, checkAligned, checkSpAlignment } from './loadstore-access.js';

/** The virtual address the monitor was armed with, per CPU (valid while exclusiveAddress !== -1). */
const monitoredVa = new WeakMap<Cpu, Int32Array>();
const values = new Int32Array(4);

function monitorVa(cpu: Cpu): Int32Array {
  let va = monitoredVa.get(cpu);
  if (!va) { va = new Int32Array(2); monitoredVa.set(cpu, va); }
  return va;
}

/** LDXR/LDAXR (pair = false) and LDXP/LDAXP (pair = true). */
function loadExclusive(cpu: Cpu, d: Int32Array, i: number, pair: boolean): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rn = d[i + 3]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const total = pair ? size * 2 : size;
  if ((x[rn]! & d[i + 6]! & 15) !== 0 && !checkSpAlignment(cpu)) return;
  const vaLo = x[rn]!, vaHi = x[rn + 1]!;
  if (!checkAligned(cpu, vaLo, vaHi, total, Access.Read)) return;
  const port = cpu.port;
  const pa = port.translate(vaLo, vaHi, Access.Read, total);
  if (pa < 0) { accessFailed(cpu); return; }
  if (!pair || size === 4) {
    // one access: a single register, or a 32-bit pair read as one doubleword
    if (!port.readPhysical(pa, total, values, 0, vaLo, vaHi, Access.Read)) { accessFailed(cpu); return; }
  } else {
    if (!port.readPhysical(pa, 8, values, 0, vaLo, vaHi, Access.Read) ||
        !port.readPhysical(pa + 8, 8, values, 2, vaLo, vaHi, Access.Read)) { accessFailed(cpu); return; }
  }
  cpu.exclusiveAddress = pa;
  cpu.exclusiveSize = total;
  const va = monitorVa(cpu);
  va[0] = vaLo; va[1] = vaHi;
  if (!pair) {
    x[rt] = values[0]!; x[rt + 1] = (info & LS.REG64) !== 0 ? values[1]! : 0;
  } else {
    const rt2 = reg2Of(info);
    if (size === 4) {
      // little-endian: Rt gets the word at the lower address
      x[rt2] = values[1]!; x[rt2 + 1] = 0;
      x[rt] = values[0]!; x[rt + 1] = 0;
    } else {
      x[rt2] = values[2]!; x[rt2 + 1] = values[3]!;
      x[rt] = values[0]!; x[rt + 1] = values[1]!;
    }
  }
}

/** STXR/STLXR (pair = false) and STXP/STLXP (pair = true): Ws = 0 on success, 1 on failure. */
function storeExclusive(cpu: Cpu, d: Int32Array, i: number, pair: boolean): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rn = d[i + 3]!, rs = d[i + 4]!, info = d[i + 5]!;
  const size = 1 << (info & LS.SIZE_MASK);
  const total = pair ? size * 2 : size;
  if ((x[rn]! & d[i + 6]! & 15) !== 0 && !checkSpAlignment(cpu)) return;
  const vaLo = x[rn]!, vaHi = x[rn + 1]!;
  // the data, read before the status register is written
  const rt2 = reg2Of(info);
  const lo1 = x[rt]!, hi1 = x[rt + 1]!, lo2 = x[rt2]!, hi2 = x[rt2 + 1]!;
  if (!checkAligned(cpu, vaLo, vaHi, total, Access.Write)) return;

  let passed = false;
  if (cpu.exclusiveAddress !== -1) {
    const va = monitorVa(cpu);
    if (va[0] === vaLo && va[1] === vaHi) {
      const port = cpu.port;
      const pa = port.translate(vaLo, vaHi, Access.Write, total);
      if (pa < 0) { accessFailed(cpu); return; }
      passed = pa === cpu.exclusiveAddress;
      cpu.exclusiveAddress = -1;
      if (passed) {
        let ok: boolean;
        if (!pair) ok = port.writePhysical(pa, size, lo1, hi1, vaLo, vaHi);
        else if (size === 4) ok = port.writePhysical(pa, 8, lo1, lo2, vaLo, vaHi);
        else ok = port.writePhysical(pa, 8, lo1, hi1, vaLo, vaHi) && port.writePhysical(pa + 8, 8, lo2, hi2, vaLo, vaHi);
        if (!ok) { accessFailed(cpu); return; }
      }
    }
  }
  cpu.exclusiveAddress = -1;
  x[rs] = passed ? 0 : 1;
  x[rs + 1] = 0;
}

export const H_LOAD_EXCLUSIVE = registerHandler('LOAD_EXCLUSIVE', (cpu, d, i) => loadExclusive(cpu, d, i, false));
export const H_LOAD_EXCLUSIVE_PAIR = registerHandler('LOAD_EXCLUSIVE_PAIR', (cpu, d, i) => loadExclusive(cpu, d, i, true));
export const H_STORE_EXCLUSIVE = registerHandler('STORE_EXCLUSIVE', (cpu, d, i) => storeExclusive(cpu, d, i, false));
export const H_STORE_EXCLUSIVE_PAIR = registerHandler('STORE_EXCLUSIVE_PAIR', (cpu, d, i) => storeExclusive(cpu, d, i, true));

/**
 * Load/store pair (LDP, STP, LDPSW, LDNP, STNP) in the offset, pre-index and
 * post-index forms. Both elements are translated (and, for stores, found
 * writable) before either is accessed, so a fault on the second leaves
 * registers and memory untouched.
 *
 * CONSTRAINED UNPREDICTABLE choices, as QEMU 7.2 makes them: LDP with
 * Rt == Rt2 leaves the first element in the register; with writeback and a
 * loaded base, the written-back address wins; STP with writeback stores the
 * registers' values from before the writeback. (LDPSW's overlaps are
 * UNDEFINED by the instruction table, as GNU objdump has them.)
 */
import type { Cpu } from '../cpu.js';
import { Access, FSC } from '../../mmu/memory-port.js';
import { registerHandler } from './registry.js';
import { LS, reg2Of } from './loadstore-slot.js';
import { accessFailed, checkSpAlignment } from './loadstore-access.js';
import { extendLoaded } from './loadstore-single.js';

const values = new Int32Array(4);

function loadStorePair(cpu: Cpu, d: Int32Array, i: number): void {
  const x = cpu.x;
  const rt = d[i + 2]!, rn = d[i + 3]!, offset = d[i + 4]!, info = d[i + 5]!;
  const rt2 = reg2Of(info);
  const size = 1 << (info & LS.SIZE_MASK);
  const load = (info & LS.LOAD) !== 0;

  if ((x[rn]! & d[i + 6]! & 15) !== 0 && !checkSpAlignment(cpu)) return;
  const baseLo = x[rn]!, baseHi = x[rn + 1]!;
  const sum = (baseLo >>> 0) + offset;
  const newLo = sum | 0;
  const newHi = (baseHi + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
  const post = (info & LS.POST) !== 0;
  const aLo = post ? baseLo : newLo, aHi = post ? baseHi : newHi;
  const second = (aLo >>> 0) + size;
  const bLo = second | 0, bHi = (aHi + (second > 0xffffffff ? 1 : 0)) | 0;

  const port = cpu.port;
  if ((aLo & 0xfff) + size > 0x1000 || (bLo & 0xfff) + size > 0x1000) {
    // An unaligned element across a page boundary (Normal memory): element by element through
    // the port, which translates both pages of each.
    const lo1 = x[rt]!, hi1 = x[rt + 1]!, lo2 = x[rt2]!, hi2 = x[rt2 + 1]!;
    const ok = load
      ? port.read(aLo, aHi, size, values, 0) && port.read(bLo, bHi, size, values, 2)
      : port.write(aLo, aHi, size, lo1, hi1) && port.write(bLo, bHi, size, lo2, hi2);
    if (!ok) { accessFailed(cpu); return; }
    if (load) {
      extendLoaded(info, values[2]!, values[3]!, x, rt2);
      extendLoaded(info, values[0]!, values[1]!, x, rt);
    }
    if ((info & LS.WRITEBACK) !== 0) { x[rn] = newLo; x[rn + 1] = newHi; }
    return;
  }
  const access = load ? Access.Read : Access.Write;
  const pa1 = port.translate(aLo, aHi, access, size);
  if (pa1 < 0) { accessFailed(cpu); return; }
  const pa2 = port.translate(bLo, bHi, access, size);
  if (pa2 < 0) { accessFailed(cpu); return; }

  if (load) {
    if (!port.readPhysical(pa1, size, values, 0, aLo, aHi, Access.Read) ||
        !port.readPhysical(pa2, size, values, 2, bLo, bHi, Access.Read)) { accessFailed(cpu); return; }
    extendLoaded(info, values[2]!, values[3]!, x, rt2);
    extendLoaded(info, values[0]!, values[1]!, x, rt);
  } else {
    const lo1 = x[rt]!, hi1 = x[rt + 1]!, lo2 = x[rt2]!, hi2 = x[rt2 + 1]!;
    // An element that cannot be written aborts before anything is stored: nothing changes.
    // The first element is checked first, so when both fail FAR names the first (as QEMU does).
    const memory = cpu.memory;
    const writable = (pa: number): boolean => memory.isRam(pa, size) || memory.findMmio(pa) >= 0;
    if (!writable(pa1) || !writable(pa2)) {
      const firstBad = !writable(pa1);
      port.fault(firstBad ? aLo : bLo, firstBad ? aHi : bHi, Access.Write, FSC.SYNC_EXTERNAL, size);
      accessFailed(cpu);
      return;
    }
    if (!port.writePhysical(pa1, size, lo1, hi1, aLo, aHi) ||
        !port.writePhysical(pa2, size, lo2, hi2, bLo, bHi)) { accessFailed(cpu); return; }
  }
  if ((info & LS.WRITEBACK) !== 0) { x[rn] = newLo; x[rn + 1] = newHi; }
}

export const H_LOAD_STORE_PAIR = registerHandler('LOAD_STORE_PAIR', loadStorePair);

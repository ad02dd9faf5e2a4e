/**
 * What every integer load/store needs around the memory port: the
 * stack-pointer alignment check (CheckSPAlignment), alignment faults for
 * accesses that require natural alignment whatever the memory type
 * (exclusives, acquire/release, atomics), the unprivileged-access rule of
 * LDTR/STTR, and the slow path the interpreter's FAST load/store ops fall
 * back to.
 */
import type { Cpu } from '../cpu.js';
import { Access, FSC } from '../../mmu/memory-port.js';
import { EC, syncTargetEl, takeException, VectorKind } from '../exceptions.js';
import { sysregId } from '../sysregs/system-registers.js';
import { SP_SLOT } from '../registers.js';
import { HANDLERS } from './registry.js';
import { LS } from './loadstore-slot.js';

const SCTLR_EL1 = sysregId('sctlr_el1');
const SCTLR_EL2 = sysregId('sctlr_el2');
const HCR_EL2 = sysregId('hcr_el2');
const SCTLR_SA = 1 << 3;
const SCTLR_SA0 = 1 << 4;
const HCR_TGE = 1 << 27;
/** HCR_EL2.E2H is bit 34: bit 2 of the high half. */
const HCR_E2H_HI = 1 << 2;

/** HCR_EL2.{E2H,TGE} == {1,1}: EL2 and EL0 share the EL2&0 translation regime. */
function hostRegime(cpu: Cpu): boolean {
  return cpu.model.hasEl2 && (cpu.sys.hi(HCR_EL2) & HCR_E2H_HI) !== 0 && (cpu.sys.lo(HCR_EL2) & HCR_TGE) !== 0;
}

/**
 * CheckSPAlignment() for a load/store whose base is SP: with SCTLR_ELx.SA
 * (SA0 at EL0) set, an SP that is not 16-byte aligned raises an SP alignment
 * fault (ESR_ELx.EC 0x26, no FAR). Returns false after taking it.
 */
export function checkSpAlignment(cpu: Cpu): boolean {
  if ((cpu.x[SP_SLOT * 2]! & 15) === 0) return true;
  let enabled: boolean;
  if (cpu.el === 0) enabled = (cpu.sys.lo(hostRegime(cpu) ? SCTLR_EL2 : SCTLR_EL1) & SCTLR_SA0) !== 0;
  else enabled = (cpu.sys.lo(cpu.el === 2 ? SCTLR_EL2 : SCTLR_EL1) & SCTLR_SA) !== 0;
  if (!enabled) return true;
  takeException(cpu, {
    targetEl: syncTargetEl(cpu), ec: EC.SP_ALIGN, iss: 0, il: 1,
    returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
  return false;
}

/**
 * The alignment check of accesses that must be naturally aligned on any
 * memory type (AccType_ATOMIC, _ORDERED, _ATOMICRW): raises the alignment
 * fault (DFSC 0b100001, FAR = the address) and returns false when `va` is
 * not a multiple of `size`.
 */
export function checkAligned(cpu: Cpu, vaLo: number, vaHi: number, size: number, access: Access): boolean {
  if ((vaLo & (size - 1)) === 0) return true;
  cpu.port.fault(vaLo, vaHi, access, FSC.ALIGNMENT, size);
  return false;
}

/**
 * Whether an LDTR/STTR-family instruction accesses memory as EL0: at EL1,
 * and at EL2 in the EL2&0 regime, unless PSTATE.UAO overrides it.
 */
export function unprivilegedAccess(cpu: Cpu): boolean {
  if (cpu.uao) return false;
  if (cpu.el === 1) return true;
  return cpu.el === 2 && hostRegime(cpu);
}

/** A failed access: the exception (or stop request) is already raised; keep PC where it is. */
export function accessFailed(cpu: Cpu): void {
  cpu.branched = true;
}

/**
 * The register-offset index: Extend(Rm) << amount as a 64-bit (lo, hi) pair
 * in out[0], out[1] (UXTW, SXTW, or the whole X register for LSL/UXTX/SXTX).
 */
export function extendedIndex(x: Int32Array, m: number, info: number, out: Int32Array): void {
  let lo = x[m]!, hi = x[m + 1]!;
  const ext = info & LS.EXT_MASK;
  if (ext !== 0) hi = ext === LS.EXT_SXTW ? lo >> 31 : 0;
  const amount = (info >>> LS.AMOUNT_SHIFT) & 3;
  if (amount !== 0) {
    hi = (hi << amount) | (lo >>> (32 - amount));
    lo <<= amount;
  }
  out[0] = lo;
  out[1] = hi;
}

/** The decoded block of the page last checked by codePageStore, valid while the cache's generation holds. */
let checkedPpn = -1;
let checkedGeneration = -1;
let checkedBlock: Int32Array | undefined;
let checkedCache: unknown;

/**
 * A store of `size` bytes at `pa` hit a page flagged as holding decoded code:
 * drops the page's decodes (memory.notifyCodeWrite) only when the bytes
 * overlap an instruction slot that has been decoded, so data sharing a page
 * with code (small images, literal pools) does not throw the code away on
 * every store. Returns true when it notified (the caller re-checks its fetch).
 */
export function codePageStore(cpu: Cpu, pa: number, size: number): boolean {
  const inPage = 0x1000 - (pa % 4096);
  if (size > inPage) {
    // a pair crossing into the next page: tell both pages
    cpu.memory.notifyCodeWrite(pa, inPage);
    cpu.memory.notifyCodeWrite(pa + inPage, size - inPage);
    return true;
  }
  const cache = cpu.decodeCache;
  const ppn = Math.floor(pa / 4096);
  if (ppn !== checkedPpn || cache.generation !== checkedGeneration || cache !== checkedCache) {
    checkedBlock = cache.has(ppn) ? cache.block(ppn) : undefined;
    checkedPpn = ppn; checkedGeneration = cache.generation; checkedCache = cache;
  }
  const block = checkedBlock;
  if (block !== undefined) {
    const first = (pa & 0xffc) << 1, last = ((pa + size - 1) & 0xffc) << 1;
    let decoded = false;
    for (let s = first; s <= last; s += 8) if (block[s] !== 0) decoded = true;
    if (!decoded) return false;
  }
  cpu.memory.notifyCodeWrite(pa, size);
  return true;
}

/**
 * Translation for a FAST load/store op when the regime translates and the
 * inline fast-array probe missed: records what a fault needs (the
 * instruction's PC, the retired count, the instruction syndrome) and
 * translates through the port. Returns the access's offset in the RAM fast
 * window, -2 when the PA is outside it (the handler then does the access),
 * or -1 when an exception was taken or a stop requested; cpu.pcLo/pcHi then
 * say where to continue. A small integer, so the call boxes nothing.
 */
export function fastOpTranslate(
  cpu: Cpu, vaLo: number, vaHi: number, access: Access, size: number, syndrome: number, pcLo: number, pcHi: number, retired: number,
): number {
  cpu.pcLo = pcLo;
  cpu.pcHi = pcHi;
  cpu.retired = retired;
  const port = cpu.port;
  port.accessSyndrome = syndrome;
  const off = port.translateMissToRamOffset(vaLo, vaHi, access, size);
  port.accessSyndrome = 0;
  return off;
}

/**
 * Where a FAST load/store op that cannot complete inline (translation on,
 * not RAM, unaligned, misaligned SP, a fault) runs its handler. Leaves the
 * next PC in cpu.pcLo/pcHi (the vector after an exception).
 */
export function loadStoreSlowPath(cpu: Cpu, d: Int32Array, i: number, pcLo: number, pcHi: number, retired: number): void {
  cpu.pcLo = pcLo;
  cpu.pcHi = pcHi;
  cpu.retired = retired;
  cpu.branched = false;
  HANDLERS[d[i + 7]!]!(cpu, d, i);
  if (!cpu.branched) {
    const t = (pcLo >>> 0) + 4;
    cpu.pcLo = t | 0;
    if (t > 0xffffffff) cpu.pcHi = (pcHi + 1) | 0;
  }
}

/**
 * The CPU's view of memory: translates virtual addresses for the current
 * translation regime and performs the access on physical memory, raising the
 * architectural fault (alignment, translation, external abort) when it fails.
 *
 * This first version implements the MMU-off behaviour of every regime (flat
 * mapping, Device memory for data accesses). The stage-1/stage-2 walker and
 * the TLB (src/mmu/walk.ts, src/mmu/tlb.ts) plug in through translateEnabled.
 */
import type { Cpu } from '../cpu/cpu.js';
import type { PhysicalMemory } from '../machine/physical-memory.js';
import { MemoryFault } from '../machine/physical-memory.js';
import { EC, syncTargetEl, takeException, VectorKind } from '../cpu/exceptions.js';
import { sysregId } from '../cpu/sysregs/system-registers.js';

export const enum Access {
  Read = 0,
  Write = 1,
  Fetch = 2,
}

const SCTLR_EL1 = sysregId('sctlr_el1');
const SCTLR_EL2 = sysregId('sctlr_el2');
const HCR_EL2 = sysregId('hcr_el2');

/** DFSC/IFSC fault status codes. */
export const FSC = {
  ADDRESS_SIZE_L0: 0b000000,
  TRANSLATION_L0: 0b000100,
  ACCESS_FLAG_L0: 0b001000,
  PERMISSION_L0: 0b001100,
  SYNC_EXTERNAL: 0b010000,
  ALIGNMENT: 0b100001,
} as const;

/**
 * The translation machinery (src/mmu: regimes, walker, TLB) as the rest of
 * the CPU sees it. Installed on the MemoryPort; absent = MMU-off only.
 */
export interface TranslationUnit {
  /** VA → PA when the current regime translates; -1 after raising the fault (or requesting a stop). */
  translate(vaLo: number, vaHi: number, access: Access, size: number): number;
  /** A TLBI operation by name (e.g. 'vae2is') with the Xt operand (0 when the operation takes none). */
  tlbi(op: string, xtLo: number, xtHi: number): void;
  /** An AT operation by name (e.g. 's1e2r'): translates Xt and writes PAR_EL1. */
  addressTranslate(op: string, vaLo: number, vaHi: number): void;
  /** Called after writes to registers that change translation (SCTLR, TCR, TTBR, HCR, VTCR, VTTBR, MAIR). */
  translationControlChanged(): void;
}

export class MemoryPort {
  /** Scratch for 64-bit reads from physical memory. */
  private readonly tmp = new Uint32Array(2);
  /** The stage-1/stage-2 translation unit; undefined until src/mmu installs one. */
  mmu: TranslationUnit | undefined = undefined;

  constructor(private readonly cpu: Cpu, private readonly memory: PhysicalMemory) {}

  /** True when the current regime translates (stage 1 on, or stage 2 for EL1&0). */
  translationOn(): boolean {
    const cpu = this.cpu;
    if (cpu.el === 2) return (cpu.sys.lo(SCTLR_EL2) & 1) !== 0;
    if ((cpu.sys.lo(SCTLR_EL1) & 1) !== 0) return true;
    return cpu.model.hasEl2 && (cpu.sys.lo(HCR_EL2) & 1) !== 0;
  }

  /** VA → PA for an access of `size` bytes; -1 when a fault was taken. */
  translate(vaLo: number, vaHi: number, access: Access, size: number): number {
    if (this.translationOn()) {
      if (!this.mmu) {
        this.cpu.stopRequest = { kind: 'fatal', why: 'address translation is enabled but no MMU model is installed' };
        return -1;
      }
      return this.mmu.translate(vaLo, vaHi, access, size);
    }
    // MMU off: flat mapping; an address beyond the PA size is an address-size fault at level 0.
    const paBits = this.cpu.model.paBits;
    const hi = vaHi >>> 0;
    if (hi >= 2 ** (paBits - 32)) {
      this.fault(vaLo, vaHi, access, FSC.ADDRESS_SIZE_L0, size);
      return -1;
    }
    // Data accesses with the MMU off are to Device memory: unaligned ones fault.
    if (access !== Access.Fetch && size > 1 && (vaLo & (size - 1)) !== 0) {
      this.fault(vaLo, vaHi, access, FSC.ALIGNMENT, size);
      return -1;
    }
    return hi * 4294967296 + (vaLo >>> 0);
  }

  /** TLB maintenance: forwarded to the translation unit (nothing is cached without one). */
  tlbi(op: string, xtLo: number, xtHi: number): void {
    this.mmu?.tlbi(op, xtLo, xtHi);
  }

  /** AT: without a translation unit, report the flat MMU-off result in PAR_EL1. */
  addressTranslate(op: string, vaLo: number, vaHi: number): void {
    if (this.mmu) { this.mmu.addressTranslate(op, vaLo, vaHi); return; }
    const par = sysregId('par_el1');
    this.cpu.sys.set(par, vaLo & ~0xfff, vaHi & 0xffff);
  }

  /** Raises an instruction or data abort for the current access. */
  fault(vaLo: number, vaHi: number, access: Access, fsc: number, _size: number): void {
    const cpu = this.cpu;
    const target = syncTargetEl(cpu);
    const lower = target > cpu.el;
    let ec: number;
    let iss = fsc;
    if (access === Access.Fetch) {
      ec = lower ? EC.INSN_ABORT_LOWER : EC.INSN_ABORT_SAME;
    } else {
      ec = lower ? EC.DATA_ABORT_LOWER : EC.DATA_ABORT_SAME;
      if (access === Access.Write) iss |= 1 << 6; // WnR
    }
    takeException(cpu, {
      targetEl: target, ec, iss, il: 1, returnLo: cpu.pcLo, returnHi: cpu.pcHi,
      vector: VectorKind.Synchronous, far: { lo: vaLo, hi: vaHi },
    });
  }

  /** Physical read of `size` bytes into out[at], out[at+1]; false after raising an external abort. */
  readPhysical(pa: number, size: number, out: Int32Array, at: number, vaLo: number, vaHi: number, access: Access): boolean {
    const m = this.memory;
    let lo: number;
    let hi = 0;
    switch (size) {
      case 1: lo = m.read8(pa); break;
      case 2: lo = m.read16(pa); break;
      case 4: lo = m.read32(pa); break;
      default:
        m.read64(pa, this.tmp, 0);
        lo = this.tmp[0]! | 0;
        hi = this.tmp[1]! | 0;
    }
    if (m.lastFault !== MemoryFault.None) {
      this.fault(vaLo, vaHi, access, FSC.SYNC_EXTERNAL, size);
      return false;
    }
    out[at] = lo | 0;
    out[at + 1] = hi;
    return true;
  }

  writePhysical(pa: number, size: number, lo: number, hi: number, vaLo: number, vaHi: number): boolean {
    const m = this.memory;
    let ok: boolean;
    switch (size) {
      case 1: ok = m.write8(pa, lo & 0xff); break;
      case 2: ok = m.write16(pa, lo & 0xffff); break;
      case 4: ok = m.write32(pa, lo >>> 0); break;
      default: ok = m.write64(pa, lo >>> 0, hi >>> 0);
    }
    if (!ok) {
      this.fault(vaLo, vaHi, Access.Write, FSC.SYNC_EXTERNAL, size);
      return false;
    }
    return true;
  }

  /** Virtual read; false when an exception was taken. */
  read(vaLo: number, vaHi: number, size: number, out: Int32Array, at: number): boolean {
    const pa = this.translate(vaLo, vaHi, Access.Read, size);
    if (pa < 0) return false;
    return this.readPhysical(pa, size, out, at, vaLo, vaHi, Access.Read);
  }

  write(vaLo: number, vaHi: number, size: number, lo: number, hi: number): boolean {
    const pa = this.translate(vaLo, vaHi, Access.Write, size);
    if (pa < 0) return false;
    return this.writePhysical(pa, size, lo, hi, vaLo, vaHi);
  }
}

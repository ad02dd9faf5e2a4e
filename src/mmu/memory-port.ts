/**
 * The CPU's view of memory: translates virtual addresses for the current
 * translation regime and performs the access on physical memory, raising the
 * architectural fault (alignment, translation, external abort) when it fails.
 *
 * Translation has two tiers. The fast arrays here are direct-mapped, one per
 * (EL, PSTATE.PAN, access type), keyed by the VA's 4 KiB page: a hit is a
 * permitted, aligned access and costs two int32 compares and an add, with no
 * call and no allocation. A miss goes to the translation unit (src/mmu/mmu.ts:
 * regimes, TLB, table walks, faults), which fills the array for that access
 * type when the access is permitted. The arrays are flushed (in O(1), by
 * bumping an epoch kept in the tags' low bits) whenever anything they depend
 * on changes: TLB maintenance, writes to translation registers, reset.
 * Without a translation unit, the MMU-off behaviour below applies (flat
 * mapping, Device memory for data accesses).
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
  /** LDTR-style accesses: checked with EL0 permissions at EL1 (unless PSTATE.UAO). Never served by the fast arrays. */
  ReadUnprivileged = 3,
  WriteUnprivileged = 4,
}

/**
 * Fast arrays: 256 pages per (EL, PAN, access type) slot. A const enum, so
 * that the numbers are inlined where they are used (here and in the
 * interpreter's inline probe), not loaded from a module binding.
 */
export const enum FastArray {
  Bits = 8,
  Mask = (1 << 8) - 1,
}
const FAST_BITS = FastArray.Bits;
const FAST_MASK = FastArray.Mask;
/** Slots: EL (2 bits) x PAN (1 bit) x access type (3 bits). */
const FAST_SLOTS = 4 * 2 * 8;
/** Epochs live in the tag's low 12 bits (a page address has them zero); 0 never matches. */
const EPOCH_LIMIT = 0xfff;

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
  /**
   * The same with the PA left in out[0] (true) or the fault raised (false):
   * the port's miss path prefers it, since a double returned across a call
   * that V8 does not inline is boxed (an allocation per miss).
   */
  translateInto?(vaLo: number, vaHi: number, access: Access, size: number, out: Float64Array): boolean;
  /** A TLBI operation by name (e.g. 'vae2is') with the Xt operand (0 when the operation takes none). */
  tlbi(op: string, xtLo: number, xtHi: number): void;
  /** An AT operation by name (e.g. 's1e2r'): translates Xt and writes PAR_EL1. */
  addressTranslate(op: string, vaLo: number, vaHi: number): void;
  /** Called after writes to registers that change translation (SCTLR, TCR, TTBR, HCR, VTCR, VTTBR, MAIR). */
  translationControlChanged(): void;
  /** Forgets every cached translation (CPU reset). */
  reset(): void;
  /** VA → PA with no side effects (no fault taken, TLB untouched); -1 when it would fault. For traces and debuggers. */
  probe?(vaLo: number, vaHi: number, access: Access): number;
}

export class MemoryPort {
  /** Scratch for 64-bit reads from physical memory. */
  private readonly tmp = new Uint32Array(2);
  /** The stage-1/stage-2 translation unit; undefined until src/mmu installs one. */
  mmu: TranslationUnit | undefined = undefined;

  /**
   * Fast arrays: tag = VA page bits [31:12] | epoch, VA bits [63:32], and the
   * PA of the page, at index
   * ((((EL << 1) | PAN) << 3 | access) << FAST_BITS) | (VA[19:12] & FAST_MASK).
   * Read-only outside this class: the interpreter's inline loads and stores
   * probe them (src/cpu/interpreter.ts) as translate() does.
   */
  readonly fastTagLo = new Int32Array(FAST_SLOTS << FAST_BITS);
  readonly fastTagHi = new Int32Array(FAST_SLOTS << FAST_BITS);
  readonly fastPa = new Float64Array(FAST_SLOTS << FAST_BITS);
  /** The current epoch (read-only outside this class): a tag with another one never matches. */
  epoch = 1;

  /**
   * ISS[24:14] (ISV, SAS, SSE, SRT, SF, AR) of the load/store being executed,
   * set by its handler around read/write (0 = no valid syndrome); reported
   * for stage-2 data aborts taken to EL2.
   */
  accessSyndrome = 0;
  /** Set by LDTR/STTR-style handlers around read/write: the access is checked with EL0 permissions. */
  unprivileged = false;

  /**
   * Trace observer of data accesses made through this port (read/write and
   * the *Physical calls), after each completes. The interpreter's inline RAM
   * fast paths do not come here; a tracer that wants every access runs those
   * instructions through their slow path (src/trace/recorder.ts). Undefined
   * (the default) costs one compare per access.
   */
  onAccess: ((write: boolean, vaLo: number, vaHi: number, pa: number, size: number, lo: number, hi: number) => void) | undefined = undefined;
  /** Trace observer of TLB maintenance: the TLBI operation and Xt, before the translation unit acts on it. */
  onTlbi: ((op: string, xtLo: number, xtHi: number) => void) | undefined = undefined;

  /** translationOn() per EL, recomputed after translation registers change. */
  private readonly onByEl = [false, false, false, false];
  private onStale = true;

  constructor(private readonly cpu: Cpu, private readonly memory: PhysicalMemory) {}

  /** True when the current regime translates (stage 1 on, or stage 2 for EL1&0). */
  translationOn(): boolean {
    if (this.onStale) this.computeTranslationOn();
    return this.onByEl[this.cpu.el]!;
  }

  private computeTranslationOn(): void {
    const cpu = this.cpu;
    const stage2 = cpu.model.hasEl2 && (cpu.sys.lo(HCR_EL2) & ((1 << 12) | 1)) !== 0; // HCR_EL2.{DC,VM}
    const el1 = (cpu.sys.lo(SCTLR_EL1) & 1) !== 0 || stage2;
    this.onByEl[0] = el1;
    this.onByEl[1] = el1;
    this.onByEl[2] = (cpu.sys.lo(SCTLR_EL2) & 1) !== 0;
    this.onByEl[3] = false;
    this.onStale = false;
  }

  /**
   * VA → PA for an access of `size` bytes (a power of two); -1 when a fault
   * was taken (or a stop requested). The hot path: aligned accesses whose page
   * is in the fast array for this EL, PAN and access type.
   *
   * An unaligned access that crosses a 4 KiB page boundary is translated (and
   * checked) here for its first page only: callers that access physical
   * memory themselves must send such accesses through read/write, which
   * translate both pages.
   */
  translate(vaLo: number, vaHi: number, access: Access, size: number): number {
    if ((vaLo & (size - 1)) === 0) {
      const cpu = this.cpu;
      const i = (((((cpu.el << 1) | cpu.pan) << 3) | access) << FAST_BITS) | ((vaLo >>> 12) & FAST_MASK);
      if (this.fastTagLo[i] === ((vaLo & ~0xfff) | this.epoch) && this.fastTagHi[i] === vaHi) {
        return this.fastPa[i]! + (vaLo & 0xfff);
      }
    }
    // The miss result comes back through a typed array: a double returned across the call would be boxed.
    if (!this.translateMiss(vaLo, vaHi, access, size)) return -1;
    return this.missPa[0]!;
  }

  private readonly missPa = new Float64Array(1);

  /**
   * translate() after a fast-array miss, for the interpreter's inline loads
   * and stores (which probe the fast arrays themselves): the access's offset
   * in the RAM fast window (PA - memory.ramBase), -1 when a fault was taken
   * (or a stop requested), -2 when the PA is outside the window. A small
   * integer, so nothing is boxed across the call.
   */
  translateMissToRamOffset(vaLo: number, vaHi: number, access: Access, size: number): number {
    if (!this.translateMiss(vaLo, vaHi, access, size)) return -1;
    const m = this.memory;
    const off = this.missPa[0]! - m.ramBase;
    return off >= 0 && off < m.ramSize ? off : -2;
  }

  /** Fast-array miss: the translation unit, or the MMU-off behaviour without one; PA in missPa[0]. */
  private translateMiss(vaLo: number, vaHi: number, access: Access, size: number): boolean {
    const mmu = this.mmu;
    if (mmu !== undefined && mmu.translateInto !== undefined) return mmu.translateInto(vaLo, vaHi, access, size, this.missPa);
    const pa = mmu !== undefined ? mmu.translate(vaLo, vaHi, access, size) : this.translateWithoutMmu(vaLo, vaHi, access, size);
    this.missPa[0] = pa;
    return pa >= 0;
  }

  /** Records a permitted translation in the fast array of (el, pan, access); the PA page as halves. */
  fillFast(el: number, pan: number, access: Access, vaLo: number, vaHi: number, paPageLo: number, paPageHi: number): void {
    const i = (((((el << 1) | pan) << 3) | access) << FAST_BITS) | ((vaLo >>> 12) & FAST_MASK);
    this.fastTagLo[i] = (vaLo & ~0xfff) | this.epoch;
    this.fastTagHi[i] = vaHi;
    this.fastPa[i] = paPageHi * 4294967296 + (paPageLo >>> 0);
  }

  /** Invalidates every fast-array entry. */
  flushFast(): void {
    this.onStale = true;
    if (++this.epoch > EPOCH_LIMIT) {
      this.fastTagLo.fill(0);
      this.epoch = 1;
    }
  }

  /** Translation registers changed: forwarded to the translation unit, and the fast arrays flushed. */
  translationControlChanged(): void {
    this.flushFast();
    this.mmu?.translationControlChanged();
  }

  /** CPU reset: no cached translations survive. */
  reset(): void {
    this.flushFast();
    this.mmu?.reset();
  }

  /** The MMU-off behaviour of every regime, used when no translation unit is installed. */
  private translateWithoutMmu(vaLo: number, vaHi: number, access: Access, size: number): number {
    if (this.translationOn()) {
      this.cpu.stopRequest = { kind: 'fatal', why: 'address translation is enabled but no MMU model is installed' };
      return -1;
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

  /** VA → PA without side effects, for traces and debuggers; -1 when unknown or faulting. */
  probe(vaLo: number, vaHi: number, access: Access): number {
    if (this.translationOn()) return this.mmu?.probe ? this.mmu.probe(vaLo, vaHi, access) : -1;
    const hi = vaHi >>> 0;
    if (hi >= 2 ** (this.cpu.model.paBits - 32)) return -1;
    return hi * 4294967296 + (vaLo >>> 0);
  }

  /** TLB maintenance: forwarded to the translation unit (nothing is cached without one). */
  tlbi(op: string, xtLo: number, xtHi: number): void {
    if (this.onTlbi !== undefined) this.onTlbi(op, xtLo, xtHi);
    this.mmu?.tlbi(op, xtLo, xtHi);
  }

  /** AT: without a translation unit, report the flat MMU-off result in PAR_EL1. */
  addressTranslate(op: string, vaLo: number, vaHi: number): void {
    if (this.mmu) { this.mmu.addressTranslate(op, vaLo, vaHi); return; }
    const par = sysregId('par_el1');
    this.cpu.sys.set(par, vaLo & ~0xfff, vaHi & 0xffff);
  }

  /** Raises an instruction or data abort for the current access; `syndrome` = extra ISS bits of a data abort (ISV…). */
  fault(vaLo: number, vaHi: number, access: Access, fsc: number, _size: number, syndrome = 0): void {
    const cpu = this.cpu;
    const target = syncTargetEl(cpu);
    const lower = target > cpu.el;
    let ec: number;
    let iss = fsc;
    if (access !== Access.Fetch) iss |= syndrome;
    if (access === Access.Fetch) {
      ec = lower ? EC.INSN_ABORT_LOWER : EC.INSN_ABORT_SAME;
    } else {
      ec = lower ? EC.DATA_ABORT_LOWER : EC.DATA_ABORT_SAME;
      if (access === Access.Write || access === Access.WriteUnprivileged) iss |= 1 << 6; // WnR
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
    if (this.onAccess !== undefined) this.onAccess(false, vaLo, vaHi, pa, size, lo | 0, hi);
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
    if (this.onAccess !== undefined) this.onAccess(true, vaLo, vaHi, pa, size, lo, hi);
    return true;
  }

  /** Virtual read; false when an exception was taken. */
  read(vaLo: number, vaHi: number, size: number, out: Int32Array, at: number, access: Access = Access.Read): boolean {
    if (this.unprivileged && access === Access.Read) access = Access.ReadUnprivileged;
    if ((vaLo & 0xfff) + size > 0x1000) return this.readAcrossPages(vaLo, vaHi, size, out, at, access);
    const pa = this.translate(vaLo, vaHi, access, size);
    if (pa < 0) return false;
    return this.readPhysical(pa, size, out, at, vaLo, vaHi, access);
  }

  write(vaLo: number, vaHi: number, size: number, lo: number, hi: number, access: Access = Access.Write): boolean {
    if (this.unprivileged && access === Access.Write) access = Access.WriteUnprivileged;
    if ((vaLo & 0xfff) + size > 0x1000) return this.writeAcrossPages(vaLo, vaHi, size, lo, hi, access);
    const pa = this.translate(vaLo, vaHi, access, size);
    if (pa < 0) return false;
    return this.writePhysical(pa, size, lo, hi, vaLo, vaHi);
  }

  /**
   * Translates both pages of an access that crosses a page boundary (the
   * first page's fault first); returns the PA of the first byte (-1 after a
   * fault) and leaves the second page's PA in `secondPa`.
   */
  private translatePair(vaLo: number, vaHi: number, size: number, access: Access): number {
    const pa1 = this.translate(vaLo, vaHi, access, size);
    if (pa1 < 0) return -1;
    const next = (vaLo >>> 0) + (0x1000 - (vaLo & 0xfff));
    const nextLo = next | 0;
    const nextHi = (vaHi + (next > 0xffffffff ? 1 : 0)) | 0;
    const pa2 = this.translate(nextLo, nextHi, access, 1);
    if (pa2 < 0) return -1;
    this.secondPa = pa2;
    return pa1;
  }

  private secondPa = 0;

  /** A page-crossing read, byte by byte from the two translated pages (little-endian). */
  private readAcrossPages(vaLo: number, vaHi: number, size: number, out: Int32Array, at: number, access: Access): boolean {
    const pa1 = this.translatePair(vaLo, vaHi, size, access);
    if (pa1 < 0) return false;
    const pa2 = this.secondPa;
    const first = 0x1000 - (vaLo & 0xfff);
    const m = this.memory;
    let lo = 0, hi = 0;
    for (let k = 0; k < size; k++) {
      const b = m.read8(k < first ? pa1 + k : pa2 + (k - first));
      if (m.lastFault !== MemoryFault.None) {
        this.fault(vaLo, vaHi, access, FSC.SYNC_EXTERNAL, size);
        return false;
      }
      if (k < 4) lo |= b << (8 * k);
      else hi |= b << (8 * (k - 4));
    }
    out[at] = lo | 0;
    out[at + 1] = hi | 0;
    if (this.onAccess !== undefined) this.onAccess(false, vaLo, vaHi, pa1, size, lo | 0, hi | 0);
    return true;
  }

  private writeAcrossPages(vaLo: number, vaHi: number, size: number, lo: number, hi: number, access: Access): boolean {
    const pa1 = this.translatePair(vaLo, vaHi, size, access);
    if (pa1 < 0) return false;
    const pa2 = this.secondPa;
    const first = 0x1000 - (vaLo & 0xfff);
    const m = this.memory;
    for (let k = 0; k < size; k++) {
      const b = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff;
      if (!m.write8(k < first ? pa1 + k : pa2 + (k - first), b)) {
        this.fault(vaLo, vaHi, access, FSC.SYNC_EXTERNAL, size);
        return false;
      }
    }
    if (this.onAccess !== undefined) this.onAccess(true, vaLo, vaHi, pa1, size, lo, hi);
    return true;
  }
}

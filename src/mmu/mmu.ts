/**
 * The MMU behind the CPU's MemoryPort: the translation regimes of a non-VHE
 * AArch64 PE with EL2 (the EL2 regime, the EL1&0 regime with its optional
 * stage 2), the TLB, TLB maintenance (TLBI) and the address translation
 * instructions (AT) — the slow path under MemoryPort.translate's fast arrays.
 *
 * On a fast-array miss, MemoryPort.translate calls translate() here, which
 * selects the regime from PSTATE.EL, checks the VA against the regime's
 * input range, looks the page up in the TLB (tagged by regime, VMID and
 * ASID) and on a miss walks the tables (src/mmu/walk.ts), stage 1 then
 * stage 2, caching the combined result. A permitted access fills the fast
 * array for its access type; a fault is raised as the architecture reports
 * it: an Instruction/Data Abort with ESR_ELx (EC, IL, WnR, S1PTW, CM, the
 * fault status code with its level, ISV and the instruction syndrome for
 * stage-2 aborts), FAR_ELx, and HPFAR_EL2 for stage-2 faults.
 *
 * Not modelled: VHE (translating in the EL2&0 regime, HCR_EL2.E2H = 1 with
 * the EL2 MMU on, stops the CPU with a fatal reason), 52-bit addresses
 * (FEAT_LVA/LPA/LPA2), HCR_EL2.FWB, big-endian walks (SCTLR_ELx.EE), TLB
 * conflict aborts.
 */
import type { Cpu } from '../cpu/cpu.js';
import type { PhysicalMemory } from '../machine/physical-memory.js';
import { EC, syncTargetEl, takeException, VectorKind } from '../cpu/exceptions.js';
import { sysregId } from '../cpu/sysregs/system-registers.js';
import { Access, type MemoryPort, type TranslationUnit } from './memory-port.js';
import {
  ATTR_DEVICE_nGnRnE, ATTR_NORMAL_NC, ATTR_NORMAL_WB, ATTR_NORMAL_WT, combineAttributes, combineShareability,
  describeAttribute, describeShareability, effectiveShareability, isDevice, SH_NON, SH_OUTER,
} from './attributes.js';
import { decodeStage1Range, decodeStage2, decodeTg0, decodeTg1, Stage1Regime } from './regime.js';
import { TlbKey, TranslationCache } from './tlb.js';
import { loadStoreSyndrome } from './syndrome.js';
import {
  bitsAbove, combinePermissions, FaultType, faultStatusCode, Perm, permits, Walker,
} from './walk.js';

const R = {
  sctlrEl1: sysregId('sctlr_el1'), sctlrEl2: sysregId('sctlr_el2'),
  tcrEl1: sysregId('tcr_el1'), tcrEl2: sysregId('tcr_el2'),
  ttbr0El1: sysregId('ttbr0_el1'), ttbr1El1: sysregId('ttbr1_el1'), ttbr0El2: sysregId('ttbr0_el2'),
  mairEl1: sysregId('mair_el1'), mairEl2: sysregId('mair_el2'),
  hcr: sysregId('hcr_el2'), vtcr: sysregId('vtcr_el2'), vttbr: sysregId('vttbr_el2'),
  par: sysregId('par_el1'),
};

const TWO_32 = 4294967296;

/** Main TLB and stage-2 TLB geometry (sets x ways). */
export const MAIN_TLB_SETS = 1024;
export const MAIN_TLB_WAYS = 4;
export const STAGE2_TLB_SETS = 256;
export const STAGE2_TLB_WAYS = 4;

/** What a translation resolved to, for tools and traces (bigint at this API edge). */
export interface TranslationInfo {
  pa: bigint;
  /** The stage-1 output when stage 2 applied. */
  ipa?: bigint;
  /** MAIR-format memory attribute and its description; shareability. */
  attr: number;
  memoryType: string;
  sh: number;
  shareability: string;
  /** Leaf levels (undefined for a stage that did not translate). */
  level?: number;
  stage2Level?: number;
  /** PERM_* bits (src/mmu/walk.ts), combined over both stages. */
  perm: number;
}

export interface TranslationFaultInfo {
  fault: 'translation' | 'address-size' | 'access-flag' | 'permission' | 'alignment' | 'external-walk' | 'external';
  level: number;
  stage2: boolean;
  s1ptw: boolean;
  ipa?: bigint;
}

const FAULT_NAMES: Record<number, TranslationFaultInfo['fault']> = {
  [FaultType.Translation]: 'translation', [FaultType.AddressSize]: 'address-size', [FaultType.AccessFlag]: 'access-flag',
  [FaultType.Permission]: 'permission', [FaultType.Alignment]: 'alignment', [FaultType.ExternalOnWalk]: 'external-walk',
  [FaultType.External]: 'external',
};

export class Mmu implements TranslationUnit {
  /** Final translations (EL2 regime; EL1&0 combined stage 1 + stage 2). */
  readonly tlb = new TranslationCache(MAIN_TLB_SETS, MAIN_TLB_WAYS);
  /** Stage-2-only translations (IPA → PA). */
  readonly stage2Tlb = new TranslationCache(STAGE2_TLB_SETS, STAGE2_TLB_WAYS);
  readonly walker: Walker;
  readonly el2 = new Stage1Regime(false);
  readonly el10 = new Stage1Regime(true);

  /** HCR_EL2.{VM,DC} make stage 2 apply to EL1&0; DC and TGE turn EL1&0 stage 1 off. */
  stage2Enabled = false;
  /** HCR_EL2.E2H on a PE with FEAT_VHE: the EL2&0 regime, which is not modelled. */
  private hcrE2h = false;
  private hcrDc = false;
  private hcrTge = false;
  /** VTTBR_EL2.VMID, tagging EL1&0 and stage-2 TLB entries. */
  vmid = 0;
  private contextEl10 = TlbKey.ContextEl10;
  private dirty = true;
  private readonly hasPan: boolean;
  private readonly paBits: number;

  // ---- statistics ----------------------------------------------------------------
  /** Slow-path translations answered by the main TLB, and table walks done. */
  tlbHits = 0;
  walks = 0;

  // ---- the last slow-path translation (for traces and tools) -----------------------
  lastAttr = 0;
  lastSh = 0;

  constructor(private readonly cpu: Cpu, private readonly memory: PhysicalMemory) {
    this.walker = new Walker(memory, cpu.model, this.stage2Tlb);
    this.hasPan = cpu.model.features.pan;
    this.paBits = Math.min(cpu.model.paBits, 48);
  }

  private get port(): MemoryPort {
    return this.cpu.port;
  }

  /** Forgets every cached translation (CPU reset). */
  reset(): void {
    this.tlb.clear();
    this.stage2Tlb.clear();
    this.translationControlChanged();
  }

  translationControlChanged(): void {
    this.dirty = true;
    this.walker.flushWalkCaches();
    this.port.flushFast();
    this.cpu.fetchStale = true;
  }

  /** Re-reads the translation control registers into the regime parameters. */
  private refresh(): void {
    this.dirty = false;
    const cpu = this.cpu, sys = cpu.sys, model = cpu.model;
    const hcr = model.hasEl2 ? sys.lo(R.hcr) : 0;
    this.hcrE2h = model.hasEl2 && model.features.vhe && (sys.hi(R.hcr) & (1 << 2)) !== 0;
    this.hcrDc = (hcr & (1 << 12)) !== 0;
    this.hcrTge = (hcr & (1 << 27)) !== 0;
    this.stage2Enabled = (hcr & 1) !== 0 || this.hcrDc;
    this.walker.stage2Ptw = (hcr & (1 << 2)) !== 0;

    // EL2 regime (HCR_EL2.E2H = 0): TTBR0_EL2 only.
    {
      const r = this.el2;
      const sctlr = sys.lo(R.sctlrEl2), tcr = sys.lo(R.tcrEl2);
      r.enabled = (sctlr & 1) !== 0;
      r.alignmentCheck = (sctlr & 2) !== 0;
      r.icache = (sctlr & (1 << 12)) !== 0;
      r.wxn = (sctlr & (1 << 19)) !== 0;
      r.setMair(sys.lo(R.mairEl2), sys.hi(R.mairEl2));
      decodeStage1Range(r.lower, model, decodeTg0((tcr >>> 14) & 3, model), tcr & 0x3f, (tcr >>> 16) & 7, false,
        sys.lo(R.ttbr0El2), sys.hi(R.ttbr0El2), (tcr & (1 << 20)) !== 0, (tcr & (1 << 24)) !== 0,
        (tcr & (1 << 21)) !== 0, (tcr & (1 << 22)) !== 0);
    }
    // EL1&0 regime: TTBR0_EL1 / TTBR1_EL1 split by VA[55].
    {
      const r = this.el10;
      const sctlr = sys.lo(R.sctlrEl1), tcrLo = sys.lo(R.tcrEl1), tcrHi = sys.hi(R.tcrEl1);
      r.enabled = (sctlr & 1) !== 0 && !this.hcrDc;
      r.alignmentCheck = (sctlr & 2) !== 0;
      r.icache = (sctlr & (1 << 12)) !== 0;
      r.wxn = (sctlr & (1 << 19)) !== 0;
      r.setMair(sys.lo(R.mairEl1), sys.hi(R.mairEl1));
      const ips = tcrHi & 7;
      const ha = (tcrHi & (1 << 7)) !== 0, hd = (tcrHi & (1 << 8)) !== 0;
      decodeStage1Range(r.lower, model, decodeTg0((tcrLo >>> 14) & 3, model), tcrLo & 0x3f, ips, (tcrLo & (1 << 7)) !== 0,
        sys.lo(R.ttbr0El1), sys.hi(R.ttbr0El1), (tcrHi & (1 << 5)) !== 0, (tcrHi & (1 << 9)) !== 0, ha, hd);
      decodeStage1Range(r.upper, model, decodeTg1((tcrLo >>> 30) & 3, model), (tcrLo >>> 16) & 0x3f, ips, (tcrLo & (1 << 23)) !== 0,
        sys.lo(R.ttbr1El1), sys.hi(R.ttbr1El1), (tcrHi & (1 << 6)) !== 0, (tcrHi & (1 << 10)) !== 0, ha, hd);
      r.asid16 = (tcrHi & (1 << 4)) !== 0 && model.asidBits === 16;
      const a1 = (tcrLo & (1 << 22)) !== 0;
      const asid = (a1 ? sys.hi(R.ttbr1El1) : sys.hi(R.ttbr0El1)) >>> 16;
      r.asid = r.asid16 ? asid : asid & 0xff;
    }
    // Stage 2 and the VMID.
    {
      const vtcr = model.hasEl2 ? sys.lo(R.vtcr) : 0;
      const vttbrLo = model.hasEl2 ? sys.lo(R.vttbr) : 0, vttbrHi = model.hasEl2 ? sys.hi(R.vttbr) : 0;
      decodeStage2(this.walker.stage2, model, vtcr, vttbrLo, vttbrHi);
      const vmid16 = (vtcr & (1 << 19)) !== 0 && model.vmidBits === 16;
      this.vmid = (vttbrHi >>> 16) & (vmid16 ? 0xffff : 0xff);
      this.contextEl10 = TlbKey.ContextEl10 | this.vmid;
      this.walker.stage2Context = TlbKey.ContextStage2 | this.vmid;
    }
  }

  // ---- translation -----------------------------------------------------------------------

  /** Output of translateEl2/translateEl10: the PA of the access as int32 halves. */
  private paLo = 0;
  private paHi = 0;

  /**
   * The slow path of MemoryPort.translate: VA → PA for the current EL, into
   * out[0]; false after raising the fault. Fills the port's fast array on
   * success. (Results travel as int32 halves and through `out`, so nothing
   * is boxed on this path.)
   */
  translateInto(vaLo: number, vaHi: number, access: Access, size: number, out: Float64Array): boolean {
    if (this.dirty) this.refresh();
    const cpu = this.cpu;
    const el = cpu.el;
    const unprivileged = access === Access.ReadUnprivileged || access === Access.WriteUnprivileged;
    const base = access === Access.ReadUnprivileged ? Access.Read : access === Access.WriteUnprivileged ? Access.Write : access;
    const isData = base !== Access.Fetch;
    const unaligned = isData && (vaLo & (size - 1)) !== 0;
    let privileged: boolean, pan: boolean;
    if (el >= 2) {
      privileged = true;
      pan = false;
    } else if (el === 1) {
      // LDTR/STTR at EL1 are checked as EL0 accesses unless PSTATE.UAO is set.
      privileged = !unprivileged || cpu.uao === 1;
      pan = privileged && isData && cpu.pan === 1 && this.hasPan;
    } else {
      privileged = false;
      pan = false;
    }
    const regime = el >= 2 ? this.el2 : this.el10;
    if (this.hcrE2h && (el === 2 ? regime.enabled : el === 0 && this.hcrTge)) {
      cpu.stopRequest = { kind: 'fatal', why: 'HCR_EL2.E2H = 1: the VHE EL2&0 translation regime is not modelled' };
      return false;
    }
    let ok: boolean;
    if (unaligned && regime.alignmentCheck) {
      // SCTLR_ELx.A: the alignment check precedes translation.
      ok = this.setFault(FaultType.Alignment);
    } else if (el >= 2) {
      ok = this.translateEl2(vaLo, vaHi, base, unaligned);
    } else {
      ok = this.translateEl10(vaLo, vaHi, base, privileged, pan, unaligned, el === 0);
    }
    if (!ok) {
      this.raise(vaLo, vaHi, base, false);
      return false;
    }
    const paLo = this.paLo, paHi = this.paHi;
    if (access <= Access.Fetch) this.port.fillFast(el, cpu.pan, access, vaLo, vaHi, paLo & ~0xfff, paHi);
    out[0] = paHi * TWO_32 + (paLo >>> 0);
    return true;
  }

  private readonly scratch = new Float64Array(1);

  /** VA → PA for the current EL, or -1 after raising the fault (TranslationUnit; the port uses translateInto). */
  translate(vaLo: number, vaHi: number, access: Access, size: number): number {
    return this.translateInto(vaLo, vaHi, access, size, this.scratch) ? this.scratch[0]! : -1;
  }

  /** VA → PA for an access at the current EL without side effects (traces, debuggers); -1 when it would fault. */
  probe(vaLo: number, vaHi: number, access: Access): number {
    return this.probeAddress(vaLo, vaHi, access, this.cpu.el);
  }

  /** Records a stage-1 fault at level 0 (alignment, MMU-off address size, VA out of range); returns false. */
  private setFault(type: FaultType): false {
    const f = this.walker.fault;
    f.type = type;
    f.level = 0;
    f.stage2 = false;
    f.s1ptw = false;
    return false;
  }

  /** MMU-off output: the VA must fit in the PA size (AArch64.S1DisabledOutput). */
  private flat(vaLo: number, hi: number): boolean {
    if (bitsAbove(vaLo, hi, this.paBits)) return this.setFault(FaultType.AddressSize);
    this.paLo = vaLo;
    this.paHi = hi;
    return true;
  }

  /** Stage-1 attributes with stage 1 disabled: Device-nGnRnE data, Normal instructions (HCR_EL2.DC: Normal WB). */
  private disabledAttr(r: Stage1Regime, isData: boolean): number {
    if (this.hcrDc && r === this.el10) return ATTR_NORMAL_WB;
    if (isData) return ATTR_DEVICE_nGnRnE;
    return r.icache ? ATTR_NORMAL_WT : ATTR_NORMAL_NC;
  }

  /** A main-TLB entry's translation of the VA into paLo/paHi. */
  private fromTlb(e: number, vaLo: number): true {
    const tlb = this.tlb;
    this.tlbHits++;
    const info = tlb.info[e]!;
    this.lastAttr = (info >>> 8) & 0xff;
    this.lastSh = (info >>> 16) & 3;
    const pa = tlb.pages[e << 1]! + (vaLo & 0xfff);
    this.paLo = pa | 0;
    this.paHi = (pa / TWO_32) | 0;
    return true;
  }

  private translateEl2(vaLo: number, vaHi: number, access: Access, unaligned: boolean): boolean {
    const r = this.el2;
    const p = r.lower;
    const hi = p.tbi ? vaHi & 0x00ffffff : vaHi;
    if (!r.enabled) {
      const attr = this.disabledAttr(r, access !== Access.Fetch);
      this.lastAttr = attr;
      this.lastSh = SH_OUTER;
      if (unaligned && isDevice(attr)) return this.setFault(FaultType.Alignment);
      return this.flat(vaLo, hi);
    }
    // One VA range: VA[top:inputBits] must be zero.
    if (bitsAbove(vaLo, hi, p.inputBits)) return this.setFault(FaultType.Translation);
    const pageLo = vaLo & ~0xfff;
    const tlb = this.tlb;
    const e = tlb.find(pageLo, hi, TlbKey.ContextEl2, TlbKey.Global);
    if (e >= 0 && permits(tlb.info[e]! & 0xff, access, true, false) && !(unaligned && isDevice((tlb.info[e]! >>> 8) & 0xff))) return this.fromTlb(e, vaLo);
    this.walks++;
    const w = this.walker;
    if (!w.walkStage1(r, p, vaLo, hi, access, true, false, unaligned, false, false)) return false;
    if (w.sideEffects) {
      tlb.insert(pageLo, hi, TlbKey.ContextEl2, TlbKey.Global, w.outLo & ~0xfff, w.outHi, 0, -1, w.perm, w.attr, w.sh, w.shift,
        (TlbKey.NoLevel << 4) | w.level, e);
    }
    this.lastAttr = w.attr;
    this.lastSh = w.sh;
    this.paLo = w.outLo;
    this.paHi = w.outHi;
    return true;
  }

  private translateEl10(
    vaLo: number, vaHi: number, access: Access, privileged: boolean, pan: boolean, unaligned: boolean, el0: boolean,
  ): boolean {
    const r = this.el10;
    const w = this.walker;
    const isData = access !== Access.Fetch;
    const upper = (vaHi & 0x00800000) !== 0; // VA[55] selects TTBR1
    const p = upper ? r.upper : r.lower;
    if (!r.enabled || (el0 && this.hcrTge)) {
      // Stage 1 off: IPA = VA, Device data unless HCR_EL2.DC.
      const hi = p.tbi ? vaHi & 0x00ffffff : vaHi;
      const s1Attr = this.disabledAttr(r, isData);
      if (unaligned && isDevice(s1Attr)) return this.setFault(FaultType.Alignment);
      if (!this.flat(vaLo, hi)) return false;
      if (!this.stage2Enabled) {
        this.lastAttr = s1Attr;
        this.lastSh = SH_OUTER;
        return true;
      }
      this.walks++;
      if (!w.translateStage2(vaLo, hi, access, el0, unaligned, false)) return false;
      this.lastAttr = combineAttributes(s1Attr, w.s2Attr);
      this.lastSh = effectiveShareability(this.lastAttr, combineShareability(SH_OUTER, w.s2Sh));
      this.paLo = w.s2OutLo;
      this.paHi = w.s2OutHi;
      return true;
    }
    // VA[63:inputBits] (VA[55:inputBits] with TBI) must all equal VA[55].
    const hi = p.tbi ? (vaHi & 0x00ffffff) | (upper ? 0xff000000 : 0) : vaHi;
    if (upper ? bitsAbove(~vaLo, ~hi, p.inputBits) : bitsAbove(vaLo, hi, p.inputBits)) return this.setFault(FaultType.Translation);
    const pageLo = vaLo & ~0xfff;
    const tlb = this.tlb;
    const context = this.contextEl10;
    const e = tlb.find(pageLo, hi, context, r.asid);
    if (e >= 0 && permits(tlb.info[e]! & 0xff, access, privileged, pan) && !(unaligned && isDevice((tlb.info[e]! >>> 8) & 0xff))) return this.fromTlb(e, vaLo);
    this.walks++;
    const s2 = this.stage2Enabled;
    if (!w.walkStage1(r, p, vaLo, hi, access, privileged, pan, unaligned, s2, el0)) return false;
    let perm = w.perm, attr = w.attr, sh = w.sh, outLo = w.outLo, outHi = w.outHi;
    let midLo = 0, midHi = -1;
    let level = (TlbKey.NoLevel << 4) | w.level;
    const s1Shift = w.shift, global = w.global;
    if (s2) {
      midLo = outLo & ~0xfff;
      midHi = outHi;
      // Through the stage-2 TLB, so that a stale stage-2 entry shows a missing TLBI IPAS2E1 as hardware with an IPA cache would.
      if (!w.translateStage2(outLo, outHi, access, el0, unaligned, false)) return false;
      perm = combinePermissions(perm, w.s2Perm);
      attr = combineAttributes(attr, w.s2Attr);
      sh = combineShareability(sh, w.s2Sh);
      outLo = w.s2OutLo;
      outHi = w.s2OutHi;
      level = (w.s2Level << 4) | (level & 0xf);
    }
    if (w.sideEffects) {
      tlb.insert(pageLo, hi, context, global ? TlbKey.Global : r.asid, outLo & ~0xfff, outHi, midLo, midHi, perm, attr, sh, s1Shift, level, e);
    }
    this.lastAttr = attr;
    this.lastSh = sh;
    this.paLo = outLo;
    this.paHi = outHi;
    return true;
  }

  // ---- faults ---------------------------------------------------------------------------------

  /**
   * Takes the exception for the walker's fault record: stage-2 faults to EL2
   * (HPFAR_EL2 = IPA[47:12] << 4), stage-1 faults to the EL the current EL's
   * synchronous exceptions go to.
   */
  private raise(vaLo: number, vaHi: number, access: Access, addressTranslation: boolean): void {
    const cpu = this.cpu;
    const f = this.walker.fault;
    const fsc = faultStatusCode(f.type, f.level);
    const stage2 = f.stage2, s1ptw = f.s1ptw, ipaLo = f.ipaLo, ipaHi = f.ipaHi;
    const target = stage2 ? 2 : syncTargetEl(cpu);
    const lower = target > cpu.el;
    let ec: number;
    let iss = fsc | (s1ptw ? 1 << 7 : 0);
    if (access === Access.Fetch) {
      ec = lower ? EC.INSN_ABORT_LOWER : EC.INSN_ABORT_SAME;
    } else {
      ec = lower ? EC.DATA_ABORT_LOWER : EC.DATA_ABORT_SAME;
      // AT instructions report CM = 1 and WnR = 1.
      if (addressTranslation) iss |= (1 << 8) | (1 << 6);
      else if (access === Access.Write) iss |= 1 << 6;
      // ISV and the instruction syndrome: only for stage-2 aborts on the access itself, taken to EL2.
      if (stage2 && !s1ptw && target === 2 && !addressTranslation) iss |= this.currentInstructionSyndrome();
    }
    let hpfar: { lo: number; hi: number } | undefined;
    if (stage2) {
      // HPFAR_EL2.FIPA[39:4] = IPA[47:12]. (Architecturally UNKNOWN for some fault kinds; like QEMU we always write it.)
      const pageLo = (ipaLo >>> 12) | (ipaHi << 20);
      const pageHi = (ipaHi & 0xffff) >>> 12;
      hpfar = { lo: pageLo << 4, hi: (pageHi << 4) | (pageLo >>> 28) };
    }
    takeException(cpu, {
      targetEl: target, ec, iss, il: 1, returnLo: cpu.pcLo, returnHi: cpu.pcHi,
      vector: VectorKind.Synchronous, far: { lo: vaLo, hi: vaHi }, hpfar,
    });
  }

  /** ISS[24:14] of the instruction at PC (the one whose access faulted): from its handler, else from its encoding. */
  private currentInstructionSyndrome(): number {
    const cpu = this.cpu;
    if (cpu.port.accessSyndrome !== 0) return cpu.port.accessSyndrome;
    const pa = this.probeAddress(cpu.pcLo, cpu.pcHi, Access.Fetch, cpu.el);
    if (pa < 0) return 0;
    const word = this.memory.read32(pa);
    if (this.memory.lastFault !== 0) return 0;
    return loadStoreSyndrome(word);
  }

  // ---- side-effect-free translation (tools, syndromes) ------------------------------------------

  /**
   * VA → PA as an access of `access` at `el` would translate it, without
   * faults, TLB fills or descriptor updates (the TLB is consulted first, as
   * the access itself would). -1 when it would fault (see walker.fault).
   */
  probeAddress(vaLo: number, vaHi: number, access: Access, el: number): number {
    if (this.dirty) this.refresh();
    const w = this.walker, f = w.fault;
    const saved = w.sideEffects, savedAttr = this.lastAttr, savedSh = this.lastSh;
    const { type, level, stage2, s1ptw, ipaLo, ipaHi } = f;
    w.sideEffects = false;
    try {
      const ok = el >= 2 ? this.translateEl2(vaLo, vaHi, access, false) : this.translateEl10(vaLo, vaHi, access, el === 1, false, false, el === 0);
      return ok ? this.paHi * TWO_32 + (this.paLo >>> 0) : -1;
    } finally {
      w.sideEffects = saved;
      this.lastAttr = savedAttr;
      this.lastSh = savedSh;
      f.type = type; f.level = level; f.stage2 = stage2; f.s1ptw = s1ptw; f.ipaLo = ipaLo; f.ipaHi = ipaHi;
    }
  }

  /** Describes how `va` translates for an access at `el` (default: the current EL), for tools and traces. */
  describe(va: bigint, options: { el?: number; access?: Access } = {}): TranslationInfo | TranslationFaultInfo {
    const el = options.el ?? this.cpu.el;
    const access = options.access ?? Access.Read;
    const lo = Number(va & 0xffffffffn) | 0, hi = Number((va >> 32n) & 0xffffffffn) | 0;
    // Walk (not the TLB) so that levels and intermediate addresses are reported.
    const pa = this.probeWalk(lo, hi, access, el);
    const w = this.walker;
    if (pa < 0) {
      const f = w.fault;
      const info: TranslationFaultInfo = { fault: FAULT_NAMES[f.type] ?? 'translation', level: f.level, stage2: f.stage2, s1ptw: f.s1ptw };
      if (f.stage2) info.ipa = (BigInt(f.ipaHi >>> 0) << 32n) | BigInt(f.ipaLo >>> 0);
      return info;
    }
    return this.probeResult;
  }

  private probeResult: TranslationInfo = { pa: 0n, attr: 0, memoryType: '', sh: 0, shareability: '', perm: 0 };

  /** A full walk without side effects, recording the details in probeResult. */
  private probeWalk(vaLo: number, vaHi: number, access: Access, el: number): number {
    if (this.dirty) this.refresh();
    const w = this.walker;
    const saved = w.sideEffects;
    w.sideEffects = false;
    try {
      const res = this.fullWalk(vaLo, vaHi, access, el >= 2 ? 2 : el, el !== 0, false, el >= 2 ? false : this.stage2Enabled);
      if (!res) return -1;
      const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      const info: TranslationInfo = {
        pa: big(this.walkOutLo, this.walkOutHi), attr: this.walkAttr, memoryType: describeAttribute(this.walkAttr),
        sh: this.walkSh, shareability: describeShareability(this.walkSh), perm: this.walkPerm,
      };
      if (this.walkIpaValid) info.ipa = big(this.walkIpaLo, this.walkIpaHi);
      if (this.walkLevel !== TlbKey.NoLevel) info.level = this.walkLevel;
      if (this.walkS2Level !== TlbKey.NoLevel) info.stage2Level = this.walkS2Level;
      this.probeResult = info;
      return 0;
    } finally {
      w.sideEffects = saved;
    }
  }

  // Results of fullWalk.
  private walkOutLo = 0;
  private walkOutHi = 0;
  private walkIpaLo = 0;
  private walkIpaHi = 0;
  private walkIpaValid = false;
  private walkAttr = 0;
  private walkSh = 0;
  private walkPerm = 0;
  private walkLevel = TlbKey.NoLevel;
  private walkS2Level = TlbKey.NoLevel;

  /**
   * A translation by walking the tables without the main TLB (AT, tools):
   * regime 2 = EL2, else EL1&0 with `privileged` meaning EL1 permissions.
   * `withStage2` applies stage 2 to the output; stage 2 always applies to
   * the stage-1 table addresses when it is enabled. Returns false with the
   * walker's fault record set.
   */
  private fullWalk(
    vaLo: number, vaHi: number, access: Access, regimeEl: number, privileged: boolean, pan: boolean, withStage2: boolean,
  ): boolean {
    const w = this.walker;
    const r = regimeEl === 2 ? this.el2 : this.el10;
    const isData = access !== Access.Fetch;
    const el0 = regimeEl !== 2 && !privileged;
    const upper = r.twoRanges && (vaHi & 0x00800000) !== 0;
    const p = upper ? r.upper : r.lower;
    this.walkIpaValid = false;
    this.walkLevel = TlbKey.NoLevel;
    this.walkS2Level = TlbKey.NoLevel;
    let outLo: number, outHi: number, attr: number, sh: number, perm: number;
    if (!r.enabled || (el0 && this.hcrTge && r === this.el10)) {
      const hi = p.tbi ? vaHi & 0x00ffffff : vaHi;
      if (!this.flat(vaLo, hi)) return false;
      outLo = vaLo;
      outHi = hi;
      attr = this.disabledAttr(r, isData);
      sh = SH_OUTER;
      perm = Perm.All;
    } else {
      let hi: number;
      if (r.twoRanges) {
        hi = p.tbi ? (vaHi & 0x00ffffff) | (upper ? 0xff000000 : 0) : vaHi;
        if (upper ? bitsAbove(~vaLo, ~hi, p.inputBits) : bitsAbove(vaLo, hi, p.inputBits)) return this.setFault(FaultType.Translation);
      } else {
        hi = p.tbi ? vaHi & 0x00ffffff : vaHi;
        if (bitsAbove(vaLo, hi, p.inputBits)) return this.setFault(FaultType.Translation);
      }
      const s2Tables = regimeEl !== 2 && this.stage2Enabled;
      if (!w.walkStage1(r, p, vaLo, hi, access, privileged, pan, false, s2Tables, el0)) return false;
      outLo = w.outLo;
      outHi = w.outHi;
      attr = w.attr;
      sh = w.sh;
      perm = w.perm;
      this.walkLevel = w.level;
    }
    if (withStage2 && regimeEl !== 2 && this.stage2Enabled) {
      this.walkIpaLo = outLo;
      this.walkIpaHi = outHi;
      this.walkIpaValid = true;
      if (!w.walkStage2(outLo, outHi, access, el0, false, false)) return false;
      outLo = w.s2OutLo;
      outHi = w.s2OutHi;
      attr = combineAttributes(attr, w.s2Attr);
      sh = combineShareability(sh, w.s2Sh);
      perm = combinePermissions(perm, w.s2Perm);
      this.walkS2Level = w.s2Level;
    }
    this.walkOutLo = outLo;
    this.walkOutHi = outHi;
    this.walkAttr = attr;
    this.walkSh = effectiveShareability(attr, sh);
    this.walkPerm = perm;
    return true;
  }

  // ---- AT ---------------------------------------------------------------------------------------

  /**
   * AT S1E1R/W, S1E1RP/WP, S1E0R/W, S1E2R/W, S12E1R/W, S12E0R/W: translate
   * and write PAR_EL1. A stage-2 fault on the stage-1 walk of an AT S1E0x
   * or S1E1x executed at EL1 is taken to EL2 as a Data Abort (CM = 1)
   * instead of being reported in PAR_EL1.
   */
  addressTranslate(op: string, vaLo: number, vaHi: number): void {
    if (this.dirty) this.refresh();
    const m = /^s(12|1)e([012])(r|w)(p?)$/.exec(op);
    if (!m) return;
    const stage12 = m[1] === '12';
    const regimeEl = m[2] === '2' ? 2 : 1;
    const privileged = m[2] !== '0';
    const access = m[3] === 'w' ? Access.Write : Access.Read;
    const pan = m[4] === 'p' && this.hasPan && this.cpu.pan === 1;
    const withStage2 = stage12 && regimeEl === 1 && this.stage2Enabled;
    const ok = this.fullWalk(vaLo, vaHi, access, regimeEl, privileged, pan, withStage2);
    const f = this.walker.fault;
    if (!ok && f.s1ptw && this.cpu.el === 1) {
      this.raise(vaLo, vaHi, access, true);
      return;
    }
    let lo: number, hi: number;
    if (ok) {
      // PAR_EL1 success: PA[47:12], ATTR, SH; bit 9 (NS) as QEMU sets it (UNKNOWN in a Non-secure regime), bit 11 RES1.
      lo = (this.walkOutLo & ~0xfff) | (this.walkSh << 7) | (1 << 9) | (1 << 11);
      hi = (this.walkOutHi & 0xffff) | (this.walkAttr << 24);
    } else {
      // PAR_EL1 fault: F, FST, PTW (stage-2 fault on the stage-1 walk), S (stage-2 fault), bit 11 RES1.
      lo = 1 | (faultStatusCode(f.type, f.level) << 1) | (f.s1ptw ? 1 << 8 : 0) | (f.stage2 ? 1 << 9 : 0) | (1 << 11);
      hi = 0;
    }
    this.cpu.sys.set(R.par, lo, hi);
  }

  // ---- TLBI -------------------------------------------------------------------------------------

  /**
   * TLB maintenance by operation name. On one PE the Inner/Outer Shareable
   * forms act as the local ones. Each form invalidates what the Arm ARM says
   * it must (and the fast arrays entirely, which only costs refills):
   * stage-1 (and combined) entries of the EL1&0 regime for the current VMID
   * by VA/ASID, all of them (VMALLE1), both stages (VMALLS12E1), all VMIDs
   * (ALLE1), stage-2 entries by IPA (IPAS2E1), the EL2 regime (ALLE2, VAE2).
   * Last-level forms act as the all-level ones (there are no walk caches).
   */
  tlbi(op: string, xtLo: number, xtHi: number): void {
    if (this.dirty) this.refresh();
    const name = /\d(is|os)$/.test(op) ? op.slice(0, -2) : op;
    const tlb = this.tlb, s2 = this.stage2Tlb;
    const el10 = this.contextEl10;
    // Xt[43:0] = VA[55:12] (by VA), Xt[35:0] = IPA[47:12] (by IPA), Xt[63:48] = ASID.
    const addrLo = xtLo << 12;
    const vaHi = ((xtLo >>> 20) | (xtHi << 12)) & 0x00ffffff;
    const ipaHi = vaHi & 0xffff;
    const asid = this.el10.asid16 ? xtHi >>> 16 : (xtHi >>> 16) & 0xff;
    switch (name) {
      case 'alle2':
        tlb.invalidateContext(TlbKey.ContextEl2, -1);
        break;
      case 'vae2': case 'vale2':
        tlb.invalidateAddress(TlbKey.ContextEl2, addrLo, vaHi, 24, TlbKey.Global);
        break;
      case 'alle1':
        tlb.invalidateContext(TlbKey.ContextEl10, -1);
        s2.invalidateContext(TlbKey.ContextStage2, -1);
        break;
      case 'vmalle1':
        tlb.invalidateContext(TlbKey.ContextEl10, this.vmid);
        break;
      case 'vmalls12e1':
        tlb.invalidateContext(TlbKey.ContextEl10, this.vmid);
        s2.invalidateContext(TlbKey.ContextStage2, this.vmid);
        break;
      case 'ipas2e1': case 'ipas2le1':
        s2.invalidateAddress(TlbKey.ContextStage2 | this.vmid, addrLo, ipaHi, 16, TlbKey.Global);
        break;
      case 'vae1': case 'vale1':
        tlb.invalidateAddress(el10, addrLo, vaHi, 24, asid);
        break;
      case 'aside1':
        tlb.invalidateAsid(el10, asid);
        break;
      case 'vaae1': case 'vaale1':
        tlb.invalidateAddress(el10, addrLo, vaHi, 24, TlbKey.Global);
        break;
      case 'rvae1': case 'rvale1': case 'rvaae1': case 'rvaale1': case 'rvae2': case 'rvale2': case 'ripas2e1': case 'ripas2le1': {
        const range = rangeOperand(xtLo, xtHi);
        if (name === 'ripas2e1' || name === 'ripas2le1') {
          if (range) s2.invalidateRange(TlbKey.ContextStage2 | this.vmid, range.start, range.end, 16, TlbKey.Global);
          else s2.invalidateContext(TlbKey.ContextStage2, this.vmid);
        } else {
          const context = name.endsWith('2') ? TlbKey.ContextEl2 : el10;
          const byAsid = name === 'rvae1' || name === 'rvale1' ? asid : TlbKey.Global;
          if (range) tlb.invalidateRange(context, range.start, range.end, 16, byAsid);
          else if (context === TlbKey.ContextEl2) tlb.invalidateContext(TlbKey.ContextEl2, -1);
          else tlb.invalidateContext(TlbKey.ContextEl10, this.vmid);
        }
        break;
      }
      default:
        // EL3 and RME operations: nothing cached for them on this PE.
        break;
    }
    this.walker.flushWalkCaches();
    this.port.flushFast();
    this.cpu.fetchStale = true;
  }
}

/**
 * The address range of a range TLBI operand (FEAT_TLBIRANGE): TG[47:46],
 * SCALE[45:44], NUM[43:39], BaseADDR[36:0] in granules; compared on
 * address bits [47:0]. Undefined for TG = 0 (reserved: the caller then
 * invalidates more).
 */
function rangeOperand(xtLo: number, xtHi: number): { start: number; end: number } | undefined {
  const tg = (xtHi >>> 14) & 3;
  if (tg === 0) return undefined;
  const granuleBits = tg === 1 ? 12 : tg === 2 ? 14 : 16;
  const scale = (xtHi >>> 12) & 3;
  const num = ((xtHi >>> 7) & 0x1f);
  const baseGranules = (xtHi & 0x1f) * TWO_32 + (xtLo >>> 0); // BaseADDR[36:0]
  const start = (baseGranules * 2 ** granuleBits) % 2 ** 48;
  const pages = (num + 1) * 2 ** (5 * scale + 1);
  return { start, end: start + pages * 2 ** granuleBits };
}

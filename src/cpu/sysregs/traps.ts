/**
 * Access rules for MRS/MSR and the SYS instructions, as the Arm ARM's
 * per-register pseudocode states them: UNDEFINED below the register's lowest
 * EL, for writes of read-only and reads of write-only registers; traps to EL1
 * by EL1 controls of EL0 accesses (SCTLR_EL1.UCT/UMA, CNTKCTL_EL1,
 * PMUSERENR_EL0, MDSCR_EL1.TDCC, CPACR_EL1.FPEN), then traps to EL2 from EL0/EL1
 * (HCR_EL2.TVM/TRVM/TACR/TID1-3/TIDCP/TLOR/TERR, CPTR_EL2.TCPAC/TFP,
 * MDCR_EL2.TPM/TPMCR/TDA/TDOSA/TDRA/TDE, CNTHCTL_EL2.EL1PCTEN/EL1PCEN).
 * A trapped access is AArch64.SystemAccessTrap: EC 0x18 with the MRS/MSR ISS
 * (Op0, Op2, Op1, CRn, Rt, CRm, Direction) and the instruction as the return
 * address. HSTR_EL2 only traps AArch32 and has no effect here.
 *
 * EL2 is implemented without EL3, so EL2Enabled() is "the model has EL2".
 * HCR_EL2.E2H (VHE) register redirection is not modelled.
 */
import type { Cpu } from '../cpu.js';
import { EC, takeException, undefinedInstruction, VectorKind } from '../exceptions.js';
import { SYSREG_DEFS, TRAP } from './definitions.js';
import { sysregId } from './system-registers.js';
import { sysregName } from '../../isa/sysreg-names.js';

const HCR_EL2 = sysregId('hcr_el2');
const SCTLR_EL1 = sysregId('sctlr_el1');
const CPTR_EL2 = sysregId('cptr_el2');
const CPACR_EL1 = sysregId('cpacr_el1');
const MDCR_EL2 = sysregId('mdcr_el2');
const MDSCR_EL1 = sysregId('mdscr_el1');
const CNTKCTL_EL1 = sysregId('cntkctl_el1');
const CNTHCTL_EL2 = sysregId('cnthctl_el2');
const PMUSERENR_EL0 = sysregId('pmuserenr_el0');

/** HCR_EL2 bits (low half unless noted). */
export const HCR = {
  VM: 1 << 0, FMO: 1 << 3, IMO: 1 << 4, AMO: 1 << 5, TWI: 1 << 13, TWE: 1 << 14, TID1: 1 << 16, TID2: 1 << 17,
  TID3: 1 << 18, TSC: 1 << 19, TIDCP: 1 << 20, TACR: 1 << 21, TSW: 1 << 22, TPCP: 1 << 23, TPU: 1 << 24,
  TTLB: 1 << 25, TVM: 1 << 26, TGE: 1 << 27, TDZ: 1 << 28, HCD: 1 << 29, TRVM: 1 << 30, RW: 1 << 31,
  /** Upper-half bits. */
  HI_E2H: 1 << 2, HI_TLOR: 1 << 3, HI_TERR: 1 << 4,
} as const;

/** MDCR_EL2 bits. */
const MDCR = { TPMCR: 1 << 5, TPM: 1 << 6, TDE: 1 << 8, TDA: 1 << 9, TDOSA: 1 << 10, TDRA: 1 << 11 } as const;

/** EL2Enabled(): EL2 is implemented and (without EL3) always in Non-secure state. */
export const el2Enabled = (cpu: Cpu): boolean => cpu.model.hasEl2;

/** HCR_EL2 low half as EL0/EL1 see it (0 when EL2 is absent). */
export const hcrLo = (cpu: Cpu): number => (cpu.model.hasEl2 ? cpu.sys.lo(HCR_EL2) : 0);
export const hcrHi = (cpu: Cpu): number => (cpu.model.hasEl2 ? cpu.sys.hi(HCR_EL2) : 0);

/** ISS of a trapped MRS/MSR/SYS/SYSL, from the instruction word: Op0, Op2, Op1, CRn, Rt, CRm, Direction. */
export function systemAccessIss(word: number): number {
  const op0 = (word >>> 19) & 3, op1 = (word >>> 16) & 7, crn = (word >>> 12) & 15;
  const crm = (word >>> 8) & 15, op2 = (word >>> 5) & 7, rt = word & 31, read = (word >>> 21) & 1;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read;
}

/** AArch64.SystemAccessTrap(target_el, ec): the preferred return address is the trapped instruction. */
export function systemAccessTrap(cpu: Cpu, targetEl: number, ec: number, iss: number): void {
  takeException(cpu, {
    targetEl, ec, iss, il: 1, returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
}

/** A trap an EL1 control raises for an EL0 access: taken to EL2 instead when HCR_EL2.TGE is 1. */
export function trapFromEl0(cpu: Cpu, ec: number, iss: number): void {
  systemAccessTrap(cpu, (hcrLo(cpu) & HCR.TGE) !== 0 ? 2 : 1, ec, iss);
}

/** Reports an UNDEFINED system instruction (with what it names) and takes the exception. */
export function undefinedSystem(cpu: Cpu, word: number, what: string): void {
  cpu.onUndefined?.(word, what);
  undefinedInstruction(cpu);
}

/** Name of the register an MRS/MSR word accesses, for reports. */
export function accessName(word: number): string {
  const enc = (word >>> 5) & 0xffff;
  return `${(word >>> 21) & 1 ? 'mrs' : 'msr'} ${sysregName(enc)} (0x${(word >>> 0).toString(16).padStart(8, '0')})`;
}

// ---- FP/SIMD --------------------------------------------------------------------------------------------

/** ISS of an FP/SIMD access trap from AArch64 (as QEMU reports it): CV = 1, COND = 0b1110. */
const FP_TRAP_ISS = 0x1e << 20;

/**
 * AArch64.CheckFPAdvSIMDEnabled: CPACR_EL1.FPEN at EL0/EL1 (EC 0x07 to EL1;
 * with HCR_EL2.TGE an EL0 trap goes to EL2 as EC 0x00), then
 * AArch64.CheckFPAdvSIMDTrap: CPTR_EL2.TFP at EL0..EL2 (CPTR_EL2.FPEN when
 * HCR_EL2.E2H is 1) with EC 0x07 to EL2. Returns false after taking the
 * exception.
 */
export function checkFpAccess(cpu: Cpu): boolean {
  const el = cpu.el;
  if (el === 3) return true;
  const sys = cpu.sys;
  const hcr = hcrLo(cpu);
  const tge = (hcr & HCR.TGE) !== 0;
  const e2h = cpu.model.features.vhe && (hcrHi(cpu) & HCR.HI_E2H) !== 0;
  // CPACR_EL1 applies at EL0/EL1, except to EL0 in the EL2&0 host regime (E2H and TGE).
  if (el <= 1 && !(el === 0 && e2h && tge)) {
    const fpen = (sys.lo(CPACR_EL1) >>> 20) & 3;
    if (fpen === 0 || fpen === 2 || (fpen === 1 && el === 0)) {
      if (el === 0 && tge) {
        takeException(cpu, { targetEl: 2, ec: EC.UNKNOWN, iss: 0, il: 1, returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous });
      } else {
        systemAccessTrap(cpu, 1, EC.FP_ACCESS, FP_TRAP_ISS);
      }
      return false;
    }
  }
  if (!el2Enabled(cpu)) return true;
  const cptr = sys.lo(CPTR_EL2);
  let disabled: boolean;
  if (e2h) {
    const fpen = (cptr >>> 20) & 3;
    disabled = fpen === 0 || fpen === 2 || (fpen === 1 && el === 0 && tge);
  } else {
    disabled = (cptr & (1 << 10)) !== 0;
  }
  if (disabled) {
    systemAccessTrap(cpu, 2, EC.FP_ACCESS, FP_TRAP_ISS);
    return false;
  }
  return true;
}

// ---- MRS / MSR ----------------------------------------------------------------------------------------------

/** Registers with no trap or special rule skip everything after the EL and direction checks. */
const TRAPS = Int32Array.from(SYSREG_DEFS, (d) => d.traps);
const MIN_EL = Int8Array.from(SYSREG_DEFS, (d) => d.minEl);
/** 1 = read-only, 2 = write-only, 4 = read-only at EL0. */
const DIRECTION = Int8Array.from(SYSREG_DEFS, (d) => (d.readOnly ? 1 : 0) | (d.writeOnly ? 2 : 0) | (d.el0ReadOnly ? 4 : 0));

/**
 * Checks an MRS (`read`) or MSR of register `id` by the instruction `word` at
 * the current EL. Returns true when the access may proceed; otherwise the
 * UNDEFINED exception or the trap has been taken.
 */
export function sysregAccess(cpu: Cpu, id: number, read: boolean, word: number): boolean {
  const el = cpu.el;
  const dir = DIRECTION[id]!;
  if (el < MIN_EL[id]! || (read ? (dir & 2) !== 0 : (dir & 1) !== 0 || (el === 0 && (dir & 4) !== 0))) {
    undefinedSystem(cpu, word, `${accessName(word)}: ${el < MIN_EL[id]! ? `not accessible at EL${el}` : read ? 'write-only' : 'read-only'}`);
    return false;
  }
  const t = TRAPS[id]!;
  if (t === 0 || el >= 2) {
    if (el === 2 && (t & (TRAP.FP | TRAP.SP_EL0)) !== 0) return specialRules(cpu, t, word);
    return true;
  }
  return lowerElRules(cpu, id, t, read, word);
}

/** The rules that also apply at EL2: SP_EL0 as the current SP, FP access. */
function specialRules(cpu: Cpu, t: number, word: number): boolean {
  if ((t & TRAP.SP_EL0) !== 0 && cpu.spsel === 0) {
    undefinedSystem(cpu, word, `${accessName(word)}: SP_EL0 is the current stack pointer`);
    return false;
  }
  if ((t & TRAP.FP) !== 0) return checkFpAccess(cpu);
  return true;
}

function lowerElRules(cpu: Cpu, id: number, t: number, read: boolean, word: number): boolean {
  const el = cpu.el;
  const sys = cpu.sys;
  const hcr = hcrLo(cpu);
  const iss = systemAccessIss(word);
  if ((t & (TRAP.FP | TRAP.SP_EL0)) !== 0 && !specialRules(cpu, t, word)) return false;

  // EL1 controls of EL0 accesses (EL2 instead when HCR_EL2.TGE routes EL0 exceptions there).
  if (el === 0) {
    const sctlr = sys.lo(SCTLR_EL1);
    const cntkctl = sys.lo(CNTKCTL_EL1);
    let trap = false;
    if ((t & TRAP.UCT) !== 0 && (sctlr & (1 << 15)) === 0) trap = true;
    else if ((t & TRAP.UMA) !== 0 && (sctlr & (1 << 9)) === 0) trap = true;
    else if ((t & TRAP.CNT_PCT) !== 0 && (cntkctl & 1) === 0) trap = true;
    else if ((t & TRAP.CNT_VCT) !== 0 && (cntkctl & 2) === 0) trap = true;
    else if ((t & TRAP.CNT_P) !== 0 && (cntkctl & (1 << 9)) === 0) trap = true;
    else if ((t & TRAP.CNT_V) !== 0 && (cntkctl & (1 << 8)) === 0) trap = true;
    else if ((t & TRAP.CNTFRQ) !== 0 && (cntkctl & 3) === 0) trap = true;
    else if ((t & TRAP.DCC) !== 0 && (sys.lo(MDSCR_EL1) & (1 << 12)) !== 0) trap = true;
    else if ((t & TRAP.PMU) !== 0 && id !== PMUSERENR_EL0 && (sys.lo(PMUSERENR_EL0) & 1) === 0) trap = true;
    if (trap) {
      trapFromEl0(cpu, EC.SYSREG, iss);
      return false;
    }
    // EL0 reaches these only through the EL0-accessible ones above; the EL1-only classes were UNDEFINED already.
  }

  if (!el2Enabled(cpu)) return true;
  const cnthctl = sys.lo(CNTHCTL_EL2);
  const mdcr = sys.lo(MDCR_EL2);
  const tde = (mdcr & MDCR.TDE) !== 0;
  let toEl2 = false;
  if ((t & TRAP.TID2) !== 0 && (hcr & HCR.TID2) !== 0) toEl2 = true;
  else if ((t & TRAP.CNT_PCT) !== 0 && (cnthctl & 1) === 0) toEl2 = true;
  else if ((t & TRAP.CNT_P) !== 0 && (cnthctl & 2) === 0) toEl2 = true;
  else if ((t & TRAP.PMU) !== 0 && ((mdcr & MDCR.TPM) !== 0 || ((t & TRAP.PMCR) !== 0 && (mdcr & MDCR.TPMCR) !== 0))) toEl2 = true;
  else if ((t & TRAP.DEBUG) !== 0 && ((mdcr & MDCR.TDA) !== 0 || tde)) toEl2 = true;
  else if ((t & TRAP.DEBUG_OS) !== 0 && ((mdcr & MDCR.TDOSA) !== 0 || tde)) toEl2 = true;
  else if ((t & TRAP.DEBUG_ROM) !== 0 && ((mdcr & MDCR.TDRA) !== 0 || tde)) toEl2 = true;
  else if (el === 1) {
    if ((t & TRAP.TVM) !== 0 && (hcr & (read ? HCR.TRVM : HCR.TVM)) !== 0) toEl2 = true;
    else if ((t & TRAP.TACR) !== 0 && (hcr & HCR.TACR) !== 0) toEl2 = true;
    else if ((t & TRAP.TID1) !== 0 && read && (hcr & HCR.TID1) !== 0) toEl2 = true;
    else if ((t & TRAP.TID3) !== 0 && read && (hcr & HCR.TID3) !== 0) toEl2 = true;
    else if ((t & TRAP.TCPAC) !== 0 && (sys.lo(CPTR_EL2) & (1 << 31)) !== 0) toEl2 = true;
    else if ((t & TRAP.TLOR) !== 0 && (hcrHi(cpu) & HCR.HI_TLOR) !== 0) toEl2 = true;
    else if ((t & TRAP.TERR) !== 0 && (hcrHi(cpu) & HCR.HI_TERR) !== 0) toEl2 = true;
    else if ((t & TRAP.TIDCP) !== 0 && (hcr & HCR.TIDCP) !== 0) toEl2 = true;
  }
  if (toEl2) {
    systemAccessTrap(cpu, 2, EC.SYSREG, iss);
    return false;
  }
  return true;
}

/**
 * An encoding in the IMPLEMENTATION DEFINED space (op0 = 3, CRn = 11 or 15)
 * that the model does not implement: trapped to EL2 from EL1 by
 * HCR_EL2.TIDCP, else UNDEFINED. (QEMU 7.2 does not implement TIDCP.)
 */
export function impdefAccess(cpu: Cpu, word: number): void {
  if (cpu.el === 1 && (hcrLo(cpu) & HCR.TIDCP) !== 0) {
    systemAccessTrap(cpu, 2, EC.SYSREG, systemAccessIss(word));
    return;
  }
  undefinedSystem(cpu, word, `${accessName(word)}: IMPLEMENTATION DEFINED register not implemented`);
}

/** True for encodings of the IMPLEMENTATION DEFINED register space. */
export const isImpdefEncoding = (enc: number): boolean => (enc >>> 14) === 3 && (((enc >>> 7) & 15) === 11 || ((enc >>> 7) & 15) === 15);

/** True for the reserved encodings of the ID register space (RAZ): op0=3, op1=0, CRn=0, CRm=1..7. */
export const isReservedIdEncoding = (enc: number): boolean =>
  (enc >>> 11) === 0b11000 && ((enc >>> 7) & 15) === 0 && ((enc >>> 3) & 15) >= 1 && ((enc >>> 3) & 15) <= 7;

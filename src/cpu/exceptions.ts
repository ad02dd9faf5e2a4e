/**
 * Exception entry and return, following the Arm ARM's AArch64.TakeException
 * and AArch64.ExceptionReturn: target EL, SPSR/ELR/ESR/FAR, vector offset
 * from VBAR_ELx, PSTATE on entry, and the illegal-return checks.
 */
import type { Cpu } from './cpu.js';
import { sysregId } from './sysregs/system-registers.js';

/** ESR_ELx.EC values. */
export const EC = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  FP_ACCESS: 0x07,
  BTI: 0x0d,
  ILLEGAL_STATE: 0x0e,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  PAC: 0x1c,
  INSN_ABORT_LOWER: 0x20,
  INSN_ABORT_SAME: 0x21,
  PC_ALIGN: 0x22,
  DATA_ABORT_LOWER: 0x24,
  DATA_ABORT_SAME: 0x25,
  SP_ALIGN: 0x26,
  FP_EXC64: 0x2c,
  SERROR: 0x2f,
  BREAKPOINT_LOWER: 0x30,
  BREAKPOINT_SAME: 0x31,
  SOFTWARE_STEP_LOWER: 0x32,
  SOFTWARE_STEP_SAME: 0x33,
  WATCHPOINT_LOWER: 0x34,
  WATCHPOINT_SAME: 0x35,
  BRK64: 0x3c,
} as const;

export const enum VectorKind {
  Synchronous = 0x000,
  Irq = 0x080,
  Fiq = 0x100,
  SError = 0x180,
}

const ids = {
  elr: [-1, sysregId('elr_el1'), sysregId('elr_el2')],
  spsr: [-1, sysregId('spsr_el1'), sysregId('spsr_el2')],
  esr: [-1, sysregId('esr_el1'), sysregId('esr_el2')],
  far: [-1, sysregId('far_el1'), sysregId('far_el2')],
  vbar: [-1, sysregId('vbar_el1'), sysregId('vbar_el2')],
  sctlr: [-1, sysregId('sctlr_el1'), sysregId('sctlr_el2')],
  hcr: sysregId('hcr_el2'),
  hpfar: sysregId('hpfar_el2'),
};

/** Observers of exception entry and return (traces, hooks); called after the state change. */
export interface ExceptionEvent {
  kind: 'exception' | 'eret' | 'illegal-eret';
  fromEl: number;
  toEl: number;
  ec: number;
  esrLo: number;
  vector: number;
}

export interface ExceptionInfo {
  targetEl: number;
  ec: number;
  iss: number;
  /** Instruction length bit (IL): 1 for a 32-bit instruction, which is every A64 instruction except where the architecture says 0. */
  il: number;
  /** Preferred return address (the faulting instruction, or the next one for SVC/HVC/SMC). */
  returnLo: number;
  returnHi: number;
  vector: VectorKind;
  /** Fault address for aborts and alignment faults. */
  far?: { lo: number; hi: number };
  /** Faulting IPA page for stage-2 aborts: HPFAR_EL2 value. */
  hpfar?: { lo: number; hi: number };
}

/** The EL a synchronous exception from the current EL is taken to (routing with HCR_EL2.TGE). */
export function syncTargetEl(cpu: Cpu): number {
  if (cpu.el > 1) return cpu.el;
  if (cpu.el === 0 && cpu.model.hasEl2 && (cpu.sys.lo(ids.hcr) & (1 << 27)) !== 0) return 2;
  return 1;
}

export function takeException(cpu: Cpu, info: ExceptionInfo): void {
  const from = cpu.el;
  const target = info.targetEl;
  let offset: number;
  if (target > from) offset = 0x400; // lower EL using AArch64
  else if (cpu.spsel) offset = 0x200; // current EL with SP_ELx
  else offset = 0x000; // current EL with SP_EL0
  offset += info.vector;

  const sys = cpu.sys;
  sys.set(ids.spsr[target]!, cpu.spsrValue() | 0, 0);
  sys.set(ids.elr[target]!, info.returnLo, info.returnHi);
  if (info.vector === VectorKind.Synchronous || info.vector === VectorKind.SError) {
    sys.set(ids.esr[target]!, ((info.ec << 26) | (info.il << 25) | (info.iss & 0x1ffffff)) | 0, 0);
  }
  if (info.far) sys.set(ids.far[target]!, info.far.lo, info.far.hi);
  if (info.hpfar && target === 2) sys.set(ids.hpfar, info.hpfar.lo, info.hpfar.hi);

  // PSTATE on entry (AArch64.TakeException): target EL with SP_ELx, DAIF masked, SS/IL/BTYPE/UAO cleared,
  // PAN set on entry to EL1 when SCTLR_EL1.SPAN is 0, SSBS from SCTLR_ELx.DSSBS. NZCV are kept (QEMU 7.2 clears them).
  cpu.el = target;
  cpu.spsel = 1;
  cpu.daif = 0xf;
  cpu.ss = 0;
  cpu.il = 0;
  cpu.btype = 0;
  cpu.uao = 0;
  const sctlrLo = sys.lo(ids.sctlr[target]!);
  if (cpu.model.features.pan && target === 1 && (sctlrLo & (1 << 23)) === 0) cpu.pan = 1;
  if (cpu.model.features.ssbs) cpu.ssbs = (sys.hi(ids.sctlr[target]!) >>> 12) & 1;
  cpu.syncStackPointer();

  const vbarLo = sys.lo(ids.vbar[target]!);
  const vbarHi = sys.hi(ids.vbar[target]!);
  const t = (vbarLo >>> 0) + offset;
  cpu.pcLo = t | 0;
  cpu.pcHi = (vbarHi + (t > 0xffffffff ? 1 : 0)) | 0;
  cpu.branched = true;
  cpu.fetchStale = true;
  cpu.exclusiveAddress = -1;
  cpu.onException?.({ kind: 'exception', fromEl: from, toEl: target, ec: info.ec, esrLo: sys.lo(ids.esr[target]!), vector: offset });
}

/**
 * IllegalExceptionReturn(spsr) for an AArch64 PE without EL3: an unimplemented
 * or higher target EL, SPSR.M[1] set, EL0 with M[0] set, a register width
 * that differs from the target EL's (HCR_EL2.RW decides EL1 and EL0), or EL1
 * while HCR_EL2.TGE is 1.
 */
export function illegalExceptionReturn(cpu: Cpu, spsr: number): boolean {
  const from = cpu.el;
  const aarch32 = ((spsr >>> 4) & 1) === 1;
  const hasEl2 = cpu.model.hasEl2;
  const hcrLo = hasEl2 ? cpu.sys.lo(ids.hcr) : 0;
  const hcrHi = hasEl2 ? cpu.sys.hi(ids.hcr) : 0;
  // HCR_EL2.RW == 0 puts EL1 (and so EL0) in AArch32, except in the EL2&0 host regime (E2H and TGE).
  const hostRegime = cpu.model.features.vhe && (hcrHi & 4) !== 0 && (hcrLo & (1 << 27)) !== 0;
  const el1Aarch32 = hasEl2 && (hcrLo & (1 << 31)) === 0 && !hostRegime;
  let target: number;
  if (aarch32) {
    // AArch32 modes: User (0x10) is EL0; FIQ/IRQ/SVC/ABT/UND/SYS are EL1; HYP (0x1a) is EL2.
    const m = spsr & 0x1f;
    if (m === 0x10) target = 0;
    else if (m === 0x11 || m === 0x12 || m === 0x13 || m === 0x17 || m === 0x1b || m === 0x1f) target = 1;
    else if (m === 0x1a) target = 2;
    else return true;
    // Only EL0 and EL1 can run AArch32, and only when EL1 is configured for it (EL0 alone when EL1 is AArch64 is allowed).
    if (target === 2) return true;
    if (target === 1 && !(cpu.model.features.aarch32El1 && el1Aarch32)) return true;
  } else {
    if (((spsr >>> 1) & 1) === 1) return true; // M[1] is reserved
    target = (spsr >>> 2) & 3;
    if (target === 0 && (spsr & 1) === 1) return true; // EL0 has no SP_EL0/SP_ELx choice
    if (target === 3 || (target === 2 && !hasEl2)) return true; // not implemented
    if (target === 1 && el1Aarch32) return true; // EL1 is AArch32
    if (target === 0 && el1Aarch32) return true; // EL0 is AArch32 when EL1 is
  }
  if (target > from) return true;
  if (hasEl2 && target === 1 && (hcrLo & (1 << 27)) !== 0) return true;
  return false;
}

/**
 * ERET (AArch64.ExceptionReturn with SPSR_ELx and ELR_ELx): restores PSTATE
 * from the SPSR and branches to the ELR. An illegal return keeps EL, SP and
 * the other PSTATE bits (UNKNOWN in the architecture; QEMU keeps them too),
 * restores NZCV, DAIF and PAN, and sets PSTATE.IL so that the next
 * instruction takes an Illegal Execution state exception.
 */
export function exceptionReturn(cpu: Cpu): void {
  const from = cpu.el;
  const sys = cpu.sys;
  const spsr = sys.lo(ids.spsr[from]!) >>> 0;
  const elrLo = sys.lo(ids.elr[from]!);
  const elrHi = sys.hi(ids.elr[from]!);
  const illegal = illegalExceptionReturn(cpu, spsr);
  // State restored whether or not the return is legal.
  cpu.nf = (spsr >>> 31) & 1; cpu.zf = (spsr >>> 30) & 1; cpu.cf = (spsr >>> 29) & 1; cpu.vf = (spsr >>> 28) & 1;
  cpu.daif = (spsr >>> 6) & 0xf;
  if (cpu.model.features.pan) cpu.pan = (spsr >>> 22) & 1;
  // Software step is not implemented: DebugExceptionReturnSS gives 0 while MDSCR_EL1.SS is not in use.
  cpu.ss = 0;
  if (illegal) {
    cpu.il = 1;
  } else if (((spsr >>> 4) & 1) === 1) {
    cpu.stopRequest = { kind: 'fatal', why: `exception return to AArch32 (SPSR 0x${spsr.toString(16)}) is not supported` };
  } else {
    cpu.il = (spsr >>> 20) & 1;
    cpu.el = (spsr >>> 2) & 3;
    cpu.spsel = spsr & 1;
    if (cpu.model.features.uao) cpu.uao = (spsr >>> 23) & 1;
    if (cpu.model.features.dit) cpu.dit = (spsr >>> 24) & 1;
    if (cpu.model.features.ssbs) cpu.ssbs = (spsr >>> 12) & 1;
    cpu.btype = 0; // BTYPE = SPSR.BTYPE with FEAT_BTI, which no model has
    cpu.syncStackPointer();
  }
  cpu.pcLo = elrLo;
  cpu.pcHi = elrHi;
  cpu.branched = true;
  cpu.fetchStale = true;
  // ClearExclusiveLocal and SendEventLocal.
  cpu.exclusiveAddress = -1;
  cpu.eventRegister = 1;
  cpu.onException?.({ kind: illegal ? 'illegal-eret' : 'eret', fromEl: from, toEl: cpu.el, ec: 0, esrLo: 0, vector: 0 });
}

/** UNDEFINED instruction at the current PC. */
export function undefinedInstruction(cpu: Cpu): void {
  takeException(cpu, {
    targetEl: syncTargetEl(cpu), ec: EC.UNKNOWN, iss: 0, il: 1,
    returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
}

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
  SERROR: 0x2f,
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

  // PSTATE on entry: target EL with SP_ELx, all of DAIF masked, SS/IL/BTYPE cleared.
  cpu.el = target;
  cpu.spsel = 1;
  cpu.daif = 0xf;
  cpu.ss = 0;
  cpu.il = 0;
  cpu.btype = 0;
  const sctlrLo = sys.lo(ids.sctlr[target]!);
  // SCTLR_ELx.SPAN == 0 sets PAN on entry to EL1 when PAN is implemented.
  if (cpu.model.features.pan && target === 1 && (sctlrLo & (1 << 23)) === 0) cpu.pan = 1;
  // SCTLR_ELx.DSSBS gives PSTATE.SSBS on entry.
  cpu.ssbs = (sys.hi(ids.sctlr[target]!) >>> 12) & 1;
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

/** ERET: restores PSTATE from SPSR_ELx and branches to ELR_ELx, or sets PSTATE.IL for an illegal return. */
export function exceptionReturn(cpu: Cpu): void {
  const from = cpu.el;
  const sys = cpu.sys;
  const spsr = sys.lo(ids.spsr[from]!) >>> 0;
  const elrLo = sys.lo(ids.elr[from]!);
  const elrHi = sys.hi(ids.elr[from]!);
  const m4 = (spsr >>> 4) & 1; // 1 = AArch32, not supported
  const targetEl = (spsr >>> 2) & 3;
  const targetSp = spsr & 1;
  const illegal =
    m4 === 1 ||
    targetEl > from ||
    (targetEl === 2 && !cpu.model.hasEl2) ||
    targetEl === 3 ||
    ((spsr >>> 1) & 1) === 1 || // M[1] is reserved
    (targetEl === 1 && cpu.model.hasEl2 && from === 2 && (sys.lo(ids.hcr) & (1 << 27)) !== 0); // EL1 with TGE=1
  cpu.nf = (spsr >>> 31) & 1; cpu.zf = (spsr >>> 30) & 1; cpu.cf = (spsr >>> 29) & 1; cpu.vf = (spsr >>> 28) & 1;
  cpu.daif = (spsr >>> 6) & 0xf;
  cpu.ss = (spsr >>> 21) & 1;
  if (cpu.model.features.pan) cpu.pan = (spsr >>> 22) & 1;
  if (cpu.model.features.uao) cpu.uao = (spsr >>> 23) & 1;
  cpu.dit = (spsr >>> 24) & 1;
  cpu.ssbs = (spsr >>> 12) & 1;
  cpu.btype = 0;
  if (illegal) {
    // EL and SP are unchanged; PSTATE.IL makes the next instruction take an Illegal Execution State exception.
    cpu.il = 1;
  } else {
    cpu.il = (spsr >>> 20) & 1;
    cpu.el = targetEl;
    cpu.spsel = targetSp;
    cpu.syncStackPointer();
  }
  cpu.pcLo = elrLo;
  cpu.pcHi = elrHi;
  cpu.branched = true;
  cpu.fetchStale = true;
  cpu.exclusiveAddress = -1;
  cpu.onException?.({ kind: illegal ? 'illegal-eret' : 'eret', fromEl: from, toEl: cpu.el, ec: 0, esrLo: 0, vector: 0 });
}

/** UNDEFINED instruction at the current PC. */
export function undefinedInstruction(cpu: Cpu): void {
  takeException(cpu, {
    targetEl: syncTargetEl(cpu), ec: EC.UNKNOWN, iss: 0, il: 1,
    returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
}

/**
 * Asynchronous exceptions: physical IRQ/FIQ/SError lines that devices drive,
 * virtual IRQ/FIQ/SError from HCR_EL2.{VI,VF,VSE}, routing with
 * HCR_EL2.{IMO,FMO,AMO,TGE}, and masking by PSTATE.{I,F,A} (Arm ARM D1.3,
 * "Asynchronous exception routing and masking", for a PE without EL3).
 *
 * Devices call `cpu.interrupts.setIrq(true)` etc.; the interpreter checks for
 * a deliverable interrupt whenever it revisits its fetch state (page changes,
 * after every handler — MSR DAIFClr, ERET, MMIO —, and at the start of a run),
 * so the latency is bounded by the run slice for code that never leaves a page.
 */
import type { Cpu } from './cpu.js';
import { EC, takeException, VectorKind } from './exceptions.js';
import { sysregId } from './sysregs/system-registers.js';
import { waitHandlers } from './exec/system.js';

const HCR_EL2 = sysregId('hcr_el2');
const VSESR_EL2 = sysregId('vsesr_el2');

const HCR = {
  FMO: 1 << 3,
  IMO: 1 << 4,
  AMO: 1 << 5,
  VF: 1 << 6,
  VI: 1 << 7,
  VSE: 1 << 8,
  TGE: 1 << 27,
} as const;

/** PSTATE.DAIF bits in cpu.daif (D=8, A=4, I=2, F=1). */
const MASK_A = 4, MASK_I = 2, MASK_F = 1;

export type InterruptKind = 'irq' | 'fiq' | 'serror';

export class InterruptLines {
  irq = false;
  fiq = false;
  serror = false;

  constructor(private readonly cpu: Cpu) {}

  setIrq(level: boolean): void {
    this.irq = level;
    this.cpu.fetchStale = true;
  }

  setFiq(level: boolean): void {
    this.fiq = level;
    this.cpu.fetchStale = true;
  }

  /** SError is an event, not a level: pending until taken. */
  raiseSError(): void {
    this.serror = true;
    this.cpu.fetchStale = true;
  }

  /** Anything asserted, physical or virtual (what wakes a WFI even when masked). */
  anyPending(): boolean {
    const hcr = this.cpu.model.hasEl2 ? this.cpu.sys.lo(HCR_EL2) : 0;
    return this.irq || this.fiq || this.serror || (hcr & (HCR.VI | HCR.VF | HCR.VSE)) !== 0;
  }
}

/**
 * Where a physical interrupt of this kind goes from the current EL, or -1 when
 * it is masked (not taken now). `routeBit` is HCR_EL2.IMO/FMO/AMO.
 */
function physicalTarget(cpu: Cpu, hcr: number, routeBit: number, maskBit: number): number {
  const toEl2 = cpu.model.hasEl2 && (hcr & (routeBit | HCR.TGE)) !== 0;
  if (toEl2) {
    // Routed to EL2: taken from EL0/EL1 whatever PSTATE says; at EL2, PSTATE masks it.
    if (cpu.el < 2) return 2;
    return (cpu.daif & maskBit) !== 0 ? -1 : 2;
  }
  // Routed to EL1: never taken while at EL2; at EL0/EL1 PSTATE masks it.
  if (cpu.el >= 2) return -1;
  return (cpu.daif & maskBit) !== 0 ? -1 : 1;
}

/** A virtual interrupt is taken to EL1 from EL0/EL1 when routing is set (and TGE clear) and PSTATE allows. */
function virtualDeliverable(cpu: Cpu, hcr: number, routeBit: number, pendingBit: number, maskBit: number): boolean {
  if (!cpu.model.hasEl2 || cpu.el >= 2) return false;
  if ((hcr & HCR.TGE) !== 0 || (hcr & routeBit) === 0 || (hcr & pendingBit) === 0) return false;
  return (cpu.daif & maskBit) === 0;
}

/**
 * Takes the highest-priority deliverable interrupt, if any (SError, then FIQ,
 * then IRQ; physical before virtual). Returns true when an exception was taken.
 */
export function takePendingInterrupt(cpu: Cpu): boolean {
  const lines = cpu.interrupts;
  const hcr = cpu.model.hasEl2 ? cpu.sys.lo(HCR_EL2) : 0;
  if (!lines.irq && !lines.fiq && !lines.serror && (hcr & (HCR.VI | HCR.VF | HCR.VSE)) === 0) return false;

  const take = (targetEl: number, vector: VectorKind, syndrome = 0): true => {
    takeException(cpu, {
      targetEl,
      ec: vector === VectorKind.SError ? EC.SERROR : 0,
      iss: syndrome,
      il: vector === VectorKind.SError ? 1 : 0,
      // The preferred return address of an interrupt is the next instruction not executed.
      returnLo: cpu.pcLo,
      returnHi: cpu.pcHi,
      vector,
    });
    return true;
  };

  if (lines.serror) {
    const t = physicalTarget(cpu, hcr, HCR.AMO, MASK_A);
    if (t >= 0) { lines.serror = false; return take(t, VectorKind.SError); }
  }
  if (lines.fiq) {
    const t = physicalTarget(cpu, hcr, HCR.FMO, MASK_F);
    if (t >= 0) return take(t, VectorKind.Fiq);
  }
  if (lines.irq) {
    const t = physicalTarget(cpu, hcr, HCR.IMO, MASK_I);
    if (t >= 0) return take(t, VectorKind.Irq);
  }
  if (virtualDeliverable(cpu, hcr, HCR.AMO, HCR.VSE, MASK_A)) {
    // A virtual SError is an event: taking it clears HCR_EL2.VSE. With FEAT_RAS the syndrome
    // comes from VSESR_EL2; without it the ISS is IMPLEMENTATION DEFINED and reported as 0.
    cpu.sys.set(HCR_EL2, hcr & ~HCR.VSE, cpu.sys.hi(HCR_EL2));
    return take(1, VectorKind.SError, cpu.model.features.ras ? cpu.sys.lo(VSESR_EL2) & 0x1ffffff : 0);
  }
  if (virtualDeliverable(cpu, hcr, HCR.FMO, HCR.VF, MASK_F)) return take(1, VectorKind.Fiq);
  if (virtualDeliverable(cpu, hcr, HCR.IMO, HCR.VI, MASK_I)) return take(1, VectorKind.Irq);
  return false;
}

/**
 * WFI completes when an interrupt is pending, even a masked one (that is what
 * wakes the PE); with nothing pending the run stops with { kind: 'wfi' } and a
 * later run resumes after the WFI.
 */
export function installWaitForInterrupt(cpu: Cpu): void {
  waitHandlers.set(cpu, (c, kind) => (kind === 'wfi' ? c.interrupts.anyPending() : true));
}

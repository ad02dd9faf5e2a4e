/**
 * The system registers the emulated CPU implements: encoding (shared with the
 * assembler through src/isa/sysreg-names.ts), reset value, RES0/RES1 masks
 * (Armv8.0 plus the features a model advertises), the lowest EL that may
 * access it, read-only/write-only rules, the traps that apply to it
 * (interpreted by ./traps.ts) and side effects. PSTATE views (NZCV, DAIF,
 * CurrentEL, SPSel, …) and the generic timer are computed on access.
 *
 * Reset values are what QEMU 7.2 shows for `-M virt,virtualization=on` with
 * cortex-a57/cortex-a76 (model-specific ones come from src/cpu/cpu-model.ts).
 * QEMU keeps most RES0/RES1 bits as written; here the masks follow the
 * architecture, so a program writing reserved bits reads back different values.
 */
import type { Cpu } from '../cpu.js';
import type { CpuModel } from '../cpu-model.js';
import { lookupSysreg } from '../../isa/sysreg-names.js';

/** [lo, hi] halves of a 64-bit mask or value. */
export type Pair = readonly [number, number];

/** Architectural features a register depends on; absent ones make its encoding UNDEFINED. */
export type SysregFeature =
  | 'vhe' | 'ras' | 'lor' | 'pan' | 'uao' | 'ssbs' | 'dit' | 'pauth' | 'gicv3' | 'aarch32El1';

/**
 * Trap classes (bit flags). traps.ts decides, for the current EL and control
 * registers, whether an access with one of these is UNDEFINED, trapped to EL1
 * or trapped to EL2.
 */
export const TRAP = {
  /** HCR_EL2.TVM (writes) / HCR_EL2.TRVM (reads) at EL1: virtual-memory controls. */
  TVM: 1 << 0,
  /** HCR_EL2.TACR at EL1: ACTLR_EL1. */
  TACR: 1 << 1,
  /** HCR_EL2.TID1 at EL1: REVIDR_EL1, AIDR_EL1 (reads). */
  TID1: 1 << 2,
  /** HCR_EL2.TID2 at EL0/EL1: CTR_EL0, CCSIDR_EL1, CLIDR_EL1, CSSELR_EL1. */
  TID2: 1 << 3,
  /** HCR_EL2.TID3 at EL1: the ID group 3 registers (reads). */
  TID3: 1 << 4,
  /** CPTR_EL2.TCPAC at EL1: CPACR_EL1. */
  TCPAC: 1 << 5,
  /** Performance monitors: PMUSERENR_EL0 at EL0, MDCR_EL2.TPM at EL0/EL1. */
  PMU: 1 << 6,
  /** PMCR_EL0 also trapped by MDCR_EL2.TPMCR. */
  PMCR: 1 << 7,
  /** MDCR_EL2.TDA (or TDE) at EL0/EL1: debug registers. */
  DEBUG: 1 << 8,
  /** MDCR_EL2.TDOSA (or TDE): OS lock and power-down registers. */
  DEBUG_OS: 1 << 9,
  /** MDCR_EL2.TDRA (or TDE): MDRAR_EL1. */
  DEBUG_ROM: 1 << 10,
  /** CNTPCT_EL0: CNTKCTL_EL1.EL0PCTEN at EL0, CNTHCTL_EL2.EL1PCTEN at EL0/EL1. */
  CNT_PCT: 1 << 11,
  /** CNTVCT_EL0: CNTKCTL_EL1.EL0VCTEN at EL0. */
  CNT_VCT: 1 << 12,
  /** CNTP_*: CNTKCTL_EL1.EL0PTEN at EL0, CNTHCTL_EL2.EL1PCEN at EL0/EL1. */
  CNT_P: 1 << 13,
  /** CNTV_*: CNTKCTL_EL1.EL0VTEN at EL0. */
  CNT_V: 1 << 14,
  /** CNTFRQ_EL0 at EL0: needs CNTKCTL_EL1.EL0PCTEN or EL0VCTEN. */
  CNTFRQ: 1 << 15,
  /** FPCR/FPSR: the FP/SIMD access checks (CPACR_EL1.FPEN, CPTR_EL2.TFP). */
  FP: 1 << 16,
  /** DAIF at EL0: SCTLR_EL1.UMA. */
  UMA: 1 << 17,
  /** CTR_EL0 at EL0: SCTLR_EL1.UCT. */
  UCT: 1 << 18,
  /** Debug communications registers at EL0: MDSCR_EL1.TDCC. */
  DCC: 1 << 19,
  /** SP_EL0: UNDEFINED while it is the current stack pointer (PSTATE.SP == 0). */
  SP_EL0: 1 << 20,
  /** HCR_EL2.TLOR at EL1: LORegion registers. */
  TLOR: 1 << 21,
  /** HCR_EL2.TERR at EL1: RAS error record registers. */
  TERR: 1 << 22,
  /** HCR_EL2.TIDCP at EL1: IMPLEMENTATION DEFINED registers. */
  TIDCP: 1 << 23,
} as const;

export interface SysregDef {
  name: string;
  /** 16-bit op0:op1:CRn:CRm:op2 encoding, or -1 for registers reached otherwise. */
  encoding: number;
  /** Lowest exception level allowed to access it (0..3); below it the access is UNDEFINED. */
  minEl: number;
  /** MSR is UNDEFINED. */
  readOnly: boolean;
  /** MRS is UNDEFINED. */
  writeOnly: boolean;
  /** Read-only at EL0, read/write above (TPIDRRO_EL0). */
  el0ReadOnly: boolean;
  reset: Pair;
  /** RES0 bits (kept 0 by MSR); a function when they depend on the model's features. */
  res0: Pair | ((m: CpuModel) => Pair);
  /** RES1 bits (kept 1 by MSR). */
  res1: Pair | ((m: CpuModel) => Pair);
  feature?: SysregFeature;
  /** TRAP flags. */
  traps: number;
  /** After an MSR stored the masked value: side effects (the new value is in the register). */
  onWrite?: (cpu: Cpu, oldLo: number, oldHi: number) => void;
  /** Computes the value an MRS returns. */
  onRead?: (cpu: Cpu, out: Int32Array, at: number) => void;
}

interface Options {
  minEl?: number;
  readOnly?: boolean;
  writeOnly?: boolean;
  el0ReadOnly?: boolean;
  reset?: Pair;
  res0?: SysregDef['res0'];
  res1?: SysregDef['res1'];
  feature?: SysregFeature;
  traps?: number;
  onWrite?: SysregDef['onWrite'];
  onRead?: SysregDef['onRead'];
}

export const SYSREG_DEFS: SysregDef[] = [];

function reg(name: string, opts: Options = {}, encoding?: number): number {
  const enc = encoding ?? lookupSysreg(name);
  if (enc === undefined) throw new Error(`no encoding for system register ${name}`);
  SYSREG_DEFS.push({
    name,
    encoding: enc,
    minEl: opts.minEl ?? (/_el2$/.test(name) ? 2 : /_el3$/.test(name) ? 3 : /_el1$/.test(name) ? 1 : 0),
    readOnly: opts.readOnly ?? false,
    writeOnly: opts.writeOnly ?? false,
    el0ReadOnly: opts.el0ReadOnly ?? false,
    reset: opts.reset ?? [0, 0],
    res0: opts.res0 ?? [0, 0],
    res1: opts.res1 ?? [0, 0],
    feature: opts.feature,
    traps: opts.traps ?? 0,
    onWrite: opts.onWrite,
    onRead: opts.onRead,
  });
  return SYSREG_DEFS.length - 1;
}

/** Mask of bits lo..hi inclusive within one 32-bit half. */
const bits = (lo: number, hi: number): number => (hi >= 31 ? ~0 << lo : ((1 << (hi + 1)) - 1) & (~0 << lo)) | 0;
/** Every bit of the upper half is RES0 (32-bit registers). */
const HI_RES0: Pair = [0, -1];
const ALL_RES0: Pair = [-1, -1];

const idOf = (name: string): number => {
  const i = SYSREG_DEFS.findIndex((d) => d.name === name);
  if (i < 0) throw new Error(`system register ${name} is not defined`);
  return i;
};

/** Writes that can change address translation or the fetch path: the cached fetch page and the MMU's cached state are stale. */
const translationChanged = (cpu: Cpu): void => {
  cpu.fetchStale = true;
  // The port forwards to the MMU and drops its own fast translations (older ports only have the MMU hook).
  const port = cpu.port as { translationControlChanged?: () => void };
  if (port.translationControlChanged) port.translationControlChanged();
  else cpu.port.mmu?.translationControlChanged();
};

const ro = { readOnly: true } as const;

// ---- identification (values come from the CPU model) -------------------------------------------
// ID group 3 (TID3) registers; unnamed encodings of the same space read as zero (see traps.ts).
for (const name of [
  'id_pfr0_el1', 'id_pfr1_el1', 'id_dfr0_el1', 'id_afr0_el1', 'id_mmfr0_el1', 'id_mmfr1_el1', 'id_mmfr2_el1',
  'id_mmfr3_el1', 'id_isar0_el1', 'id_isar1_el1', 'id_isar2_el1', 'id_isar3_el1', 'id_isar4_el1', 'id_isar5_el1',
  'id_mmfr4_el1', 'id_isar6_el1', 'mvfr0_el1', 'mvfr1_el1', 'mvfr2_el1', 'id_pfr2_el1', 'id_dfr1_el1', 'id_mmfr5_el1',
  'id_aa64pfr0_el1', 'id_aa64pfr1_el1', 'id_aa64zfr0_el1', 'id_aa64smfr0_el1', 'id_aa64dfr0_el1', 'id_aa64dfr1_el1',
  'id_aa64afr0_el1', 'id_aa64afr1_el1', 'id_aa64isar0_el1', 'id_aa64isar1_el1', 'id_aa64isar2_el1',
  'id_aa64mmfr0_el1', 'id_aa64mmfr1_el1', 'id_aa64mmfr2_el1',
]) reg(name, { ...ro, traps: TRAP.TID3 });
/** Stand-in for the model's IMPLEMENTATION DEFINED registers that read as zero and ignore writes (CpuModel.impdefRaz). */
export const IMPDEF_RAZ = reg('impdef_raz', { minEl: 1, res0: ALL_RES0, traps: TRAP.TIDCP }, -1);
/** Stand-in for the reserved encodings of the ID space (op0=3, op1=0, CRn=0, CRm=1..7): RAZ, read-only. */
export const ID_RESERVED = reg('id_reserved', { ...ro, minEl: 1, traps: TRAP.TID3 }, -1);

// At EL1 (with EL2 enabled) MIDR_EL1 and MPIDR_EL1 read the virtualized values in VPIDR_EL2/VMPIDR_EL2.
reg('midr_el1', {
  ...ro,
  onRead: (cpu, out, at) => {
    const id = cpu.el === 1 && cpu.model.hasEl2 ? VPIDR_EL2 : MIDR_EL1;
    out[at] = cpu.sys.lo(id); out[at + 1] = cpu.sys.hi(id);
  },
});
reg('mpidr_el1', {
  ...ro,
  onRead: (cpu, out, at) => {
    const id = cpu.el === 1 && cpu.model.hasEl2 ? VMPIDR_EL2 : MPIDR_EL1;
    out[at] = cpu.sys.lo(id); out[at + 1] = cpu.sys.hi(id);
  },
});
reg('revidr_el1', { ...ro, traps: TRAP.TID1 });
reg('aidr_el1', { ...ro, traps: TRAP.TID1 });
reg('clidr_el1', { ...ro, traps: TRAP.TID2 });
reg('csselr_el1', { res0: [~0xf, -1], traps: TRAP.TID2 });
reg('ccsidr_el1', {
  ...ro,
  traps: TRAP.TID2,
  onRead: (cpu, out, at) => { out[at] = cpu.model.ccsidr[cpu.sys.lo(CSSELR_EL1) & 0xf] ?? 0; out[at + 1] = 0; },
});
reg('ctr_el0', { ...ro, traps: TRAP.TID2 | TRAP.UCT });
reg('dczid_el0', {
  ...ro,
  // DZP (bit 4) reads 1 when DC ZVA is prohibited at the current EL (SCTLR_EL1.DZE at EL0, HCR_EL2.TDZ at EL0/EL1).
  onRead: (cpu, out, at) => {
    const sys = cpu.sys;
    let prohibited = false;
    if (cpu.el === 0 && (sys.lo(SCTLR_EL1) & (1 << 14)) === 0) prohibited = true;
    if (cpu.el < 2 && cpu.model.hasEl2 && (sys.lo(HCR_EL2) & (1 << 28)) !== 0) prohibited = true;
    out[at] = (sys.lo(DCZID_EL0) & 0xf) | (prohibited ? 0x10 : 0);
    out[at + 1] = 0;
  },
});
reg('vpidr_el2', { res0: HI_RES0 });
reg('vmpidr_el2', { res0: [bits(25, 29), bits(8, 31)], res1: [1 << 31, 0] });
reg('rvbar_el2', ro);

// ---- PSTATE views ---------------------------------------------------------------------------------
reg('currentel', { ...ro, minEl: 1, onRead: (cpu, out, at) => { out[at] = cpu.el << 2; out[at + 1] = 0; } });
reg('nzcv', {
  minEl: 0,
  res0: [~(0xf << 28), -1],
  onRead: (cpu, out, at) => { out[at] = (cpu.nzcv << 28) | 0; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.nzcv = (cpu.sys.lo(NZCV) >>> 28) & 0xf; },
});
reg('daif', {
  minEl: 0,
  traps: TRAP.UMA,
  res0: [~(0xf << 6), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.daif << 6; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.daif = (cpu.sys.lo(DAIF) >>> 6) & 0xf; },
});
reg('spsel', {
  minEl: 1,
  res0: [~1, -1],
  onRead: (cpu, out, at) => { out[at] = cpu.spsel; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.spsel = cpu.sys.lo(SPSEL) & 1; cpu.syncStackPointer(); },
});
reg('pan', {
  minEl: 1, feature: 'pan', res0: [~(1 << 22), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.pan << 22; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.pan = (cpu.sys.lo(PAN) >>> 22) & 1; translationChanged(cpu); },
});
reg('uao', {
  minEl: 1, feature: 'uao', res0: [~(1 << 23), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.uao << 23; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.uao = (cpu.sys.lo(UAO) >>> 23) & 1; },
});
reg('dit', {
  minEl: 0, feature: 'dit', res0: [~(1 << 24), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.dit << 24; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.dit = (cpu.sys.lo(DIT) >>> 24) & 1; },
});
reg('ssbs', {
  minEl: 0, feature: 'ssbs', res0: [~(1 << 12), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.ssbs << 12; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.ssbs = (cpu.sys.lo(SSBS) >>> 12) & 1; },
});
// FPCR: AHP, DN, FZ, RMode, Stride, Len (and FZ16 with half-precision); the trap enables are RAZ/WI (no FP trapping).
reg('fpcr', {
  minEl: 0, traps: TRAP.FP,
  res0: (m) => [~(m.idRegisters['id_aa64pfr0_el1']?.[0]! & 0xf0000 ? 0x07ff0000 : 0x07f70000), -1],
  onRead: (cpu, out, at) => { out[at] = cpu.fpcr; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.fpcr = cpu.sys.lo(FPCR); },
});
reg('fpsr', {
  minEl: 0, traps: TRAP.FP, res0: [~0xf800009f, -1],
  onRead: (cpu, out, at) => { out[at] = cpu.fpsr; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.fpsr = cpu.sys.lo(FPSR); },
});
reg('sp_el0', {
  minEl: 1, traps: TRAP.SP_EL0,
  onRead: (cpu, out, at) => cpu.readSpEl(0, out, at),
  onWrite: (cpu) => cpu.writeSpEl(0, cpu.sys.lo(SP_EL0), cpu.sys.hi(SP_EL0)),
});
reg('sp_el1', {
  minEl: 2,
  onRead: (cpu, out, at) => cpu.readSpEl(1, out, at),
  onWrite: (cpu) => cpu.writeSpEl(1, cpu.sys.lo(SP_EL1), cpu.sys.hi(SP_EL1)),
});

// ---- EL1 ------------------------------------------------------------------------------------------
/** SCTLR_EL1 (v8.0): RES1 11, 20, 22, 28, 29 and 23 without PAN; RES0 6, 10, 13, 17, 21 (without IESB), 27, 30, 31. */
const sctlrEl1Res0 = (m: CpuModel): Pair => {
  let lo = (1 << 6) | (1 << 10) | (1 << 13) | (1 << 17) | (1 << 27) | (1 << 30) | (1 << 31);
  if (!hasIesb(m)) lo |= 1 << 21;
  return [lo, m.features.ssbs ? ~(1 << 12) : -1];
};
const sctlrEl1Res1 = (m: CpuModel): Pair => [(1 << 11) | (1 << 20) | (1 << 22) | (1 << 28) | (1 << 29) | (m.features.pan ? 0 : 1 << 23), 0];
const hasIesb = (m: CpuModel): boolean => ((m.idRegisters['id_aa64mmfr2_el1']?.[0] ?? 0) >>> 12 & 0xf) !== 0;
reg('sctlr_el1', { traps: TRAP.TVM, res0: sctlrEl1Res0, res1: sctlrEl1Res1, onWrite: translationChanged });
// ACTLR/AFSR/HACR are IMPLEMENTATION DEFINED; like QEMU's models they read as zero and ignore writes.
reg('actlr_el1', { traps: TRAP.TACR, res0: ALL_RES0 });
reg('cpacr_el1', { traps: TRAP.TCPAC, res0: [~((3 << 20) | (1 << 28)), -1] });
reg('ttbr0_el1', { traps: TRAP.TVM, onWrite: translationChanged });
reg('ttbr1_el1', { traps: TRAP.TVM, onWrite: translationChanged });
/** TCR_EL1 (v8.0): bits 6 and 35 RES0, 63:39 RES0 unless HAFDBS (HA, HD) and HPDS (HPD0/1, HWU) are implemented. */
reg('tcr_el1', {
  traps: TRAP.TVM,
  res0: (m) => {
    const mmfr1 = m.idRegisters['id_aa64mmfr1_el1']?.[0] ?? 0;
    let hi = (1 << 3) | bits(7, 31);
    if ((mmfr1 & 0xf) !== 0) hi &= ~bits(7, 8); // HA, HD
    const hpds = (mmfr1 >>> 12) & 0xf;
    if (hpds >= 1) hi &= ~bits(9, 10); // HPD0, HPD1
    if (hpds >= 2) hi &= ~bits(11, 18); // HWU
    return [1 << 6, hi];
  },
  onWrite: translationChanged,
});
reg('mair_el1', { traps: TRAP.TVM, onWrite: translationChanged });
reg('amair_el1', { traps: TRAP.TVM });
reg('vbar_el1', { res0: [0x7ff, 0] });
reg('esr_el1', { traps: TRAP.TVM, res0: HI_RES0 });
reg('far_el1', { traps: TRAP.TVM });
reg('afsr0_el1', { traps: TRAP.TVM, res0: ALL_RES0 });
reg('afsr1_el1', { traps: TRAP.TVM, res0: ALL_RES0 });
reg('par_el1');
reg('elr_el1');
reg('spsr_el1', { res0: HI_RES0 });
reg('contextidr_el1', { traps: TRAP.TVM, res0: HI_RES0 });
reg('tpidr_el1');
reg('tpidr_el0', { minEl: 0 });
reg('tpidrro_el0', { minEl: 0, el0ReadOnly: true });
reg('isr_el1', { ...ro, res0: [~0x1c0, -1] });
reg('disr_el1', { feature: 'ras' });
reg('erridr_el1', { ...ro, feature: 'ras', traps: TRAP.TERR });
// LORegions (v8.1): no regions implemented (LORID_EL1 = 0).
reg('lorsa_el1', { feature: 'lor', traps: TRAP.TLOR });
reg('lorea_el1', { feature: 'lor', traps: TRAP.TLOR });
reg('lorn_el1', { feature: 'lor', traps: TRAP.TLOR });
reg('lorc_el1', { feature: 'lor', traps: TRAP.TLOR });
reg('lorid_el1', { ...ro, feature: 'lor', traps: TRAP.TLOR });
for (const k of ['apiakeylo', 'apiakeyhi', 'apibkeylo', 'apibkeyhi', 'apdakeylo', 'apdakeyhi', 'apdbkeylo', 'apdbkeyhi', 'apgakeylo', 'apgakeyhi']) {
  reg(`${k}_el1`, { feature: 'pauth' });
}

// ---- debug (the registers QEMU 7.2 implements) ---------------------------------------------------------
reg('mdscr_el1', { traps: TRAP.DEBUG, res0: HI_RES0 });
reg('mdccint_el1', { traps: TRAP.DEBUG, res0: [~(3 << 29), -1] });
reg('mdccsr_el0', { ...ro, minEl: 0, traps: TRAP.DEBUG | TRAP.DCC });
reg('mdrar_el1', { ...ro, traps: TRAP.DEBUG_ROM });
// OS lock: locked from reset (OSLSR_EL1.OSLM = 0b10, OSLK = 1); OSLAR_EL1 writes OSLK.
reg('oslar_el1', {
  writeOnly: true, traps: TRAP.DEBUG_OS, res0: [~1, -1],
  onWrite: (cpu) => {
    const lk = cpu.sys.lo(OSLAR_EL1) & 1;
    cpu.sys.set(OSLSR_EL1, (cpu.sys.lo(OSLSR_EL1) & ~2) | (lk << 1), 0);
  },
});
reg('oslsr_el1', { ...ro, traps: TRAP.DEBUG_OS, reset: [0xa, 0] });
reg('osdlr_el1', { traps: TRAP.DEBUG_OS, res0: [~1, -1] });
reg('dbgvcr32_el2', { res0: HI_RES0 });
// Six breakpoints and four watchpoints (ID_AA64DFR0_EL1.BRPs = 5, WRPs = 3 on both models).
for (let n = 0; n < 6; n++) {
  reg(`dbgbvr${n}_el1`, { traps: TRAP.DEBUG });
  reg(`dbgbcr${n}_el1`, { traps: TRAP.DEBUG, res0: HI_RES0 });
}
for (let n = 0; n < 4; n++) {
  reg(`dbgwvr${n}_el1`, { traps: TRAP.DEBUG });
  reg(`dbgwcr${n}_el1`, { traps: TRAP.DEBUG, res0: HI_RES0 });
}

// ---- performance monitors (PMUv3, six event counters) ---------------------------------------------
const PMU = { minEl: 0, traps: TRAP.PMU } as const;
/** Event counters 0..5 and the cycle counter (bit 31). */
const PMU_COUNTER_BITS = 0x8000003f | 0;
// PMCR_EL0: E, D, X, DP, LC are writable; P and C are write-only actions (read as 0); N, IDCODE, IMP are read-only.
reg('pmcr_el0', {
  ...PMU, traps: TRAP.PMU | TRAP.PMCR,
  onWrite: (cpu, oldLo) => {
    const v = cpu.sys.lo(PMCR_EL0);
    if (v & 4) cpu.sys.set(PMCCNTR_EL0, 0, 0);
    cpu.sys.set(PMCR_EL0, (v & 0x79) | (oldLo & ~0x7ff), 0);
  },
});
reg('pmuserenr_el0', { minEl: 0, el0ReadOnly: true, traps: TRAP.PMU, res0: [~0xf, -1] });
// The SET/CLR pairs share one state, kept in the SET register.
function setClear(setName: string, clrName: string, opts: Options): void {
  const set = reg(setName, { ...opts, res0: [~PMU_COUNTER_BITS, -1], onWrite: (cpu, oldLo) => cpu.sys.set(set, oldLo | cpu.sys.lo(set), 0) });
  const clr: number = reg(clrName, {
    ...opts, res0: [~PMU_COUNTER_BITS, -1],
    onRead: (cpu, out, at) => { out[at] = cpu.sys.lo(set); out[at + 1] = 0; },
    onWrite: (cpu) => cpu.sys.set(set, cpu.sys.lo(set) & ~cpu.sys.lo(clr), 0),
  });
}
setClear('pmcntenset_el0', 'pmcntenclr_el0', PMU);
setClear('pmovsset_el0', 'pmovsclr_el0', PMU);
setClear('pmintenset_el1', 'pmintenclr_el1', { traps: TRAP.PMU });
reg('pmswinc_el0', { ...PMU, writeOnly: true, res0: [~0x3f, -1] });
reg('pmselr_el0', { ...PMU, res0: [~0x1f, -1] });
reg('pmceid0_el0', { ...PMU, readOnly: true });
reg('pmceid1_el0', { ...PMU, readOnly: true });
reg('pmccntr_el0', PMU);
// PMXEVTYPER_EL0/PMXEVCNTR_EL0 reach the event counter PMSELR_EL0.SEL selects (SEL = 31: PMCCFILTR_EL0 for the type).
// A selector with no counter behind it reads as zero and ignores writes (CONSTRAINED UNPREDICTABLE).
const PMU_COUNTERS = 6;
const pmevcntr: number[] = [];
const pmevtyper: number[] = [];
/** The register PMXEV{TYPER,CNTR}_EL0 stands for, or -1. */
const selected = (cpu: Cpu, typer: boolean): number => {
  const sel = cpu.sys.lo(PMSELR_EL0) & 0x1f;
  if (sel < PMU_COUNTERS) return typer ? pmevtyper[sel]! : pmevcntr[sel]!;
  return typer && sel === 31 ? PMCCFILTR_EL0 : -1;
};
for (const typer of [true, false]) {
  reg(typer ? 'pmxevtyper_el0' : 'pmxevcntr_el0', {
    ...PMU, res0: HI_RES0,
    onRead: (cpu, out, at) => {
      const id = selected(cpu, typer);
      out[at] = id < 0 ? 0 : cpu.sys.lo(id); out[at + 1] = 0;
    },
    onWrite: (cpu) => {
      const id = selected(cpu, typer);
      if (id >= 0) cpu.sys.write(id, cpu.sys.lo(typer ? PMXEVTYPER_EL0 : PMXEVCNTR_EL0), 0);
    },
  });
}
reg('pmccfiltr_el0', { ...PMU, res0: HI_RES0 });
for (let n = 0; n < PMU_COUNTERS; n++) {
  pmevcntr.push(reg(`pmevcntr${n}_el0`, { ...PMU, res0: HI_RES0 }));
  pmevtyper.push(reg(`pmevtyper${n}_el0`, { ...PMU, res0: HI_RES0 }));
}

// ---- EL2 ------------------------------------------------------------------------------------------
/** SCTLR_EL2 with HCR_EL2.E2H == 0 (v8.0): M, A, C, SA, I, WXN, EE (+ IESB, DSSBS); RES1 4, 5, 11, 16, 18, 22, 23, 28, 29. */
const SCTLR_EL2_RES1 = (1 << 4) | (1 << 5) | (1 << 11) | (1 << 16) | (1 << 18) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29);
reg('sctlr_el2', {
  res0: (m) => {
    const valid = 0xf | (1 << 12) | (1 << 19) | (1 << 25) | (hasIesb(m) ? 1 << 21 : 0);
    return [~(valid | SCTLR_EL2_RES1), m.features.ssbs ? ~(1 << 12) : -1];
  },
  res1: [SCTLR_EL2_RES1, 0],
  onWrite: translationChanged,
});
reg('actlr_el2', { res0: ALL_RES0 });
/** HCR_EL2: bits 33:0 in v8.0; E2H with VHE, TLOR with LOR, TERR/TEA with RAS, APK/API with PAuth. */
reg('hcr_el2', {
  res0: (m) => {
    let hi = ~0x3;
    if (m.features.vhe) hi &= ~(1 << 2);
    if (m.features.lor) hi &= ~(1 << 3);
    if (m.features.ras) hi &= ~(3 << 4);
    if (m.features.pauth) hi &= ~(3 << 8);
    return [0, hi];
  },
  onWrite: translationChanged,
});
/** MDCR_EL2 (v8.0): HPMN, TPMCR, TPM, HPME, TDE, TDA, TDOSA, TDRA; HPMD with PMUv3p1. */
reg('mdcr_el2', {
  res0: (m) => {
    const pmuVer = ((m.idRegisters['id_aa64dfr0_el1']?.[0] ?? 0) >>> 8) & 0xf;
    return [~(0xfff | (pmuVer >= 4 && pmuVer !== 0xf ? 1 << 17 : 0)), -1];
  },
  reset: [6, 0],
});
/** CPTR_EL2 with HCR_EL2.E2H == 0: TFP, TTA, TCPAC; RES1 13:12 and 9:0 (no SVE). */
reg('cptr_el2', { res0: [~((1 << 10) | (1 << 20) | (1 << 31) | 0x33ff), -1], res1: [0x33ff, 0] });
reg('hstr_el2', { res0: [~0xbfef, -1] });
reg('hacr_el2', { res0: ALL_RES0 });
reg('ttbr0_el2', { onWrite: translationChanged });
reg('ttbr1_el2', { feature: 'vhe', onWrite: translationChanged });
/** TCR_EL2 with E2H == 0: RES1 31, 23; HA/HD with HAFDBS; HPD, HWU with HPDS. */
reg('tcr_el2', {
  res0: (m) => {
    const mmfr1 = m.idRegisters['id_aa64mmfr1_el1']?.[0] ?? 0;
    let lo = (3 << 6) | (1 << 19) | bits(21, 22) | bits(24, 30);
    if ((mmfr1 & 0xf) !== 0) lo &= ~bits(21, 22);
    const hpds = (mmfr1 >>> 12) & 0xf;
    if (hpds >= 1) lo &= ~(1 << 24);
    if (hpds >= 2) lo &= ~bits(25, 28);
    return [lo & ~((1 << 31) | (1 << 23)), -1];
  },
  res1: [(1 << 31) | (1 << 23), 0],
  onWrite: translationChanged,
});
reg('vttbr_el2', { onWrite: translationChanged });
/** VTCR_EL2: RES1 31; VS with 16-bit VMIDs, HA/HD with HAFDBS, HWU with HPDS2. */
reg('vtcr_el2', {
  res0: (m) => {
    const mmfr1 = m.idRegisters['id_aa64mmfr1_el1']?.[0] ?? 0;
    let lo = bits(19, 30);
    if (((mmfr1 >>> 4) & 0xf) === 2) lo &= ~(1 << 19);
    if ((mmfr1 & 0xf) !== 0) lo &= ~bits(21, 22);
    if (((mmfr1 >>> 12) & 0xf) >= 2) lo &= ~bits(25, 28);
    return [lo, -1];
  },
  res1: [1 << 31, 0],
  onWrite: translationChanged,
});
reg('mair_el2', { onWrite: translationChanged });
reg('amair_el2');
reg('vbar_el2', { res0: [0x7ff, 0] });
reg('esr_el2', { res0: HI_RES0 });
reg('far_el2');
reg('hpfar_el2', { res0: [0xf, bits(8, 31)] });
reg('afsr0_el2', { res0: ALL_RES0 });
reg('afsr1_el2', { res0: ALL_RES0 });
reg('elr_el2');
reg('spsr_el2', { res0: HI_RES0 });
for (const m of ['irq', 'abt', 'und', 'fiq']) reg(`spsr_${m}`, { minEl: 2, res0: HI_RES0 });
reg('tpidr_el2');
reg('contextidr_el2', { feature: 'vhe', res0: HI_RES0 });
reg('vsesr_el2', { feature: 'ras' });
reg('vdisr_el2', { feature: 'ras' });
reg('dacr32_el2', { res0: HI_RES0 });
reg('ifsr32_el2', { res0: HI_RES0 });
reg('fpexc32_el2', { res0: HI_RES0 });

// ---- GICv3 CPU interface (present only when ID_AA64PFR0_EL1.GIC says so; QEMU's virt with gic-version=2 has none) --
reg('icc_sre_el2', { feature: 'gicv3', res0: [~0xf, -1] });
reg('icc_sre_el1', { feature: 'gicv3', res0: [~0x7, -1] });
reg('icc_pmr_el1', { feature: 'gicv3', res0: [~0xff, -1] });
reg('icc_ctlr_el1', { feature: 'gicv3', res0: HI_RES0 });
reg('icc_igrpen1_el1', { feature: 'gicv3', res0: [~1, -1] });
reg('ich_hcr_el2', { feature: 'gicv3', res0: HI_RES0 });
reg('ich_vmcr_el2', { feature: 'gicv3', res0: HI_RES0 });
reg('ich_vtr_el2', { ...ro, feature: 'gicv3' });

// ---- generic timer ----------------------------------------------------------------------------------
// The system counter advances with retired instructions, so runs are deterministic; QEMU's follows the
// host clock, so counter and TVAL reads (and ISTATUS) never match QEMU and comparisons must ignore them.
const counterOut = new Int32Array(2);
/** Physical count: CNTPCT_EL0. */
export function physicalCount(cpu: Cpu, out: Int32Array, at: number): void {
  const n = cpu.retired;
  out[at] = n | 0;
  out[at + 1] = Math.floor(n / 4294967296) | 0;
}
/** Virtual count: CNTPCT_EL0 - CNTVOFF_EL2 (the offset applies at EL0/EL1 and, here, always at EL2 without E2H). */
function virtualCount(cpu: Cpu, out: Int32Array, at: number): void {
  physicalCount(cpu, out, at);
  const offLo = cpu.sys.lo(CNTVOFF_EL2), offHi = cpu.sys.hi(CNTVOFF_EL2);
  const lo = (out[at]! >>> 0) - (offLo >>> 0);
  out[at + 1] = (out[at + 1]! - offHi - (lo < 0 ? 1 : 0)) | 0;
  out[at] = lo | 0;
}
/** TVAL reads as the signed 32-bit CVAL - count; a write sets CVAL = count + SignExtend(TVAL). */
function timer(prefix: string, count: (cpu: Cpu, out: Int32Array, at: number) => void, opts: Options): void {
  const ctl = reg(`${prefix}_ctl_${prefix.startsWith('cnth') ? 'el2' : 'el0'}`, {
    ...opts, res0: [~3, -1],
    // ISTATUS (bit 2): the timer condition is met (count >= CVAL) while enabled.
    onRead: (cpu, out, at) => {
      const v = cpu.sys.lo(ctl);
      let status = 0;
      if (v & 1) {
        count(cpu, counterOut, 0);
        const cLo = cpu.sys.lo(cval) >>> 0, cHi = cpu.sys.hi(cval) >>> 0;
        const nHi = counterOut[1]! >>> 0, nLo = counterOut[0]! >>> 0;
        status = nHi > cHi || (nHi === cHi && nLo >= cLo) ? 4 : 0;
      }
      out[at] = (v & 3) | status;
      out[at + 1] = 0;
    },
  });
  const cval = reg(`${prefix}_cval_${prefix.startsWith('cnth') ? 'el2' : 'el0'}`, opts);
  const tval = reg(`${prefix}_tval_${prefix.startsWith('cnth') ? 'el2' : 'el0'}`, {
    ...opts,
    onRead: (cpu, out, at) => {
      count(cpu, counterOut, 0);
      const d = (cpu.sys.lo(cval) - counterOut[0]!) | 0;
      out[at] = d; out[at + 1] = d >> 31;
    },
    onWrite: (cpu) => {
      count(cpu, counterOut, 0);
      const t = cpu.sys.lo(tval);
      const lo = (counterOut[0]! >>> 0) + t;
      const hi = counterOut[1]! + (t >> 31) + (lo > 0xffffffff ? 1 : lo < 0 ? -1 : 0);
      cpu.sys.set(cval, lo | 0, hi | 0);
      cpu.sys.set(tval, 0, 0);
    },
  });
}
reg('cntfrq_el0', { minEl: 0, traps: TRAP.CNTFRQ, reset: [62_500_000, 0], res0: HI_RES0 });
reg('cntpct_el0', { ...ro, minEl: 0, traps: TRAP.CNT_PCT, onRead: physicalCount });
reg('cntvct_el0', { ...ro, minEl: 0, traps: TRAP.CNT_VCT, onRead: virtualCount });
reg('cntkctl_el1', { res0: [~0x3ff, -1] });
reg('cnthctl_el2', { reset: [3, 0], res0: [~0xff, -1] });
reg('cntvoff_el2');
timer('cntp', physicalCount, { minEl: 0, traps: TRAP.CNT_P });
timer('cntv', virtualCount, { minEl: 0, traps: TRAP.CNT_V });
timer('cnthp', physicalCount, { minEl: 2 });
timer('cnthv', physicalCount, { minEl: 2, feature: 'vhe' });

export const MIDR_EL1 = idOf('midr_el1');
export const MPIDR_EL1 = idOf('mpidr_el1');
export const VPIDR_EL2 = idOf('vpidr_el2');
export const VMPIDR_EL2 = idOf('vmpidr_el2');
export const CSSELR_EL1 = idOf('csselr_el1');
export const DCZID_EL0 = idOf('dczid_el0');
export const SCTLR_EL1 = idOf('sctlr_el1');
export const HCR_EL2 = idOf('hcr_el2');
export const NZCV = idOf('nzcv');
export const DAIF = idOf('daif');
export const SPSEL = idOf('spsel');
export const PAN = idOf('pan');
export const UAO = idOf('uao');
export const DIT = idOf('dit');
export const SSBS = idOf('ssbs');
export const FPCR = idOf('fpcr');
export const FPSR = idOf('fpsr');
export const SP_EL0 = idOf('sp_el0');
export const SP_EL1 = idOf('sp_el1');
export const OSLAR_EL1 = idOf('oslar_el1');
export const OSLSR_EL1 = idOf('oslsr_el1');
export const PMCR_EL0 = idOf('pmcr_el0');
export const PMCCNTR_EL0 = idOf('pmccntr_el0');
export const CNTVOFF_EL2 = idOf('cntvoff_el2');
export const PMSELR_EL0 = idOf('pmselr_el0');
export const PMCCFILTR_EL0 = idOf('pmccfiltr_el0');
export const PMXEVTYPER_EL0 = idOf('pmxevtyper_el0');
export const PMXEVCNTR_EL0 = idOf('pmxevcntr_el0');

/**
 * The system registers the emulated CPU implements: encoding (shared with the
 * assembler through src/isa/sysreg-names.ts), reset value, RES0/RES1 masks,
 * the lowest EL that may access it, and side effects. PSTATE views (NZCV,
 * DAIF, CurrentEL, SPSel, …) are computed from the CPU's PSTATE fields.
 */
import type { Cpu } from '../cpu.js';
import { lookupSysreg } from '../../isa/sysreg-names.js';
import { SP_SLOT } from '../registers.js';

export interface SysregDef {
  name: string;
  /** 16-bit op0:op1:CRn:CRm:op2 encoding, or -1 for registers without one. */
  encoding: number;
  /** Lowest exception level allowed to access it (0..3). */
  minEl: number;
  readOnly: boolean;
  reset: readonly [number, number];
  res0: readonly [number, number];
  res1: readonly [number, number];
  onWrite?: (cpu: Cpu, oldLo: number, oldHi: number) => void;
  onRead?: (cpu: Cpu, out: Int32Array, at: number) => void;
}

interface Options {
  minEl?: number;
  readOnly?: boolean;
  reset?: readonly [number, number];
  res0?: readonly [number, number];
  res1?: readonly [number, number];
  onWrite?: SysregDef['onWrite'];
  onRead?: SysregDef['onRead'];
}

export const SYSREG_DEFS: SysregDef[] = [];

function reg(name: string, opts: Options = {}): void {
  const enc = lookupSysreg(name);
  if (enc === undefined) throw new Error(`no encoding for system register ${name}`);
  SYSREG_DEFS.push({
    name,
    encoding: enc,
    minEl: opts.minEl ?? (/_el2$/.test(name) ? 2 : /_el3$/.test(name) ? 3 : /_el1$/.test(name) ? 1 : 0),
    readOnly: opts.readOnly ?? false,
    reset: opts.reset ?? [0, 0],
    res0: opts.res0 ?? [0, 0],
    res1: opts.res1 ?? [0, 0],
    onWrite: opts.onWrite,
    onRead: opts.onRead,
  });
}

/** Writes that can change address translation or the fetch path invalidate the cached fetch page. */
const translationChanged = (cpu: Cpu): void => {
  cpu.fetchStale = true;
};

const ro = { readOnly: true };

// ---- identification (values come from the CPU model) ------------------------
for (const name of [
  'midr_el1', 'mpidr_el1', 'revidr_el1', 'id_aa64pfr0_el1', 'id_aa64pfr1_el1', 'id_aa64dfr0_el1', 'id_aa64dfr1_el1',
  'id_aa64afr0_el1', 'id_aa64afr1_el1', 'id_aa64isar0_el1', 'id_aa64isar1_el1', 'id_aa64isar2_el1',
  'id_aa64mmfr0_el1', 'id_aa64mmfr1_el1', 'id_aa64mmfr2_el1', 'id_aa64zfr0_el1', 'id_aa64smfr0_el1',
  'id_pfr0_el1', 'id_pfr1_el1', 'id_dfr0_el1', 'id_afr0_el1', 'id_mmfr0_el1', 'id_mmfr1_el1', 'id_mmfr2_el1',
  'id_mmfr3_el1', 'id_isar0_el1', 'id_isar1_el1', 'id_isar2_el1', 'id_isar3_el1', 'id_isar4_el1', 'id_isar5_el1',
  'id_mmfr4_el1', 'id_isar6_el1', 'mvfr0_el1', 'mvfr1_el1', 'mvfr2_el1', 'id_pfr2_el1', 'id_dfr1_el1', 'id_mmfr5_el1',
  'ccsidr_el1', 'clidr_el1', 'aidr_el1',
]) reg(name, ro);
reg('vpidr_el2', { reset: [0x411fd070, 0] });
reg('vmpidr_el2', { reset: [0x80000000, 0] });
reg('csselr_el1');
reg('ctr_el0', { ...ro, minEl: 0 });
reg('dczid_el0', { ...ro, minEl: 0 });

// ---- PSTATE views -------------------------------------------------------------
reg('currentel', { ...ro, minEl: 1, onRead: (cpu, out, at) => { out[at] = cpu.el << 2; out[at + 1] = 0; } });
reg('nzcv', {
  minEl: 0,
  onRead: (cpu, out, at) => { out[at] = (cpu.nzcv << 28) | 0; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.nzcv = (cpu.sys.lo(NZCV) >>> 28) & 0xf; },
});
reg('daif', {
  minEl: 0,
  onRead: (cpu, out, at) => { out[at] = cpu.daif << 6; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.daif = (cpu.sys.lo(DAIF) >>> 6) & 0xf; },
});
reg('spsel', {
  minEl: 1,
  onRead: (cpu, out, at) => { out[at] = cpu.spsel; out[at + 1] = 0; },
  onWrite: (cpu) => { cpu.spsel = cpu.sys.lo(SPSEL) & 1; cpu.syncStackPointer(); },
});
reg('pan', { minEl: 1, onRead: (cpu, out, at) => { out[at] = cpu.pan << 22; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.pan = (cpu.sys.lo(PAN) >>> 22) & 1; translationChanged(cpu); } });
reg('uao', { minEl: 1, onRead: (cpu, out, at) => { out[at] = cpu.uao << 23; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.uao = (cpu.sys.lo(UAO) >>> 23) & 1; } });
reg('dit', { minEl: 0, onRead: (cpu, out, at) => { out[at] = cpu.dit << 24; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.dit = (cpu.sys.lo(DIT) >>> 24) & 1; } });
reg('ssbs', { minEl: 0, onRead: (cpu, out, at) => { out[at] = cpu.ssbs << 12; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.ssbs = (cpu.sys.lo(SSBS) >>> 12) & 1; } });
reg('fpcr', { minEl: 0, onRead: (cpu, out, at) => { out[at] = cpu.fpcr; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.fpcr = cpu.sys.lo(FPCR) & 0x07ff9f00; } });
reg('fpsr', { minEl: 0, onRead: (cpu, out, at) => { out[at] = cpu.fpsr; out[at + 1] = 0; }, onWrite: (cpu) => { cpu.fpsr = cpu.sys.lo(FPSR) & 0xf800009f; } });
reg('sp_el0', { minEl: 1, onRead: (cpu, out, at) => cpu.readSpEl(0, out, at), onWrite: (cpu) => cpu.writeSpEl(0, cpu.sys.lo(SP_EL0), cpu.sys.hi(SP_EL0)) });
reg('sp_el1', { minEl: 2, onRead: (cpu, out, at) => cpu.readSpEl(1, out, at), onWrite: (cpu) => cpu.writeSpEl(1, cpu.sys.lo(SP_EL1), cpu.sys.hi(SP_EL1)) });
void SP_SLOT;

// ---- EL1 ------------------------------------------------------------------------
// SCTLR_EL1 resets (architecturally UNKNOWN) to what QEMU shows: RES1 bits set, MMU off.
reg('sctlr_el1', { reset: [0x30d00800, 0], res1: [0x30d00800, 0], onWrite: translationChanged });
reg('actlr_el1');
reg('cpacr_el1');
reg('ttbr0_el1', { onWrite: translationChanged });
reg('ttbr1_el1', { onWrite: translationChanged });
reg('tcr_el1', { onWrite: translationChanged });
reg('mair_el1');
reg('amair_el1');
reg('vbar_el1', { res0: [0x7ff, 0] });
reg('esr_el1');
reg('far_el1');
reg('afsr0_el1');
reg('afsr1_el1');
reg('par_el1');
reg('elr_el1');
reg('spsr_el1');
reg('contextidr_el1');
reg('tpidr_el1');
reg('tpidr_el0', { minEl: 0 });
reg('tpidrro_el0', { minEl: 0 });
reg('cntkctl_el1');
reg('mdscr_el1');
reg('oslar_el1');
reg('osdlr_el1');
reg('mdccint_el1');
reg('isr_el1', { ...ro });
reg('disr_el1');
reg('zcr_el1');
reg('pmcr_el0', { minEl: 0, reset: [0x41002000, 0] });
reg('pmuserenr_el0', { minEl: 0 });
reg('pmcntenset_el0', { minEl: 0 });
reg('pmcntenclr_el0', { minEl: 0 });
reg('pmintenset_el1');
reg('pmintenclr_el1');
reg('pmovsclr_el0', { minEl: 0 });
reg('pmselr_el0', { minEl: 0 });
reg('pmccfiltr_el0', { minEl: 0 });
reg('pmscr_el1');
reg('apiakeylo_el1'); reg('apiakeyhi_el1'); reg('apibkeylo_el1'); reg('apibkeyhi_el1');
reg('apdakeylo_el1'); reg('apdakeyhi_el1'); reg('apdbkeylo_el1'); reg('apdbkeyhi_el1');
reg('apgakeylo_el1'); reg('apgakeyhi_el1');

// ---- EL2 ------------------------------------------------------------------------
reg('sctlr_el2', { reset: [0x30c50830, 0], res1: [0x30c50830, 0], onWrite: translationChanged });
reg('actlr_el2');
reg('hcr_el2', { onWrite: translationChanged });
reg('hcrx_el2');
reg('mdcr_el2');
reg('cptr_el2', { reset: [0x000033ff, 0], res1: [0x000032ff, 0] });
reg('hstr_el2');
reg('hacr_el2');
reg('hfgrtr_el2'); reg('hfgwtr_el2'); reg('hfgitr_el2');
reg('ttbr0_el2', { onWrite: translationChanged });
reg('tcr_el2', { reset: [0x80800000 | 0, 0], res1: [0x80800000 | 0, 0], onWrite: translationChanged });
reg('vttbr_el2', { onWrite: translationChanged });
reg('vtcr_el2', { res1: [0x80000000 | 0, 0], onWrite: translationChanged });
reg('mair_el2');
reg('amair_el2');
reg('vbar_el2', { res0: [0x7ff, 0] });
reg('esr_el2');
reg('far_el2');
reg('hpfar_el2');
reg('afsr0_el2');
reg('afsr1_el2');
reg('elr_el2');
reg('spsr_el2');
reg('tpidr_el2');
reg('contextidr_el2');
reg('cnthctl_el2', { reset: [0x3, 0] });
reg('cntvoff_el2');
reg('vsesr_el2');
reg('vdisr_el2');
reg('zcr_el2');
reg('dacr32_el2'); reg('ifsr32_el2'); reg('fpexc32_el2');
reg('sctlr_el12', { minEl: 2 });
reg('icc_sre_el2', { reset: [0x0, 0] });
reg('ich_hcr_el2');
reg('ich_vmcr_el2');
reg('pmscr_el2');

// ---- generic timer ------------------------------------------------------------------
reg('cntfrq_el0', { minEl: 0, reset: [62_500_000, 0] });
reg('cntp_ctl_el0', { minEl: 0 }); reg('cntp_cval_el0', { minEl: 0 }); reg('cntp_tval_el0', { minEl: 0 });
reg('cntv_ctl_el0', { minEl: 0 }); reg('cntv_cval_el0', { minEl: 0 }); reg('cntv_tval_el0', { minEl: 0 });
reg('cnthp_ctl_el2'); reg('cnthp_cval_el2'); reg('cnthp_tval_el2');
// The counters advance with retired instructions (deterministic; QEMU's follow wall-clock time).
const counter = (cpu: Cpu, out: Int32Array, at: number): void => {
  const n = cpu.retired;
  out[at] = n | 0;
  out[at + 1] = Math.floor(n / 4294967296) | 0;
};
reg('cntpct_el0', { minEl: 0, readOnly: true, onRead: counter });
reg('cntvct_el0', { minEl: 0, readOnly: true, onRead: counter });

export const NZCV = SYSREG_DEFS.findIndex((d) => d.name === 'nzcv');
export const DAIF = SYSREG_DEFS.findIndex((d) => d.name === 'daif');
export const SPSEL = SYSREG_DEFS.findIndex((d) => d.name === 'spsel');
export const PAN = SYSREG_DEFS.findIndex((d) => d.name === 'pan');
export const UAO = SYSREG_DEFS.findIndex((d) => d.name === 'uao');
export const DIT = SYSREG_DEFS.findIndex((d) => d.name === 'dit');
export const SSBS = SYSREG_DEFS.findIndex((d) => d.name === 'ssbs');
export const FPCR = SYSREG_DEFS.findIndex((d) => d.name === 'fpcr');
export const FPSR = SYSREG_DEFS.findIndex((d) => d.name === 'fpsr');
export const SP_EL0 = SYSREG_DEFS.findIndex((d) => d.name === 'sp_el0');
export const SP_EL1 = SYSREG_DEFS.findIndex((d) => d.name === 'sp_el1');

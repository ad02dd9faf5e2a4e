/**
 * System-register names known to the assembler and disassembler, keyed by the
 * 16-bit MRS/MSR encoding op0:op1:CRn:CRm:op2 (op0 in bits 15:14). The CPU's
 * own system-register table (src/cpu/sysregs) adds access rules and
 * behaviour; this list only ties names to encodings.
 */

export function sysregEncoding(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

// [name, op0, op1, CRn, CRm, op2]
const SYSREGS: [string, number, number, number, number, number][] = [
  // Identification
  ['midr_el1', 3, 0, 0, 0, 0], ['mpidr_el1', 3, 0, 0, 0, 5], ['revidr_el1', 3, 0, 0, 0, 6],
  ['id_pfr0_el1', 3, 0, 0, 1, 0], ['id_pfr1_el1', 3, 0, 0, 1, 1], ['id_dfr0_el1', 3, 0, 0, 1, 2],
  ['id_afr0_el1', 3, 0, 0, 1, 3], ['id_mmfr0_el1', 3, 0, 0, 1, 4], ['id_mmfr1_el1', 3, 0, 0, 1, 5],
  ['id_mmfr2_el1', 3, 0, 0, 1, 6], ['id_mmfr3_el1', 3, 0, 0, 1, 7], ['id_isar0_el1', 3, 0, 0, 2, 0],
  ['id_isar1_el1', 3, 0, 0, 2, 1], ['id_isar2_el1', 3, 0, 0, 2, 2], ['id_isar3_el1', 3, 0, 0, 2, 3],
  ['id_isar4_el1', 3, 0, 0, 2, 4], ['id_isar5_el1', 3, 0, 0, 2, 5], ['id_mmfr4_el1', 3, 0, 0, 2, 6],
  ['id_isar6_el1', 3, 0, 0, 2, 7], ['mvfr0_el1', 3, 0, 0, 3, 0], ['mvfr1_el1', 3, 0, 0, 3, 1],
  ['mvfr2_el1', 3, 0, 0, 3, 2], ['id_pfr2_el1', 3, 0, 0, 3, 4], ['id_dfr1_el1', 3, 0, 0, 3, 5],
  ['id_mmfr5_el1', 3, 0, 0, 3, 6],
  ['id_aa64pfr0_el1', 3, 0, 0, 4, 0], ['id_aa64pfr1_el1', 3, 0, 0, 4, 1], ['id_aa64zfr0_el1', 3, 0, 0, 4, 4],
  ['id_aa64smfr0_el1', 3, 0, 0, 4, 5],
  ['id_aa64dfr0_el1', 3, 0, 0, 5, 0], ['id_aa64dfr1_el1', 3, 0, 0, 5, 1], ['id_aa64afr0_el1', 3, 0, 0, 5, 4],
  ['id_aa64afr1_el1', 3, 0, 0, 5, 5], ['id_aa64isar0_el1', 3, 0, 0, 6, 0], ['id_aa64isar1_el1', 3, 0, 0, 6, 1],
  ['id_aa64isar2_el1', 3, 0, 0, 6, 2],
  ['id_aa64mmfr0_el1', 3, 0, 0, 7, 0], ['id_aa64mmfr1_el1', 3, 0, 0, 7, 1], ['id_aa64mmfr2_el1', 3, 0, 0, 7, 2],
  ['ccsidr_el1', 3, 1, 0, 0, 0], ['clidr_el1', 3, 1, 0, 0, 1], ['ccsidr2_el1', 3, 1, 0, 0, 2], ['aidr_el1', 3, 1, 0, 0, 7],
  ['csselr_el1', 3, 2, 0, 0, 0], ['ctr_el0', 3, 3, 0, 0, 1], ['dczid_el0', 3, 3, 0, 0, 7],
  ['vpidr_el2', 3, 4, 0, 0, 0], ['vmpidr_el2', 3, 4, 0, 0, 5],
  // System control
  ['sctlr_el1', 3, 0, 1, 0, 0], ['actlr_el1', 3, 0, 1, 0, 1], ['cpacr_el1', 3, 0, 1, 0, 2],
  ['rgsr_el1', 3, 0, 1, 0, 5], ['gcr_el1', 3, 0, 1, 0, 6],
  ['zcr_el1', 3, 0, 1, 2, 0], ['trfcr_el1', 3, 0, 1, 2, 1], ['smpri_el1', 3, 0, 1, 2, 4], ['smcr_el1', 3, 0, 1, 2, 6],
  ['sctlr_el2', 3, 4, 1, 0, 0], ['actlr_el2', 3, 4, 1, 0, 1], ['hcr_el2', 3, 4, 1, 1, 0], ['mdcr_el2', 3, 4, 1, 1, 1],
  ['cptr_el2', 3, 4, 1, 1, 2], ['hstr_el2', 3, 4, 1, 1, 3], ['hfgrtr_el2', 3, 4, 1, 1, 4], ['hfgwtr_el2', 3, 4, 1, 1, 5],
  ['hfgitr_el2', 3, 4, 1, 1, 6], ['hacr_el2', 3, 4, 1, 1, 7], ['zcr_el2', 3, 4, 1, 2, 0], ['trfcr_el2', 3, 4, 1, 2, 1],
  ['hcrx_el2', 3, 4, 1, 2, 2], ['sder32_el2', 3, 4, 1, 3, 1], ['smprimap_el2', 3, 4, 1, 2, 5], ['smcr_el2', 3, 4, 1, 2, 6],
  ['sctlr_el3', 3, 6, 1, 0, 0], ['actlr_el3', 3, 6, 1, 0, 1], ['scr_el3', 3, 6, 1, 1, 0], ['cptr_el3', 3, 6, 1, 1, 2],
  ['mdcr_el3', 3, 6, 1, 3, 1],
  // Translation
  ['ttbr0_el1', 3, 0, 2, 0, 0], ['ttbr1_el1', 3, 0, 2, 0, 1], ['tcr_el1', 3, 0, 2, 0, 2],
  ['apiakeylo_el1', 3, 0, 2, 1, 0], ['apiakeyhi_el1', 3, 0, 2, 1, 1], ['apibkeylo_el1', 3, 0, 2, 1, 2],
  ['apibkeyhi_el1', 3, 0, 2, 1, 3], ['apdakeylo_el1', 3, 0, 2, 2, 0], ['apdakeyhi_el1', 3, 0, 2, 2, 1],
  ['apdbkeylo_el1', 3, 0, 2, 2, 2], ['apdbkeyhi_el1', 3, 0, 2, 2, 3], ['apgakeylo_el1', 3, 0, 2, 3, 0],
  ['apgakeyhi_el1', 3, 0, 2, 3, 1],
  ['ttbr0_el2', 3, 4, 2, 0, 0], ['ttbr1_el2', 3, 4, 2, 0, 1], ['tcr_el2', 3, 4, 2, 0, 2],
  ['vttbr_el2', 3, 4, 2, 1, 0], ['vtcr_el2', 3, 4, 2, 1, 2], ['vncr_el2', 3, 4, 2, 2, 0],
  ['vsttbr_el2', 3, 4, 2, 6, 0], ['vstcr_el2', 3, 4, 2, 6, 2],
  ['ttbr0_el3', 3, 6, 2, 0, 0], ['tcr_el3', 3, 6, 2, 0, 2],
  ['dacr32_el2', 3, 4, 3, 0, 0],
  // Exception handling state
  ['spsr_el1', 3, 0, 4, 0, 0], ['elr_el1', 3, 0, 4, 0, 1], ['sp_el0', 3, 0, 4, 1, 0],
  ['spsel', 3, 0, 4, 2, 0], ['currentel', 3, 0, 4, 2, 2], ['pan', 3, 0, 4, 2, 3], ['uao', 3, 0, 4, 2, 4],
  ['icc_pmr_el1', 3, 0, 4, 6, 0],
  ['daif', 3, 3, 4, 2, 1], ['nzcv', 3, 3, 4, 2, 0], ['svcr', 3, 3, 4, 2, 2], ['dit', 3, 3, 4, 2, 5],
  ['ssbs', 3, 3, 4, 2, 6], ['tco', 3, 3, 4, 2, 7],
  ['fpcr', 3, 3, 4, 4, 0], ['fpsr', 3, 3, 4, 4, 1], ['dspsr_el0', 3, 3, 4, 5, 0], ['dlr_el0', 3, 3, 4, 5, 1],
  ['spsr_el2', 3, 4, 4, 0, 0], ['elr_el2', 3, 4, 4, 0, 1], ['sp_el1', 3, 4, 4, 1, 0],
  ['spsr_irq', 3, 4, 4, 3, 0], ['spsr_abt', 3, 4, 4, 3, 1], ['spsr_und', 3, 4, 4, 3, 2], ['spsr_fiq', 3, 4, 4, 3, 3],
  ['spsr_el3', 3, 6, 4, 0, 0], ['elr_el3', 3, 6, 4, 0, 1], ['sp_el2', 3, 6, 4, 1, 0],
  ['ifsr32_el2', 3, 4, 5, 0, 1],
  ['afsr0_el1', 3, 0, 5, 1, 0], ['afsr1_el1', 3, 0, 5, 1, 1], ['esr_el1', 3, 0, 5, 2, 0],
  ['erridr_el1', 3, 0, 5, 3, 0], ['errselr_el1', 3, 0, 5, 3, 1], ['erxfr_el1', 3, 0, 5, 4, 0],
  ['erxctlr_el1', 3, 0, 5, 4, 1], ['erxstatus_el1', 3, 0, 5, 4, 2], ['erxaddr_el1', 3, 0, 5, 4, 3],
  ['erxmisc0_el1', 3, 0, 5, 5, 0], ['erxmisc1_el1', 3, 0, 5, 5, 1],
  ['tfsr_el1', 3, 0, 5, 6, 0], ['tfsre0_el1', 3, 0, 5, 6, 1],
  ['afsr0_el2', 3, 4, 5, 1, 0], ['afsr1_el2', 3, 4, 5, 1, 1], ['esr_el2', 3, 4, 5, 2, 0],
  ['vsesr_el2', 3, 4, 5, 2, 3], ['fpexc32_el2', 3, 4, 5, 3, 0], ['tfsr_el2', 3, 4, 5, 6, 0],
  ['esr_el3', 3, 6, 5, 2, 0],
  ['far_el1', 3, 0, 6, 0, 0], ['far_el2', 3, 4, 6, 0, 0], ['hpfar_el2', 3, 4, 6, 0, 4], ['far_el3', 3, 6, 6, 0, 0],
  ['par_el1', 3, 0, 7, 4, 0],
  // Debug and performance monitors (the ones el2_setup.h and head.S touch)
  ['osdtrrx_el1', 2, 0, 0, 0, 2], ['mdccint_el1', 2, 0, 0, 2, 0], ['mdscr_el1', 2, 0, 0, 2, 2],
  ['osdtrtx_el1', 2, 0, 0, 3, 2], ['oseccr_el1', 2, 0, 0, 6, 2],
  ['mdrar_el1', 2, 0, 1, 0, 0], ['oslar_el1', 2, 0, 1, 0, 4], ['oslsr_el1', 2, 0, 1, 1, 4],
  ['osdlr_el1', 2, 0, 1, 3, 4], ['dbgprcr_el1', 2, 0, 1, 4, 4], ['dbgclaimset_el1', 2, 0, 7, 8, 6],
  ['dbgclaimclr_el1', 2, 0, 7, 9, 6], ['dbgauthstatus_el1', 2, 0, 7, 14, 6], ['mdccsr_el0', 2, 3, 0, 1, 0],
  ['dbgdtr_el0', 2, 3, 0, 4, 0], ['dbgdtrrx_el0', 2, 3, 0, 5, 0], ['dbgdtrtx_el0', 2, 3, 0, 5, 0], ['dbgvcr32_el2', 2, 4, 0, 7, 0],
  ['pmcr_el0', 3, 3, 9, 12, 0], ['pmcntenset_el0', 3, 3, 9, 12, 1], ['pmcntenclr_el0', 3, 3, 9, 12, 2],
  ['pmovsclr_el0', 3, 3, 9, 12, 3], ['pmswinc_el0', 3, 3, 9, 12, 4], ['pmselr_el0', 3, 3, 9, 12, 5],
  ['pmceid0_el0', 3, 3, 9, 12, 6], ['pmceid1_el0', 3, 3, 9, 12, 7], ['pmccntr_el0', 3, 3, 9, 13, 0],
  ['pmxevtyper_el0', 3, 3, 9, 13, 1], ['pmxevcntr_el0', 3, 3, 9, 13, 2], ['pmuserenr_el0', 3, 3, 9, 14, 0],
  ['pmovsset_el0', 3, 3, 9, 14, 3], ['pmintenset_el1', 3, 0, 9, 14, 1], ['pmintenclr_el1', 3, 0, 9, 14, 2],
  ['pmmir_el1', 3, 0, 9, 14, 6], ['pmccfiltr_el0', 3, 3, 14, 15, 7],
  ['pmscr_el1', 3, 0, 9, 9, 0], ['pmsicr_el1', 3, 0, 9, 9, 2], ['pmsirr_el1', 3, 0, 9, 9, 3],
  ['pmsfcr_el1', 3, 0, 9, 9, 4], ['pmsevfr_el1', 3, 0, 9, 9, 5], ['pmslatfr_el1', 3, 0, 9, 9, 6],
  ['pmsidr_el1', 3, 0, 9, 9, 7], ['pmscr_el2', 3, 4, 9, 9, 0],
  ['pmblimitr_el1', 3, 0, 9, 10, 0], ['pmbptr_el1', 3, 0, 9, 10, 1], ['pmbsr_el1', 3, 0, 9, 10, 3],
  ['pmbidr_el1', 3, 0, 9, 10, 7],
  ['trblimitr_el1', 3, 0, 9, 11, 0], ['trbptr_el1', 3, 0, 9, 11, 1], ['trbbaser_el1', 3, 0, 9, 11, 2],
  ['trbsr_el1', 3, 0, 9, 11, 3], ['trbmar_el1', 3, 0, 9, 11, 4], ['trbtrg_el1', 3, 0, 9, 11, 6],
  ['trbidr_el1', 3, 0, 9, 11, 7],
  // Memory attributes
  ['mair_el1', 3, 0, 10, 2, 0], ['amair_el1', 3, 0, 10, 3, 0], ['lorsa_el1', 3, 0, 10, 4, 0],
  ['lorea_el1', 3, 0, 10, 4, 1], ['lorn_el1', 3, 0, 10, 4, 2], ['lorc_el1', 3, 0, 10, 4, 3],
  ['lorid_el1', 3, 0, 10, 4, 7],
  ['mair_el2', 3, 4, 10, 2, 0], ['amair_el2', 3, 4, 10, 3, 0], ['mair_el3', 3, 6, 10, 2, 0],
  // Vectors, context, thread IDs
  ['vbar_el1', 3, 0, 12, 0, 0], ['rvbar_el1', 3, 0, 12, 0, 1], ['rmr_el1', 3, 0, 12, 0, 2],
  ['isr_el1', 3, 0, 12, 1, 0], ['disr_el1', 3, 0, 12, 1, 1],
  ['icc_iar0_el1', 3, 0, 12, 8, 0], ['icc_eoir0_el1', 3, 0, 12, 8, 1], ['icc_hppir0_el1', 3, 0, 12, 8, 2],
  ['icc_bpr0_el1', 3, 0, 12, 8, 3], ['icc_ap0r0_el1', 3, 0, 12, 8, 4],
  ['icc_ap1r0_el1', 3, 0, 12, 9, 0], ['icc_dir_el1', 3, 0, 12, 11, 1], ['icc_rpr_el1', 3, 0, 12, 11, 3],
  ['icc_sgi1r_el1', 3, 0, 12, 11, 5], ['icc_asgi1r_el1', 3, 0, 12, 11, 6], ['icc_sgi0r_el1', 3, 0, 12, 11, 7],
  ['icc_iar1_el1', 3, 0, 12, 12, 0], ['icc_eoir1_el1', 3, 0, 12, 12, 1], ['icc_hppir1_el1', 3, 0, 12, 12, 2],
  ['icc_bpr1_el1', 3, 0, 12, 12, 3], ['icc_ctlr_el1', 3, 0, 12, 12, 4], ['icc_sre_el1', 3, 0, 12, 12, 5],
  ['icc_igrpen0_el1', 3, 0, 12, 12, 6], ['icc_igrpen1_el1', 3, 0, 12, 12, 7],
  ['vbar_el2', 3, 4, 12, 0, 0], ['rvbar_el2', 3, 4, 12, 0, 1], ['rmr_el2', 3, 4, 12, 0, 2],
  ['vdisr_el2', 3, 4, 12, 1, 1],
  ['ich_ap0r0_el2', 3, 4, 12, 8, 0], ['ich_ap1r0_el2', 3, 4, 12, 9, 0], ['icc_sre_el2', 3, 4, 12, 9, 5],
  ['ich_hcr_el2', 3, 4, 12, 11, 0], ['ich_vtr_el2', 3, 4, 12, 11, 1], ['ich_misr_el2', 3, 4, 12, 11, 2],
  ['ich_eisr_el2', 3, 4, 12, 11, 3], ['ich_elrsr_el2', 3, 4, 12, 11, 5], ['ich_vmcr_el2', 3, 4, 12, 11, 7],
  ['ich_lr0_el2', 3, 4, 12, 12, 0], ['ich_lr1_el2', 3, 4, 12, 12, 1], ['ich_lr2_el2', 3, 4, 12, 12, 2],
  ['ich_lr3_el2', 3, 4, 12, 12, 3],
  ['vbar_el3', 3, 6, 12, 0, 0], ['icc_sre_el3', 3, 6, 12, 12, 5],
  ['contextidr_el1', 3, 0, 13, 0, 1], ['tpidr_el1', 3, 0, 13, 0, 4], ['scxtnum_el1', 3, 0, 13, 0, 7],
  ['tpidr_el0', 3, 3, 13, 0, 2], ['tpidrro_el0', 3, 3, 13, 0, 3], ['scxtnum_el0', 3, 3, 13, 0, 7],
  ['contextidr_el2', 3, 4, 13, 0, 1], ['tpidr_el2', 3, 4, 13, 0, 2], ['scxtnum_el2', 3, 4, 13, 0, 7],
  ['tpidr_el3', 3, 6, 13, 0, 2],
  ['amcr_el0', 3, 3, 13, 2, 0], ['amcfgr_el0', 3, 3, 13, 2, 1], ['amcgcr_el0', 3, 3, 13, 2, 2],
  ['amuserenr_el0', 3, 3, 13, 2, 3], ['amcntenclr0_el0', 3, 3, 13, 2, 4], ['amcntenset0_el0', 3, 3, 13, 2, 5],
  // Generic timer
  ['cntfrq_el0', 3, 3, 14, 0, 0], ['cntpct_el0', 3, 3, 14, 0, 1], ['cntvct_el0', 3, 3, 14, 0, 2],
  ['cntpctss_el0', 3, 3, 14, 0, 5], ['cntvctss_el0', 3, 3, 14, 0, 6],
  ['cntp_tval_el0', 3, 3, 14, 2, 0], ['cntp_ctl_el0', 3, 3, 14, 2, 1], ['cntp_cval_el0', 3, 3, 14, 2, 2],
  ['cntv_tval_el0', 3, 3, 14, 3, 0], ['cntv_ctl_el0', 3, 3, 14, 3, 1], ['cntv_cval_el0', 3, 3, 14, 3, 2],
  ['cntkctl_el1', 3, 0, 14, 1, 0], ['cnthctl_el2', 3, 4, 14, 1, 0], ['cntvoff_el2', 3, 4, 14, 0, 3],
  ['cnthp_tval_el2', 3, 4, 14, 2, 0], ['cnthp_ctl_el2', 3, 4, 14, 2, 1], ['cnthp_cval_el2', 3, 4, 14, 2, 2],
  ['cnthv_tval_el2', 3, 4, 14, 3, 0], ['cnthv_ctl_el2', 3, 4, 14, 3, 1], ['cnthv_cval_el2', 3, 4, 14, 3, 2],
  ['cntps_tval_el1', 3, 7, 14, 2, 0], ['cntps_ctl_el1', 3, 7, 14, 2, 1], ['cntps_cval_el1', 3, 7, 14, 2, 2],
  // VHE *_EL12 / *_EL02 aliases
  ['sctlr_el12', 3, 5, 1, 0, 0], ['cpacr_el12', 3, 5, 1, 0, 2], ['ttbr0_el12', 3, 5, 2, 0, 0],
  ['ttbr1_el12', 3, 5, 2, 0, 1], ['tcr_el12', 3, 5, 2, 0, 2], ['spsr_el12', 3, 5, 4, 0, 0],
  ['elr_el12', 3, 5, 4, 0, 1], ['afsr0_el12', 3, 5, 5, 1, 0], ['afsr1_el12', 3, 5, 5, 1, 1],
  ['esr_el12', 3, 5, 5, 2, 0], ['far_el12', 3, 5, 6, 0, 0], ['mair_el12', 3, 5, 10, 2, 0],
  ['amair_el12', 3, 5, 10, 3, 0], ['vbar_el12', 3, 5, 12, 0, 0], ['contextidr_el12', 3, 5, 13, 0, 1],
  ['cntkctl_el12', 3, 5, 14, 1, 0], ['cntp_tval_el02', 3, 5, 14, 2, 0], ['cntp_ctl_el02', 3, 5, 14, 2, 1],
  ['cntp_cval_el02', 3, 5, 14, 2, 2], ['cntv_tval_el02', 3, 5, 14, 3, 0], ['cntv_ctl_el02', 3, 5, 14, 3, 1],
  ['cntv_cval_el02', 3, 5, 14, 3, 2],
  // Cortex-A57 implementation-defined registers that cpu errata code touches are written in generic form.
];

const BY_NAME = new Map<string, number>();
const BY_ENCODING = new Map<number, string>();
for (const [name, op0, op1, crn, crm, op2] of SYSREGS) {
  const enc = sysregEncoding(op0, op1, crn, crm, op2);
  BY_NAME.set(name, enc);
  if (!BY_ENCODING.has(enc)) BY_ENCODING.set(enc, name);
}
// Debug breakpoint/watchpoint registers: dbgb{v,c}r<n>_el1, dbgw{v,c}r<n>_el1; PMU event counters.
for (let n = 0; n < 16; n++) {
  for (const [name, op2] of [['dbgbvr', 4], ['dbgbcr', 5], ['dbgwvr', 6], ['dbgwcr', 7]] as const) {
    const enc = sysregEncoding(2, 0, 0, n, op2);
    BY_NAME.set(`${name}${n}_el1`, enc);
    BY_ENCODING.set(enc, `${name}${n}_el1`);
  }
}
for (let n = 0; n < 31; n++) {
  const cnt = sysregEncoding(3, 3, 14, 8 + (n >> 3), n & 7);
  const typ = sysregEncoding(3, 3, 14, 12 + (n >> 3), n & 7);
  BY_NAME.set(`pmevcntr${n}_el0`, cnt); BY_ENCODING.set(cnt, `pmevcntr${n}_el0`);
  BY_NAME.set(`pmevtyper${n}_el0`, typ); BY_ENCODING.set(typ, `pmevtyper${n}_el0`);
}

/** Named or generic `s<op0>_<op1>_c<n>_c<m>_<op2>` register to its 16-bit encoding. */
export function lookupSysreg(name: string): number | undefined {
  const lower = name.toLowerCase();
  const known = BY_NAME.get(lower);
  if (known !== undefined) return known;
  // GNU as takes decimal fields (leading zeros allowed) and any op0, so `msr s1_0_c7_c5_0, x0` is a SYS encoding.
  const m = /^s(\d+)_(\d+)_c(\d+)_c(\d+)_(\d+)$/.exec(lower);
  if (!m) return undefined;
  const [op0, op1, crn, crm, op2] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (op0 > 3 || op1 > 7 || crn > 15 || crm > 15 || op2 > 7) return undefined;
  return sysregEncoding(op0, op1, crn, crm, op2);
}

export function sysregName(encoding: number): string {
  const known = BY_ENCODING.get(encoding);
  if (known !== undefined) return known;
  const op0 = encoding >> 14, op1 = (encoding >> 11) & 7, crn = (encoding >> 7) & 15, crm = (encoding >> 3) & 15, op2 = encoding & 7;
  return `s${op0}_${op1}_c${crn}_c${crm}_${op2}`;
}

export function allSysregNames(): string[] {
  return [...BY_NAME.keys()];
}

/*
 * EL2 initialisation for a CPU that booted at EL2 (init_el2_state and its
 * parts), as in Linux 6.1 arch/arm64/include/asm/el2_setup.h.  Values and
 * behaviour: shared/pkvm-facts.md 4.2.
 *
 * Every part clobbers only x0, x1 and x2.  In 6.1 init_el2_state ends with
 * __init_el2_nvhe_prepare_eret (SPSR_EL2 for the ERET to EL1).  Later
 * kernels, including the Android 6.6 tree of the documents, took it out and
 * call it after init_el2_state themselves; the documents' init_el2 does
 * that, so with these 6.1 macros it writes SPSR_EL2 twice (same value).
 */
#ifndef __ASSEMBLY__
#error "asm/el2_setup.h is for assembly sources"
#endif

#ifndef __PKVM_LAB_ASM_EL2_SETUP_H
#define __PKVM_LAB_ASM_EL2_SETUP_H

#include <asm/assembler.h>
#include <asm/kvm_arm.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <linux/irqchip/arm-gic-v3.h>

/* SCTLR_EL2: MMU and caches off, RES1 bits set. */
.macro __init_el2_sctlr
	mov_q	x0, INIT_SCTLR_EL2_MMU_OFF
	msr	sctlr_el2, x0
	isb
.endm

/*
 * CNTHCTL_EL2 = EL1PCTEN | EL1PCEN: EL1/EL0 may use the physical counter
 * and timer.  CNTVOFF_EL2 = 0: virtual time equals physical time.
 */
.macro __init_el2_timers
	mov	x0, #3
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr
.endm

/*
 * MDCR_EL2, built in x2: HPMN = PMCR_EL0.N when a PMU exists (all counters
 * to EL1, no traps); SPE buffer to EL1 (E2PB) when SPE exists, and let EL1
 * sample physical addresses/counter when EL2 cannot program the buffer;
 * TRBE to EL1 (E2TB) when EL2 cannot program it.
 */
.macro __init_el2_debug
	mrs	x1, id_aa64dfr0_el1
	sbfx	x0, x1, #ID_AA64DFR0_EL1_PMUVer_SHIFT, #4
	cmp	x0, #1
	b.lt	.Lskip_pmu_\@		// no PMUv3 (or IMPDEF PMU)
	mrs	x0, pmcr_el0
	ubfx	x0, x0, #11, #5		// PMCR_EL0.N
.Lskip_pmu_\@:
	csel	x2, xzr, x0, lt

	ubfx	x0, x1, #ID_AA64DFR0_EL1_PMSVer_SHIFT, #4
	cbz	x0, .Lskip_spe_\@	// no SPE

	mrs_s	x0, SYS_PMBIDR_EL1
	and	x0, x0, #(1 << SYS_PMBIDR_EL1_P_SHIFT)
	cbnz	x0, .Lskip_spe_el2_\@	// EL2 owns the buffer: leave PMSCR_EL2 alone
	mov	x0, #(1 << SYS_PMSCR_EL2_PCT_SHIFT | \
		      1 << SYS_PMSCR_EL2_PA_SHIFT)
	msr_s	SYS_PMSCR_EL2, x0
.Lskip_spe_el2_\@:
	mov	x0, #(MDCR_EL2_E2PB_MASK << MDCR_EL2_E2PB_SHIFT)
	orr	x2, x2, x0

.Lskip_spe_\@:
	ubfx	x0, x1, #ID_AA64DFR0_EL1_TraceBuffer_SHIFT, #4
	cbz	x0, .Lskip_trace_\@	// no TRBE

	mrs_s	x0, SYS_TRBIDR_EL1
	and	x0, x0, TRBIDR_PROG
	cbnz	x0, .Lskip_trace_\@	// EL2 cannot program it: keep E2TB = 0

	mov	x0, #(MDCR_EL2_E2TB_MASK << MDCR_EL2_E2TB_SHIFT)
	orr	x2, x2, x0

.Lskip_trace_\@:
	msr	mdcr_el2, x2
.endm

/* LORegions: disabled (LORC_EL1 = 0) when implemented. */
.macro __init_el2_lor
	mrs	x1, id_aa64mmfr1_el1
	ubfx	x0, x1, #ID_AA64MMFR1_EL1_LO_SHIFT, 4
	cbz	x0, .Lskip_lor_\@
	msr_s	SYS_LORC_EL1, xzr
.Lskip_lor_\@:
.endm

/* No stage-2 tables yet: VTTBR_EL2 = 0. */
.macro __init_el2_stage2
	msr	vttbr_el2, xzr
.endm

/*
 * GICv3: enable the system-register CPU interface for EL2 and EL1
 * (ICC_SRE_EL2.SRE and .Enable).  If SRE sticks, reset ICH_HCR_EL2.
 */
.macro __init_el2_gicv3
	mrs	x0, id_aa64pfr0_el1
	ubfx	x0, x0, #ID_AA64PFR0_EL1_GIC_SHIFT, #4
	cbz	x0, .Lskip_gicv3_\@

	mrs_s	x0, SYS_ICC_SRE_EL2
	orr	x0, x0, #ICC_SRE_EL2_SRE
	orr	x0, x0, #ICC_SRE_EL2_ENABLE
	msr_s	SYS_ICC_SRE_EL2, x0
	isb
	mrs_s	x0, SYS_ICC_SRE_EL2
	tbz	x0, #0, .Lskip_gicv3_\@
	msr_s	SYS_ICH_HCR_EL2, xzr
.Lskip_gicv3_\@:
.endm

/* No AArch32 CP15 traps. */
.macro __init_el2_hstr
	msr	hstr_el2, xzr
.endm

/* EL1 reads its own MIDR/MPIDR through the virtual ID registers. */
.macro __init_el2_nvhe_idregs
	mrs	x0, midr_el1
	mrs	x1, mpidr_el1
	msr	vpidr_el2, x0
	msr	vmpidr_el2, x1
.endm

/*
 * CPTR_EL2 = 0x33ff: RES1 bits, TZ and TSM set (SVE/SME trapped until
 * finalised), TFP clear (FP/SIMD not trapped).
 */
.macro __init_el2_nvhe_cptr
	mov	x0, #0x33ff
	msr	cptr_el2, x0
.endm

/*
 * Fine-grained traps (FEAT_FGT): none, except that the "n" bits which would
 * otherwise trap PMSNEVFR_EL1 (SPEv1p2) or TPIDR2/SMPRI (SME) are set.
 */
.macro __init_el2_fgt
	mrs	x1, id_aa64mmfr0_el1
	ubfx	x1, x1, #ID_AA64MMFR0_EL1_FGT_SHIFT, #4
	cbz	x1, .Lskip_fgt_\@

	mov	x0, xzr
	mrs	x1, id_aa64dfr0_el1
	ubfx	x1, x1, #ID_AA64DFR0_EL1_PMSVer_SHIFT, #4
	cmp	x1, #3
	b.lt	.Lset_debug_fgt_\@
	orr	x0, x0, #(1 << 62)	// nPMSNEVFR_EL1

.Lset_debug_fgt_\@:
	msr_s	SYS_HDFGRTR_EL2, x0
	msr_s	SYS_HDFGWTR_EL2, x0

	mov	x0, xzr
	mrs	x1, id_aa64pfr1_el1
	ubfx	x1, x1, #ID_AA64PFR1_EL1_SME_SHIFT, #4
	cbz	x1, .Lset_fgt_\@

	orr	x0, x0, #HFGxTR_EL2_nSMPRI_EL1_MASK
	orr	x0, x0, #HFGxTR_EL2_nTPIDR2_EL0_MASK

.Lset_fgt_\@:
	msr_s	SYS_HFGRTR_EL2, x0
	msr_s	SYS_HFGWTR_EL2, x0
	msr_s	SYS_HFGITR_EL2, xzr

	mrs	x1, id_aa64pfr0_el1	// HAFGRTR_EL2 is UNDEFINED without AMU
	ubfx	x1, x1, #ID_AA64PFR0_EL1_AMU_SHIFT, #4
	cbz	x1, .Lskip_fgt_\@

	msr_s	SYS_HAFGRTR_EL2, xzr
.Lskip_fgt_\@:
.endm

/* The ERET that leaves EL2 lands in EL1h with D, A, I and F masked. */
.macro __init_el2_nvhe_prepare_eret
	mov	x0, #INIT_PSTATE_EL1
	msr	spsr_el2, x0
.endm

/*
 * Sane EL2 state for a CPU that booted at EL2, set up as for nVHE (the
 * kernel may still switch to VHE later).  Clobbers x0, x1, x2.
 */
.macro init_el2_state
	__init_el2_sctlr
	__init_el2_timers
	__init_el2_debug
	__init_el2_lor
	__init_el2_stage2
	__init_el2_gicv3
	__init_el2_hstr
	__init_el2_nvhe_idregs
	__init_el2_nvhe_cptr
	__init_el2_fgt
	__init_el2_nvhe_prepare_eret
.endm

#endif /* __PKVM_LAB_ASM_EL2_SETUP_H */

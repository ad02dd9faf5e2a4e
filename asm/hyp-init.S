/*
 * The hypervisor's identity-mapped entry code (the kernel's
 * arch/arm64/kvm/hyp/nvhe/hyp-init.S), everything in .hyp.idmap.text: the
 * one page that kvm_mmu_init maps at VA == PA, so that it can run while
 * EL2's MMU is turned on or off.
 *
 *  __kvm_hyp_init        the vector table the host installs with the stub's
 *                        HVC_SET_VECTORS (x1 = its PA).  Only the slot
 *                        "Synchronous, lower EL, AArch64" is live:
 *  __do_hyp_init         x0 < HVC_STUB_HCALL_NR: a stub call
 *                        (__kvm_handle_stub_hvc); x0 = the SMCCC id of
 *                        __kvm_hyp_init with x1 = PA of this CPU's
 *                        struct kvm_nvhe_init_params: ___kvm_hyp_init, then
 *                        SMCCC_RET_SUCCESS; anything else NOT_SUPPORTED.
 *  ___kvm_hyp_init       loads TPIDR_EL2, SP, MAIR_EL2, HCR_EL2, VTTBR_EL2,
 *                        VTCR_EL2, TTBR0_EL2 and TCR_EL2 (PS from PARange)
 *                        from the params, invalidates the TLBs, turns the
 *                        MMU on (INIT_SCTLR_EL2_MMU_ON) and points VBAR_EL2
 *                        at __kvm_hyp_host_vector (its hyp VA: the literal
 *                        is rewritten by the hyp relocations at boot).
 *  __kvm_handle_stub_hvc HVC_SOFT_RESTART / HVC_RESET_VECTORS once KVM owns
 *                        EL2: MMU off, HCR_EL2 back to the host flags in
 *                        protected mode, stub vectors reinstalled.
 *  __pkvm_init_switch_pgd  as the documents show it (below).
 *
 * Two kernels (pkvm-facts 4.3): by default the documents' Android tree;
 * with PKVM_LAB_PROFILE_LINUX_6_1 defined, Linux 6.1.  They differ in
 * __pkvm_init_switch_pgd's argument (params VA vs PA), in the TLB flush of
 * ___kvm_hyp_init (alle1 vs vmalls12e1), in the HFGWTR_EL2 write and the
 * SCTLR_EL2.BT bit (Android only), and in the SMCCC hint bit that Android
 * clears before comparing the function id.
 *
 * Section: the kernel's source says .idmap.text; the nVHE link step
 * (hyp.lds, HYP_SECTION) renames the hypervisor object's sections with a
 * .hyp prefix, so the code ends up in .hyp.idmap.text, the range that
 * __hyp_idmap_text_start/end delimit and kvm_mmu_init identity-maps.  We
 * emit that final name.  (The symbol prefix __kvm_nvhe_ that the same step
 * adds is not applied: names stay as in the documents.)
 */
#include <linux/kconfig.h>

/* The kernel's build defines this for every object of kvm/hyp/nvhe. */
#define __KVM_NVHE_HYPERVISOR__ 1

#include <linux/arm-smccc.h>
#include <linux/cfi_types.h>
#include <linux/linkage.h>

#include <asm/alternative.h>
#include <asm/assembler.h>
#include <asm/kvm_arm.h>
#include <asm/kvm_asm.h>
#include <asm/pgtable-hwdef.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

#ifndef PKVM_LAB_PROFILE_LINUX_6_1
/*
 * The Android tree's kvm_nvhe_init_params ends with hfgwtr_el2 (pkvm-facts
 * 5.3: its position after vtcr is assumed, not confirmed).
 */
#define NVHE_INIT_HFGWTR_EL2	72
/* SCTLR_ELx.BT (BTI for EL2's own code), set by Android when BTI is in use. */
#define SCTLR_ELx_BT		(BIT(36))
#endif

	.text
	.pushsection	.hyp.idmap.text, "ax"

	.align	11

SYM_CODE_START(__kvm_hyp_init)
	ventry	__invalid		// Synchronous EL2t
	ventry	__invalid		// IRQ EL2t
	ventry	__invalid		// FIQ EL2t
	ventry	__invalid		// Error EL2t

	ventry	__invalid		// Synchronous EL2h
	ventry	__invalid		// IRQ EL2h
	ventry	__invalid		// FIQ EL2h
	ventry	__invalid		// Error EL2h

	ventry	__do_hyp_init		// Synchronous 64-bit EL1
	ventry	__invalid		// IRQ 64-bit EL1
	ventry	__invalid		// FIQ 64-bit EL1
	ventry	__invalid		// Error 64-bit EL1

	ventry	__invalid		// Synchronous 32-bit EL1
	ventry	__invalid		// IRQ 32-bit EL1
	ventry	__invalid		// FIQ 32-bit EL1
	ventry	__invalid		// Error 32-bit EL1

__invalid:
	b	.

	/*
	 * x0: SMCCC function id; x1: PA of struct kvm_nvhe_init_params.
	 * Only x0..x3 are touched: x4..x17 belong to the SMCCC caller.
	 */
__do_hyp_init:
	/* A stub call? */
	cmp	x0, #HVC_STUB_HCALL_NR
	b.lo	__kvm_handle_stub_hvc

#ifndef PKVM_LAB_PROFILE_LINUX_6_1
	bic	x0, x0, #ARM_SMCCC_CALL_HINTS
#endif
	mov	x3, #KVM_HOST_SMCCC_FUNC(__kvm_hyp_init)
	cmp	x0, x3
	b.eq	1f

	mov	x0, #SMCCC_RET_NOT_SUPPORTED
	eret

1:	mov	x0, x1
	mov	x3, lr
	bl	___kvm_hyp_init			// clobbers x0..x2
	mov	lr, x3

	/* Hello, World! */
	mov	x0, #SMCCC_RET_SUCCESS
	eret
SYM_CODE_END(__kvm_hyp_init)

/*
 * x0: PA of struct kvm_nvhe_init_params.  Uses x0..x2 only (x3 holds the
 * caller's lr).
 */
SYM_CODE_START_LOCAL(___kvm_hyp_init)
	ldr	x1, [x0, #NVHE_INIT_TPIDR_EL2]
	msr	tpidr_el2, x1

	ldr	x1, [x0, #NVHE_INIT_STACK_HYP_VA]
	mov	sp, x1

	ldr	x1, [x0, #NVHE_INIT_MAIR_EL2]
	msr	mair_el2, x1

	ldr	x1, [x0, #NVHE_INIT_HCR_EL2]
	msr	hcr_el2, x1

#ifndef PKVM_LAB_PROFILE_LINUX_6_1
	/* Fine-grained write traps, only where FEAT_FGT exists. */
	mrs	x1, id_aa64mmfr0_el1
	and	x1, x1, #(0xf << ID_AA64MMFR0_EL1_FGT_SHIFT)
	cbz	x1, 1f
	ldr	x1, [x0, #NVHE_INIT_HFGWTR_EL2]
	msr_s	SYS_HFGWTR_EL2, x1
1:
#endif

	ldr	x1, [x0, #NVHE_INIT_VTTBR]
	msr	vttbr_el2, x1

	ldr	x1, [x0, #NVHE_INIT_VTCR]
	msr	vtcr_el2, x1

	ldr	x1, [x0, #NVHE_INIT_PGD_PA]
	phys_to_ttbr x2, x1
alternative_if ARM64_HAS_CNP
	orr	x2, x2, #TTBR_CNP_BIT
alternative_else_nop_endif
	msr	ttbr0_el2, x2

	/* TCR_EL2.PS from the CPU's PARange, capped at 48 bits. */
	ldr	x0, [x0, #NVHE_INIT_TCR_EL2]
	tcr_compute_pa_size x0, #TCR_EL2_PS_SHIFT, x1, x2
	msr	tcr_el2, x0

	isb

	/* Invalidate the stale TLBs from the bootloader. */
	tlbi	alle2
#ifdef PKVM_LAB_PROFILE_LINUX_6_1
	tlbi	vmalls12e1
#else
	tlbi	alle1
#endif
	dsb	sy

	mov_q	x0, INIT_SCTLR_EL2_MMU_ON
alternative_if ARM64_HAS_ADDRESS_AUTH
	mov_q	x1, (SCTLR_ELx_ENIA | SCTLR_ELx_ENIB | \
		     SCTLR_ELx_ENDA | SCTLR_ELx_ENDB)
	orr	x0, x0, x1
alternative_else_nop_endif
#ifndef PKVM_LAB_PROFILE_LINUX_6_1
alternative_if ARM64_BTI
	orr	x0, x0, #SCTLR_ELx_BT
alternative_else_nop_endif
#endif
	msr	sctlr_el2, x0
	isb

	/* Set the host vector (a hyp VA once the hyp relocations are applied). */
	ldr	x0, =__kvm_hyp_host_vector
	msr	vbar_el2, x0

	ret
	/*
	 * The literal pool here rather than at the end of the section (GNU as's
	 * place for it): our assembler omits the $x mapping symbol after an
	 * end-of-section pool that subsection-1 code follows.
	 */
	.ltorg
SYM_CODE_END(___kvm_hyp_init)

/*
 * Stub calls once KVM owns EL2 (x0 < HVC_STUB_HCALL_NR).
 */
SYM_CODE_START(__kvm_handle_stub_hvc)
	cmp	x0, #HVC_SOFT_RESTART
	b.ne	1f

	/* This is where we're about to jump, staying at EL2 */
	msr	elr_el2, x1
	mov	x0, #(PSR_F_BIT | PSR_I_BIT | PSR_A_BIT | PSR_D_BIT | PSR_MODE_EL2h)
	msr	spsr_el2, x0

	/* Shuffle the arguments, and don't come back */
	mov	x0, x2
	mov	x1, x3
	mov	x2, x4
	b	reset

1:	cmp	x0, #HVC_RESET_VECTORS
	b.ne	1f

	/*
	 * The return code goes in first, so that x0..x2 survive for the
	 * HVC_SOFT_RESTART path through the common code.
	 */
	mov	x0, xzr
reset:
	/* Back to the hyp stub: MMU off ... */
	mov_q	x5, INIT_SCTLR_EL2_MMU_OFF
	pre_disable_mmu_workaround
	msr	sctlr_el2, x5
	isb

	/* ... the host's HCR_EL2 in protected mode ... */
alternative_if ARM64_KVM_PROTECTED_MODE
	mov_q	x5, HCR_HOST_NVHE_FLAGS
	msr	hcr_el2, x5
alternative_else_nop_endif

	/* ... and the stub vectors. */
	adr_l	x5, __hyp_stub_vectors
	msr	vbar_el2, x5
	eret

1:	/* Bad stub call */
	mov_q	x0, HVC_STUB_ERR
	eret
SYM_CODE_END(__kvm_handle_stub_hvc)

#ifndef PKVM_LAB_PROFILE_LINUX_6_1
/*
 * __pkvm_init_switch_pgd as the documents show it (the Android tree):
 * runs from the hypervisor's identity map, turns the EL2 MMU off, installs
 * the page tables pKVM has just built, switches to the new stack and turns
 * the MMU back on, then tail-calls finalize_fn (__pkvm_init_finalise).
 *
 *   void __pkvm_init_switch_pgd(struct kvm_nvhe_init_params *params,
 *                               void (*finalize_fn)(void));
 *
 * x0 is the params' hyp VA: both fields are read before the MMU goes off.
 * SYM_TYPED_FUNC_START lets C call it through a pointer under kCFI; without
 * CONFIG_CFI_CLANG (our configuration) it is SYM_FUNC_START.
 */
SYM_TYPED_FUNC_START(__pkvm_init_switch_pgd)
	/* Load the inputs from the VA pointer before turning the MMU off */
	ldr	x5, [x0, #NVHE_INIT_PGD_PA]
	ldr	x0, [x0, #NVHE_INIT_STACK_HYP_VA]

	/* Turn the MMU off */
	pre_disable_mmu_workaround
	mrs	x2, sctlr_el2
	bic	x3, x2, #SCTLR_ELx_M
	msr	sctlr_el2, x3
	isb

	tlbi	alle2

	/* Install the new pgtables */
	phys_to_ttbr x4, x5
alternative_if ARM64_HAS_CNP
	orr	x4, x4, #TTBR_CNP_BIT
alternative_else_nop_endif
	msr	ttbr0_el2, x4

	/* Set the new stack pointer */
	mov	sp, x0

	/* And turn the MMU back on! */
	set_sctlr_el2	x2
	ret	x1
SYM_FUNC_END(__pkvm_init_switch_pgd)
#else
/*
 * Linux 6.1's __pkvm_init_switch_pgd: x0 is the params' PA, so the fields
 * are read after the MMU is off (pkvm-facts 4.3).
 */
SYM_FUNC_START(__pkvm_init_switch_pgd)
	/* Turn the MMU off */
	pre_disable_mmu_workaround
	mrs	x2, sctlr_el2
	bic	x3, x2, #SCTLR_ELx_M
	msr	sctlr_el2, x3
	isb

	tlbi	alle2

	/* Install the new pgtables */
	ldr	x3, [x0, #NVHE_INIT_PGD_PA]
	phys_to_ttbr x4, x3
alternative_if ARM64_HAS_CNP
	orr	x4, x4, #TTBR_CNP_BIT
alternative_else_nop_endif
	msr	ttbr0_el2, x4

	/* Set the new stack pointer */
	ldr	x0, [x0, #NVHE_INIT_STACK_HYP_VA]
	mov	sp, x0

	/* And turn the MMU back on! */
	set_sctlr_el2	x2
	ret	x1
SYM_FUNC_END(__pkvm_init_switch_pgd)
#endif

	.popsection

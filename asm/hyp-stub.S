/*
 * The hypervisor stub (the kernel's arch/arm64/kernel/hyp-stub.S): the EL2
 * vector table init_el2 installs in VBAR_EL2 before it drops to EL1, so
 * that the kernel, now at EL1, can still ask EL2 for a few things with
 * "hvc #0" and x0 = one of the HVC_* numbers of asm/virt.h:
 *
 *   HVC_SET_VECTORS    x1 = new VBAR_EL2 (KVM installs __kvm_hyp_init so)
 *   HVC_FINALISE_EL2   SVE/SME set-up and the switch to VHE; refused here
 *                      (HVC_STUB_ERR): the model's CPUs have no SVE/SME,
 *                      and kvm-arm.mode=protected forbids VHE
 *   HVC_SOFT_RESTART   jump to x1 at EL2 with x0..x2 = x2..x4 (kexec)
 *   HVC_RESET_VECTORS  nothing to reset while the stub is installed
 *
 * Anything else (e.g. a kvm_call_hyp() against the stub) returns
 * HVC_STUB_ERR.  Every path ERETs back to EL1 except HVC_SOFT_RESTART.
 *
 * Only the "Synchronous, lower EL, AArch64" and "Synchronous, current EL,
 * SP_ELx" slots are live; the others spin at a label named after them, so
 * a stray exception shows up by name in a trace.
 *
 * Section: .hyp.text, as the 6.x kernels place the stub vectors; the helper
 * functions the kernel calls at EL1 (__hyp_set_vectors, __hyp_reset_vectors,
 * finalise_el2) are ordinary .text.
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

#include <asm/assembler.h>
#include <asm/kvm_arm.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

/* struct arm64_ftr_override { u64 val; u64 mask; } (arch/arm64/include/asm/cpufeature.h). */
#define FTR_OVR_VAL_OFFSET	0
#define FTR_OVR_MASK_OFFSET	8

	.text
	.pushsection	.hyp.text, "ax"

	.align 11

SYM_CODE_START(__hyp_stub_vectors)
	ventry	el2_sync_invalid		// Synchronous EL2t
	ventry	el2_irq_invalid			// IRQ EL2t
	ventry	el2_fiq_invalid			// FIQ EL2t
	ventry	el2_error_invalid		// Error EL2t

	ventry	elx_sync			// Synchronous EL2h
	ventry	el2_irq_invalid			// IRQ EL2h
	ventry	el2_fiq_invalid			// FIQ EL2h
	ventry	el2_error_invalid		// Error EL2h

	ventry	elx_sync			// Synchronous 64-bit EL1
	ventry	el1_irq_invalid			// IRQ 64-bit EL1
	ventry	el1_fiq_invalid			// FIQ 64-bit EL1
	ventry	el1_error_invalid		// Error 64-bit EL1

	ventry	el1_sync_invalid		// Synchronous 32-bit EL1
	ventry	el1_irq_invalid			// IRQ 32-bit EL1
	ventry	el1_fiq_invalid			// FIQ 32-bit EL1
	ventry	el1_error_invalid		// Error 32-bit EL1
SYM_CODE_END(__hyp_stub_vectors)

	.align 11

SYM_CODE_START_LOCAL(elx_sync)
	cmp	x0, #HVC_SET_VECTORS
	b.ne	1f
	msr	vbar_el2, x1
	b	9f

1:	cmp	x0, #HVC_FINALISE_EL2
	b.eq	__finalise_el2

2:	cmp	x0, #HVC_SOFT_RESTART
	b.ne	3f
	// x0..x2 = x2..x4 for the target, which is x1
	mov	x0, x2
	mov	x2, x4
	mov	x4, x1
	mov	x1, x3
	br	x4				// no return

3:	cmp	x0, #HVC_RESET_VECTORS
	b.eq	9f				// the stub is what "reset" installs

	/* A kvm_call_hyp() against the stub: there is no hypervisor yet. */
	mov_q	x0, HVC_STUB_ERR
	eret

9:	mov	x0, xzr
	eret
SYM_CODE_END(elx_sync)

/*
 * HVC_FINALISE_EL2 (6.1): enable SVE/SME for EL1 if the CPU has them, then,
 * if the CPU can run the kernel at EL2 (VHE) and nothing overrides it,
 * switch to VHE.  The model's CPUs have neither SVE nor SME, and pKVM's
 * kvm-arm.mode=protected overrides ID_AA64MMFR1_EL1.VH to 0, so the
 * outcome is always the refusal at 1: the kernel stays in nVHE at EL1.
 */
SYM_CODE_START_LOCAL(__finalise_el2)
	mrs	x1, id_aa64pfr0_el1
	ubfx	x1, x1, #ID_AA64PFR0_EL1_SVE_SHIFT, #4
	cbnz	x1, 1f				// SVE set-up is not modelled
	mrs	x1, id_aa64pfr1_el1
	ubfx	x1, x1, #ID_AA64PFR1_EL1_SME_SHIFT, #4
	cbnz	x1, 1f				// nor is SME

	// VHE needs the MMU off ...
	mrs	x1, sctlr_el2
	tbnz	x1, #0, 1f
	// ... a CPU with FEAT_VHE ...
	mrs	x1, id_aa64mmfr1_el1
	ubfx	x1, x1, #ID_AA64MMFR1_EL1_VH_SHIFT, #4
	cbz	x1, 1f
	// ... and no command-line override saying VH = 0
	adr_l	x1, id_aa64mmfr1_override
	ldr	x2, [x1, #FTR_OVR_VAL_OFFSET]
	ldr	x1, [x1, #FTR_OVR_MASK_OFFSET]
	ubfx	x2, x2, #ID_AA64MMFR1_EL1_VH_SHIFT, #4
	ubfx	x1, x1, #ID_AA64MMFR1_EL1_VH_SHIFT, #4
	cmp	x1, xzr
	and	x2, x2, x1
	csinv	x2, x2, xzr, ne			// no override: take the hardware's word
	cbz	x2, 1f
	// The switch to VHE itself (mutate_to_vhe) is not modelled: protected
	// mode always overrides VH to 0, so this point is never reached.

1:	mov_q	x0, HVC_STUB_ERR
	eret
SYM_CODE_END(__finalise_el2)

.macro invalid_vector	label
SYM_CODE_START_LOCAL(\label)
	b	\label
SYM_CODE_END(\label)
.endm

	invalid_vector	el2_sync_invalid
	invalid_vector	el2_irq_invalid
	invalid_vector	el2_fiq_invalid
	invalid_vector	el2_error_invalid
	invalid_vector	el1_sync_invalid
	invalid_vector	el1_irq_invalid
	invalid_vector	el1_fiq_invalid
	invalid_vector	el1_error_invalid

	.popsection

/*
 * __hyp_set_vectors(phys_addr_t vectors): called at EL1 on each CPU to hand
 * EL2 to a real hypervisor; x0 = PA of a 2 KiB-aligned vector table.
 */
SYM_FUNC_START(__hyp_set_vectors)
	mov	x1, x0
	mov	x0, #HVC_SET_VECTORS
	hvc	#0
	ret
SYM_FUNC_END(__hyp_set_vectors)

SYM_FUNC_START(__hyp_reset_vectors)
	mov	x0, #HVC_RESET_VECTORS
	hvc	#0
	ret
SYM_FUNC_END(__hyp_reset_vectors)

/*
 * finalise_el2(): at EL1, if the CPU booted at EL2, ask the stub to finish
 * EL2's set-up (6.1 calls it from __primary_switched and secondary_startup).
 * Returns the stub's answer in x0 (HVC_STUB_ERR: staying in nVHE), or x0
 * untouched when there is no stub to ask.
 */
SYM_FUNC_START(finalise_el2)
	// Need to have booted at EL2
	adr_l	x1, __boot_cpu_mode
	ldr	w0, [x1]
	cmp	w0, #BOOT_CPU_MODE_EL2
	b.ne	1f

	// and still be at EL1
	mrs	x0, CurrentEL
	cmp	x0, #CurrentEL_EL1
	b.ne	1f

	mov	x0, #HVC_FINALISE_EL2
	hvc	#0
1:
	ret
SYM_FUNC_END(finalise_el2)

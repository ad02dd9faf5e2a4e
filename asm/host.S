/*
 * __host_exit / __host_enter as the documents show them (the Android tree's
 * arch/arm64/kvm/hyp/nvhe/host.S): the hypervisor's way in from, and back
 * out to, the host kernel at EL1.
 *
 * __host_exit is reached from the host vector (__kvm_hyp_host_vector) with
 * the host's x0/x1 pushed on the hyp stack.  It saves the host's x0-x30 in
 * this CPU's kvm_host_data.host_ctxt, calls handle_trap(host_ctxt) with the
 * context pointer kept in x29, then restores everything and ERETs to the
 * host.  __host_enter(host_ctxt) enters the host through the same restore
 * path (used by __pkvm_init_finalise).  ELR_EL2/SPSR_EL2 are not touched.
 *
 * With CONFIG_ARM64_PTR_AUTH_KERNEL (set in generated/autoconf.h) and a CPU
 * that has address authentication, in protected mode the host's ptrauth
 * keys are saved and this CPU's hypervisor keys (kvm_hyp_ctxt) loaded
 * around handle_trap; both are alternatives, so an unpatched image skips
 * them (branch) or runs NOPs.  Linux 6.1 has no key switch here.
 *
 * Section: .text in the kernel's source, .hyp.text after the nVHE link
 * step renames it (see hyp-init.S); symbols keep the documents' names.
 * Symbols from elsewhere (undefined, so relocations): handle_trap
 * (hyp-main.c), kvm_host_data and kvm_hyp_ctxt (per-CPU variables).
 *
 * Also here, as in the kernel's host.S (they use its local labels):
 * __hyp_do_panic, the way back to the host's panic handler when the
 * hypervisor BUG()s, and __kvm_hyp_host_forward_smc, which replays a
 * trapped host SMC to the firmware.  The host vector table that leads to
 * __host_exit is in host-vectors.S.
 */
#include <linux/kconfig.h>

/* The kernel's build defines this for every object of kvm/hyp/nvhe. */
#define __KVM_NVHE_HYPERVISOR__ 1

#include <linux/linkage.h>

#include <asm/assembler.h>
#include <asm/kvm_arm.h>
#include <asm/kvm_asm.h>
#include <asm/kvm_mmu.h>
#include <asm/kvm_ptrauth.h>
#include <asm/ptrace.h>

	.section	.hyp.text, "ax"

SYM_FUNC_START(__host_exit)
	get_host_ctxt	x0, x1

	/* Store the host regs x2 and x3 */
	stp	x2, x3,   [x0, #CPU_XREG_OFFSET(2)]

	/* Retrieve the host regs x0-x1 from the stack */
	ldp	x2, x3, [sp], #16	// x0, x1

	/* Store the host regs x0-x1 and x4-x17 */
	stp	x2, x3,   [x0, #CPU_XREG_OFFSET(0)]
	stp	x4, x5,   [x0, #CPU_XREG_OFFSET(4)]
	stp	x6, x7,   [x0, #CPU_XREG_OFFSET(6)]
	stp	x8, x9,   [x0, #CPU_XREG_OFFSET(8)]
	stp	x10, x11, [x0, #CPU_XREG_OFFSET(10)]
	stp	x12, x13, [x0, #CPU_XREG_OFFSET(12)]
	stp	x14, x15, [x0, #CPU_XREG_OFFSET(14)]
	stp	x16, x17, [x0, #CPU_XREG_OFFSET(16)]

	/* Store the host regs x18-x29, lr */
	save_callee_saved_regs x0

	/* Save the host context pointer in x29 across the function call */
	mov	x29, x0

#ifdef CONFIG_ARM64_PTR_AUTH_KERNEL
alternative_if_not ARM64_HAS_ADDRESS_AUTH
b __skip_pauth_save
alternative_else_nop_endif

alternative_if ARM64_KVM_PROTECTED_MODE
	/* Save kernel ptrauth keys. */
	add x18, x29, #CPU_APIAKEYLO_EL1
	ptrauth_save_state x18, x19, x20

	/* Use hyp keys. */
	adr_this_cpu x18, kvm_hyp_ctxt, x19
	add x18, x18, #CPU_APIAKEYLO_EL1
	ptrauth_restore_state x18, x19, x20
	isb
alternative_else_nop_endif
__skip_pauth_save:
#endif /* CONFIG_ARM64_PTR_AUTH_KERNEL */

	bl	handle_trap

__host_enter_restore_full:
	/* Restore kernel keys. */
#ifdef CONFIG_ARM64_PTR_AUTH_KERNEL
alternative_if_not ARM64_HAS_ADDRESS_AUTH
b __skip_pauth_restore
alternative_else_nop_endif

alternative_if ARM64_KVM_PROTECTED_MODE
	add x18, x29, #CPU_APIAKEYLO_EL1
	ptrauth_restore_state x18, x19, x20
alternative_else_nop_endif
__skip_pauth_restore:
#endif /* CONFIG_ARM64_PTR_AUTH_KERNEL */

	/* Restore host regs x0-x17 */
	ldp	x0, x1,   [x29, #CPU_XREG_OFFSET(0)]
	ldp	x2, x3,   [x29, #CPU_XREG_OFFSET(2)]
	ldp	x4, x5,   [x29, #CPU_XREG_OFFSET(4)]
	ldp	x6, x7,   [x29, #CPU_XREG_OFFSET(6)]

	/* x0-7 are use for panic arguments */
__host_enter_for_panic:
	ldp	x8, x9,   [x29, #CPU_XREG_OFFSET(8)]
	ldp	x10, x11, [x29, #CPU_XREG_OFFSET(10)]
	ldp	x12, x13, [x29, #CPU_XREG_OFFSET(12)]
	ldp	x14, x15, [x29, #CPU_XREG_OFFSET(14)]
	ldp	x16, x17, [x29, #CPU_XREG_OFFSET(16)]

	/* Restore host regs x18-x29, lr */
	restore_callee_saved_regs x29

	/* Do not touch any register after this! */
__host_enter_without_restoring:
	eret
	sb
SYM_FUNC_END(__host_exit)

/*
 * void __noreturn __host_enter(struct kvm_cpu_context *host_ctxt);
 */
SYM_FUNC_START(__host_enter)
	mov	x29, x0
	b	__host_enter_restore_full
SYM_FUNC_END(__host_enter)

/*
 * void __noreturn __hyp_do_panic(struct kvm_cpu_context *host_ctxt, u64 spsr,
 *				  u64 elr, u64 par);
 *
 * Leaves EL2 for the host's nvhe_hyp_panic_handler (kernel-image VA) at
 * EL1h with everything masked, x0..x7 = ESR, SPSR, ELR, PA of ELR, PAR,
 * the loaded vCPU, FAR and HPFAR.  With a host context the host's x8..x30
 * are restored first; without one (host_ctxt == NULL) nothing is.
 */
SYM_FUNC_START(__hyp_do_panic)
	/* Prepare and exit to the host's panic function. */
	mov	lr, #(PSR_F_BIT | PSR_I_BIT | PSR_A_BIT | PSR_D_BIT |\
		      PSR_MODE_EL1h)
	msr	spsr_el2, lr
	ldr	lr, =nvhe_hyp_panic_handler
	hyp_kimg_va lr, x6
	msr	elr_el2, lr

	mov	x29, x0

	/* Load the panic arguments into x0-7 */
	mrs	x0, esr_el2
	mov	x4, x3
	mov	x3, x2
	hyp_pa	x3, x6
	get_vcpu_ptr x5, x6
	mrs	x6, far_el2
	mrs	x7, hpfar_el2

	/* Enter the host, conditionally restoring the host context. */
	cbz	x29, __host_enter_without_restoring
	b	__host_enter_for_panic
	/*
	 * The literal pool here rather than at the end of the section (GNU as's
	 * place for it): our assembler omits the $x mapping symbol after an
	 * end-of-section pool that subsection-1 code follows.
	 */
	.ltorg
SYM_FUNC_END(__hyp_do_panic)

/*
 * void __kvm_hyp_host_forward_smc(struct kvm_cpu_context *host_ctxt):
 * the host's x0..x17 to the firmware with "smc #0", and its answer back
 * into the context.  x18 holds the context: SMCCC preserves it, AAPCS64
 * does not.
 */
SYM_CODE_START(__kvm_hyp_host_forward_smc)
	mov	x18, x0

	ldp	x0, x1,   [x18, #CPU_XREG_OFFSET(0)]
	ldp	x2, x3,   [x18, #CPU_XREG_OFFSET(2)]
	ldp	x4, x5,   [x18, #CPU_XREG_OFFSET(4)]
	ldp	x6, x7,   [x18, #CPU_XREG_OFFSET(6)]
	ldp	x8, x9,   [x18, #CPU_XREG_OFFSET(8)]
	ldp	x10, x11, [x18, #CPU_XREG_OFFSET(10)]
	ldp	x12, x13, [x18, #CPU_XREG_OFFSET(12)]
	ldp	x14, x15, [x18, #CPU_XREG_OFFSET(14)]
	ldp	x16, x17, [x18, #CPU_XREG_OFFSET(16)]

	smc	#0

	stp	x0, x1,   [x18, #CPU_XREG_OFFSET(0)]
	stp	x2, x3,   [x18, #CPU_XREG_OFFSET(2)]
	stp	x4, x5,   [x18, #CPU_XREG_OFFSET(4)]
	stp	x6, x7,   [x18, #CPU_XREG_OFFSET(6)]
	stp	x8, x9,   [x18, #CPU_XREG_OFFSET(8)]
	stp	x10, x11, [x18, #CPU_XREG_OFFSET(10)]
	stp	x12, x13, [x18, #CPU_XREG_OFFSET(12)]
	stp	x14, x15, [x18, #CPU_XREG_OFFSET(14)]
	stp	x16, x17, [x18, #CPU_XREG_OFFSET(16)]

	ret
SYM_CODE_END(__kvm_hyp_host_forward_smc)

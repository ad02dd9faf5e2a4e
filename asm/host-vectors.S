/*
 * __kvm_hyp_host_vector, the hypervisor's EL2 vector table while the host
 * runs (the kernel's arch/arm64/kvm/hyp/nvhe/host.S, vector part).
 * ___kvm_hyp_init points VBAR_EL2 here.
 *
 *  - Synchronous exceptions from the host (EL1, AArch64 or AArch32) push
 *    the host's x0/x1 on the hyp stack and look at ESR_EL2.EC: a hypercall
 *    (HVC64) goes to __host_hvc, anything else (a stage-2 abort, a trapped
 *    SMC, ...) to __host_exit, which saves the host context and calls
 *    handle_trap.
 *  - __host_hvc: in protected mode (the ARM64_KVM_PROTECTED_MODE
 *    alternative, patched in at boot) every hypercall goes to __host_exit;
 *    otherwise stub calls (x0 < HVC_STUB_HCALL_NR) jump to the PA of
 *    __kvm_handle_stub_hvc.
 *  - Exceptions taken at EL2 itself check for a hyp stack overflow (valid
 *    stacks have SP bit PAGE_SHIFT set) and panic.
 *  - Host IRQ/FIQ/SError are not expected: panic without a host context.
 *
 * Section: .hyp.text (the kernel's .text after the nVHE link step renames
 * it).  Symbols from elsewhere: __host_exit, __hyp_do_panic (host.S),
 * __kvm_handle_stub_hvc (hyp-init.S), hyp_panic, hyp_panic_bad_stack
 * (modelled C), kvm_init_params and kvm_hyp_ctxt (per-CPU variables).
 */
#include <linux/kconfig.h>

/* The kernel's build defines this for every object of kvm/hyp/nvhe. */
#define __KVM_NVHE_HYPERVISOR__ 1

#include <linux/linkage.h>

#include <asm/alternative.h>
#include <asm/assembler.h>
#include <asm/esr.h>
#include <asm/kvm_arm.h>
#include <asm/kvm_asm.h>
#include <asm/kvm_mmu.h>
#include <asm/page-def.h>
#include <asm/virt.h>

/* The kernel's ASM_BUG(): a BRK with the BUG immediate. */
#define BUG_BRK_IMM	0x800

	.section	.hyp.text, "ax"

SYM_FUNC_START(__host_hvc)
	ldp	x0, x1, [sp]		// Don't fixup the stack yet

	/* No stub for you, sonny Jim */
alternative_if ARM64_KVM_PROTECTED_MODE
	b	__host_exit
alternative_else_nop_endif

	/* Check for a stub HVC call */
	cmp	x0, #HVC_STUB_HCALL_NR
	b.hs	__host_exit

	add	sp, sp, #16
	/*
	 * Jump to the idmap address of __kvm_handle_stub_hvc: the literal is
	 * its hyp VA (after the hyp relocations), hyp_pa makes it a PA.
	 * x0-x4 may hold stub parameters and are preserved.
	 */
	ldr	x5, =__kvm_handle_stub_hvc
	hyp_pa	x5, x6
	br	x5
	/*
	 * The literal here rather than at the end of the section, where GNU as
	 * would put it (before subsection 1): our assembler leaves out the $x
	 * mapping symbol after an end-of-section pool.
	 */
	.ltorg
SYM_FUNC_END(__host_hvc)

/*
 * "If a guest is loaded, panic out of it": the kernel's __guest_exit_panic
 * (entry.S) saves the guest and returns to the host's run loop.  This model
 * runs no guests (kvm_hyp_ctxt's vCPU pointer stays NULL), so the branch
 * below is never taken; this stand-in panics like the no-guest path.
 */
SYM_CODE_START_LOCAL(__guest_exit_panic)
	add	sp, sp, #16
	b	hyp_panic
SYM_CODE_END(__guest_exit_panic)

.macro host_el1_sync_vect
	.align 7
.L__vect_start\@:
	stp	x0, x1, [sp, #-16]!
	mrs	x0, esr_el2
	ubfx	x0, x0, #ESR_ELx_EC_SHIFT, #ESR_ELx_EC_WIDTH
	cmp	x0, #ESR_ELx_EC_HVC64
	b.eq	__host_hvc
	b	__host_exit
.L__vect_end\@:
.if ((.L__vect_end\@ - .L__vect_start\@) > 0x80)
	.error "host_el1_sync_vect larger than vector entry"
.endif
.endm

.macro invalid_host_el2_vect
	.align 7

	/*
	 * Test whether SP has overflowed without corrupting a GPR: the hyp
	 * stacks are placed so that bit PAGE_SHIFT of a valid SP is 1.
	 */
	add	sp, sp, x0			// sp' = sp + x0
	sub	x0, sp, x0			// x0' = sp' - x0 = sp
	tbz	x0, #PAGE_SHIFT, .L__hyp_sp_overflow\@
	sub	x0, sp, x0			// x0'' = sp' - x0' = x0
	sub	sp, sp, x0			// sp'' = sp' - x0 = sp

	/* If a guest is loaded, panic out of it. */
	stp	x0, x1, [sp, #-16]!
	get_loaded_vcpu x0, x1
	cbnz	x0, __guest_exit_panic
	add	sp, sp, #16

	/*
	 * The panic may not be clean if the exception is taken before the
	 * host context has been saved by __host_exit or after the hyp
	 * context has been partially clobbered by __host_enter.
	 */
	b	hyp_panic

.L__hyp_sp_overflow\@:
	/* Back to the top of this CPU's stack to report it. */
	ldr_this_cpu	x0, kvm_init_params + NVHE_INIT_STACK_HYP_VA, x1
	mov	sp, x0

	b	hyp_panic_bad_stack
	brk	#BUG_BRK_IMM
.endm

.macro invalid_host_el1_vect
	.align 7
	mov	x0, xzr		/* host_ctxt = NULL */
	mrs	x1, spsr_el2
	mrs	x2, elr_el2
	mrs	x3, par_el1
	b	__hyp_do_panic
.endm

/*
 * No ESB in the host vectors: a host SError must be consumed by the host.
 * (CONFIG_KVM_INDIRECT_VECTORS does not apply: the host knows where they are.)
 */
	.align 11
SYM_CODE_START(__kvm_hyp_host_vector)
	invalid_host_el2_vect			// Synchronous EL2t
	invalid_host_el2_vect			// IRQ EL2t
	invalid_host_el2_vect			// FIQ EL2t
	invalid_host_el2_vect			// Error EL2t

	invalid_host_el2_vect			// Synchronous EL2h
	invalid_host_el2_vect			// IRQ EL2h
	invalid_host_el2_vect			// FIQ EL2h
	invalid_host_el2_vect			// Error EL2h

	host_el1_sync_vect			// Synchronous 64-bit EL1/EL0
	invalid_host_el1_vect			// IRQ 64-bit EL1/EL0
	invalid_host_el1_vect			// FIQ 64-bit EL1/EL0
	invalid_host_el1_vect			// Error 64-bit EL1/EL0

	host_el1_sync_vect			// Synchronous 32-bit EL1/EL0
	invalid_host_el1_vect			// IRQ 32-bit EL1/EL0
	invalid_host_el1_vect			// FIQ 32-bit EL1/EL0
	invalid_host_el1_vect			// Error 32-bit EL1/EL0
SYM_CODE_END(__kvm_hyp_host_vector)

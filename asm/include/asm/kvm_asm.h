/*
 * Hypervisor-side helpers of Linux 6.1 asm/kvm_asm.h (assembly part):
 * locating this CPU's host context and saving/restoring the host's
 * callee-saved registers in a struct kvm_cpu_context.  Offsets come from
 * generated/asm-offsets.h (shared/pkvm-facts.md 5.4).
 */
#ifndef __PKVM_LAB_ASM_KVM_ASM_H
#define __PKVM_LAB_ASM_KVM_ASM_H

#include <asm/asm-offsets.h>

/* Byte offset of Xn in a struct kvm_cpu_context (regs.regs[n]). */
#define CPU_XREG_OFFSET(x)	(CPU_USER_PT_REGS + 8 * (x))
#define CPU_LR_OFFSET		CPU_XREG_OFFSET(30)
#define CPU_SP_EL0_OFFSET	(CPU_LR_OFFSET + 8)

/*
 * Host hypercall ids: SMCCC fast calls, 64-bit convention, owned by the
 * vendor hypervisor (pkvm-facts 5.8): 0xc6000000 + the function's index.
 * Index 0 is __kvm_hyp_init, the only one hyp-init.S handles itself.
 */
#include <linux/arm-smccc.h>
#define KVM_HOST_SMCCC_ID(id)						\
	ARM_SMCCC_CALL_VAL(ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_64,	\
			   ARM_SMCCC_OWNER_VENDOR_HYP, (id))
#define KVM_HOST_SMCCC_FUNC(name)	KVM_HOST_SMCCC_ID(__KVM_HOST_SMCCC_FUNC_##name)
#define __KVM_HOST_SMCCC_FUNC___kvm_hyp_init	0

#ifdef __ASSEMBLY__

#include <asm/assembler.h>

/* reg = &this CPU's kvm_host_data.host_ctxt; tmp is clobbered. */
.macro get_host_ctxt reg, tmp
	adr_this_cpu \reg, kvm_host_data, \tmp
	add	\reg, \reg, #HOST_DATA_CONTEXT
.endm

/* vcpu = the vCPU this CPU is running (host_ctxt.__hyp_running_vcpu). */
.macro get_vcpu_ptr vcpu, ctxt
	get_host_ctxt \ctxt, \vcpu
	ldr	\vcpu, [\ctxt, #HOST_CONTEXT_VCPU]
.endm

/* vcpu = the vCPU loaded in this CPU's kvm_hyp_ctxt. */
.macro get_loaded_vcpu vcpu, ctxt
	adr_this_cpu \ctxt, kvm_hyp_ctxt, \vcpu
	ldr	\vcpu, [\ctxt, #HOST_CONTEXT_VCPU]
.endm

.macro set_loaded_vcpu vcpu, ctxt, tmp
	adr_this_cpu \ctxt, kvm_hyp_ctxt, \tmp
	str	\vcpu, [\ctxt, #HOST_CONTEXT_VCPU]
.endm

/*
 * x18..x30 into the context.  x18 counts as callee-saved because the host
 * may use it as the platform register (shadow call stack).
 */
.macro save_callee_saved_regs ctxt
	str	x18,      [\ctxt, #CPU_XREG_OFFSET(18)]
	stp	x19, x20, [\ctxt, #CPU_XREG_OFFSET(19)]
	stp	x21, x22, [\ctxt, #CPU_XREG_OFFSET(21)]
	stp	x23, x24, [\ctxt, #CPU_XREG_OFFSET(23)]
	stp	x25, x26, [\ctxt, #CPU_XREG_OFFSET(25)]
	stp	x27, x28, [\ctxt, #CPU_XREG_OFFSET(27)]
	stp	x29, lr,  [\ctxt, #CPU_XREG_OFFSET(29)]
.endm

/* The reverse; ctxt must not be one of x18..x28 (x29 is loaded last). */
.macro restore_callee_saved_regs ctxt
	ldr	x18,      [\ctxt, #CPU_XREG_OFFSET(18)]
	ldp	x19, x20, [\ctxt, #CPU_XREG_OFFSET(19)]
	ldp	x21, x22, [\ctxt, #CPU_XREG_OFFSET(21)]
	ldp	x23, x24, [\ctxt, #CPU_XREG_OFFSET(23)]
	ldp	x25, x26, [\ctxt, #CPU_XREG_OFFSET(25)]
	ldp	x27, x28, [\ctxt, #CPU_XREG_OFFSET(27)]
	ldp	x29, lr,  [\ctxt, #CPU_XREG_OFFSET(29)]
.endm

.macro save_sp_el0 ctxt, tmp
	mrs	\tmp, sp_el0
	str	\tmp, [\ctxt, #CPU_SP_EL0_OFFSET]
.endm

.macro restore_sp_el0 ctxt, tmp
	ldr	\tmp, [\ctxt, #CPU_SP_EL0_OFFSET]
	msr	sp_el0, \tmp
.endm

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_ASM_KVM_ASM_H */

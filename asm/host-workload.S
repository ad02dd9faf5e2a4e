/*
 * The host kernel of the boot flow (src/pkvm/boot-flow.ts): the EL1 code
 * that runs around the documents' routines, in the order Linux runs the
 * corresponding steps.  Where the kernel runs C, this code calls the C
 * function by name and a TypeScript model runs instead (asm/modelled-c.S
 * holds the symbols); what the kernel does in assembly, or in C through
 * inline "hvc"/"smc", is here, so that every exception level change
 * happens on the interpreter.
 *
 *   primary_entry     the image's entry, as QEMU enters a kernel: EL2h, MMU
 *                     off.  record_mmu_state, init_kernel_el (EL2 -> EL1),
 *                     set_cpu_boot_mode_flag, a stack, VBAR_EL1,
 *                     finalise_el2 (the stub's HVC_FINALISE_EL2).
 *   start_kernel      setup_arch's kvm_hyp_reserve; smp_init (PSCI CPU_ON
 *                     for every secondary CPU); smp_cpus_done (hyp layout,
 *                     hyp relocations, alternatives); kvm_arm_init;
 *                     finalize_pkvm; then the host-deprivileged experiments
 *                     and a PSCI SYSTEM_OFF.
 *   kvm_arm_init      kvm_arm_vmid_alloc_init, init_hyp_mode, do_pkvm_init
 *                     (stub HVC_SET_VECTORS, the __kvm_hyp_init hypercall,
 *                     the __pkvm_init hypercall), init_subsystems
 *                     (cpu_hyp_init on the other CPUs).
 *   finalize_pkvm     __pkvm_prot_finalize on every CPU: HCR_EL2.VM = 1.
 *
 * C functions that make a hypercall are split at the hypercall (macro
 * kvm_call_hyp_from_c): the model of the C code before it fills x0..x5
 * with the SMCCC arguments, the "hvc #0" runs here, and the model of the C
 * code after it gets x0..x3 back and returns a status in x0.
 *
 * Secondary CPUs (--cpus N): PSCI CPU_ON starts them at secondary_entry
 * (init_kernel_el, then an idle loop).  Work for CPU n is posted in
 * cpu_call_fn[n] (smp_call_function_single); the CPU runs it and clears the
 * slot.  Waiting CPUs execute WFI, which is where the machine model
 * switches to another CPU.
 *
 * The host runs with its stage-1 MMU off: its addresses are physical, and
 * once pKVM is up they go through the host stage 2 that pKVM controls.
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

#include <asm/assembler.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

/* QEMU virt with a GICv2: at most 8 CPUs, MPIDR.Aff0 = CPU number. */
#define NR_CPUS			8
#define BOOT_STACK_SIZE		4096

#define PSCI_0_2_FN64_CPU_ON	0xc4000003
#define PSCI_0_2_FN_SYSTEM_OFF	0x84000008

/* PL011 on QEMU virt: data register at the base. */
#define VIRT_UART_BASE		0x09000000

/*
 * What __cpu_setup writes to MAIR_EL1 and TCR_EL1 (arch/arm64/mm/proc.S,
 * asm/pgtable-hwdef.h), VA_BITS = 48, 4 KiB granules: MAIR idx0 Normal WB,
 * idx1 Normal tagged, idx2 Normal NC, idx3 Device-nGnRnE, idx4 Device-nGnRE.
 */
#define MAIR_EL1_SET		0x000000040044ffff
#define TCR_T0SZ_48		(64 - 48)
#define TCR_T1SZ_48		((64 - 48) << 16)
#define TCR_IRGN_WBWA		((1 << 8) | (1 << 24))
#define TCR_ORGN_WBWA		((1 << 10) | (1 << 26))
#define TCR_SHARED		((3 << 12) | (3 << 28))
#define TCR_TG1_4K		(2 << 30)
#define TCR_A1			(1 << 22)
#define TCR_ASID16		(1 << 36)
#define TCR_TBI0		(1 << 37)
#define TCR_HA			(1 << 39)
#define TCR_IPS_SHIFT		32

/* The kernel's -EFAULT, returned by a faulting probe. */
#define EFAULT			14

/*
 * A hypercall made by C code: \prep (C) loads x0..x5, the HVC runs here,
 * \done (C) sees the results in x0..x3 and returns a status in x0.
 */
.macro kvm_call_hyp_from_c prep, done
	bl	\prep
	hvc	#0
	bl	\done
.endm

/* x\dst = this CPU's number (MPIDR_EL1.Aff0; QEMU virt numbers them so). */
.macro this_cpu_number dst
	mrs	\dst, mpidr_el1
	and	\dst, \dst, #0xff
.endm

	.section ".head.text","ax"

/*
 * The image's entry point: EL2h, MMU and caches off, x0 = DTB (unused).
 */
SYM_CODE_START(primary_entry)
	bl	record_mmu_state
	mov	x0, x19				// non-zero: entered with the MMU on
	bl	init_kernel_el			// EL2 -> EL1, w0 = boot mode
	mov	x20, x0
	bl	set_cpu_boot_mode_flag

	bl	__cpu_setup

	/* __primary_switched: a stack, the EL1 vectors, finalise_el2. */
	adr_l	x0, init_stacks + BOOT_STACK_SIZE
	mov	sp, x0
	adr_l	x0, vectors
	msr	vbar_el1, x0
	isb
	mov	x0, x20
	bl	finalise_el2
	b	start_kernel
SYM_CODE_END(primary_entry)

	.text

/*
 * x19 = SCTLR_ELx.M if the caches were on too, else 0 (the kernel's
 * record_mmu_state: only "MMU and D-cache on" counts as on).
 */
SYM_CODE_START_LOCAL(record_mmu_state)
	mrs	x19, CurrentEL
	cmp	x19, #CurrentEL_EL2
	mrs	x19, sctlr_el1
	b.ne	0f
	mrs	x19, sctlr_el2
0:	tst	x19, #SCTLR_ELx_C		// Z := (C == 0)
	and	x19, x19, #SCTLR_ELx_M		// isolate M
	csel	x19, xzr, x19, eq		// caches off: treat as MMU off
	ret
SYM_CODE_END(record_mmu_state)

/*
 * __cpu_setup, the part the model needs: MAIR_EL1 and TCR_EL1 as Linux
 * programs them before turning its MMU on.  The model's host never turns it
 * on (its addresses stay physical), but KVM derives MAIR_EL2 and TCR_EL2
 * from these registers (cpu_prepare_hyp_mode reads them back).
 */
SYM_FUNC_START_LOCAL(__cpu_setup)
	tlbi	vmalle1				// invalidate local TLB
	dsb	nsh
	mov_q	x17, MAIR_EL1_SET
	mov_q	x10, (TCR_T0SZ_48 | TCR_T1SZ_48 | TCR_IRGN_WBWA | TCR_ORGN_WBWA | \
		      TCR_SHARED | TCR_TG1_4K | TCR_A1 | TCR_ASID16 | TCR_TBI0)
	tcr_compute_pa_size x10, #TCR_IPS_SHIFT, x5, x6
	mrs	x9, id_aa64mmfr1_el1		// hardware Access flag update?
	and	x9, x9, #0xf
	cbz	x9, 1f
	orr	x10, x10, #TCR_HA
1:	msr	mair_el1, x17
	msr	tcr_el1, x10
	ret
SYM_FUNC_END(__cpu_setup)

/*
 * __boot_cpu_mode[0] holds BOOT_CPU_MODE_EL1 if any CPU booted at EL1,
 * __boot_cpu_mode[1] BOOT_CPU_MODE_EL2 if any booted at EL2: w0 = mode.
 */
SYM_FUNC_START_LOCAL(set_cpu_boot_mode_flag)
	adr_l	x1, __boot_cpu_mode
	cmp	w0, #BOOT_CPU_MODE_EL2
	b.ne	1f
	add	x1, x1, #4
1:	str	w0, [x1]
	ret
SYM_FUNC_END(set_cpu_boot_mode_flag)

SYM_FUNC_START_LOCAL(start_kernel)
	/* setup_arch -> bootmem_init -> kvm_hyp_reserve (memory reservation) */
	bl	kvm_hyp_reserve

	/* smp_init: bring up the secondary CPUs, then smp_cpus_done */
	bl	smp_init
	bl	smp_cpus_done

	/* do_initcalls: module_init(kvm_arm_init) */
	bl	kvm_arm_init
	cbnz	x0, 1f

	/* finalize_pkvm (device_initcall_sync; inline in 6.1's kvm_arch_init) */
	bl	finalize_pkvm
	cbnz	x0, 1f

	/* The rest of the host's life: the host-deprivileged experiments. */
	bl	host_experiments

1:	/* machine_power_off(): PSCI SYSTEM_OFF, trapped by pKVM once TSC is set */
	mov_q	x0, PSCI_0_2_FN_SYSTEM_OFF
	smc	#0
	b	.
SYM_FUNC_END(start_kernel)

/*
 * smp_init: PSCI CPU_ON for CPUs 1..nr_cpu_ids-1 at secondary_entry, each
 * time waiting until the new CPU marks itself online.
 */
SYM_FUNC_START_LOCAL(smp_init)
	stp	x29, x30, [sp, #-32]!
	stp	x19, x20, [sp, #16]
	mov	x19, #1
	adr_l	x20, nr_cpu_ids
	ldr	w20, [x20]
1:	cmp	x19, x20
	b.hs	3f
	mov_q	x0, PSCI_0_2_FN64_CPU_ON
	mov	x1, x19				// target MPIDR: Aff0 = CPU number
	adr_l	x2, secondary_entry		// entry point (PA: MMU off)
	mov	x3, x19				// context id: the CPU number
	smc	#0
	cbnz	x0, 3f				// CPU_ON refused: stop here
	adr_l	x1, secondary_online
2:	wfi					// let the new CPU run
	ldrb	w0, [x1, x19]
	cbz	w0, 2b
	add	x19, x19, #1
	b	1b
3:	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
SYM_FUNC_END(smp_init)

/*
 * smp_call_function_single(cpu, fn): run fn(void) on CPU `cpu` and wait
 * for it.  On this CPU it is a plain call.
 */
SYM_FUNC_START_LOCAL(smp_call_function_single)
	this_cpu_number x2
	cmp	x0, x2
	b.ne	1f
	br	x1				// tail call on this CPU
1:	adr_l	x2, cpu_call_fn
	str	x1, [x2, x0, lsl #3]
	dsb	ish
	sev
2:	wfi					// let the other CPU run
	ldr	x1, [x2, x0, lsl #3]
	cbnz	x1, 2b
	ret
SYM_FUNC_END(smp_call_function_single)

/* on_each_cpu(fn): fn on every CPU, this one included, one after another. */
SYM_FUNC_START_LOCAL(on_each_cpu)
	stp	x29, x30, [sp, #-48]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	mov	x21, x0
	mov	x19, xzr
	mov	x22, xzr			// OR of the results
	adr_l	x20, nr_cpu_ids
	ldr	w20, [x20]
1:	cmp	x19, x20
	b.hs	2f
	mov	x0, x19
	mov	x1, x21
	bl	smp_call_function_single
	adr_l	x0, cpu_call_result
	ldr	x0, [x0, x19, lsl #3]
	orr	x22, x22, x0
	add	x19, x19, #1
	b	1b
2:	mov	x0, x22
	ldp	x21, x22, [sp, #32]
	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #48
	ret
SYM_FUNC_END(on_each_cpu)

/* cpu_call_result[this CPU] = x0 (what a function run by on_each_cpu returned). */
SYM_FUNC_START_LOCAL(record_cpu_result)
	this_cpu_number x1
	adr_l	x2, cpu_call_result
	str	x0, [x2, x1, lsl #3]
	ret
SYM_FUNC_END(record_cpu_result)

/*
 * module_init(kvm_arm_init) (6.1: kvm_arch_init), the part that brings up
 * the hypervisor.  Returns 0 or a negative errno.
 */
SYM_FUNC_START_LOCAL(kvm_arm_init)
	stp	x29, x30, [sp, #-16]!
	bl	kvm_arm_vmid_alloc_init
	cbnz	x0, 9f
	bl	init_hyp_mode			// up to kvm_hyp_init_protection
	cbnz	x0, 9f
	bl	do_pkvm_init
	cbnz	x0, 9f
	bl	kvm_hyp_init_protection_done	// free_hyp_pgds
	bl	init_subsystems
9:	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(kvm_arm_init)

/*
 * cpu_hyp_init for this CPU (cpu_hyp_init_context + cpu_init_hyp_mode +
 * cpu_hyp_init_features): install __kvm_hyp_init with the stub, make the
 * __kvm_hyp_init hypercall with this CPU's init params, then set the hyp
 * vector slot.  Returns 0 or an error.
 */
SYM_FUNC_START_LOCAL(cpu_hyp_init)
	stp	x29, x30, [sp, #-16]!
	bl	cpu_hyp_init_context		// C: x0 = PA of __kvm_hyp_init
	bl	__hyp_set_vectors		// the stub's HVC_SET_VECTORS
	kvm_call_hyp_from_c cpu_init_hyp_mode_args, cpu_init_hyp_mode_done
	cbnz	x0, 9f
	kvm_call_hyp_from_c cpu_set_hyp_vector_args, cpu_set_hyp_vector_done
9:	bl	record_cpu_result
	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(cpu_hyp_init)

/*
 * do_pkvm_init: on this (the boot) CPU, cpu_hyp_init, then the __pkvm_init
 * hypercall with the reserved pool.  __pkvm_init does not return to EL1:
 * __pkvm_init_finalise enters the host with __host_enter and x1 = result.
 */
SYM_FUNC_START_LOCAL(do_pkvm_init)
	stp	x29, x30, [sp, #-16]!
	bl	cpu_hyp_init
	cbnz	x0, 9f
	kvm_call_hyp_from_c pkvm_init_args, pkvm_init_done
9:	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(do_pkvm_init)

/* init_subsystems: cpu_hyp_init on every CPU that has not done it yet. */
SYM_FUNC_START_LOCAL(init_subsystems)
	stp	x29, x30, [sp, #-32]!
	stp	x19, x20, [sp, #16]
	mov	x19, #1
	adr_l	x20, nr_cpu_ids
	ldr	w20, [x20]
1:	cmp	x19, x20
	b.hs	2f
	mov	x0, x19
	adr_l	x1, cpu_hyp_init
	bl	smp_call_function_single
	add	x19, x19, #1
	b	1b
2:	mov	x0, xzr
	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
SYM_FUNC_END(init_subsystems)

/*
 * finalize_pkvm -> pkvm_drop_host_privileges: flip the static key, then
 * __pkvm_prot_finalize on each CPU (HCR_EL2.VM = 1, VTTBR/VTCR loaded).
 */
SYM_FUNC_START_LOCAL(finalize_pkvm)
	stp	x29, x30, [sp, #-16]!
	bl	pkvm_drop_host_privileges
	adr_l	x0, _kvm_host_prot_finalize
	bl	on_each_cpu
	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(finalize_pkvm)

SYM_FUNC_START_LOCAL(_kvm_host_prot_finalize)
	stp	x29, x30, [sp, #-16]!
	kvm_call_hyp_from_c pkvm_prot_finalize_args, pkvm_prot_finalize_done
	bl	record_cpu_result
	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(_kvm_host_prot_finalize)

/*
 * The host-deprivileged experiments (stage 5).  Each ends at a label the
 * boot flow observes (exp_*_done) with its result in registers.
 */
SYM_FUNC_START_LOCAL(host_experiments)
	stp	x29, x30, [sp, #-48]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]

	/*
	 * (a) ordinary memory: a page from the page allocator (or the address
	 * given with --host-access), written and read back.
	 */
exp_ram:
	adr_l	x19, host_access_addr
	ldr	x19, [x19]
	cbnz	x19, 1f
	bl	__get_free_page
	mov	x19, x0
1:
	mov_q	x20, 0x706b766d2d6c6162		// "bal-mvkp", something to recognise
	str	x20, [x19]
	ldr	x21, [x19]
exp_ram_done:

	/* (a') device memory: the UART, never mapped before it is touched. */
exp_mmio:
	mov_q	x19, VIRT_UART_BASE
	mov	w20, #0x70			// 'p'
	strb	w20, [x19]
	mov	w20, #0x4b			// 'K'
	strb	w20, [x19]
	mov	w20, #0x56			// 'V'
	strb	w20, [x19]
	mov	w20, #0x4d			// 'M'
	strb	w20, [x19]
	mov	w20, #0x0a			// '\n'
	strb	w20, [x19]
exp_mmio_done:

	/* (c) share a page with the hypervisor, then take it back. */
exp_share:
	bl	__get_free_page
	mov	x19, x0
	mov_q	x20, 0x5348415245440000		// "SHARED" tag for the hyp to see
	str	x20, [x19]
	mov	x0, x19
	kvm_call_hyp_from_c host_share_hyp_args, host_share_hyp_done
	mov	x21, x0				// status of the share
	ldr	x22, [x19]			// the host can still read its page
exp_share_done:
exp_unshare:
	mov	x0, x19
	kvm_call_hyp_from_c host_unshare_hyp_args, host_unshare_hyp_done
	mov	x21, x0
exp_unshare_done:

	/* (d) a hypercall pKVM does not know. */
exp_unknown_hcall:
	kvm_call_hyp_from_c unknown_hcall_args, unknown_hcall_done
	mov	x21, x0
exp_unknown_hcall_done:

	/*
	 * (b) hypervisor memory: a read of the reserved pool.  It faults in
	 * the host stage 2; what follows depends on the kernel (pkvm-facts
	 * 5.8): an abort injected into the host (Android), caught here by the
	 * extable fixup of host_probe_read, or a hypervisor panic (6.1).
	 */
exp_hyp_read:
	adr_l	x0, hyp_mem_base
	ldr	x0, [x0]
	bl	host_probe_read
exp_hyp_read_done:

	ldp	x21, x22, [sp, #32]
	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #48
	ret
SYM_FUNC_END(host_experiments)

/*
 * host_probe_read(addr): x0 = the 64-bit value at addr, x1 = 0; or, if
 * the load faults, x0 = 0 and x1 = -EFAULT (the fixup below, found by
 * do_mem_abort in __ex_table, as the kernel's get_kernel_nofault works).
 */
SYM_FUNC_START_LOCAL(host_probe_read)
	mov	x1, xzr
probe_insn:
	ldr	x0, [x0]
	ret
probe_fixup:
	mov	x0, xzr
	mov	x1, #-EFAULT
	ret
SYM_FUNC_END(host_probe_read)

	.pushsection	__ex_table, "a"
	.balign	4
	.long	(probe_insn - .), (probe_fixup - .)
	.popsection

/*
 * The host's EL1 vectors.  Only "Synchronous, current EL, SP_ELx" is
 * expected (an abort pKVM injects): do_mem_abort (C) reports it and
 * returns where to resume, the extable fixup of the faulting instruction;
 * 0 means the kernel would die here, and so does this model (it stops).
 */
	.align	11
SYM_CODE_START(vectors)
	.rept	4
	.align	7
	b	el1_unexpected			// EL1t
	.endr
	.align	7
	b	el1h_sync			// Synchronous EL1h
	.rept	3
	.align	7
	b	el1_unexpected
	.endr
	.rept	8
	.align	7
	b	el1_unexpected			// from EL0
	.endr
SYM_CODE_END(vectors)

SYM_CODE_START_LOCAL(el1h_sync)
	sub	sp, sp, #32
	stp	x0, x1, [sp]
	stp	x2, x30, [sp, #16]
	mrs	x0, esr_el1
	mrs	x1, far_el1
	mrs	x2, elr_el1
	bl	do_mem_abort			// C: x0 = where to resume, or 0
	cbz	x0, el1_unexpected
	msr	elr_el1, x0
	ldp	x2, x30, [sp, #16]
	ldp	x0, x1, [sp]
	add	sp, sp, #32
	eret
SYM_CODE_END(el1h_sync)

SYM_CODE_START_LOCAL(el1_unexpected)
	mrs	x0, esr_el1
	mrs	x1, far_el1
	mrs	x2, elr_el1
	bl	die				// C: does not return
	b	.
SYM_CODE_END(el1_unexpected)

/*
 * secondary_entry: where PSCI CPU_ON starts CPU n (EL2, MMU off, x0 = the
 * context id).  init_kernel_el as on the boot CPU, then this CPU's stack,
 * vectors and finalise_el2, then online and idle.
 */
	.pushsection	".idmap.text", "a"
SYM_FUNC_START(secondary_entry)
	mov	x0, xzr				// secondaries: "MMU off"
	bl	init_kernel_el
	mov	x20, x0
	bl	set_cpu_boot_mode_flag
	bl	__cpu_setup
	b	secondary_startup
SYM_FUNC_END(secondary_entry)
	.popsection

SYM_FUNC_START_LOCAL(secondary_startup)
	this_cpu_number x19
	adr_l	x0, init_stacks + BOOT_STACK_SIZE
	add	x0, x0, x19, lsl #12		// stack n: BOOT_STACK_SIZE each
	mov	sp, x0
	adr_l	x0, vectors
	msr	vbar_el1, x0
	isb
	mov	x0, x20
	bl	finalise_el2
	/* set_cpu_online */
	adr_l	x0, secondary_online
	mov	w1, #1
	strb	w1, [x0, x19]
	/* cpu_startup_entry: run posted work, else wait */
	adr_l	x21, cpu_call_fn
1:	ldr	x1, [x21, x19, lsl #3]
	cbz	x1, 2f
	blr	x1
	str	xzr, [x21, x19, lsl #3]
	dsb	ish
2:	wfi
	b	1b
SYM_FUNC_END(secondary_startup)

	.data
	.balign	8
/*
 * Starts as {EL2, EL1}; a CPU booted at EL1 writes [0], one booted at EL2
 * writes [1], so "every CPU booted at EL2" (is_hyp_mode_available) is
 * [0] == [1] == BOOT_CPU_MODE_EL2.
 */
SYM_DATA_START(__boot_cpu_mode)
	.long	BOOT_CPU_MODE_EL2, BOOT_CPU_MODE_EL1
SYM_DATA_END(__boot_cpu_mode)

/*
 * The command line's kvm-arm.mode=protected is also an idreg override
 * (arch/arm64/kernel/idreg-override.c): id_aa64mmfr1.vh = 0, i.e. val 0
 * with the VH field in the mask.
 */
SYM_DATA_START(id_aa64mmfr1_override)
	.quad	0				// val
	.quad	(0xf << ID_AA64MMFR1_EL1_VH_SHIFT)	// mask
SYM_DATA_END(id_aa64mmfr1_override)

/*
 * struct arm64_ftr_reg of CTR_EL0 (arch/arm64/kernel/cpufeature.c): read_ctr
 * loads its system-wide value (at ARM64_FTR_SYSVAL) when CPUs' cache
 * geometries differ (ARM64_MISMATCHED_CACHE_TYPE), never the case here.
 */
SYM_DATA_START(arm64_ftr_reg_ctrel0)
	.space	32
SYM_DATA_END(arm64_ftr_reg_ctrel0)

/* Number of CPUs described by the device tree's /cpus node (set when the image is loaded). */
SYM_DATA_START(nr_cpu_ids)
	.long	1
SYM_DATA_END(nr_cpu_ids)

	.balign	8
/* The address experiment (a) touches, when one is given (--host-access); 0: a fresh page. */
SYM_DATA_START(host_access_addr)
	.quad	0
SYM_DATA_END(host_access_addr)

/* arch/arm64/kvm/pkvm.c: the reserved pool, as kvm_hyp_reserve leaves it. */
SYM_DATA_START(hyp_mem_base)
	.quad	0
SYM_DATA_END(hyp_mem_base)
SYM_DATA_START(hyp_mem_size)
	.quad	0
SYM_DATA_END(hyp_mem_size)

SYM_DATA_START_LOCAL(cpu_call_fn)
	.fill	NR_CPUS, 8, 0
SYM_DATA_END(cpu_call_fn)
SYM_DATA_START_LOCAL(cpu_call_result)
	.fill	NR_CPUS, 8, 0
SYM_DATA_END(cpu_call_result)
SYM_DATA_START_LOCAL(secondary_online)
	.fill	NR_CPUS, 1, 0
SYM_DATA_END(secondary_online)

	.bss
	.balign	4096
SYM_DATA_START_LOCAL(init_stacks)
	.space	NR_CPUS * BOOT_STACK_SIZE
SYM_DATA_END(init_stacks)

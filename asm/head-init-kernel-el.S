/*
 * init_kernel_el / init_el2 as the documents show them (the kernel's
 * arch/arm64/kernel/head.S in the Android tree the blog follows): the first
 * code the kernel runs at its boot exception level.  It returns to the
 * caller's lr at EL1 with an ERET, w0 = BOOT_CPU_MODE_EL1/EL2 and
 * BOOT_CPU_FLAG_E2H in x0[32] when the CPU cannot run nVHE.
 *
 * Input x0: non-zero when called from the primary boot path with the MMU
 * (and caches) on; then the hypervisor text is cleaned to the PoC and
 * SCTLR_EL2 is reset with the MMU off before anything else.
 *
 * Differences from Linux 6.1 (shared/pkvm-facts.md 4.1): 6.1 sets ELR_EL2
 * last, has no PoC clean / MMU-off prologue and no pre_disable_mmu_workaround
 * here, and init_el2_state already ends with __init_el2_nvhe_prepare_eret.
 *
 * Symbols from elsewhere (left undefined, so they become relocations as in
 * the kernel's head.o): __hyp_idmap_text_start, __hyp_text_end (linker
 * script), dcache_clean_poc (arch/arm64/mm/cache.S), __hyp_stub_vectors
 * (arch/arm64/kernel/hyp-stub.S).
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

#include <asm/assembler.h>
#include <asm/el2_setup.h>
#include <asm/kvm_arm.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

/*
 * Head code that secondary CPUs also run: it lives in the identity-mapped
 * .idmap.text.  (Flags "a" as in the documents' tree; 6.1 says "awx".)
 */
	.section ".idmap.text","a"

SYM_FUNC_START(init_kernel_el)
	mrs	x1, CurrentEL
	cmp	x1, #CurrentEL_EL2
	b.eq	init_el2

/*
 * The document elides the EL1 path; it is restored here from the same tree
 * so that booting at EL1 does not fall into the EL2 code.
 */
SYM_INNER_LABEL(init_el1, SYM_L_LOCAL)
	mov_q	x0, INIT_SCTLR_EL1_MMU_OFF
	pre_disable_mmu_workaround
	msr	sctlr_el1, x0
	isb
	mov_q	x0, INIT_PSTATE_EL1
	msr	spsr_el1, x0
	msr	elr_el1, lr
	mov	w0, #BOOT_CPU_MODE_EL1
	eret

SYM_INNER_LABEL(init_el2, SYM_L_LOCAL)
	msr	elr_el2, lr

	// clean all HYP code to the PoC if we booted at EL2 with the MMU on
	cbz	x0, 0f
	adrp	x0, __hyp_idmap_text_start
	adr_l	x1, __hyp_text_end
	adr_l	x2, dcache_clean_poc
	blr	x2

	mov_q	x0, INIT_SCTLR_EL2_MMU_OFF
	pre_disable_mmu_workaround
	msr	sctlr_el2, x0
	isb
0:
	mov_q	x0, HCR_HOST_NVHE_FLAGS
	msr	hcr_el2, x0
	isb

	init_el2_state

	/* Hypervisor stub */
	adr_l	x0, __hyp_stub_vectors
	msr	vbar_el2, x0
	isb

	mov_q	x1, INIT_SCTLR_EL1_MMU_OFF

	/*
	 * Fruity CPUs seem to have HCR_EL2.E2H set to RES1,
	 * making it impossible to start in nVHE mode. Is that
	 * compliant with the architecture? Absolutely not!
	 */
	mrs	x0, hcr_el2
	and	x0, x0, #HCR_E2H
	cbz	x0, 1f

	/* Set a sane SCTLR_EL1, the VHE way */
	pre_disable_mmu_workaround
	msr_s	SYS_SCTLR_EL12, x1
	mov	x2, #BOOT_CPU_FLAG_E2H
	b	2f

1:
	pre_disable_mmu_workaround
	msr	sctlr_el1, x1
	mov	x2, xzr
2:
	__init_el2_nvhe_prepare_eret

	mov	w0, #BOOT_CPU_MODE_EL2
	orr	x0, x0, x2
	eret
SYM_FUNC_END(init_kernel_el)

/*
 * __pkvm_init_switch_pgd as the documents show it (the Android tree's
 * arch/arm64/kvm/hyp/nvhe/hyp-init.S): runs from the hypervisor's identity
 * map, turns the EL2 MMU off, installs the page tables pKVM has just built,
 * switches to the new stack and turns the MMU back on, then tail-calls
 * finalize_fn (__pkvm_init_finalise).
 *
 *   void __pkvm_init_switch_pgd(struct kvm_nvhe_init_params *params,
 *                               void (*finalize_fn)(void));
 *
 * x0 is the params' hyp VA: both fields are read before the MMU goes off.
 * (In Linux 6.1 x0 is the params' PA, the loads come after the MMU is off,
 * and the function is a plain SYM_FUNC_START; pkvm-facts.md 4.3.)
 * SYM_TYPED_FUNC_START lets C call it through a pointer under kCFI; without
 * CONFIG_CFI_CLANG (our configuration) it is SYM_FUNC_START.
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

#include <linux/cfi_types.h>
#include <linux/linkage.h>

#include <asm/alternative.h>
#include <asm/assembler.h>
#include <asm/kvm_arm.h>
#include <asm/kvm_asm.h>
#include <asm/pgtable-hwdef.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

	.text
	.pushsection	.hyp.idmap.text, "ax"

/*
 * void __pkvm_init_switch_pgd(struct kvm_nvhe_init_params *params,
 *                             void (*finalize_fn)(void));
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

	.popsection

/*
 * Address conversions the hypervisor's assembly needs (the kernel's
 * asm/kvm_mmu.h, assembly part).
 *
 *  hyp_pa reg, tmp       hyp VA (linear alias) -> PA: add hyp_physvirt_offset,
 *                        a hypervisor variable the host sets at boot
 *                        (kvm_compute_layout; here src/pkvm/layout.ts).
 *  hyp_kimg_va reg, tmp  hyp VA -> kernel-image VA: to PA, then add
 *                        kimage_voffset, which a callback alternative
 *                        (kvm_get_kimage_voffset) patches into a
 *                        movz/movk sequence at boot.
 */
#ifndef __PKVM_LAB_ASM_KVM_MMU_H
#define __PKVM_LAB_ASM_KVM_MMU_H

#ifdef __ASSEMBLY__

#include <asm/alternative.h>
#include <asm/assembler.h>

.macro hyp_pa reg, tmp
	ldr_l	\tmp, hyp_physvirt_offset
	add	\reg, \reg, \tmp
.endm

.macro hyp_kimg_va reg, tmp
	hyp_pa	\reg, \tmp
alternative_cb ARM64_ALWAYS_SYSTEM, kvm_get_kimage_voffset
	movz	\tmp, #0
	movk	\tmp, #0, lsl #16
	movk	\tmp, #0, lsl #32
	movk	\tmp, #0, lsl #48
alternative_cb_end
	add	\reg, \reg, \tmp
.endm

#endif /* __ASSEMBLY__ */

#endif

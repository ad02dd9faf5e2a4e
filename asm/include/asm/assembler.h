/*
 * The project's version of the kernel's <asm/assembler.h> macros used by the
 * documents' routines: PC-relative address helpers, per-CPU addressing,
 * mov_q, the MMU/SCTLR helpers, cache-maintenance loops, barriers.
 *
 * Behaviour and expansions follow Linux 6.1 (arch/arm64/include/asm/
 * assembler.h, compared with Debian's 6.1.176 copy); the macros used here
 * are the same in the Android 6.6 tree.  Configuration: generated/autoconf.h.
 *
 * Objects built for the nVHE hypervisor (arch/arm64/kvm/hyp/nvhe) are
 * compiled with __KVM_NVHE_HYPERVISOR__ defined; that switches the per-CPU
 * offset to TPIDR_EL2.
 */
#ifndef __ASSEMBLY__
#error "asm/assembler.h is for assembly sources"
#endif

#ifndef __PKVM_LAB_ASM_ASSEMBLER_H
#define __PKVM_LAB_ASM_ASSEMBLER_H

#include <linux/kconfig.h>
#include <linux/bits.h>
#include <asm/alternative.h>
#include <asm/asm-offsets.h>
#include <asm/cpucaps.h>
#include <asm/insn-def.h>
#include <asm/pgtable-hwdef.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>

/* The kernel's sources call x30 "lr". */
lr	.req	x30

/* ---- barriers and hints ------------------------------------------------ */

/* Error synchronization barrier: an ESB where RAS may be present, else a NOP. */
	.macro	esb
#ifdef CONFIG_ARM64_RAS_EXTN
	hint	#16
#else
	nop
#endif
	.endm

/* Consumption of speculative data barrier. */
	.macro	csdb
	hint	#20
	.endm

/* Clear branch history. */
	.macro	clearbhb
	hint	#22
	.endm

/*
 * Speculation barrier: "dsb nsh; isb" unless the CPU has SB, in which case
 * boot-time patching puts SB (by encoding) and a NOP there instead.
 */
	.macro	sb
alternative_if_not ARM64_HAS_SB
	dsb	nsh
	isb
alternative_else
	SB_BARRIER_INSN
	nop
alternative_endif
	.endm

/* num NOPs. */
	.macro	nops, num
	.rept	\num
	nop
	.endr
	.endm

/* A 128-byte vector-table slot that branches to label. */
	.macro	ventry	label
	.align	7
	b	\label
	.endm

/*
 * BTI landing pad by its HINT encoding (c: 34, j: 36, jc: 38), so that it
 * assembles without enabling the BTI extension; a NOP on older CPUs.
 */
	.macro	bti, targets
	.equ	.L__bti_targets_c, 34
	.equ	.L__bti_targets_j, 36
	.equ	.L__bti_targets_jc, 38
	hint	#.L__bti_targets_\targets
	.endm

/* ---- PC-relative addressing (+/- 4 GiB) ------------------------------- */

/* dst = &sym */
	.macro	adr_l, dst, sym
	adrp	\dst, \sym
	add	\dst, \dst, :lo12:\sym
	.endm

/* dst = *(&sym); with a W dst, tmp (an X register) holds the address. */
	.macro	ldr_l, dst, sym, tmp=
	.ifb	\tmp
	adrp	\dst, \sym
	ldr	\dst, [\dst, :lo12:\sym]
	.else
	adrp	\tmp, \sym
	ldr	\dst, [\tmp, :lo12:\sym]
	.endif
	.endm

/* *(&sym) = src, through the X register tmp. */
	.macro	str_l, src, sym, tmp
	adrp	\tmp, \sym
	str	\src, [\tmp, :lo12:\sym]
	.endm

/* ---- per-CPU data ------------------------------------------------------ */

/*
 * dst = this CPU's offset from a per-CPU symbol to its copy.  EL2 code keeps
 * it in TPIDR_EL2; the kernel keeps it in TPIDR_EL1, or in TPIDR_EL2 once
 * it runs at EL2 with VHE (patched by the VHE alternative).
 */
#if defined(__KVM_NVHE_HYPERVISOR__) || defined(__KVM_VHE_HYPERVISOR__)
	.macro	get_this_cpu_offset, dst
	mrs	\dst, tpidr_el2
	.endm
#else
	.macro	get_this_cpu_offset, dst
alternative_if_not ARM64_HAS_VIRT_HOST_EXTN
	mrs	\dst, tpidr_el1
alternative_else
	mrs	\dst, tpidr_el2
alternative_endif
	.endm

	.macro	set_this_cpu_offset, src
alternative_if_not ARM64_HAS_VIRT_HOST_EXTN
	msr	tpidr_el1, \src
alternative_else
	msr	tpidr_el2, \src
alternative_endif
	.endm
#endif

/* dst = this CPU's &sym (dst may be sp); tmp is clobbered. */
	.macro	adr_this_cpu, dst, sym, tmp
	adrp	\tmp, \sym
	add	\dst, \tmp, #:lo12:\sym
	get_this_cpu_offset \tmp
	add	\dst, \dst, \tmp
	.endm

/* dst = this CPU's sym (a 64-bit load); tmp is clobbered. */
	.macro	ldr_this_cpu, dst, sym, tmp
	adr_l	\dst, \sym
	get_this_cpu_offset \tmp
	ldr	\dst, [\dst, \tmp]
	.endm

/* ---- constants ---------------------------------------------------------- */

/*
 * reg = val with as few MOVZ/MOVK as the value allows: 2 when it is a
 * sign-extended 32-bit value, 3 for sign-extended 48 bits, else 4.  (The
 * _s groups turn MOVZ into MOVN for negative values.)
 */
	.macro	mov_q, reg, val
	.if (((\val) >> 31) == 0 || ((\val) >> 31) == 0x1ffffffff)
	movz	\reg, :abs_g1_s:\val
	.else
	.if (((\val) >> 47) == 0 || ((\val) >> 47) == 0x1ffff)
	movz	\reg, :abs_g2_s:\val
	.else
	movz	\reg, :abs_g3:\val
	movk	\reg, :abs_g2_nc:\val
	.endif
	movk	\reg, :abs_g1_nc:\val
	.endif
	movk	\reg, :abs_g0_nc:\val
	.endm

/* ---- MMU ----------------------------------------------------------------- */

/*
 * A TTBR value for a table at physical address phys.  Only 52-bit PAs need
 * folding bits [51:48] into TTBR[5:2]; this configuration has 48-bit PAs.
 */
	.macro	phys_to_ttbr, ttbr, phys
#ifdef CONFIG_ARM64_PA_BITS_52
	orr	\ttbr, \phys, \phys, lsr #46
	and	\ttbr, \ttbr, #TTBR_BADDR_MASK_52
#else
	mov	\ttbr, \phys
#endif
	.endm

/*
 * Qualcomm Falkor erratum E1041: an ISB is needed right before the MSR that
 * clears SCTLR_ELx.M.
 */
	.macro	pre_disable_mmu_workaround
#ifdef CONFIG_QCOM_FALKOR_ERRATUM_E1041
	isb
#endif
	.endm

/*
 * Write SCTLR (normally turning the MMU on), then drop any instructions the
 * I-cache may have fetched from the PoC before the write: ic iallu, dsb nsh,
 * isb.
 */
	.macro	set_sctlr, sreg, reg
	msr	\sreg, \reg
	isb
	ic	iallu
	dsb	nsh
	isb
	.endm

	.macro	set_sctlr_el1, reg
	set_sctlr sctlr_el1, \reg
	.endm

	.macro	set_sctlr_el2, reg
	set_sctlr sctlr_el2, \reg
	.endm

/* Insert PARange (capped at 48 bits) into the PS/IPS field at pos of tcr. */
	.macro	tcr_compute_pa_size, tcr, pos, tmp0, tmp1
	mrs	\tmp0, ID_AA64MMFR0_EL1
	ubfx	\tmp0, \tmp0, #ID_AA64MMFR0_EL1_PARANGE_SHIFT, #3
	mov	\tmp1, #ID_AA64MMFR0_EL1_PARANGE_MAX
	cmp	\tmp0, \tmp1
	csel	\tmp0, \tmp1, \tmp0, hi
	bfi	\tcr, \tmp0, \pos, #3
	.endm

/* ---- caches --------------------------------------------------------------- */

/*
 * reg = CTR_EL0.  With CPUs of different cache geometry the kernel patches
 * in a load of the system-wide safe value instead.  (The hypervisor's
 * variant is a callback alternative; no EL2 code here needs it.)
 */
#ifndef __KVM_NVHE_HYPERVISOR__
	.macro	read_ctr, reg
alternative_if_not ARM64_MISMATCHED_CACHE_TYPE
	mrs	\reg, ctr_el0
	nop
alternative_else
	ldr_l	\reg, arm64_ftr_reg_ctrel0 + ARM64_FTR_SYSVAL
alternative_endif
	.endm
#else
	.macro	read_ctr, reg
	.error	"read_ctr: the nVHE variant is not provided by the project"
	.endm
#endif

/* Smallest D-cache line of this CPU, in bytes: 4 << CTR_EL0.DminLine. */
	.macro	raw_dcache_line_size, reg, tmp
	mrs	\tmp, ctr_el0
	ubfm	\tmp, \tmp, #16, #19
	mov	\reg, #4
	lsl	\reg, \reg, \tmp
	.endm

/* Smallest D-cache line over all CPUs. */
	.macro	dcache_line_size, reg, tmp
	read_ctr	\tmp
	ubfm		\tmp, \tmp, #16, #19
	mov		\reg, #4
	lsl		\reg, \reg, \tmp
	.endm

/* Smallest I-cache line of this CPU: 4 << CTR_EL0.IminLine. */
	.macro	raw_icache_line_size, reg, tmp
	mrs	\tmp, ctr_el0
	and	\tmp, \tmp, #0xf
	mov	\reg, #4
	lsl	\reg, \reg, \tmp
	.endm

/* Smallest I-cache line over all CPUs. */
	.macro	icache_line_size, reg, tmp
	read_ctr	\tmp
	and		\tmp, \tmp, #0xf
	mov		\reg, #4
	lsl		\reg, \reg, \tmp
	.endm

/* dc op, except on CPUs whose erratum needs clean+invalidate instead. */
	.macro	__dcache_op_workaround_clean_cache, op, addr
alternative_if_not ARM64_WORKAROUND_CLEAN_CACHE
	dc	\op, \addr
alternative_else
	dc	civac, \addr
alternative_endif
	.endm

/*
 * "dc op" on every line of [start, end), line size in linesz, then
 * "dsb domain".  Clobbers start and tmp.  (The kernel's optional fault
 * fixup label for user addresses is not supported.)
 */
	.macro	dcache_by_myline_op, op, domain, start, end, linesz, tmp, fixup
	.ifnb	\fixup
	.error	"dcache_by_myline_op: fixup labels are not supported"
	.endif
	sub	\tmp, \linesz, #1
	bic	\start, \start, \tmp
.Ldcache_op\@:
	.ifc	\op, cvau
	__dcache_op_workaround_clean_cache \op, \start
	.else
	.ifc	\op, cvac
	__dcache_op_workaround_clean_cache \op, \start
	.else
	.ifc	\op, cvap
	sys	3, c7, c12, 1, \start	/* dc cvap, by encoding */
	.else
	.ifc	\op, cvadp
	sys	3, c7, c13, 1, \start	/* dc cvadp, by encoding */
	.else
	dc	\op, \start
	.endif
	.endif
	.endif
	.endif
	add	\start, \start, \linesz
	cmp	\start, \end
	b.lo	.Ldcache_op\@
	dsb	\domain
	.endm

/* As dcache_by_myline_op, with the system-wide line size.  Clobbers tmp1, tmp2. */
	.macro	dcache_by_line_op, op, domain, start, end, tmp1, tmp2, fixup
	dcache_line_size \tmp1, \tmp2
	dcache_by_myline_op \op, \domain, \start, \end, \tmp1, \tmp2, \fixup
	.endm

/* Invalidate the I-cache to the PoU over [start, end).  Clobbers tmp1, tmp2. */
	.macro	invalidate_icache_by_line, start, end, tmp1, tmp2, fixup
	.ifnb	\fixup
	.error	"invalidate_icache_by_line: fixup labels are not supported"
	.endif
	icache_line_size \tmp1, \tmp2
	sub	\tmp2, \tmp1, #1
	bic	\tmp2, \start, \tmp2
.Licache_op\@:
	ic	ivau, \tmp2
	add	\tmp2, \tmp2, \tmp1
	cmp	\tmp2, \end
	b.lo	.Licache_op\@
	dsb	ish
	isb
	.endm

#endif /* __PKVM_LAB_ASM_ASSEMBLER_H */

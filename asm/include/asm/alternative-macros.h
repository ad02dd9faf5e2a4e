/*
 * Boot-time code patching ("alternatives"), assembly side, with the layout
 * Linux 6.1 (and the Android 6.6 tree) produce:
 *
 *  - The default sequence (what runs when nothing is patched) is assembled
 *    inline.  For alternative_if it is the NOPs of alternative_else_nop_endif
 *    (or the alternative_else part); for alternative_if_not it is the body.
 *  - The replacement is assembled into subsection 1 of the same section, so
 *    GNU as places it after all the ordinary code of that section.  (Kernels
 *    before ~5.x used a separate .altinstr_replacement section; 6.1 does not,
 *    and neither do we.)
 *  - One 12-byte record per site goes to .altinstructions:
 *        s32 site - .         (PREL32 to the default sequence)
 *        s32 repl - .         (PREL32 to the replacement, or the callback)
 *        u16 cpucap           (bit 15 set: callback alternative)
 *        u8  site length, u8 replacement length
 *    A patcher copies the replacement over the site when the capability is
 *    present (for alternative_if_not: when it is present, the NOPs/else part
 *    replace the body).
 *  - Both sequences must have the same length; the two .org lines make the
 *    assembler fail if they do not, the way the kernel checks it.
 *
 * Labels 661..664 are the kernel's numeric labels: 661/662 bracket the first
 * half, 663/664 the second half.  .Lasm_alt_mode remembers which half is
 * inline (0: alternative_if_not/alternative_cb, 1: alternative_if).
 * Capability numbers are in asm/cpucaps.h.
 */
#ifndef __PKVM_LAB_ASM_ALTERNATIVE_MACROS_H
#define __PKVM_LAB_ASM_ALTERNATIVE_MACROS_H

#include <linux/bits.h>
#include <asm/cpucaps.h>
#include <asm/insn-def.h>

/* Callback alternatives carry this bit in the cpucap field. */
#define ARM64_CB_SHIFT	15
#define ARM64_CB_BIT	BIT(ARM64_CB_SHIFT)

#ifdef __ASSEMBLY__

/* One .altinstructions record (layout above). */
.macro altinstruction_entry orig_offset, alt_offset, feature, orig_len, alt_len
	.word	\orig_offset - .
	.word	\alt_offset - .
	.hword	(\feature)
	.byte	\orig_len
	.byte	\alt_len
.endm

/* One-instruction form: insn1 inline, insn2 as its replacement. */
.macro alternative_insn insn1, insn2, cap, enable = 1
	.if \enable
661:	\insn1
662:	.pushsection .altinstructions, "a"
	altinstruction_entry 661b, 663f, \cap, 662b-661b, 664f-663f
	.popsection
	.subsection 1
663:	\insn2
664:	.org	. - (664b-663b) + (662b-661b)
	.org	. - (662b-661b) + (664b-663b)
	.previous
	.endif
.endm

/* Body runs unless cap is present; the else part (or NOPs) replaces it. */
.macro alternative_if_not cap
	.set .Lasm_alt_mode, 0
	.pushsection .altinstructions, "a"
	altinstruction_entry 661f, 663f, \cap, 662f-661f, 664f-663f
	.popsection
661:
.endm

/* Body is the replacement (subsection 1); the else part (or NOPs) is inline. */
.macro alternative_if cap
	.set .Lasm_alt_mode, 1
	.pushsection .altinstructions, "a"
	altinstruction_entry 663f, 661f, \cap, 664f-663f, 662f-661f
	.popsection
	.subsection 1
	.align 2		/* lets the assembler know 661 is word aligned */
661:
.endm

/* Inline body that a boot-time callback rewrites; no replacement code. */
.macro alternative_cb cap, cb
	.set .Lasm_alt_mode, 0
	.pushsection .altinstructions, "a"
	altinstruction_entry 661f, \cb, (1 << ARM64_CB_SHIFT) | \cap, 662f-661f, 0
	.popsection
661:
.endm

/* Switch from the first half to the second half. */
.macro alternative_else
662:
	.if .Lasm_alt_mode==0
	.subsection 1
	.else
	.previous
	.endif
663:
.endm

/* Close the second half, check both halves have one length, resume inline code. */
.macro alternative_endif
664:
	.org	. - (664b-663b) + (662b-661b)
	.org	. - (662b-661b) + (664b-663b)
	.if .Lasm_alt_mode==0
	.previous
	.endif
.endm

.macro alternative_cb_end
662:
.endm

/* Second half made of as many NOPs as the first half has instructions. */
.macro alternative_else_nop_endif
alternative_else
	nops	(662b-661b) / AARCH64_INSN_SIZE
alternative_endif
.endm

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_ASM_ALTERNATIVE_MACROS_H */

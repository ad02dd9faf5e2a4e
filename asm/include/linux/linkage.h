/*
 * Symbol annotations for assembly (the kernel's SYM_* macros), as Linux 6.1
 * include/linux/linkage.h defines them, with the arm64 overrides of
 * <asm/linkage.h>.
 *
 *   SYM_FUNC_START(name)   .globl name; .align 2; name: bti c
 *   SYM_FUNC_START_LOCAL   the same without .globl
 *   SYM_CODE_START(name)   .globl name; .align 2; name:   (no bti)
 *   SYM_INNER_LABEL(n, l)  .type n STT_NOTYPE; [.globl n]; n:
 *   SYM_DATA_START(name)   .globl name; name:             (no alignment)
 *   SYM_*_END(name)        .type name STT_FUNC/STT_NOTYPE/STT_OBJECT and
 *                          .size name, . - name (through .L__sym_size_name)
 *
 * Statements are joined with ';', GNU as's statement separator on AArch64.
 */
#ifndef __PKVM_LAB_LINUX_LINKAGE_H
#define __PKVM_LAB_LINUX_LINKAGE_H

#include <asm/linkage.h>

#ifndef ASM_NL
#define ASM_NL		;
#endif

#ifdef __ASSEMBLY__

/* Symbol types as GNU as's ".type name STT_..." spelling. */
#define SYM_T_FUNC	STT_FUNC
#define SYM_T_OBJECT	STT_OBJECT
#define SYM_T_NONE	STT_NOTYPE

/* Alignment: the architecture's function alignment, or none. */
#define ALIGN		__ALIGN
#define SYM_A_ALIGN	ALIGN
#define SYM_A_NONE

/* Linkage: one directive taking the symbol name, or nothing for local. */
#define SYM_L_GLOBAL(name)	.globl name
#define SYM_L_WEAK(name)	.weak name
#define SYM_L_LOCAL(name)

/* Generic building blocks. */
#define SYM_ENTRY(name, linkage, ...)	\
	linkage(name) ASM_NL __VA_ARGS__ ASM_NL name:

#define SYM_START(name, linkage, ...)	\
	SYM_ENTRY(name, linkage, __VA_ARGS__)

/* The size goes through a local symbol, as 6.1 does. */
#define SYM_END(name, sym_type)				\
	.type name sym_type ASM_NL			\
	.set .L__sym_size_##name, .-name ASM_NL		\
	.size name, .L__sym_size_##name

/* A label inside a function: typed STT_NOTYPE, no alignment. */
#define SYM_INNER_LABEL(name, linkage)		\
	.type name SYM_T_NONE ASM_NL		\
	SYM_ENTRY(name, linkage, SYM_A_NONE)

#define SYM_INNER_LABEL_ALIGN(name, linkage)	\
	.type name SYM_T_NONE ASM_NL		\
	SYM_ENTRY(name, linkage, SYM_A_ALIGN)

/* Functions that follow the procedure-call standard (arm64: see asm/linkage.h). */
#ifndef SYM_FUNC_START
#define SYM_FUNC_START(name)	SYM_START(name, SYM_L_GLOBAL, SYM_A_ALIGN)
#endif
#ifndef SYM_FUNC_START_LOCAL
#define SYM_FUNC_START_LOCAL(name)	SYM_START(name, SYM_L_LOCAL, SYM_A_ALIGN)
#endif
#define SYM_FUNC_END(name)	SYM_END(name, SYM_T_FUNC)

/* Code with its own conventions (vectors, entry points): no BTI pad. */
#define SYM_CODE_START(name)		SYM_START(name, SYM_L_GLOBAL, SYM_A_ALIGN)
#define SYM_CODE_START_NOALIGN(name)	SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE)
#define SYM_CODE_START_LOCAL(name)	SYM_START(name, SYM_L_LOCAL, SYM_A_ALIGN)
#define SYM_CODE_START_LOCAL_NOALIGN(name)	SYM_START(name, SYM_L_LOCAL, SYM_A_NONE)
#define SYM_CODE_END(name)		SYM_END(name, SYM_T_NONE)

/* Data objects: never aligned by the annotation itself. */
#define SYM_DATA_START(name)		SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE)
#define SYM_DATA_START_LOCAL(name)	SYM_START(name, SYM_L_LOCAL, SYM_A_NONE)
#define SYM_DATA_END(name)		SYM_END(name, SYM_T_OBJECT)

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_LINUX_LINKAGE_H */

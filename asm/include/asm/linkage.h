/*
 * arm64 overrides of the generic SYM_* macros (Linux 6.1 asm/linkage.h):
 * functions are 4-byte aligned and every PCS function starts with a
 * "bti c" landing pad.  6.1 emits the pad whether or not the kernel is built
 * for BTI; it is HINT #34, a NOP without BTI.
 */
#ifndef __PKVM_LAB_ASM_LINKAGE_H
#define __PKVM_LAB_ASM_LINKAGE_H

#ifdef __ASSEMBLY__
#include <asm/assembler.h>
#endif

#define __ALIGN		.align 2

#ifdef __ASSEMBLY__

#define SYM_FUNC_START(name)					\
	SYM_START(name, SYM_L_GLOBAL, SYM_A_ALIGN)		\
	bti c ;

#define SYM_FUNC_START_NOALIGN(name)				\
	SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE)		\
	bti c ;

#define SYM_FUNC_START_LOCAL(name)				\
	SYM_START(name, SYM_L_LOCAL, SYM_A_ALIGN)		\
	bti c ;

#define SYM_FUNC_START_LOCAL_NOALIGN(name)			\
	SYM_START(name, SYM_L_LOCAL, SYM_A_NONE)		\
	bti c ;

#define SYM_FUNC_START_WEAK(name)				\
	SYM_START(name, SYM_L_WEAK, SYM_A_ALIGN)		\
	bti c ;

/* Typed (kCFI) functions; the kCFI part lives in <linux/cfi_types.h>. */
#define SYM_TYPED_FUNC_START(name)				\
	SYM_TYPED_START(name, SYM_L_GLOBAL, SYM_A_ALIGN)	\
	bti c ;

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_ASM_LINKAGE_H */

/*
 * kCFI-typed assembly functions (SYM_TYPED_FUNC_START, Linux 6.1
 * include/linux/cfi_types.h).  With CONFIG_CFI_CLANG a ".4byte
 * __kcfi_typeid_<name>" word precedes the label so indirect calls from C
 * pass the type check.  This configuration is a gcc build without kCFI,
 * where a typed start is exactly SYM_START.
 */
#ifndef __PKVM_LAB_LINUX_CFI_TYPES_H
#define __PKVM_LAB_LINUX_CFI_TYPES_H

#include <linux/kconfig.h>

#ifdef __ASSEMBLY__
#include <linux/linkage.h>

#ifdef CONFIG_CFI_CLANG
#define __CFI_TYPE(name)	.4byte __kcfi_typeid_##name
#define SYM_TYPED_START(name, linkage, ...)	\
	linkage(name) ASM_NL __VA_ARGS__ ASM_NL __CFI_TYPE(name) ASM_NL name:
#else
#define SYM_TYPED_START(name, linkage, ...)	\
	SYM_START(name, linkage, __VA_ARGS__)
#endif

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_LINUX_CFI_TYPES_H */

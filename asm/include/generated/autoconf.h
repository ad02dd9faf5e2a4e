/*
 * Kernel configuration seen by the project's assembly (asm/*.S).
 *
 * The kernel's build force-includes its generated autoconf.h; our .S files
 * get it through <linux/kconfig.h>.  Only the options that change what the
 * documents' routines or our macro headers emit are listed.  The values are
 * those of Debian's arm64 6.1 kernel (linux-headers-6.1.0-50-cloud-arm64,
 * 6.1.176), the kernel the project cross-checks under QEMU.
 *
 * Set here (=y in that config):
 *   ARM64_PTR_AUTH, ARM64_PTR_AUTH_KERNEL  -> host.S keeps the blog's
 *       ptrauth key switch around handle_trap; kvm_ptrauth.h macros exist
 *   QCOM_FALKOR_ERRATUM_E1041              -> pre_disable_mmu_workaround = isb
 *   ARM64_CNP                              -> the CNP alternative can apply
 *   ARM64_RAS_EXTN                         -> the esb macro is "hint #16"
 *   ARM64_4K_PAGES, VA_BITS 48, PA_BITS 48 -> phys_to_ttbr is a plain mov
 *   CPU_LITTLE_ENDIAN                      -> INIT_SCTLR_* without EE/E0E
 *   KVM
 *
 * Deliberately not set (also unset in that config):
 *   CFI_CLANG (gcc build): SYM_TYPED_FUNC_START == SYM_FUNC_START, no kCFI word
 *   ARM64_BTI_KERNEL: no GNU property note; "bti c" is still emitted by
 *       SYM_FUNC_START, as 6.1 does unconditionally (a NOP without BTI)
 *   ARM64_PA_BITS_52, ARM64_VA_BITS_52, CPU_BIG_ENDIAN, NVHE_EL2_DEBUG
 */
#ifndef __PKVM_LAB_GENERATED_AUTOCONF_H
#define __PKVM_LAB_GENERATED_AUTOCONF_H

#define CONFIG_ARM64 1
#define CONFIG_KVM 1
#define CONFIG_ARM64_4K_PAGES 1
#define CONFIG_ARM64_PAGE_SHIFT 12
#define CONFIG_ARM64_VA_BITS_48 1
#define CONFIG_ARM64_VA_BITS 48
#define CONFIG_ARM64_PA_BITS_48 1
#define CONFIG_ARM64_PA_BITS 48
#define CONFIG_CPU_LITTLE_ENDIAN 1
#define CONFIG_ARM64_PTR_AUTH 1
#define CONFIG_ARM64_PTR_AUTH_KERNEL 1
#define CONFIG_ARM64_CNP 1
#define CONFIG_ARM64_RAS_EXTN 1
#define CONFIG_QCOM_FALKOR_ERRATUM_E1041 1

#endif /* __PKVM_LAB_GENERATED_AUTOCONF_H */

/*
 * Structure offsets used by the assembly, as the kernel's asm-offsets step
 * generates them (offsetof() in the compiled kernel).
 *
 * Source of the values: Debian's arm64 6.1.176 build
 * (include/generated/asm-offsets.h of linux-headers-6.1.0-50-cloud-arm64),
 * which matches the hand derivation in shared/pkvm-facts.md 5.3/5.4.
 * The Android 6.6 tree of the documents lays out some of these differently
 * (kvm_nvhe_init_params gains hfgwtr_el2, the sys_regs[] enum grows); those
 * values were not compiled here and are not used.
 */
#ifndef __PKVM_LAB_GENERATED_ASM_OFFSETS_H
#define __PKVM_LAB_GENERATED_ASM_OFFSETS_H

/* struct kvm_nvhe_init_params: nine u64 fields, 72 bytes (V61). */
#define NVHE_INIT_MAIR_EL2	0
#define NVHE_INIT_TCR_EL2	8
#define NVHE_INIT_TPIDR_EL2	16
#define NVHE_INIT_STACK_HYP_VA	24
/* stack_pa sits at 32; asm-offsets exports no name for it (no asm user). */
#define NVHE_INIT_PGD_PA	40
#define NVHE_INIT_HCR_EL2	48
#define NVHE_INIT_VTTBR		56
#define NVHE_INIT_VTCR		64

/* struct kvm_cpu_context: regs (user_pt_regs) first, then ..., sys_regs[]. */
#define CPU_USER_PT_REGS	0
#define CPU_APIAKEYLO_EL1	1608
#define CPU_APIBKEYLO_EL1	1624
#define CPU_APDAKEYLO_EL1	1640
#define CPU_APDBKEYLO_EL1	1656
#define CPU_APGAKEYLO_EL1	1672
#define HOST_CONTEXT_VCPU	1816

/* struct kvm_host_data: host_ctxt is the first member. */
#define HOST_DATA_CONTEXT	0

/* struct arm64_ftr_reg: the system-wide safe value (read_ctr). */
#define ARM64_FTR_SYSVAL	24

#endif /* __PKVM_LAB_GENERATED_ASM_OFFSETS_H */

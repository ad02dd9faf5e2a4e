/*
 * CPU capability numbers: the u16 "cpucap" field of each .altinstructions
 * entry.  The kernel numbers the names of arch/arm64/tools/cpucaps in file
 * order, from 0.  These values are the ones of Debian's arm64 6.1.176 build
 * (its generated asm/cpucaps.h: 85 capabilities, ALWAYS_BOOT/ALWAYS_SYSTEM
 * first).  The Android 6.6 tree of the documents has a longer list, so its
 * numbers differ; they are not used here.
 *
 * Only the capabilities our headers and the documents' routines name are
 * defined.
 *
 * What the project treats as present or absent when it patches an image
 * (the object files themselves always hold the unpatched default code):
 *   ARM64_KVM_PROTECTED_MODE   present: the project boots pKVM
 *                              (kvm-arm.mode=protected)
 *   ARM64_HAS_VIRT_HOST_EXTN   absent: protected mode keeps the host in nVHE
 *   ARM64_HAS_CNP, ARM64_HAS_ADDRESS_AUTH, ARM64_HAS_SB, ARM64_BTI
 *                              from the CPU's ID registers: absent on the
 *                              default cortex-a57 (Armv8.0), present on -cpu max
 *   ARM64_MISMATCHED_CACHE_TYPE, ARM64_WORKAROUND_CLEAN_CACHE
 *                              absent (one CPU type, no erratum)
 *   ARM64_ALWAYS_BOOT, ARM64_ALWAYS_SYSTEM
 *                              always present (callback alternatives)
 */
#ifndef __PKVM_LAB_ASM_CPUCAPS_H
#define __PKVM_LAB_ASM_CPUCAPS_H

#define ARM64_ALWAYS_BOOT			0
#define ARM64_ALWAYS_SYSTEM			1
#define ARM64_BTI				2
#define ARM64_HAS_ADDRESS_AUTH			5
#define ARM64_HAS_CNP				13
#define ARM64_HAS_SB				32
#define ARM64_HAS_VIRT_HOST_EXTN		37
#define ARM64_KVM_PROTECTED_MODE		40
#define ARM64_MISMATCHED_CACHE_TYPE		41
#define ARM64_WORKAROUND_CLEAN_CACHE		77

#define ARM64_NCAPS				85

#endif /* __PKVM_LAB_ASM_CPUCAPS_H */

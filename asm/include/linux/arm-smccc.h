/*
 * SMC Calling Convention function ids and return codes (Arm DEN 0028), the
 * subset the hypervisor's assembly uses; names as the kernel's
 * include/linux/arm-smccc.h.
 *
 * A function id is: bit 31 fast call, bit 30 the 64-bit convention,
 * bits [29:24] the owning entity, bits [15:0] the function number.
 */
#ifndef __PKVM_LAB_LINUX_ARM_SMCCC_H
#define __PKVM_LAB_LINUX_ARM_SMCCC_H

#include <linux/bits.h>

#define ARM_SMCCC_STD_CALL		0
#define ARM_SMCCC_FAST_CALL		1
#define ARM_SMCCC_TYPE_SHIFT		31

#define ARM_SMCCC_SMC_32		0
#define ARM_SMCCC_SMC_64		1
#define ARM_SMCCC_CALL_CONV_SHIFT	30

#define ARM_SMCCC_OWNER_MASK		0x3f
#define ARM_SMCCC_OWNER_SHIFT		24
#define ARM_SMCCC_FUNC_MASK		0xffff

#define ARM_SMCCC_OWNER_ARCH		0
#define ARM_SMCCC_OWNER_CPU		1
#define ARM_SMCCC_OWNER_SIP		2
#define ARM_SMCCC_OWNER_OEM		3
#define ARM_SMCCC_OWNER_STANDARD	4
#define ARM_SMCCC_OWNER_STANDARD_HYP	5
#define ARM_SMCCC_OWNER_VENDOR_HYP	6

/* SMCCC 1.3: bit 16 of the id is a hint (no live SVE state); callees ignore it. */
#define ARM_SMCCC_1_3_SVE_HINT		0x10000
#define ARM_SMCCC_CALL_HINTS		ARM_SMCCC_1_3_SVE_HINT

#define ARM_SMCCC_CALL_VAL(type, calling_convention, owner, func_num)	\
	(((type) << ARM_SMCCC_TYPE_SHIFT) |				\
	 ((calling_convention) << ARM_SMCCC_CALL_CONV_SHIFT) |		\
	 (((owner) & ARM_SMCCC_OWNER_MASK) << ARM_SMCCC_OWNER_SHIFT) |	\
	 ((func_num) & ARM_SMCCC_FUNC_MASK))

#define SMCCC_RET_SUCCESS		0
#define SMCCC_RET_NOT_SUPPORTED		-1
#define SMCCC_RET_NOT_REQUIRED		-2
#define SMCCC_RET_INVALID_PARAMETER	-3

#endif

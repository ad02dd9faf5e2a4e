/*
 * ESR_ELx fields (the Arm ARM's names, as the kernel's asm/esr.h): the
 * exception class the host vector tests to tell a hypercall from a trap.
 */
#ifndef __PKVM_LAB_ASM_ESR_H
#define __PKVM_LAB_ASM_ESR_H

#define ESR_ELx_EC_SHIFT	26
#define ESR_ELx_EC_WIDTH	6

#define ESR_ELx_EC_HVC64	0x16
#define ESR_ELx_EC_SMC64	0x17
#define ESR_ELx_EC_IABT_LOW	0x20
#define ESR_ELx_EC_DABT_LOW	0x24

#endif

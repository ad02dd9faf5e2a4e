/*
 * PSTATE/SPSR values and the CurrentEL encoding (Linux 6.1 asm/ptrace.h and
 * uapi/asm/ptrace.h; architectural values, same in the Android 6.6 tree).
 */
#ifndef __PKVM_LAB_ASM_PTRACE_H
#define __PKVM_LAB_ASM_PTRACE_H

/* CurrentEL holds the exception level in bits [3:2]. */
#define CurrentEL_EL1		(1 << 2)
#define CurrentEL_EL2		(2 << 2)

/* SPSR.M[3:0]: exception level and stack pointer (t = SP_EL0, h = SP_ELx). */
#define PSR_MODE_EL0t	0x00000000
#define PSR_MODE_EL1t	0x00000004
#define PSR_MODE_EL1h	0x00000005
#define PSR_MODE_EL2t	0x00000008
#define PSR_MODE_EL2h	0x00000009
#define PSR_MODE_MASK	0x0000000f

/* DAIF mask bits in SPSR. */
#define PSR_F_BIT	0x00000040
#define PSR_I_BIT	0x00000080
#define PSR_A_BIT	0x00000100
#define PSR_D_BIT	0x00000200

/* What an ERET into the kernel starts with: all exceptions masked. */
#define INIT_PSTATE_EL1 \
	(PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT | PSR_MODE_EL1h)
#define INIT_PSTATE_EL2 \
	(PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT | PSR_MODE_EL2h)

#endif

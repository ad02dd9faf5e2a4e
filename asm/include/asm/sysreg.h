/*
 * System register encodings, SCTLR values and the mrs_s/msr_s macros.
 *
 * Values: Linux 6.1 arch/arm64/include/asm/sysreg.h and its generated
 * sysreg-defs.h (field shifts), checked against Debian's 6.1.176 headers;
 * the SCTLR constants are also worked out in shared/pkvm-facts.md 5.2.
 * Identical in the Android 6.6 tree for everything used here.
 */
#ifndef __PKVM_LAB_ASM_SYSREG_H
#define __PKVM_LAB_ASM_SYSREG_H

#include <linux/bits.h>

/*
 * A system register (or system instruction) as the op0/op1/CRn/CRm/op2
 * fields of an MRS/MSR/SYS encoding, already in their bit positions, so it
 * can be ORed into an instruction word.
 */
#define Op0_shift	19
#define Op1_shift	16
#define CRn_shift	12
#define CRm_shift	8
#define Op2_shift	5

#define sys_reg(op0, op1, crn, crm, op2) \
	(((op0) << Op0_shift) | ((op1) << Op1_shift) | \
	 ((crn) << CRn_shift) | ((crm) << CRm_shift) | \
	 ((op2) << Op2_shift))

#define sys_insn	sys_reg

/*
 * Raw instruction words.  No space after .inst, so the result also works as
 * a single macro argument (the kernel writes it the same way).
 */
#define __emit_inst(x)		.inst(x)

/* Barriers by encoding, for assemblers that may not know them (SB: Armv8.5). */
#define __SYS_BARRIER_INSN(CRm, op2, Rt) \
	__emit_inst(0xd5000000 | sys_insn(0, 3, 3, (CRm), (op2)) | ((Rt) & 0x1f))
#define SB_BARRIER_INSN		__SYS_BARRIER_INSN(0, 7, 31)

/* Registers reached by encoding (mrs_s/msr_s) in the documents' code. */
#define SYS_SCTLR_EL12		sys_reg(3, 5, 1, 0, 0)
#define SYS_LORC_EL1		sys_reg(3, 0, 10, 4, 3)
#define SYS_PMBIDR_EL1		sys_reg(3, 0, 9, 10, 7)
#define SYS_PMSCR_EL2		sys_reg(3, 4, 9, 9, 0)
#define SYS_TRBIDR_EL1		sys_reg(3, 0, 9, 11, 7)
#define SYS_ICC_SRE_EL2		sys_reg(3, 4, 12, 9, 5)
#define SYS_ICH_HCR_EL2		sys_reg(3, 4, 12, 11, 0)
#define SYS_HFGRTR_EL2		sys_reg(3, 4, 1, 1, 4)
#define SYS_HFGWTR_EL2		sys_reg(3, 4, 1, 1, 5)
#define SYS_HFGITR_EL2		sys_reg(3, 4, 1, 1, 6)
#define SYS_HDFGRTR_EL2		sys_reg(3, 4, 3, 1, 4)
#define SYS_HDFGWTR_EL2		sys_reg(3, 4, 3, 1, 5)
#define SYS_HAFGRTR_EL2		sys_reg(3, 4, 3, 1, 6)

/* Pointer-authentication keys: five LO/HI pairs. */
#define SYS_APIAKEYLO_EL1	sys_reg(3, 0, 2, 1, 0)
#define SYS_APIAKEYHI_EL1	sys_reg(3, 0, 2, 1, 1)
#define SYS_APIBKEYLO_EL1	sys_reg(3, 0, 2, 1, 2)
#define SYS_APIBKEYHI_EL1	sys_reg(3, 0, 2, 1, 3)
#define SYS_APDAKEYLO_EL1	sys_reg(3, 0, 2, 2, 0)
#define SYS_APDAKEYHI_EL1	sys_reg(3, 0, 2, 2, 1)
#define SYS_APDBKEYLO_EL1	sys_reg(3, 0, 2, 2, 2)
#define SYS_APDBKEYHI_EL1	sys_reg(3, 0, 2, 2, 3)
#define SYS_APGAKEYLO_EL1	sys_reg(3, 0, 2, 3, 0)
#define SYS_APGAKEYHI_EL1	sys_reg(3, 0, 2, 3, 1)

/* ID register fields tested by el2_setup.h and assembler.h. */
#define ID_AA64DFR0_EL1_PMUVer_SHIFT		8
#define ID_AA64DFR0_EL1_PMSVer_SHIFT		32
#define ID_AA64DFR0_EL1_TraceBuffer_SHIFT	44
#define ID_AA64MMFR0_EL1_PARANGE_SHIFT		0
#define ID_AA64MMFR0_EL1_FGT_SHIFT		56
#define ID_AA64MMFR1_EL1_LO_SHIFT		16
#define ID_AA64PFR0_EL1_GIC_SHIFT		24
#define ID_AA64PFR0_EL1_AMU_SHIFT		44
#define ID_AA64PFR1_EL1_SME_SHIFT		24
/* Fields the hyp stub (__finalise_el2) tests. */
#define ID_AA64PFR0_EL1_SVE_SHIFT		32
#define ID_AA64MMFR1_EL1_VH_SHIFT		8
/* PARange 5 = 48 bits: the largest TCR PS value without 52-bit PA. */
#define ID_AA64MMFR0_EL1_PARANGE_MAX		5

/* SPE and TRBE: "programmable from EL2" bits and PMSCR_EL2 fields. */
#define SYS_PMBIDR_EL1_P_SHIFT		4
#define SYS_PMSCR_EL2_PA_SHIFT		4
#define SYS_PMSCR_EL2_PCT_SHIFT		6
#define TRBIDR_PROG			BIT(4)

/* Fine-grained trap bits cleared when SME is present. */
#define HFGxTR_EL2_nSMPRI_EL1_MASK	BIT(54)
#define HFGxTR_EL2_nTPIDR2_EL0_MASK	BIT(55)

/* SCTLR_ELx bits shared by EL1 and EL2. */
#define SCTLR_ELx_ITFSB	(BIT(37))
#define SCTLR_ELx_ENIA	(BIT(31))
#define SCTLR_ELx_ENIB	(BIT(30))
#define SCTLR_ELx_ENDA	(BIT(27))
#define SCTLR_ELx_EE	(BIT(25))
#define SCTLR_ELx_IESB	(BIT(21))
#define SCTLR_ELx_WXN	(BIT(19))
#define SCTLR_ELx_ENDB	(BIT(13))
#define SCTLR_ELx_I	(BIT(12))
#define SCTLR_ELx_EOS	(BIT(11))
#define SCTLR_ELx_SA	(BIT(3))
#define SCTLR_ELx_C	(BIT(2))
#define SCTLR_ELx_A	(BIT(1))
#define SCTLR_ELx_M	(BIT(0))

/* SCTLR_EL2 bits that are RES1 in the nVHE (E2H=0) layout. */
#define SCTLR_EL2_RES1	((BIT(4))  | (BIT(5))  | (BIT(11)) | (BIT(16)) | \
			 (BIT(18)) | (BIT(22)) | (BIT(23)) | (BIT(28)) | \
			 (BIT(29)))

/* SCTLR_EL1 bits set while the MMU is still off. */
#define SCTLR_EL1_LSMAOE	(BIT(29))
#define SCTLR_EL1_nTLSMD	(BIT(28))
#define SCTLR_EL1_EIS		(BIT(22))
#define SCTLR_EL1_TSCXT		(BIT(20))
#define SCTLR_EL1_EOS		(BIT(11))
#define SCTLR_EL1_E0E		(BIT(24))

#ifdef CONFIG_CPU_BIG_ENDIAN
#define ENDIAN_SET_EL2		SCTLR_ELx_EE
#define ENDIAN_SET_EL1		(SCTLR_EL1_E0E | SCTLR_ELx_EE)
#else
#define ENDIAN_SET_EL2		0
#define ENDIAN_SET_EL1		0
#endif

/* 0x2030ed183d on little-endian */
#define INIT_SCTLR_EL2_MMU_ON						\
	(SCTLR_ELx_M  | SCTLR_ELx_C | SCTLR_ELx_SA | SCTLR_ELx_I |	\
	 SCTLR_ELx_IESB | SCTLR_ELx_WXN | ENDIAN_SET_EL2 |		\
	 SCTLR_ELx_ITFSB | SCTLR_EL2_RES1)

/* 0x30c50830 on little-endian */
#define INIT_SCTLR_EL2_MMU_OFF	(SCTLR_EL2_RES1 | ENDIAN_SET_EL2)

/* 0x30500800 on little-endian */
#define INIT_SCTLR_EL1_MMU_OFF \
	(ENDIAN_SET_EL1 | SCTLR_EL1_LSMAOE | SCTLR_EL1_nTLSMD | \
	 SCTLR_EL1_EIS  | SCTLR_EL1_TSCXT  | SCTLR_EL1_EOS)

#ifdef __ASSEMBLY__

/*
 * .L__gpr_num_<reg>: the register number of each general-purpose register
 * name, so that mrs_s/msr_s can build the Rt field from a register name.
 */
	.irp	num,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	.equ	.L__gpr_num_x\num, \num
	.equ	.L__gpr_num_w\num, \num
	.endr
	.equ	.L__gpr_num_xzr, 31
	.equ	.L__gpr_num_wzr, 31

/*
 * MRS/MSR by encoding, for registers an assembler may not know by name
 * (the kernel emits them this way even when it does).
 */
	.macro	mrs_s, rt, sreg
	__emit_inst(0xd5200000|(\sreg)|(.L__gpr_num_\rt))
	.endm

	.macro	msr_s, sreg, rt
	__emit_inst(0xd5000000|(\sreg)|(.L__gpr_num_\rt))
	.endm

#endif /* __ASSEMBLY__ */

#endif /* __PKVM_LAB_ASM_SYSREG_H */

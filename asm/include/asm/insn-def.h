/* Every A64 instruction is one 32-bit word. */
#ifndef __PKVM_LAB_ASM_INSN_DEF_H
#define __PKVM_LAB_ASM_INSN_DEF_H

#define AARCH64_INSN_SIZE	4

#endif

/* Translation-table base register bits (Linux 6.1 asm/pgtable-hwdef.h). */
#ifndef __PKVM_LAB_ASM_PGTABLE_HWDEF_H
#define __PKVM_LAB_ASM_PGTABLE_HWDEF_H

#include <linux/bits.h>

/* TTBRx.CnP: the table may be shared by the CPUs of the inner shareable domain. */
#define TTBR_CNP_BIT		(UL(1) << 0)

#endif

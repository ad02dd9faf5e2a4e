/* The kernel's <asm/alternative.h> brings in the alternative macros. */
#ifndef __PKVM_LAB_ASM_ALTERNATIVE_H
#define __PKVM_LAB_ASM_ALTERNATIVE_H

#include <asm/alternative-macros.h>

#endif

/* 4 KiB pages (CONFIG_ARM64_4K_PAGES), as the kernel's asm/page-def.h. */
#ifndef __PKVM_LAB_ASM_PAGE_DEF_H
#define __PKVM_LAB_ASM_PAGE_DEF_H

#include <generated/autoconf.h>

#define PAGE_SHIFT	CONFIG_ARM64_PAGE_SHIFT
#define PAGE_SIZE	(1 << PAGE_SHIFT)

#endif

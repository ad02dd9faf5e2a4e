/*
 * Boot mode values returned by init_kernel_el and the hyp-stub HVC numbers
 * (Linux 6.1 asm/virt.h; unchanged in the Android 6.6 tree).
 */
#ifndef __PKVM_LAB_ASM_VIRT_H
#define __PKVM_LAB_ASM_VIRT_H

#include <linux/bits.h>

/* Hyp-stub calls: x0 holds one of these when the host issues "hvc #0". */
#define HVC_SET_VECTORS		0
#define HVC_SOFT_RESTART	1
#define HVC_RESET_VECTORS	2
#define HVC_FINALISE_EL2	3
#define HVC_STUB_HCALL_NR	4
#define HVC_STUB_ERR		0xbadca11

/* w0 on return from init_kernel_el; flags live in bits [63:32]. */
#define BOOT_CPU_MODE_EL1	(0xe11)
#define BOOT_CPU_MODE_EL2	(0xe12)
/* HCR_EL2.E2H was stuck at 1, so the kernel has to run in VHE. */
#define BOOT_CPU_FLAG_E2H	BIT_ULL(32)

#endif

/*
 * dcache_clean_poc(start, end) (the kernel's arch/arm64/mm/cache.S):
 * clean the data cache lines covering [start, end) to the Point of
 * Coherency, so that a reader with the MMU or caches off (EL2 during its
 * init, another agent) sees what was written.  Line size: CTR_EL0.DminLine
 * (the system-wide safe value when CPUs differ).  Ends with "dsb sy".
 *
 * The documents' init_el2 calls it through a register (adr_l + blr) on the
 * hypervisor text when entered with the MMU on.  (In the kernel the body is
 * __pi_dcache_clean_poc, position-independent for the early boot code, and
 * dcache_clean_poc an alias of it; one name is enough here.)
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

#include <asm/alternative.h>
#include <asm/assembler.h>

	.text

SYM_FUNC_START(dcache_clean_poc)
	dcache_by_line_op cvac, sy, x0, x1, x2, x3
	ret
SYM_FUNC_END(dcache_clean_poc)

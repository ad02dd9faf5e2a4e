/* GICv3 CPU-interface bits used by __init_el2_gicv3 (architectural values). */
#ifndef __PKVM_LAB_LINUX_IRQCHIP_ARM_GIC_V3_H
#define __PKVM_LAB_LINUX_IRQCHIP_ARM_GIC_V3_H

/* ICC_SRE_EL2.SRE: system-register interface; .Enable: lets EL1 use it too. */
#define ICC_SRE_EL2_SRE		(1 << 0)
#define ICC_SRE_EL2_ENABLE	(1 << 3)

#endif

/*
 * The hypervisor's data in the image (the nVHE object's .data..percpu and
 * .rodata, renamed .hyp.* by the nVHE link step):
 *
 *  .hyp.data..percpu  the per-CPU template: kvm_host_data (whose first
 *                     member is the host context, struct kvm_cpu_context),
 *                     kvm_hyp_ctxt, kvm_init_params.  init_hyp_mode copies
 *                     it into one region per CPU; at EL2, adr_this_cpu adds
 *                     TPIDR_EL2 (copy - template) to a template address.
 *  .hyp.rodata        hyp_physvirt_offset (PA - hyp VA of the linear map),
 *                     set by the host in kvm_compute_layout, read by the
 *                     hyp_pa macro.
 *  .hyp.bss           the hypervisor globals the host fills in before
 *                     __pkvm_init (kvm_nvhe_sym(...) on the host side):
 *                     hyp_memory[] and hyp_memblock_nr (kvm_hyp_reserve),
 *                     kvm_arm_hyp_percpu_base[] (init_hyp_mode), the
 *                     sanitised ID registers (kvm_hyp_init_symbols) and
 *                     hyp_cpu_logical_map[] (init_cpu_logical_map).
 *
 * Sizes follow Linux 6.1's layout (pkvm-facts 5.3, 5.4): a kvm_cpu_context
 * is 1824 bytes; kvm_nvhe_init_params is 72 bytes in 6.1 and 80 with the
 * Android tree's hfgwtr_el2, so 80 are reserved.
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

#define KVM_CPU_CONTEXT_SIZE		1824
/* HYP_MEMBLOCK_REGIONS struct memblock_region { base, size, flags (+pad) }: 24 bytes each. */
#define HYP_MEMBLOCK_REGIONS		128
#define MEMBLOCK_REGION_SIZE		24
/* The model's NR_CPUS (QEMU virt with a GICv2). */
#define NR_CPUS				8
#define KVM_NVHE_INIT_PARAMS_SIZE	80

	.section	.hyp.data..percpu, "aw"
	.balign	64
SYM_DATA_START(kvm_host_data)
	.space	KVM_CPU_CONTEXT_SIZE		// host_ctxt (HOST_DATA_CONTEXT = 0)
SYM_DATA_END(kvm_host_data)
	.balign	64
SYM_DATA_START(kvm_hyp_ctxt)
	.space	KVM_CPU_CONTEXT_SIZE
SYM_DATA_END(kvm_hyp_ctxt)
	.balign	64
SYM_DATA_START(kvm_init_params)
	.space	KVM_NVHE_INIT_PARAMS_SIZE
SYM_DATA_END(kvm_init_params)

	.section	.hyp.rodata, "a"
	.balign	8
SYM_DATA_START(hyp_physvirt_offset)
	.quad	0
SYM_DATA_END(hyp_physvirt_offset)

	.section	.hyp.bss, "aw", %nobits
	.balign	8
SYM_DATA_START(hyp_memory)
	.space	HYP_MEMBLOCK_REGIONS * MEMBLOCK_REGION_SIZE
SYM_DATA_END(hyp_memory)
SYM_DATA_START(hyp_memblock_nr)
	.space	8
SYM_DATA_END(hyp_memblock_nr)
SYM_DATA_START(kvm_arm_hyp_percpu_base)
	.space	NR_CPUS * 8
SYM_DATA_END(kvm_arm_hyp_percpu_base)
SYM_DATA_START(hyp_cpu_logical_map)
	.space	NR_CPUS * 8
SYM_DATA_END(hyp_cpu_logical_map)
SYM_DATA_START(id_aa64mmfr0_el1_sys_val)
	.space	8
SYM_DATA_END(id_aa64mmfr0_el1_sys_val)
SYM_DATA_START(id_aa64mmfr1_el1_sys_val)
	.space	8
SYM_DATA_END(id_aa64mmfr1_el1_sys_val)

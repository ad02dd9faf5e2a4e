/*
 * Where the kernel's C functions of the boot flow sit in the image.  The
 * interpreter never executes these bodies: src/pkvm installs a host
 * function (a TypeScript model of the C code, Emulator.hostFunction) at each
 * symbol, which runs when execution arrives there with the AAPCS64
 * arguments in x0..x7 and returns to x30.  The BRK only fires if a model is
 * missing.
 *
 * Host (EL1, .text; MMU off, so these are also the PAs):
 *   kvm_hyp_reserve, smp_cpus_done, kvm_arm_vmid_alloc_init, init_hyp_mode,
 *   kvm_hyp_init_protection_done, cpu_hyp_init_context,
 *   pkvm_drop_host_privileges, __get_free_page, do_mem_abort, die,
 *   nvhe_hyp_panic_handler, kvm_get_kimage_voffset (an alternatives
 *   callback: called by the patcher, not by code).
 *   X_args / X_done pairs: a C function X that makes a hypercall, split at
 *   the HVC (see kvm_call_hyp_from_c in host-workload.S): X_args is X up to
 *   the hypercall and loads x0..x5; X_done is the rest and returns X's
 *   status in x0.
 *
 * Hypervisor (EL2, .hyp.text; run at their hyp VAs, so the hooks are there):
 *   handle_trap (hyp-main.c), __pkvm_init_finalise (setup.c), hyp_panic,
 *   hyp_panic_bad_stack (switch.h / hyp-main.c).
 */
#include <linux/kconfig.h>
#include <linux/linkage.h>

/* BRK immediate for "a modelled C function ran on the interpreter". */
#define MODELLED_C_BRK	0xc0de

.macro c_function name
SYM_FUNC_START(\name)
	brk	#MODELLED_C_BRK
SYM_FUNC_END(\name)
.endm

	.text
	c_function kvm_hyp_reserve
	c_function smp_cpus_done
	c_function kvm_arm_vmid_alloc_init
	c_function init_hyp_mode
	c_function kvm_hyp_init_protection_done
	c_function cpu_hyp_init_context
	c_function cpu_init_hyp_mode_args
	c_function cpu_init_hyp_mode_done
	c_function cpu_set_hyp_vector_args
	c_function cpu_set_hyp_vector_done
	c_function pkvm_init_args
	c_function pkvm_init_done
	c_function pkvm_drop_host_privileges
	c_function pkvm_prot_finalize_args
	c_function pkvm_prot_finalize_done
	c_function host_share_hyp_args
	c_function host_share_hyp_done
	c_function host_unshare_hyp_args
	c_function host_unshare_hyp_done
	c_function unknown_hcall_args
	c_function unknown_hcall_done
	c_function __get_free_page
	c_function do_mem_abort
	c_function die
	c_function nvhe_hyp_panic_handler
	c_function kvm_get_kimage_voffset

	.section	.hyp.text, "ax"
	c_function handle_trap
	c_function __pkvm_init_finalise
	c_function hyp_panic
	c_function hyp_panic_bad_stack

/**
 * The hypervisor's trap handling for the host (the kernel's kvm/hyp/nvhe/hyp-main.c,
 * pkvm-facts §5.8), reached from the documents' `__host_exit` (asm/host.S) through the
 * host vector table (asm/host-vectors.S) with `bl handle_trap` and x0 = this CPU's host
 * context (a hyp VA):
 *
 * - handle_trap switches on ESR_EL2.EC: HVC64 → handle_host_hcall; SMC64 →
 *   handle_host_smc (the PSCI relay, or forwarded to the firmware with
 *   __kvm_hyp_host_forward_smc), then ELR_EL2 past the SMC; IABT_LOW / DABT_LOW →
 *   handle_host_mem_abort; anything else → hyp_panic.
 * - handle_host_hcall: id = x0 − KVM_HOST_SMCCC_ID(0); once pKVM is finalised the ids
 *   below __pkvm_prot_finalize are refused; an id out of the table or without a handler
 *   gets SMCCC_RET_NOT_SUPPORTED (−1) in x0; otherwise x0 = SMCCC_RET_SUCCESS and the
 *   handler's result goes to x1.
 * - handle_host_mem_abort: host_stage2_idmap of the faulting IPA (HPFAR_EL2). When the
 *   page belongs to someone else (−EPERM): 6.1 BUG()s (hyp_panic, the host dies); the
 *   Android tree injects a synchronous abort into the host (host_inject_abort), as a
 *   real device does.
 *
 * The hypercall numbering is the kernel's enum __kvm_host_smccc_func, per profile.
 */
import type { CpuView } from './cpu-view.js';
import { errnoName, EPERM, EAGAIN } from './pgtable-prot.js';
import { hex } from './hyp-memory.js';
import {
  __pkvm_host_share_hyp, __pkvm_host_unshare_hyp, __pkvm_prot_finalize, host_stage2_idmap, type ShareTransition,
} from './mem-protect.js';
import { __pkvm_init, type Hypervisor, type TailCall } from './setup.js';
import type { KernelProfileName } from './profile.js';

/** KVM_HOST_SMCCC_ID(0): fast call, SMC64, owner VENDOR_HYP. */
export const KVM_HOST_SMCCC_BASE = 0xc600_0000n;
export const SMCCC_RET_SUCCESS = 0n;
export const SMCCC_RET_NOT_SUPPORTED = 0xffff_ffff_ffff_ffffn;

/**
 * enum __kvm_host_smccc_func, in order. linux-6.1: V61 (pkvm-facts §5.8). android: an
 * Android common kernel's table (aosp-mirror/kernel_common kvm_asm.h @ 0446041d); the
 * documents' android15-6.6 tree has more entries after __pkvm_prot_finalize, so the ids
 * past it may differ there.
 */
export const HOST_HCALLS: Readonly<Record<KernelProfileName, readonly string[]>> = {
  'linux-6.1': [
    '__kvm_hyp_init', '__kvm_get_mdcr_el2', '__pkvm_init', '__pkvm_create_private_mapping', '__pkvm_cpu_set_vector',
    '__kvm_enable_ssbs', '__vgic_v3_init_lrs', '__vgic_v3_get_gic_config', '__pkvm_prot_finalize',
    '__pkvm_host_share_hyp', '__pkvm_host_unshare_hyp', '__kvm_adjust_pc', '__kvm_vcpu_run', '__kvm_flush_vm_context',
    '__kvm_tlb_flush_vmid_ipa', '__kvm_tlb_flush_vmid', '__kvm_flush_cpu_context', '__kvm_timer_set_cntvoff',
    '__vgic_v3_read_vmcr', '__vgic_v3_write_vmcr', '__vgic_v3_save_aprs', '__vgic_v3_restore_aprs', '__pkvm_vcpu_init_traps',
  ],
  android: [
    '__kvm_hyp_init', '__kvm_get_mdcr_el2', '__pkvm_init', '__pkvm_create_private_mapping', '__pkvm_cpu_set_vector',
    '__kvm_enable_ssbs', '__vgic_v3_init_lrs', '__vgic_v3_get_gic_config', '__kvm_flush_vm_context',
    '__kvm_tlb_flush_vmid_ipa', '__kvm_tlb_flush_vmid', '__kvm_flush_cpu_context', '__pkvm_prot_finalize',
    '__pkvm_host_share_hyp', '__pkvm_host_unshare_hyp', '__pkvm_host_reclaim_page', '__pkvm_host_map_guest',
    '__kvm_adjust_pc', '__kvm_vcpu_run', '__kvm_timer_set_cntvoff', '__vgic_v3_save_vmcr_aprs',
    '__vgic_v3_restore_vmcr_aprs', '__pkvm_init_vm', '__pkvm_init_vcpu', '__pkvm_teardown_vm', '__pkvm_vcpu_load',
    '__pkvm_vcpu_put', '__pkvm_vcpu_sync_state',
  ],
};

/** KVM_HOST_SMCCC_FUNC(name) for a profile. */
export function hostSmcccFunc(profile: KernelProfileName, name: string): bigint {
  const id = HOST_HCALLS[profile].indexOf(name);
  if (id < 0) throw new Error(`no hypercall ${name} in the ${profile} table`);
  return KVM_HOST_SMCCC_BASE + BigInt(id);
}

/** ESR_ELx.EC values handle_trap distinguishes. */
export const ESR_EC = { HVC64: 0x16, SMC64: 0x17, IABT_LOW: 0x20, DABT_LOW: 0x24, IABT_CUR: 0x21, DABT_CUR: 0x25 } as const;

/** One trap from the host, as the report lists it. */
export type HostTrapEvent =
  | { kind: 'hcall'; cpu: number; id: bigint; name: string; result: 'SUCCESS' | 'NOT_SUPPORTED'; x1?: bigint; detail?: string }
  | { kind: 'mem_abort'; cpu: number; ec: number; far: bigint; ipa: bigint; ret: number; mapped?: { start: bigint; end: bigint; isMemory: boolean }; outcome: string }
  | { kind: 'smc'; cpu: number; fn: bigint; outcome: string }
  | { kind: 'panic'; cpu: number; why: string };

/** What handle_trap leaves the CPU to do: return to __host_exit, or continue elsewhere. */
export type TrapResult = { readonly tail?: TailCall };

/** The model's record of the hypervisor's traps (kept on the Hypervisor). */
export interface TrapLog {
  readonly events: HostTrapEvent[];
  readonly shares: ShareTransition[];
  /** kvm_hyp_vector per CPU, set by __pkvm_cpu_set_vector. */
  readonly hypVectorSlot: Map<number, number>;
}

export function newTrapLog(): TrapLog {
  return { events: [], shares: [], hypVectorSlot: new Map() };
}

interface HcallCtx {
  readonly hv: Hypervisor;
  readonly cpu: CpuView;
  readonly log: TrapLog;
  /** PA of the host context. */
  readonly ctxtPa: bigint;
  readonly hostCtxt: bigint;
  reg(n: number): bigint;
  setReg(n: number, v: bigint): void;
}

type Handler = (c: HcallCtx) => TrapResult | void;

/** An unmodelled handler: the flow never calls it; if something does, say so rather than invent a result. */
class UnmodelledHypercall extends Error {
  override name = 'UnmodelledHypercall';
}

const HANDLERS: Record<string, Handler> = {
  __kvm_get_mdcr_el2: (c) => c.setReg(1, c.cpu.reg('mdcr_el2')),
  __kvm_enable_ssbs: (c) => {
    // SCTLR_ELx.DSSBS (bit 44): SSBS set on exception entry to EL2.
    c.cpu.setReg('sctlr_el2', c.cpu.reg('sctlr_el2') | (1n << 44n));
  },
  __pkvm_init: (c) => {
    const out = __pkvm_init(c.hv, {
      phys: c.reg(1), size: c.reg(2), nrCpus: c.reg(3), perCpuBase: c.reg(4), hypVaBits: c.reg(5),
    }, c.cpu.index);
    if ('jump' in out) return { tail: out.jump };
    // handle___pkvm_init: only an error comes back, in x1.
    c.setReg(1, BigInt.asUintN(64, BigInt(out.ret)));
    return undefined;
  },
  __pkvm_cpu_set_vector: (c) => {
    const slot = Number(c.reg(1));
    // pkvm_cpu_set_vector: the vectors guests run with; HYP_VECTOR_DIRECT .. SPECTRE_INDIRECT are 0..3.
    if (slot > 3) { c.setReg(1, BigInt.asUintN(64, -22n)); return; }
    c.log.hypVectorSlot.set(c.cpu.index, slot);
    c.setReg(1, 0n);
  },
  __pkvm_prot_finalize: (c) => c.setReg(1, BigInt.asUintN(64, BigInt(__pkvm_prot_finalize(c.hv, c.cpu)))),
  __pkvm_host_share_hyp: (c) => {
    const t = __pkvm_host_share_hyp(c.hv, c.reg(1));
    c.log.shares.push(t);
    c.setReg(1, BigInt.asUintN(64, BigInt(t.ret)));
  },
  __pkvm_host_unshare_hyp: (c) => {
    const t = __pkvm_host_unshare_hyp(c.hv, c.reg(1));
    c.log.shares.push(t);
    c.setReg(1, BigInt.asUintN(64, BigInt(t.ret)));
  },
  __kvm_flush_vm_context: (c) => {
    c.hv.tlbi('alle1is', 0n);
  },
};

/** handle_host_hcall. */
function handle_host_hcall(c: HcallCtx): TrapResult {
  const profile = c.hv.profile.name;
  const table = HOST_HCALLS[profile];
  const x0 = c.reg(0);
  const id = BigInt.asUintN(64, x0 - KVM_HOST_SMCCC_BASE);
  // Once finalised, the early "privileged" hypercalls are refused (__pkvm_prot_finalize
  // itself stays: it is per CPU and answers −EPERM the second time).
  const hcallMin = c.hv.env.protectedModeInitialized() ? BigInt(table.indexOf('__pkvm_prot_finalize')) : 0n;
  const name = id < BigInt(table.length) ? table[Number(id)]! : undefined;
  const handler = name !== undefined && name !== '__kvm_hyp_init' ? HANDLERS[name] : undefined;
  if (id < hcallMin || name === undefined || name === '__kvm_hyp_init') {
    c.setReg(0, SMCCC_RET_NOT_SUPPORTED);
    c.log.events.push({ kind: 'hcall', cpu: c.cpu.index, id: x0, name: name ?? `unknown id ${id}`, result: 'NOT_SUPPORTED', detail: name && id < hcallMin ? 'refused after finalisation' : undefined });
    return {};
  }
  if (!handler) throw new UnmodelledHypercall(`hypercall ${name} (${hex(x0)}) is in the kernel's table but has no model`);
  c.setReg(0, SMCCC_RET_SUCCESS);
  const r = handler(c) ?? {};
  c.log.events.push({ kind: 'hcall', cpu: c.cpu.index, id: x0, name, result: 'SUCCESS', x1: r.tail ? undefined : c.reg(1) });
  return r;
}

/** PSCI function ids the relay knows (0.2+ SMC32/SMC64 forms: 0x84000000..1f, 0xc4000000..1f). */
function isPsci(fn: bigint): boolean {
  const f = Number(fn & 0xffff_ffffn);
  return (f >= 0x8400_0000 && f <= 0x8400_001f) || (f >= 0xc400_0000 && f <= 0xc400_001f);
}

/**
 * handle_host_smc: the PSCI relay (kvm_host_psci_handler) or default_host_smc_handler;
 * both end here by forwarding to the firmware (__kvm_hyp_host_forward_smc, asm), then
 * kvm_skip_host_instr. The model moves ELR_EL2 first and then tail-calls the forwarder,
 * which returns to __host_exit's restore path: only ELR_EL2 is involved, so the order
 * does not change anything.
 */
function handle_host_smc(c: HcallCtx): TrapResult {
  const fn = c.reg(0);
  const f = Number(fn & 0xffff_ffffn);
  // SYSTEM_OFF / SYSTEM_RESET and the non-PSCI calls are forwarded as they are;
  // CPU_ON / CPU_SUSPEND / CPU_OFF need the relay's own entry points (not modelled).
  const forwardable = !isPsci(fn) || f === 0x8400_0008 || f === 0x8400_0009 || f === 0x8400_0000 || f === 0x8400_000a;
  if (!forwardable) throw new UnmodelledHypercall(`the PSCI relay for ${hex(fn)} is not modelled`);
  c.cpu.setReg('elr_el2', c.cpu.reg('elr_el2') + 4n);
  c.log.events.push({ kind: 'smc', cpu: c.cpu.index, fn, outcome: isPsci(fn) ? 'PSCI relay: forwarded to the firmware' : 'forwarded to the firmware' });
  return { tail: { pc: c.hv.sym('__kvm_hyp_host_forward_smc'), args: [c.hostCtxt] } };
}

/**
 * host_inject_abort (Android): make the host take a synchronous abort at EL1, as if
 * the access had faulted there: ESR (EC repainted to "current EL", S1PTW set so the
 * host can tell it from a user fault), FAR, ELR and SPSR to EL1, then ELR_EL2/SPSR_EL2
 * at the host's VBAR_EL1 synchronous vector with everything masked.
 */
function host_inject_abort(c: HcallCtx): void {
  const cpu = c.cpu;
  const spsr = cpu.reg('spsr_el2');
  let esr = cpu.reg('esr_el2');
  const fromEl0 = (spsr & 0xfn) === 0n;
  if (!fromEl0) {
    const ec = Number((esr >> 26n) & 0x3fn);
    const cur = ec === ESR_EC.DABT_LOW ? ESR_EC.DABT_CUR : ec === ESR_EC.IABT_LOW ? ESR_EC.IABT_CUR : ec;
    esr = (esr & ~(0x3fn << 26n)) | (BigInt(cur) << 26n);
  }
  esr |= 1n << 7n; // ESR_ELx_S1PTW
  cpu.setReg('esr_el1', esr);
  cpu.setReg('spsr_el1', spsr);
  cpu.setReg('elr_el1', cpu.reg('elr_el2'));
  cpu.setReg('far_el1', cpu.reg('far_el2'));
  // get_except64_offset: from EL1h to EL1h is "current EL, SP_ELx" (0x200); from EL0 "lower EL" (0x400).
  const offset = fromEl0 ? 0x400n : (spsr & 1n) ? 0x200n : 0n;
  cpu.setReg('elr_el2', cpu.reg('vbar_el1') + offset);
  // get_except64_cpsr: NZCV kept, D/A/I/F set, EL1h; PAN set unless SCTLR_EL1.SPAN (with FEAT_PAN).
  let newSpsr = (spsr & 0xf000_0000n) | 0x3c0n | 0x5n;
  const hasPan = ((cpu.reg('id_aa64mmfr1_el1') >> 20n) & 0xfn) !== 0n;
  if (hasPan && (cpu.reg('sctlr_el1') & (1n << 23n)) === 0n) newSpsr |= 1n << 22n;
  cpu.setReg('spsr_el2', newSpsr);
}

/** handle_host_mem_abort (§5.8): identity-map the faulting range, or refuse. */
function handle_host_mem_abort(c: HcallCtx): TrapResult {
  const cpu = c.cpu;
  const esr = cpu.reg('esr_el2');
  const ec = Number((esr >> 26n) & 0x3fn);
  const far = cpu.reg('far_el2');
  const ipa = (cpu.reg('hpfar_el2') & ~0xfn) << 8n;
  const r = host_stage2_idmap(c.hv, ipa | (far & 0xfffn));
  const event = { kind: 'mem_abort' as const, cpu: cpu.index, ec, far, ipa: ipa | (far & 0xfffn), ret: r.ret };
  if (r.ret === 0) {
    c.log.events.push({ ...event, mapped: { start: r.start, end: r.end, isMemory: r.isMemory }, outcome: `host stage-2 idmap ${hex(r.start)}..${hex(r.end)} (${r.isMemory ? 'memory, RWX' : 'MMIO, RW'}); the access is retried` });
    return {};
  }
  if (r.ret === -EAGAIN) {
    c.log.events.push({ ...event, outcome: 'already mapped (-EAGAIN): retried' });
    return {};
  }
  if (r.ret === -EPERM && c.hv.profile.name === 'android') {
    host_inject_abort(c);
    c.log.events.push({ ...event, outcome: 'owned by another component (-EPERM): abort injected into the host (host_inject_abort)' });
    return {};
  }
  const why = `handle_host_mem_abort: BUG_ON(ret && ret != -EAGAIN): host_stage2_idmap(${hex(ipa)}) = ${errnoName(r.ret)}`;
  c.log.events.push({ ...event, outcome: `${errnoName(r.ret)}: BUG() → hyp_panic` });
  return { tail: hyp_panic(c.hv, cpu, c.log, why) };
}

/**
 * hyp_panic: leave for the host's panic handler through __hyp_do_panic(host_ctxt, spsr,
 * elr, par). No guest is ever loaded in this model, so there is no vCPU state to restore.
 */
export function hyp_panic(hv: Hypervisor, cpu: CpuView, log: TrapLog, why: string): TailCall {
  log.events.push({ kind: 'panic', cpu: cpu.index, why });
  const hostCtxt = hv.perCpuVa(cpu.index, 'kvm_host_data');
  return { pc: hv.sym('__hyp_do_panic'), args: [hostCtxt, cpu.reg('spsr_el2'), cpu.reg('elr_el2'), cpu.reg('par_el1')] };
}

/** handle_trap(host_ctxt). */
export function handle_trap(hv: Hypervisor, cpu: CpuView, log: TrapLog, hostCtxt: bigint): TrapResult {
  const ctxtPa = hv.hyp.virt_to_phys(hostCtxt);
  const c: HcallCtx = {
    hv, cpu, log, ctxtPa, hostCtxt,
    reg: (n) => hv.mem.read64(ctxtPa + BigInt(n) * 8n),
    setReg: (n, v) => hv.mem.write64(ctxtPa + BigInt(n) * 8n, BigInt.asUintN(64, v)),
  };
  const ec = Number((cpu.reg('esr_el2') >> 26n) & 0x3fn);
  switch (ec) {
    case ESR_EC.HVC64: return handle_host_hcall(c);
    case ESR_EC.SMC64: return handle_host_smc(c);
    case ESR_EC.IABT_LOW:
    case ESR_EC.DABT_LOW: return handle_host_mem_abort(c);
    default: return { tail: hyp_panic(hv, cpu, log, `handle_trap: unexpected exception class ${hex(ec)}`) };
  }
}

export { UnmodelledHypercall };

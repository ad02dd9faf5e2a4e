/**
 * The hypervisor's own initialisation at EL2 (the kernel's kvm/hyp/nvhe/setup.c and
 * mm.c; pkvm-facts §3.1, §3.2), C code modelled in TypeScript:
 *
 * - `__pkvm_init(phys, size, nr_cpus, per_cpu_base, hyp_va_bits)`, reached through the
 *   __pkvm_init hypercall: divide_memory_pool (the partition kvm_hyp_reserve sized),
 *   recreate_hyp_mappings (a new hyp stage-1 in the pool, built with the early
 *   allocator: the idmap, the private range and the vmemmap, the hyp sections, the pool,
 *   per-CPU regions and stacks), hyp_alloc_init (Android), update_nvhe_init_params, then
 *   a jump to the documents' `__pkvm_init_switch_pgd` at its idmap PA, which runs on the
 *   interpreter and "returns" into `__pkvm_init_finalise`;
 * - `__pkvm_init_finalise`: hyp_pool_init, kvm_host_prepare_stage2, the pool-backed
 *   mm_ops, and then, per kernel profile, finalize_host_mappings (6.1) or
 *   fix_hyp_pgtable_refcnt, hyp_create_pcpu_fixmap, pkvm_timer_init, fix_host_ownership,
 *   unmap_protected_regions, pin_host_tables, hyp_ffa_init, pkvm_hyp_vm_table_init
 *   (Android), and finally the documents' `__host_enter`.
 *
 * The `Hypervisor` object holds the EL2 globals. What the hypervisor learns from the
 * host it reads where the kernel puts it: the hypercall's arguments, and the hyp
 * variables the host filled in emulated memory (hyp_memory[], kvm_arm_hyp_percpu_base[],
 * the sanitised ID registers, hyp_physvirt_offset).
 */
import {
  HYP_PAGE_LAYOUT_ANDROID, HYP_PAGE_LAYOUT_V61, HypMemory, HypVmemmap, PAGE_SIZE, get_order, hex, type PhysMem,
} from './hyp-memory.js';
import { HypEarlyAlloc, hyp_early_alloc_contig, hyp_early_alloc_init, hyp_early_alloc_nr_used_pages } from './early-alloc.js';
import { HypPool, hyp_pool_init } from './hyp-pool.js';
import { hyp_early_alloc_mm_ops, pkvm_pgtable_mm_ops } from './mm-ops.js';
import {
  KVM_PGTABLE_WALK_LEAF, KVM_PGTABLE_WALK_TABLE_POST, KvmPgtable, fix_hyp_pgtable_refcnt, kvm_pgtable_hyp_init,
  kvm_pgtable_hyp_map, kvm_pgtable_walk, kvm_pte_follow, vmemmapResolverFromPgtable, writePte,
  type KvmPgtableVisitCtx,
} from './pgtable.js';
import {
  EINVAL, ENOMEM, KVM_PTE_VALID, PAGE_HYP, PAGE_HYP_EXEC, PAGE_HYP_RO, PKVM_HOST_MEM_PROT, PKVM_ID_HYP,
  PKVM_PAGE_OWNED, PKVM_PAGE_SHARED_BORROWED, PKVM_PAGE_SHARED_OWNED, errnoName, kvm_pgtable_hyp_pte_prot,
  kvm_pte_to_phys, kvm_pte_valid, pkvm_getstate, pkvm_mkstate, KVM_PGTABLE_LAST_LEVEL,
} from './pgtable-prot.js';
import { divideMemoryPool, type PoolDivision } from './reservation.js';
import type { KernelProfile, PoolPartName } from './profile.js';
import type { CpuView } from './cpu-view.js';
import { NVHE_INIT } from './init-hyp-mode.js';
import {
  addr_is_memory, host_stage2_idmap_locked, host_stage2_set_owner_locked, kvm_host_prepare_stage2, type HostMmu,
} from './mem-protect.js';

/** A step of the EL2 initialisation, for the report. */
export interface HypNote {
  readonly step: string;
  readonly detail: string;
}

/** What a modelled EL2 function asks the CPU to do next instead of returning normally. */
export interface TailCall {
  /** Where to continue (a hyp VA, or the idmap PA of __pkvm_init_switch_pgd). */
  readonly pc: bigint;
  /** x0.. for the callee. */
  readonly args: readonly bigint[];
}

export interface HypEnv {
  readonly profile: KernelProfile;
  readonly mem: PhysMem;
  /** The image's symbols, by PA (the hypervisor sees them at their hyp VAs). */
  readonly symbols: ReadonlyMap<string, bigint>;
  /** kern_hyp_va: kernel linear VA → hyp VA (the mask/tag the alternatives patch in). */
  readonly kernHypVa: (va: bigint) => bigint;
  /** CPU capabilities the alternatives patched in (ARM64_HAS_CNP, …). */
  readonly caps: ReadonlySet<string>;
  /** Broadcast TLB maintenance (an "is" operation reaches every CPU). */
  readonly tlbi: (op: string, xt: bigint) => void;
  /** An SMC to the firmware made by EL2 C code (FF-A probing): returns x0. */
  readonly firmwareSmc: (x0: bigint) => bigint;
  /** kvm_protected_mode_initialized: a static key shared with the host. */
  readonly protectedModeInitialized: () => boolean;
}

export class Hypervisor {
  readonly profile: KernelProfile;
  readonly mem: PhysMem;
  /** hyp_physvirt_offset and the memory behind hyp VAs. */
  readonly hyp: HypMemory;
  readonly caps: ReadonlySet<string>;
  readonly tlbi: (op: string, xt: bigint) => void;
  readonly notes: HypNote[] = [];

  // ---- globals set by __pkvm_init ----
  hypMemory: { base: bigint; size: bigint }[] = [];
  hypNrCpus = 0;
  /** kern_hyp_va(per_cpu_base[i]): the hyp VA of each CPU's per-CPU region. */
  perCpuBase: bigint[] = [];
  hypVaBits = 0;
  division?: PoolDivision;
  /** divide_memory_pool's pieces, as hyp VAs. */
  readonly parts = new Map<PoolPartName, { va: bigint; pages: number }>();
  earlyAlloc?: HypEarlyAlloc;
  /** The hypervisor's own stage-1 (pkvm_pgtable). */
  readonly pkvmPgtable = new KvmPgtable();
  /** __io_map_base: the private VA allocator's cursor (grows up). */
  ioMapBase = 0n;
  /** __hyp_vmemmap. */
  hypVmemmapBase = 0n;
  vmemmap?: HypVmemmap;
  hpool?: HypPool;
  hostMmu?: HostMmu;
  idAa64mmfr0 = 0n;
  idAa64mmfr1 = 0n;
  /** Private VA ranges handed out: stacks, hyp_alloc_init's range, fixmap slots. */
  readonly privateRanges: { what: string; start: bigint; end: bigint }[] = [];
  /** The steps of __pkvm_init_finalise that ran, in order, with their results. */
  readonly finaliseSteps: { step: string; ret: number; detail: string }[] = [];
  /** hyp_create_pcpu_fixmap: each CPU's slot (VA, and the PA of its last-level entry). */
  readonly fixmapSlots: { cpu: number; va: bigint; ptePa: bigint }[] = [];
  timerFreq = 0n;
  ffaEnabled = false;
  vmTableVa = 0n;
  initDone = false;

  constructor(readonly env: HypEnv) {
    this.profile = env.profile;
    this.mem = env.mem;
    this.caps = env.caps;
    this.tlbi = env.tlbi;
    // hyp_physvirt_offset, as the host's kvm_compute_layout stored it.
    this.hyp = new HypMemory(env.mem, BigInt.asUintN(64, env.mem.read64(this.symPa('hyp_physvirt_offset'))));
    this.pkvmPgtable.tlbi = env.tlbi;
  }

  note(step: string, detail: string): void {
    this.notes.push({ step, detail });
  }

  symPa(name: string): bigint {
    const v = this.env.symbols.get(name);
    if (v === undefined) throw new Error(`hypervisor symbol ${name} is not in the image`);
    return v;
  }

  /** A hypervisor symbol as the hypervisor addresses it: its hyp VA. */
  sym(name: string): bigint {
    return this.hyp.phys_to_virt(this.symPa(name));
  }

  /** this_cpu_ptr for CPU `cpu`: the per-CPU copy of a template variable (hyp VA). */
  perCpuVa(cpu: number, name: string): bigint {
    return this.perCpuBase[cpu]! + (this.symPa(name) - this.symPa('__per_cpu_start'));
  }

  /** pkvm_alloc_private_va_range: aligned to the size's order, growing up, below the vmemmap. */
  pkvm_alloc_private_va_range(size: bigint, what: string): bigint | null {
    const align = PAGE_SIZE << BigInt(get_order(size));
    const addr = (this.ioMapBase + align - 1n) & ~(align - 1n);
    const end = addr + ((size + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n));
    if (addr === 0n || end > this.hypVmemmapBase) return null;
    this.ioMapBase = end;
    this.privateRanges.push({ what, start: addr, end });
    return addr;
  }

  /** pkvm_create_mappings(from, to, prot): page by page, each page to its own PA. */
  pkvm_create_mappings(from: bigint, to: bigint, prot: bigint): number {
    const start = from & ~(PAGE_SIZE - 1n);
    const end = (to + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
    for (let va = start; va < end; va += PAGE_SIZE) {
      const ret = kvm_pgtable_hyp_map(this.pkvmPgtable, va, PAGE_SIZE, this.hyp.virt_to_phys(va), prot);
      if (ret) return ret;
    }
    return 0;
  }

  /** __pkvm_create_mappings(start, size, phys, prot): one call, blocks where possible. */
  __pkvm_create_mappings(start: bigint, size: bigint, phys: bigint, prot: bigint): number {
    return kvm_pgtable_hyp_map(this.pkvmPgtable, start, size, phys, prot);
  }
}

// ---------------------------------------------------------------------------------------------
// __pkvm_init
// ---------------------------------------------------------------------------------------------

export interface PkvmInitArgs {
  readonly phys: bigint;
  readonly size: bigint;
  readonly nrCpus: bigint;
  /** kern_hyp_va(kvm_arm_hyp_percpu_base): the hyp VA of the array of per-CPU bases. */
  readonly perCpuBase: bigint;
  readonly hypVaBits: bigint;
}

export type PkvmInitOutcome = { readonly ret: number; readonly error: string } | { readonly jump: TailCall };

/** divide_memory_pool: the early allocator carves the pool in the profile's order (§1.7). */
function divide_memory_pool(hv: Hypervisor, virt: bigint, size: bigint): number {
  const phys = hv.hyp.virt_to_phys(virt);
  const division = divideMemoryPool({
    base: Number(phys), size: Number(size), profile: hv.profile,
    hypMemory: hv.hypMemory.map((r) => ({ base: Number(r.base), size: Number(r.size) })),
  });
  hv.division = division;
  const ea = hyp_early_alloc_init(hv.hyp, virt, size);
  for (const part of division.parts) {
    if (part.pages === 0) continue;
    const va = hyp_early_alloc_contig(ea, part.pages);
    if (va === null) return -ENOMEM;
    hv.parts.set(part.name, { va, pages: part.pages });
  }
  hv.note('divide_memory_pool', division.parts.map((p) => `${p.name} ${p.pages}`).join(', ') + ` pages; ${division.slack.pages} left over`);
  return 0;
}

/** hyp_create_idmap: the idmap page, and the private range / vmemmap placed in the free quarter. */
function hyp_create_idmap(hv: Hypervisor, hyp_va_bits: number): number {
  const start = hv.symPa('__hyp_idmap_text_start') & ~(PAGE_SIZE - 1n);
  const end = (hv.symPa('__hyp_idmap_text_end') + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
  const q = 1n << BigInt(hyp_va_bits - 2);
  hv.ioMapBase = (start & q) ^ q;
  hv.hypVmemmapBase = hv.ioMapBase | (1n << BigInt(hyp_va_bits - 3));
  hv.note('hyp_create_idmap', `idmap ${hex(start)}..${hex(end)} (VA == PA); __io_map_base ${hex(hv.ioMapBase)}; __hyp_vmemmap ${hex(hv.hypVmemmapBase)}`);
  return hv.__pkvm_create_mappings(start, end - start, start, PAGE_HYP_EXEC);
}

/**
 * hyp_back_vmemmap: map the struct hyp_page entries onto the pages set aside for them —
 * the pool's own entries (6.1) or every memory region's (Android, zeroed).
 */
function hyp_back_vmemmap(hv: Hypervisor, phys: bigint, size: bigint): number {
  const part = hv.parts.get('vmemmap');
  if (!part) return -EINVAL;
  let back = hv.hyp.virt_to_phys(part.va);
  const entry = BigInt(hv.profile.structHypPageSize);
  const entryVa = (pa: bigint): bigint => hv.hypVmemmapBase + (pa >> 12n) * entry;
  const ranges = hv.profile.vmemmapSizing === 'pool-fixed-point'
    ? [{ base: phys, size }]
    : hv.hypMemory;
  let prevEnd = 0n;
  for (const r of ranges) {
    let start = entryVa(r.base) & ~(PAGE_SIZE - 1n);
    const end = (entryVa(r.base + r.size) + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
    // Skip the page the previous region already backed.
    if (start < prevEnd) start = prevEnd;
    if (start >= end) continue;
    const ret = hv.__pkvm_create_mappings(start, end - start, back, PAGE_HYP);
    if (ret) return ret;
    hv.mem.zero(back, end - start);
    back += end - start;
    prevEnd = end;
  }
  const layout = hv.profile.name === 'android' ? HYP_PAGE_LAYOUT_ANDROID : HYP_PAGE_LAYOUT_V61;
  hv.vmemmap = new HypVmemmap(hv.mem, hv.hypVmemmapBase, vmemmapResolverFromPgtable(hv.pkvmPgtable), layout);
  return 0;
}

/** recreate_hyp_mappings (§3.1 step 6): the hypervisor's own stage-1, in its own pool. */
function recreate_hyp_mappings(hv: Hypervisor, phys: bigint, size: bigint, hyp_va_bits: number): { ret: number; step: string } {
  const s1 = hv.parts.get('hyp_s1_pgtable');
  if (!s1) return { ret: -EINVAL, step: 'hyp_s1_pgtable' };
  // The early allocator now hands out the s1 pages for the new tables.
  hv.earlyAlloc = hyp_early_alloc_init(hv.hyp, s1.va, BigInt(s1.pages) * PAGE_SIZE);
  let ret = kvm_pgtable_hyp_init(hv.pkvmPgtable, hyp_va_bits, hyp_early_alloc_mm_ops(hv.earlyAlloc));
  if (ret) return { ret, step: 'kvm_pgtable_hyp_init' };
  hv.pkvmPgtable.bti = false;
  ret = hyp_create_idmap(hv, hyp_va_bits);
  if (ret) return { ret, step: 'hyp_create_idmap' };
  // hyp_map_vectors: only for CPUs that need the Spectre-v3a idmapped vectors; not these.
  ret = hyp_back_vmemmap(hv, phys, size);
  if (ret) return { ret, step: 'hyp_back_vmemmap' };

  const map = (from: string, to: string, prot: bigint): number => hv.pkvm_create_mappings(hv.sym(from), hv.sym(to), prot);
  ret = map('__hyp_text_start', '__hyp_text_end', PAGE_HYP_EXEC);
  if (ret) return { ret, step: 'hyp text' };
  if (hv.profile.hypDataSection) {
    ret = map('__hyp_data_start', '__hyp_data_end', PAGE_HYP);
    if (ret) return { ret, step: 'hyp data' };
  }
  ret = map('__hyp_rodata_start', '__hyp_rodata_end', PAGE_HYP_RO);
  if (ret) return { ret, step: 'hyp rodata' };
  ret = map('__hyp_bss_start', '__hyp_bss_end', PAGE_HYP);
  if (ret) return { ret, step: 'hyp bss' };
  const virt = hv.hyp.phys_to_virt(phys);
  ret = hv.pkvm_create_mappings(virt, virt + size, PAGE_HYP);
  if (ret) return { ret, step: 'the pool' };

  const percpuSize = hv.symPa('__per_cpu_end') - hv.symPa('__per_cpu_start');
  for (let i = 0; i < hv.hypNrCpus; i++) {
    const start = hv.perCpuBase[i]!;
    ret = hv.pkvm_create_mappings(start, start + percpuSize, PAGE_HYP);
    if (ret) return { ret, step: `per-CPU region of CPU ${i}` };
    // A two-page private range, the upper page backed by the host's stack page.
    const hypAddr = hv.pkvm_alloc_private_va_range(2n * PAGE_SIZE, `stack of CPU ${i} (+ guard page)`);
    if (hypAddr === null) return { ret: -ENOMEM, step: `stack VA of CPU ${i}` };
    const params = hv.hyp.virt_to_phys(hv.perCpuVa(i, 'kvm_init_params'));
    const stackPa = hv.mem.read64(params + BigInt(NVHE_INIT.STACK_PA));
    ret = hv.__pkvm_create_mappings(hypAddr + PAGE_SIZE, PAGE_SIZE, stackPa, PAGE_HYP);
    if (ret) return { ret, step: `stack of CPU ${i}` };
    hv.mem.write64(params + BigInt(NVHE_INIT.STACK_HYP_VA), hypAddr + 2n * PAGE_SIZE);
  }

  if (hv.profile.name === 'android') {
    hv.note('recreate_hyp_mappings (Android)', 'no pvmfw carve-out (linux,pkvm-guest-firmware-memory) in the device tree: nothing to map RO; host FP/SVE state mappings not modelled');
  }
  if (hv.profile.name === 'linux-6.1') {
    // The host's .rodata and the .bss after the hyp's: RO, and owned by the hypervisor
    // from now on (SHARED_OWNED) so that they can never be donated or shared.
    const prot = pkvm_mkstate(PAGE_HYP_RO, PKVM_PAGE_SHARED_OWNED);
    ret = map('__start_rodata', '__end_rodata', prot);
    if (!ret) ret = map('__hyp_bss_end', '__bss_stop', prot);
    if (ret) return { ret, step: 'host rodata/bss' };
  }
  hv.note('recreate_hyp_mappings', `new hyp stage-1 at PA ${hex(hv.pkvmPgtable.pgdPhys)}: idmap, vmemmap, hyp sections, the pool, ${hv.hypNrCpus} per-CPU region(s) and stack(s)`);
  return { ret: 0, step: '' };
}

/**
 * __pkvm_init (§3.1). On success it never returns to its caller: it jumps to the idmap PA
 * of __pkvm_init_switch_pgd with (params, __pkvm_init_finalise).
 */
export function __pkvm_init(hv: Hypervisor, args: PkvmInitArgs, cpu: number): PkvmInitOutcome {
  const fail = (ret: number, error: string): PkvmInitOutcome => {
    hv.note('__pkvm_init', `failed: ${error} (${errnoName(ret)})`);
    return { ret, error };
  };
  if (args.phys % PAGE_SIZE !== 0n || args.size % PAGE_SIZE !== 0n) return fail(-EINVAL, 'the pool is not page-aligned');
  // The hypervisor's view of memory and of the CPU, as the host left it in hyp variables.
  const nr = Number(hv.mem.read64(hv.symPa('hyp_memblock_nr')));
  hv.hypMemory = [];
  for (let i = 0; i < nr; i++) {
    const at = hv.symPa('hyp_memory') + BigInt(i * 24);
    hv.hypMemory.push({ base: hv.mem.read64(at), size: hv.mem.read64(at + 8n) });
  }
  hv.idAa64mmfr0 = hv.mem.read64(hv.symPa('id_aa64mmfr0_el1_sys_val'));
  hv.idAa64mmfr1 = hv.mem.read64(hv.symPa('id_aa64mmfr1_el1_sys_val'));
  hv.hypNrCpus = Number(args.nrCpus);
  hv.hypVaBits = Number(args.hypVaBits);
  const perCpuArray = hv.hyp.virt_to_phys(args.perCpuBase);
  hv.perCpuBase = [];
  for (let i = 0; i < hv.hypNrCpus; i++) hv.perCpuBase.push(hv.env.kernHypVa(hv.mem.read64(perCpuArray + BigInt(i) * 8n)));

  const virt = hv.hyp.phys_to_virt(args.phys);
  let ret = divide_memory_pool(hv, virt, args.size);
  if (ret) return fail(ret, 'divide_memory_pool');
  const r = recreate_hyp_mappings(hv, args.phys, args.size, hv.hypVaBits);
  if (r.ret) return fail(r.ret, `recreate_hyp_mappings (${r.step})`);

  if (hv.profile.hypAllocInitVaBytes !== null) {
    // hyp_alloc_init(SZ_128M): the hyp allocator's VA range; pages come later (memcaches).
    const size = BigInt(hv.profile.hypAllocInitVaBytes);
    const base = hv.pkvm_alloc_private_va_range(size, 'hyp_alloc_init (SZ_128M) heap');
    if (base === null) return fail(-ENOMEM, 'hyp_alloc_init');
    hv.note('hyp_alloc_init', `${Number(size) >> 20} MiB of private VA at ${hex(base)}..${hex(base + size)}; no memory yet`);
  }

  // update_nvhe_init_params: every CPU will take the new page table.
  for (let i = 0; i < hv.hypNrCpus; i++) {
    const params = hv.hyp.virt_to_phys(hv.perCpuVa(i, 'kvm_init_params'));
    hv.mem.write64(params + BigInt(NVHE_INIT.PGD_PA), hv.pkvmPgtable.pgdPhys);
  }
  hv.note('update_nvhe_init_params', `pgd_pa = ${hex(hv.pkvmPgtable.pgdPhys)} for ${hv.hypNrCpus} CPU(s)`);

  // fn = __hyp_pa(__pkvm_init_switch_pgd); fn(this_cpu_ptr(&kvm_init_params), __pkvm_init_finalise)
  const paramsVa = hv.perCpuVa(cpu, 'kvm_init_params');
  const params = hv.profile.switchPgdParams === 'va' ? paramsVa : hv.hyp.virt_to_phys(paramsVa);
  return { jump: { pc: hv.symPa('__pkvm_init_switch_pgd'), args: [params, hv.sym('__pkvm_init_finalise')] } };
}

// ---------------------------------------------------------------------------------------------
// __pkvm_init_finalise
// ---------------------------------------------------------------------------------------------

/** Mirror the hypervisor's stage-1 ownership of one page into the host stage-2. */
function mirrorOwnership(hv: Hypervisor, pte: bigint, level: number): number {
  if (level !== KVM_PGTABLE_LAST_LEVEL) return -EINVAL;
  const phys = kvm_pte_to_phys(pte);
  if (!addr_is_memory(hv, phys)) return -EINVAL;
  const state = pkvm_getstate(kvm_pgtable_hyp_pte_prot(pte));
  switch (state) {
    case PKVM_PAGE_OWNED: return host_stage2_set_owner_locked(hv, phys, PAGE_SIZE, PKVM_ID_HYP);
    case PKVM_PAGE_SHARED_OWNED: return host_stage2_idmap_locked(hv, phys, PAGE_SIZE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_BORROWED));
    case PKVM_PAGE_SHARED_BORROWED: return host_stage2_idmap_locked(hv, phys, PAGE_SIZE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED));
    default: return -EINVAL;
  }
}

/** Walk the hyp stage-1 over the linear alias of every memory region. */
function walkMemoryAlias(hv: Hypervisor, flags: number, cb: (ctx: KvmPgtableVisitCtx, visit: number) => number): number {
  for (const reg of hv.hypMemory) {
    const ret = kvm_pgtable_walk(hv.pkvmPgtable, hv.hyp.phys_to_virt(reg.base), reg.size, { flags, cb });
    if (ret) return ret;
  }
  return 0;
}

/** finalize_host_mappings (6.1): fix the table refcounts and mirror ownership, in one walk. */
function finalize_host_mappings(hv: Hypervisor): number {
  let owned = 0;
  const ret = walkMemoryAlias(hv, KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST, (ctx, visit) => {
    if (!kvm_pte_valid(ctx.old)) return 0;
    // The early allocator could not count: take the reference now.
    ctx.mm_ops.get_page(ctx.ptep);
    if (visit !== KVM_PGTABLE_WALK_LEAF) return 0;
    owned++;
    return mirrorOwnership(hv, ctx.old, ctx.level);
  });
  return record(hv, 'finalize_host_mappings', ret, `${owned} hyp page(s) mirrored into the host stage-2`);
}

/** fix_host_ownership (Android): mirror ownership of every hyp page into the host stage-2. */
function fix_host_ownership(hv: Hypervisor): number {
  let owned = 0;
  const ret = walkMemoryAlias(hv, KVM_PGTABLE_WALK_LEAF, (ctx) => {
    if (!kvm_pte_valid(ctx.old)) return 0;
    owned++;
    return mirrorOwnership(hv, ctx.old, ctx.level);
  });
  return record(hv, 'fix_host_ownership', ret, `${owned} hyp page(s) annotated in the host stage-2 (owner hyp, or shared)`);
}

/** hyp_create_pcpu_fixmap (Android): a private page per CPU whose last-level entry is kept, invalid, for temporary mappings. */
function hyp_create_pcpu_fixmap(hv: Hypervisor): number {
  for (let i = 0; i < hv.hypNrCpus; i++) {
    const va = hv.pkvm_alloc_private_va_range(PAGE_SIZE, `fixmap slot of CPU ${i}`);
    if (va === null) return record(hv, 'hyp_create_pcpu_fixmap', -ENOMEM, 'no private VA left');
    let ret = kvm_pgtable_hyp_map(hv.pkvmPgtable, va, PAGE_SIZE, hv.hyp.virt_to_phys(hv.sym('__hyp_bss_start')), PAGE_HYP);
    if (ret) return record(hv, 'hyp_create_pcpu_fixmap', ret, `mapping the slot of CPU ${i}`);
    let ptep = 0n;
    ret = kvm_pgtable_walk(hv.pkvmPgtable, va, PAGE_SIZE, {
      flags: KVM_PGTABLE_WALK_LEAF,
      cb: (ctx) => {
        ptep = ctx.ptep;
        writePte(ctx.mm_ops, ctx.ptep, ctx.old & ~KVM_PTE_VALID);
        return 0;
      },
    });
    hv.tlbi('vale2is', va >> 12n);
    hv.fixmapSlots.push({ cpu: i, va, ptePa: hv.hyp.virt_to_phys(ptep) });
    if (ret) return record(hv, 'hyp_create_pcpu_fixmap', ret, '');
  }
  return record(hv, 'hyp_create_pcpu_fixmap', 0, hv.fixmapSlots.map((s) => `CPU ${s.cpu}: ${hex(s.va)}`).join(', '));
}

/** pin_host_tables (Android): a reference on every table page of the host stage-2, so none is ever freed. */
function pin_host_tables(hv: Hypervisor): number {
  const pgt = hv.hostMmu!.pgt;
  let tables = 0;
  const ret = kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_TABLE_POST,
    cb: (ctx) => {
      ctx.mm_ops.get_page(kvm_pte_follow(ctx.old, ctx.mm_ops));
      tables++;
      return 0;
    },
  });
  return record(hv, 'pin_host_tables', ret, `${tables} table page(s) pinned`);
}

function record(hv: Hypervisor, step: string, ret: number, detail: string): number {
  hv.finaliseSteps.push({ step, ret, detail });
  return ret;
}

/** FF-A: FFA_VERSION, the SMC hyp_ffa_init starts with (Arm DEN 0077). */
const FFA_VERSION = 0x8400_0063n;
const FFA_RET_NOT_SUPPORTED = 0xffff_ffff_ffff_ffffn;

/**
 * __pkvm_init_finalise (§3.2), on the new page table and stack. Returns what the C code
 * ends with: `__host_enter(host_ctxt)` after writing the result to the host's x1.
 */
export function __pkvm_init_finalise(hv: Hypervisor, cpu: CpuView): TailCall {
  const hostCtxt = hv.perCpuVa(cpu.index, 'kvm_host_data');
  const out = (ret: number): TailCall => {
    // cpu_reg(host_ctxt, 1) = ret;
    hv.mem.write64(hv.hyp.virt_to_phys(hostCtxt) + 8n, BigInt.asUintN(64, BigInt(ret)));
    hv.initDone = ret === 0;
    return { pc: hv.sym('__host_enter'), args: [hostCtxt] };
  };
  // Now that the vmemmap is backed, install the full-fledged allocator.
  const s1 = hv.parts.get('hyp_s1_pgtable')!;
  const used = hyp_early_alloc_nr_used_pages(hv.earlyAlloc!);
  hv.hpool = new HypPool(hv.hyp, hv.vmemmap!, 'hpool');
  let ret = hyp_pool_init(hv.hpool, HypMemory.phys_to_pfn(hv.hyp.virt_to_phys(s1.va)), s1.pages, used);
  if (record(hv, 'hyp_pool_init', ret, `hpool over the ${s1.pages} hyp_s1_pgtable pages; ${used} already used by the early allocator; ${hv.hpool.freePages()} free`)) return out(ret);

  const s2 = hv.parts.get('host_s2_pgtable')!;
  ret = kvm_host_prepare_stage2(hv, s2.va, s2.pages);
  const hm = hv.hostMmu;
  if (record(hv, 'kvm_host_prepare_stage2', ret, hm ? `host stage-2 pgd at PA ${hex(hm.mmu.pgd_phys)}, VTCR_EL2 ${hex(hm.mmu.vtcr)}${hv.profile.prepopulateHostStage2 ? ', memory prepopulated (prepopulate_host_stage2)' : ''}` : '')) return out(ret);

  hv.pkvmPgtable.mm_ops = pkvm_pgtable_mm_ops(hv.hpool);
  record(hv, 'pkvm_pgtable_mm_ops', 0, 'the hyp stage-1 now allocates from hpool, with refcounts in the vmemmap');

  if (hv.profile.name === 'linux-6.1') {
    ret = finalize_host_mappings(hv);
    return out(ret);
  }

  ret = fix_hyp_pgtable_refcnt(hv.pkvmPgtable);
  if (record(hv, 'fix_hyp_pgtable_refcnt', ret, 'one reference per valid entry on every hyp table page')) return out(ret);
  if ((ret = hyp_create_pcpu_fixmap(hv))) return out(ret);
  hv.timerFreq = cpu.reg('cntfrq_el0');
  if (record(hv, 'pkvm_timer_init', hv.timerFreq === 0n ? -EINVAL : 0, `CNTFRQ_EL0 = ${hv.timerFreq} Hz`)) return out(-EINVAL);
  if ((ret = fix_host_ownership(hv))) return out(ret);
  record(hv, 'unmap_protected_regions', 0, 'no "pkvm,protected-region" in the device tree: nothing to unmap');
  if ((ret = pin_host_tables(hv))) return out(ret);
  const ffa = hv.env.firmwareSmc(FFA_VERSION);
  hv.ffaEnabled = ffa !== FFA_RET_NOT_SUPPORTED;
  const ffaPart = hv.parts.get('ffa_proxy');
  record(hv, 'hyp_ffa_init', 0, hv.ffaEnabled
    ? `FF-A version ${hex(ffa)}: proxy set up`
    : `FFA_VERSION → NOT_SUPPORTED from the firmware: no FF-A proxy (its ${ffaPart?.pages ?? 0} pages stay unused)`);
  const vm = hv.parts.get('vm_table');
  hv.vmTableVa = vm?.va ?? 0n;
  record(hv, 'pkvm_hyp_vm_table_init', 0, `VM table at ${hex(hv.vmTableVa)} (${vm?.pages ?? 0} page)`);
  return out(0);
}


/**
 * The host side of pKVM's bring-up, as Linux runs it at EL1 (pkvm-facts §2):
 *
 * - the VMID allocator (`arch/arm64/kvm/vmid.c`): kvm_arm_vmid_alloc_init,
 *   new_vmid with its generation roll-over, kvm_arm_vmid_update (§2.2);
 * - `init_hyp_mode` (`arch/arm64/kvm/arm.c`, §2.3): kvm_mmu_init (the hyp
 *   stage-1 built by the host, with the identity map of the hyp init text),
 *   one stack page and one per-CPU region per CPU and their hyp mappings,
 *   the kernel sections the hypervisor needs, cpu_prepare_hyp_mode (the
 *   `struct kvm_nvhe_init_params` of every CPU, written into that CPU's
 *   per-CPU region in emulated memory, §5.3), kvm_hyp_init_symbols and the
 *   first half of kvm_hyp_init_protection (the mapping of the reserved pool).
 *   The hypercalls that follow (stub HVC_SET_VECTORS, __kvm_hyp_init,
 *   __pkvm_init) are made by asm/host-workload.S on the interpreter.
 *
 * The host's page allocator is modelled by memblock top-down allocations
 * (which page the buddy allocator hands out is not architecturally
 * meaningful); host pointers are linear-map VAs as in the kernel, although
 * the model's host code itself runs with the MMU off and uses PAs.
 */
import { PhysMem, PAGE_SIZE, get_order, hex } from './hyp-memory.js';
import type { KvmPgtableMmOps } from './mm-ops.js';
import {
  KvmPgtable, kvm_pgtable_hyp_init, kvm_pgtable_hyp_map, kvm_pgtable_hyp_destroy,
} from './pgtable.js';
import { PAGE_HYP, PAGE_HYP_EXEC, PAGE_HYP_RO, errnoName, ENOMEM, EINVAL } from './pgtable-prot.js';
import type { Memblock } from './memblock.js';
import type { KernelImage } from './kernel-image.js';
import type { KernelProfile } from './profile.js';
import { HypVaLayout, KernelVaLayout, VA_BITS, fls64, genmask, hypVa, kernPa, kernVa } from './layout.js';

// ---------------------------------------------------------------------------------------------
// VMIDs (vmid.c)
// ---------------------------------------------------------------------------------------------

/** The VMID allocator's state (file-scope statics and per-CPU variables in vmid.c). */
export class VmidAllocator {
  /** kvm_arm_vmid_bits: 16 when ID_AA64MMFR1_EL1.VMIDBits = 2, else 8. */
  readonly bits: number;
  /** vmid_generation: starts at VMID_FIRST_VERSION = 1 << bits and grows by it on each roll-over. */
  generation: bigint;
  /** vmid_map: one bit per VMID index (a byte here). */
  readonly map: Uint8Array;
  /** cur_idx: where the next search starts (a static initialised to 1: VMID 0 is never handed out). */
  curIdx = 1;
  /** active_vmids / reserved_vmids per CPU. */
  readonly active: bigint[];
  readonly reserved: bigint[];
  /** Roll-overs (flush_context calls), each followed by __kvm_flush_vm_context on every CPU. */
  rollovers = 0;
  /** WARN_ON()s of kvm_arm_vmid_alloc_init. */
  readonly warnings: string[] = [];

  constructor(bits: number, nrCpus: number) {
    this.bits = bits;
    this.generation = 1n << BigInt(bits);
    this.map = new Uint8Array(1 << bits);
    this.active = new Array<bigint>(nrCpus).fill(0n);
    this.reserved = new Array<bigint>(nrCpus).fill(0n);
  }

  get numUserVmids(): number {
    return 1 << this.bits;
  }

  /** VMID_FIRST_VERSION. */
  get firstVersion(): bigint {
    return 1n << BigInt(this.bits);
  }

  /** VMID_MASK is ~GENMASK(bits − 1, 0): the generation part. vmid2idx keeps the rest. */
  idxOf(vmid: bigint): number {
    return Number(vmid & genmask(this.bits - 1, 0));
  }

  /** vmid_gen_match: the VMID belongs to the current generation. */
  genMatch(vmid: bigint): boolean {
    return ((vmid ^ this.generation) >> BigInt(this.bits)) === 0n;
  }

  private findNextZero(from: number): number {
    for (let i = from; i < this.map.length; i++) if (this.map[i] === 0) return i;
    return this.map.length;
  }

  /** flush_context: a new generation keeps only the VMIDs live or reserved on some CPU. */
  private flushContext(): void {
    this.map.fill(0);
    for (let cpu = 0; cpu < this.active.length; cpu++) {
      let vmid = this.active[cpu]!;
      this.active[cpu] = 0n;
      // Preserve the reserved VMID of a CPU that has rolled over already.
      if (vmid === 0n) vmid = this.reserved[cpu]!;
      this.map[this.idxOf(vmid)] = 1;
      this.reserved[cpu] = vmid;
    }
    this.rollovers++;
  }

  private checkUpdateReserved(vmid: bigint, newvmid: bigint): boolean {
    let hit = false;
    for (let cpu = 0; cpu < this.reserved.length; cpu++) {
      if (this.reserved[cpu] === vmid) {
        hit = true;
        this.reserved[cpu] = newvmid;
      }
    }
    return hit;
  }

  /**
   * new_vmid: keep the old index if it is still free in the new generation (or
   * reserved), otherwise take the next free index from cur_idx; when none is left,
   * roll the generation over and search again from 1.
   */
  newVmid(vmid: bigint): bigint {
    const mask = genmask(this.bits - 1, 0);
    if (vmid !== 0n) {
      const newvmid = this.generation | (vmid & mask);
      if (this.checkUpdateReserved(vmid, newvmid)) return newvmid;
      const idx = this.idxOf(vmid);
      if (this.map[idx] === 0) {
        this.map[idx] = 1;
        return newvmid;
      }
    }
    let idx = this.findNextZero(this.curIdx);
    if (idx === this.map.length) {
      this.generation += this.firstVersion;
      this.flushContext();
      idx = this.findNextZero(1);
    }
    this.map[idx] = 1;
    this.curIdx = idx;
    return BigInt(idx) | this.generation;
  }

  /** kvm_arm_vmid_update: the VMID a VM runs with on `cpu` (fast path when its generation is current). */
  update(vmid: bigint, cpu: number): bigint {
    const oldActive = this.active[cpu]!;
    if (oldActive !== 0n && this.genMatch(vmid)) {
      this.active[cpu] = vmid;
      return vmid;
    }
    if (!this.genMatch(vmid)) vmid = this.newVmid(vmid);
    this.active[cpu] = vmid;
    return vmid;
  }

  /** The VMID the hardware sees (the low `bits` bits). */
  hwVmid(vmid: bigint): number {
    return this.idxOf(vmid);
  }

  /** A copy, to show what the next allocations would give without disturbing this one. */
  clone(): VmidAllocator {
    const c = new VmidAllocator(this.bits, this.active.length);
    c.generation = this.generation;
    c.map.set(this.map);
    c.curIdx = this.curIdx;
    c.active.splice(0, c.active.length, ...this.active);
    c.reserved.splice(0, c.reserved.length, ...this.reserved);
    return c;
  }
}

/** kvm_arm_vmid_alloc_init: the VMID size from ID_AA64MMFR1_EL1.VMIDBits, an empty bitmap. */
export function kvm_arm_vmid_alloc_init(id_aa64mmfr1: bigint, nrPossibleCpus: number): VmidAllocator {
  const vmidBits = Number((id_aa64mmfr1 >> 4n) & 0xfn) === 2 ? 16 : 8;
  const alloc = new VmidAllocator(vmidBits, nrPossibleCpus);
  // Expect allocation after roll-over to fail if there are not enough VMIDs for every CPU.
  if (alloc.numUserVmids - 1 <= nrPossibleCpus) alloc.warnings.push(`only ${alloc.numUserVmids - 1} VMIDs for ${nrPossibleCpus} CPUs`);
  return alloc;
}

// ---------------------------------------------------------------------------------------------
// The host's page allocator
// ---------------------------------------------------------------------------------------------

export interface HostPageRecord {
  readonly pa: bigint;
  readonly pages: number;
  readonly label: string;
  freed: boolean;
}

/**
 * __get_free_page / alloc_pages / free_page for the model's host kernel, backed by
 * memblock (top-down) after kvm_hyp_reserve. struct page refcounts are kept here for
 * the host mm_ops (kvm_host_get_page / kvm_host_put_page). Allocations are zeroed.
 */
export class HostPageAllocator {
  readonly records: HostPageRecord[] = [];
  private readonly refcounts = new Map<bigint, number>();
  private readonly freeList: bigint[] = [];

  constructor(private readonly memblock: Memblock, private readonly mem: PhysMem) {}

  /** alloc_pages(order): PA of 2^order zeroed pages, or null. */
  allocPages(order: number, label: string): bigint | null {
    const pages = 1 << order;
    let pa: bigint | null = null;
    if (order === 0 && this.freeList.length) pa = this.freeList.pop()!;
    if (pa === null) {
      const got = this.memblock.physAlloc(pages * 4096, Number(PAGE_SIZE) * pages, label);
      if (got === null) return null;
      pa = BigInt(got);
    }
    this.mem.zero(pa, BigInt(pages) * PAGE_SIZE);
    for (let i = 0; i < pages; i++) this.refcounts.set(pa + BigInt(i) * PAGE_SIZE, 1);
    this.records.push({ pa, pages, label, freed: false });
    return pa;
  }

  getPage(pa: bigint): void {
    const page = pa & ~(PAGE_SIZE - 1n);
    this.refcounts.set(page, (this.refcounts.get(page) ?? 0) + 1);
  }

  /** put_page: at zero the page goes back to the allocator. */
  putPage(pa: bigint): void {
    const page = pa & ~(PAGE_SIZE - 1n);
    const n = (this.refcounts.get(page) ?? 0) - 1;
    if (n < 0) throw new Error(`host put_page on free page ${hex(page)}`);
    this.refcounts.set(page, n);
    if (n === 0) {
      this.freeList.push(page);
      const rec = this.records.find((r) => r.pa === page && r.pages === 1);
      if (rec) rec.freed = true;
    }
  }

  pageCount(pa: bigint): number {
    return this.refcounts.get(pa & ~(PAGE_SIZE - 1n)) ?? 0;
  }
}

// ---------------------------------------------------------------------------------------------
// init_hyp_mode
// ---------------------------------------------------------------------------------------------

/** kvm_nvhe_init_params field offsets (asm-offsets, pkvm-facts §5.3). */
export const NVHE_INIT = {
  MAIR_EL2: 0, TCR_EL2: 8, TPIDR_EL2: 16, STACK_HYP_VA: 24, STACK_PA: 32, PGD_PA: 40, HCR_EL2: 48, VTTBR: 56, VTCR: 64,
  /** Android only, after vtcr (position assumed, §7.5). */
  HFGWTR_EL2: 72,
} as const;

/** HCR_HOST_NVHE_FLAGS and the protected-mode variant (§5.1). */
export const HCR_HOST_NVHE_FLAGS = 0x0100_0300_8000_0000n;
export const HCR_HOST_NVHE_PROTECTED_FLAGS = 0x0100_0300_8008_0000n;
export const HCR_VM = 1n;
/** TCR_EL2: RES1 bits 31 and 23; the fields copied from TCR_EL1: TG0, SH0, ORGN0, IRGN0, T0SZ. */
const TCR_EL2_RES1 = (1n << 31n) | (1n << 23n);
const TCR_EL2_MASK = (3n << 14n) | (3n << 12n) | (3n << 10n) | (3n << 8n) | 0x3fn;
/** HFGxTR_EL2 nSMPRI_EL1 | nTPIDR2_EL0 (Android's hfgwtr_el2). */
const HFGWTR_NSMPRI_NTPIDR2 = (1n << 54n) | (1n << 55n);

/** What the host knows about one CPU's hypervisor set-up. */
export interface HostCpuHyp {
  readonly cpu: number;
  /** kvm_arm_hyp_stack_page: PA of the stack page. */
  stackPa: bigint;
  /** kvm_arm_hyp_percpu_base[cpu]: PA of the per-CPU region copy. */
  percpuPa: bigint;
  percpuPages: number;
  /** PA of this CPU's struct kvm_nvhe_init_params (inside its per-CPU region). */
  paramsPa: bigint;
  /** stack_hyp_va as the host left it (a private VA below the idmap). */
  stackHypVa: bigint;
  tpidrEl2: bigint;
}

export interface InitHypModeResult {
  readonly ret: number;
  /** Where it stopped and why, when ret ≠ 0. */
  readonly error?: string;
}

/** The host's KVM state (arm.c, mmu.c globals). */
export class HostKvm {
  vmid?: VmidAllocator;
  /** hyp_va_bits from kvm_mmu_init. */
  hypVaBits = 0;
  /** idmap_t0sz: 63 − fls(PA(_end) | GENMASK(47, 0)) as paging_init sets it. */
  idmapT0sz = 0;
  hypIdmapStart = 0n;
  hypIdmapEnd = 0n;
  hypIdmapVector = 0n;
  /** The hyp stage-1 built by the host (hyp_pgtable), freed by free_hyp_pgds. */
  readonly hypPgtable = new KvmPgtable();
  hypPgtableFreed = false;
  /** PA of the host-built hyp pgd (kept after free_hyp_pgds, for reports). */
  hypPgdPa = 0n;
  /** io_map_base: host-side private VAs grow down from the idmap page. */
  ioMapBase = 0n;
  readonly cpus: HostCpuHyp[] = [];
  /** Each CPU's kvm_nvhe_init_params as init_hyp_mode left them (before __pkvm_init rewrote some). */
  readonly paramsAtInit: Record<keyof typeof NVHE_INIT, bigint>[] = [];
  /** Every create_hyp_mappings call: what was mapped where. */
  readonly mappings: { what: string; hypVa: bigint; pa: bigint; size: bigint; prot: bigint }[] = [];
  /** kvm_protected_mode_initialized (a static key the hypervisor also tests). */
  protectedModeInitialized = false;
  readonly log: string[] = [];

  constructor(
    readonly profile: KernelProfile,
    readonly mem: PhysMem,
    readonly pages: HostPageAllocator,
    readonly image: KernelImage,
    readonly kernel: KernelVaLayout,
    readonly layout: HypVaLayout,
    readonly nrCpus: number,
  ) {}

  /** kvm_hyp_mm_ops: host pages, refcounted through struct page; pointers are linear-map VAs. */
  hypMmOps(): KvmPgtableMmOps {
    return {
      name: 'kvm_hyp_mm_ops (host pages)',
      mem: this.mem,
      zalloc_page: () => {
        const pa = this.pages.allocPages(0, 'hyp stage-1 table (host-built)');
        return pa === null ? null : kernVa(this.kernel, pa);
      },
      get_page: (addr) => this.pages.getPage(kernPa(this.kernel, addr)),
      put_page: (addr) => this.pages.putPage(kernPa(this.kernel, addr)),
      page_count: (addr) => this.pages.pageCount(kernPa(this.kernel, addr)),
      phys_to_virt: (phys) => kernVa(this.kernel, phys),
      virt_to_phys: (virt) => kernPa(this.kernel, virt),
    };
  }

  sym(name: string): bigint {
    const v = this.image.symbols.get(name);
    if (v === undefined) throw new Error(`kernel image has no symbol ${name}`);
    return v;
  }

  /** __create_hyp_mappings: hyp VA → PA with prot, page-aligned outward. */
  private createHypMappings(what: string, start: bigint, size: bigint, phys: bigint, prot: bigint): number {
    const ret = kvm_pgtable_hyp_map(this.hypPgtable, start, size, phys, prot);
    this.mappings.push({ what, hypVa: start, pa: phys, size, prot });
    if (ret) this.log.push(`__create_hyp_mappings(${what}) failed: ${errnoName(ret)}`);
    return ret;
  }

  /**
   * create_hyp_mappings(from, to, prot): a kernel range at kern_hyp_va of its linear
   * alias. Our image's addresses are PAs (kimage_voffset = 0), so the hyp VA is that of
   * the PA's linear alias.
   */
  createHypMappingsPa(what: string, fromPa: bigint, toPa: bigint, prot: bigint): number {
    const start = fromPa & ~(PAGE_SIZE - 1n);
    const end = (toPa + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
    if (end <= start) return 0;
    return this.createHypMappings(what, hypVa(this.layout, start), end - start, start, prot);
  }

  /**
   * hyp_alloc_private_va_range / create_hyp_stack: base = ALIGN_DOWN(io_map_base − size,
   * size); fails when that crosses into the other half (bit VA_BITS − 1 flips).
   */
  allocPrivateVaRange(size: bigint): bigint | null {
    const base = (this.ioMapBase - size) & ~(size - 1n);
    if (((base ^ this.ioMapBase) & (1n << BigInt(VA_BITS - 1))) !== 0n) return null;
    this.ioMapBase = base;
    return base;
  }

  /** kvm_mmu_init (mmu.c): the idmap range, hyp_va_bits, the hyp pgd and the idmap mapping. */
  kvm_mmu_init(): number {
    this.hypIdmapStart = this.sym('__hyp_idmap_text_start') & ~(PAGE_SIZE - 1n);
    this.hypIdmapEnd = (this.sym('__hyp_idmap_text_end') + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
    this.hypIdmapVector = this.sym('__kvm_hyp_init');
    // paging_init: idmap_t0sz = 63 − fls(__pa_symbol(_end) | GENMASK(VA_BITS_MIN − 1, 0)).
    this.idmapT0sz = 63 - fls64(this.sym('_end') | genmask(VA_BITS - 1, 0)) + 1;
    this.hypVaBits = 64 - this.idmapT0sz;
    if (this.hypIdmapEnd - this.hypIdmapStart !== PAGE_SIZE) {
      this.log.push('kvm_mmu_init: the idmap text spans more than one page (BUG_ON)');
      return -EINVAL;
    }
    // The idmap must not collide with the hyp VA of the linear map.
    const lo = hypVa(this.layout, this.kernel.memstartAddr);
    if (this.hypIdmapStart >= lo && this.hypIdmapStart < lo + (this.layout.vaMask + 1n)) {
      this.log.push('kvm_mmu_init: IDMAP intersecting with HYP VA, unable to continue');
      return -EINVAL;
    }
    const ret = kvm_pgtable_hyp_init(this.hypPgtable, this.hypVaBits, this.hypMmOps());
    if (ret) return ret;
    this.hypPgdPa = this.hypPgtable.pgdPhys;
    // kvm_map_idmap_text: VA == PA, executable.
    const r2 = this.createHypMappings('idmap text (__hyp_idmap_text_start, VA == PA)', this.hypIdmapStart, this.hypIdmapEnd - this.hypIdmapStart, this.hypIdmapStart, PAGE_HYP_EXEC);
    if (r2) return r2;
    this.ioMapBase = this.hypIdmapStart;
    return 0;
  }

  /** The offset of a per-CPU variable from the template's start (__per_cpu_start). */
  percpuOffset(name: string): bigint {
    return this.sym(name) - this.sym('__per_cpu_start');
  }

  /**
   * init_hyp_mode up to do_pkvm_init (§2.3 steps 1–10): everything the host prepares
   * before it makes its first hypercall.
   */
  init_hyp_mode(args: { hypMemBase: bigint; hypMemSize: bigint; tcrEl1: bigint; mairEl1: bigint; mmfr0: bigint; mmfr1: bigint; mpidrs: bigint[] }): InitHypModeResult {
    const fail = (ret: number, error: string): InitHypModeResult => {
      this.log.push(error);
      return { ret, error };
    };
    // 1. The protected hypervisor cannot come up without its pool.
    if (args.hypMemBase === 0n) return fail(-ENOMEM, 'kvm_hyp_reserve left no hyp memory (hyp_mem_base == 0)');

    // 2. kvm_mmu_init.
    let ret = this.kvm_mmu_init();
    if (ret) return fail(ret, `kvm_mmu_init failed: ${errnoName(ret)}`);
    this.log.push(`kvm_mmu_init: hyp_va_bits ${this.hypVaBits}, idmap ${hex(this.hypIdmapStart)}..${hex(this.hypIdmapEnd)}, hyp pgd at PA ${hex(this.hypPgtable.pgdPhys)}`);

    // 3, 4. A stack page and a per-CPU region for every possible CPU.
    const percpuSize = this.sym('__per_cpu_end') - this.sym('__per_cpu_start');
    const order = get_order(percpuSize);
    const template = this.sym('__per_cpu_start');
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const stack = this.pages.allocPages(0, `kvm_arm_hyp_stack_page[${cpu}]`);
      const percpu = this.pages.allocPages(order, `kvm_arm_hyp_percpu_base[${cpu}]`);
      if (stack === null || percpu === null) return fail(-ENOMEM, 'out of host memory for the hyp stacks / per-CPU regions');
      // memcpy(page_addr, CHOOSE_NVHE_SYM(__per_cpu_start), nvhe_percpu_size())
      for (let off = 0n; off < percpuSize; off += 8n) this.mem.write64(percpu + off, this.mem.read64(template + off));
      this.cpus.push({ cpu, stackPa: stack, percpuPa: percpu, percpuPages: 1 << order, paramsPa: percpu + this.percpuOffset('kvm_init_params'), stackHypVa: 0n, tpidrEl2: 0n });
    }

    // 5. The kernel sections the hypervisor runs from.
    const map = (what: string, from: string, to: string, prot: bigint): number => this.createHypMappingsPa(what, this.sym(from), this.sym(to), prot);
    ret = map('hyp text', '__hyp_text_start', '__hyp_text_end', PAGE_HYP_EXEC);
    if (!ret && this.profile.hypDataSection) ret = map('hyp data', '__hyp_data_start', '__hyp_data_end', PAGE_HYP);
    if (!ret) ret = map('hyp rodata', '__hyp_rodata_start', '__hyp_rodata_end', PAGE_HYP_RO);
    if (!ret) ret = map('kernel rodata', '__start_rodata', '__end_rodata', PAGE_HYP_RO);
    if (!ret) ret = map('hyp bss', '__hyp_bss_start', '__hyp_bss_end', PAGE_HYP);
    if (!ret) ret = map('kernel bss after the hyp bss', '__hyp_bss_end', '__bss_stop', PAGE_HYP_RO);
    if (ret) return fail(ret, `create_hyp_mappings failed: ${errnoName(ret)}`);

    // 6. The stacks: two private pages each, the upper one backed, the lower a guard.
    for (const c of this.cpus) {
      const base = this.allocPrivateVaRange(2n * PAGE_SIZE);
      if (base === null) return fail(-ENOMEM, 'cannot allocate hyp stack VA');
      ret = this.createHypMappings(`stack of CPU ${c.cpu}`, base + PAGE_SIZE, PAGE_SIZE, c.stackPa, PAGE_HYP);
      if (ret) return fail(ret, `cannot map hyp stack of CPU ${c.cpu}: ${errnoName(ret)}`);
      c.stackHypVa = base + 2n * PAGE_SIZE;
      this.mem.write64(c.paramsPa + BigInt(NVHE_INIT.STACK_HYP_VA), c.stackHypVa);
      this.mem.write64(c.paramsPa + BigInt(NVHE_INIT.STACK_PA), c.stackPa);
    }

    // 7. Per-CPU regions and the init parameters (cpu_prepare_hyp_mode).
    for (const c of this.cpus) {
      ret = this.createHypMappingsPa(`per-CPU region of CPU ${c.cpu}`, c.percpuPa, c.percpuPa + (BigInt(c.percpuPages) * PAGE_SIZE), PAGE_HYP);
      if (ret) return fail(ret, `cannot map the per-CPU region of CPU ${c.cpu}: ${errnoName(ret)}`);
      this.cpu_prepare_hyp_mode(c, args.tcrEl1, args.mairEl1);
    }
    // kvm_nvhe_sym(kvm_arm_hyp_percpu_base)[cpu]: the regions' kernel VAs; the
    // hypervisor converts them with kern_hyp_va (__hyp_per_cpu_offset, __pkvm_init).
    const percpuBase = this.sym('kvm_arm_hyp_percpu_base');
    for (const c of this.cpus) this.mem.write64(percpuBase + BigInt(c.cpu) * 8n, kernVa(this.kernel, c.percpuPa));

    // 9. kvm_hyp_init_symbols: the sanitised ID registers the hypervisor reads.
    this.mem.write64(this.sym('id_aa64mmfr0_el1_sys_val'), args.mmfr0);
    this.mem.write64(this.sym('id_aa64mmfr1_el1_sys_val'), args.mmfr1);
    // 10. Protected: init_cpu_logical_map (MPIDRs for the PSCI relay).
    args.mpidrs.forEach((m, i) => this.mem.write64(this.sym('hyp_cpu_logical_map') + BigInt(i) * 8n, m));

    // kvm_hyp_init_protection, first half: map the reserved pool for the hypervisor.
    ret = this.createHypMappingsPa('reserved pool (hyp_mem_base)', args.hypMemBase, args.hypMemBase + args.hypMemSize, PAGE_HYP);
    if (ret) return fail(ret, `cannot map the hyp pool: ${errnoName(ret)}`);
    for (const c of this.cpus) {
      const snap = {} as Record<keyof typeof NVHE_INIT, bigint>;
      for (const [k, off] of Object.entries(NVHE_INIT) as [keyof typeof NVHE_INIT, number][]) {
        if (k === 'HFGWTR_EL2' && this.profile.name !== 'android') continue;
        snap[k] = this.mem.read64(c.paramsPa + BigInt(off));
      }
      this.paramsAtInit.push(snap);
    }
    return { ret: 0 };
  }

  /** cpu_prepare_hyp_mode: fill this CPU's kvm_nvhe_init_params (then cleaned to PoC). */
  cpu_prepare_hyp_mode(c: HostCpuHyp, tcrEl1: bigint, mairEl1: bigint): void {
    const p = c.paramsPa;
    // tpidr_el2 = this CPU's copy − the template, so that adr_this_cpu works at EL2.
    c.tpidrEl2 = kernVa(this.kernel, c.percpuPa) - kernVa(this.kernel, this.sym('__per_cpu_start'));
    this.mem.write64(p + BigInt(NVHE_INIT.TPIDR_EL2), BigInt.asUintN(64, c.tpidrEl2));
    this.mem.write64(p + BigInt(NVHE_INIT.MAIR_EL2), mairEl1);
    let tcr = (tcrEl1 & TCR_EL2_MASK) | TCR_EL2_RES1;
    tcr &= ~0x3fn;
    // V61: T0SZ = idmap_t0sz; Android: TCR_T0SZ(hyp_va_bits) — the same 16 here.
    tcr |= BigInt(this.profile.name === 'linux-6.1' ? this.idmapT0sz : 64 - this.hypVaBits) & 0x3fn;
    this.mem.write64(p + BigInt(NVHE_INIT.TCR_EL2), tcr);
    this.mem.write64(p + BigInt(NVHE_INIT.PGD_PA), this.hypPgtable.pgdPhys);
    this.mem.write64(p + BigInt(NVHE_INIT.HCR_EL2), HCR_HOST_NVHE_PROTECTED_FLAGS);
    this.mem.write64(p + BigInt(NVHE_INIT.VTTBR), 0n);
    this.mem.write64(p + BigInt(NVHE_INIT.VTCR), 0n);
    if (this.profile.name === 'android') this.mem.write64(p + BigInt(NVHE_INIT.HFGWTR_EL2), HFGWTR_NSMPRI_NTPIDR2);
  }

  /** free_hyp_pgds: the host's hyp stage-1 is dead once pKVM runs on its own. */
  free_hyp_pgds(): void {
    if (this.hypPgtableFreed || this.hypPgtable.pgd === 0n) return;
    kvm_pgtable_hyp_destroy(this.hypPgtable);
    this.hypPgtableFreed = true;
  }
}

/**
 * The host stage-2 and page ownership (the kernel's kvm/hyp/nvhe/mem_protect.c,
 * pkvm-facts §5.6, §5.8), EL2 code modelled in TypeScript on the kvm_pgtable walker
 * (src/pkvm/pgtable.ts), which writes the real descriptors the interpreter's MMU walks:
 *
 * - kvm_host_prepare_stage2: prepare_host_vtcr, host_s2_pool, __kvm_pgtable_stage2_init
 *   (and, in the Android tree, prepopulate_host_stage2);
 * - host_stage2_idmap: the identity mapping made when the host faults (find_mem_range,
 *   host_stage2_adjust_range, host_stage2_idmap_locked through host_stage2_try);
 * - host_stage2_set_owner_locked: invalid entries annotated with an owner id;
 * - __pkvm_prot_finalize: HCR_EL2.VM on, VTTBR/VTCR loaded on this CPU;
 * - the share state machine for __pkvm_host_share_hyp / __pkvm_host_unshare_hyp: the
 *   host's page goes OWNED → SHARED_OWNED in its stage-2 (software bits), the hyp maps
 *   it SHARED_BORROWED in its stage-1, and back.
 *
 * Page states (§5.6): OWNED (0), SHARED_OWNED (SW0), SHARED_BORROWED (SW1); an invalid
 * non-zero host entry is NOPAGE (owned by someone else, the owner id in bits [9:2]); an
 * all-zero entry reads as OWNED (the host owns memory by default).
 *
 * The Android tree keeps some of the host's page state in hyp_page.host_state instead of
 * the PTE (§3.2); the model tracks shares in the PTE for both profiles (V61's way).
 */
import { HypPool, hyp_pool_init } from './hyp-pool.js';
import { HypMemory, PAGE_SIZE, hex } from './hyp-memory.js';
import { host_s2_mm_ops } from './mm-ops.js';
import {
  KVM_HOST_S2_FLAGS_ANDROID, KVM_HOST_S2_FLAGS_V61, KvmPgtable, __kvm_pgtable_stage2_init, hostStage2PteOps,
  kvm_get_vtcr, kvm_get_parange, kvm_pgtable_get_leaf, kvm_pgtable_hyp_map, kvm_pgtable_hyp_unmap,
  kvm_pgtable_stage2_map, kvm_pgtable_stage2_reclaim_leaves, kvm_pgtable_stage2_set_owner, kvm_pgtable_stage2_unmap,
  kvm_pgtable_walk, parange_to_phys_shift, KVM_PGTABLE_WALK_LEAF, type KvmS2Mmu,
} from './pgtable.js';
import {
  EAGAIN, ENOMEM, EPERM, PAGE_HYP, PKVM_HOST_MEM_PROT, PKVM_HOST_MMIO_PROT, PKVM_ID_HYP,
  PKVM_PAGE_OWNED, PKVM_PAGE_SHARED_BORROWED, PKVM_PAGE_SHARED_OWNED, kvm_granule_size, kvm_level_supports_block_mapping,
  kvm_pgtable_hyp_pte_prot, kvm_pgtable_stage2_pte_prot, kvm_pte_valid, pkvm_getstate, pkvm_mkstate, KVM_PGTABLE_MAX_LEVELS,
} from './pgtable-prot.js';
import type { Hypervisor } from './setup.js';
import type { CpuView } from './cpu-view.js';
import { HCR_VM, NVHE_INIT } from './init-hyp-mode.js';

const EPERM_NEG = -EPERM;
const ENOMEM_NEG = -ENOMEM;
/** -EFAULT (not among pgtable-prot's errnos). */
const EFAULT_NEG = -14;

/** struct host_mmu: the host's stage-2 and what it is built from. */
export interface HostMmu {
  readonly pgt: KvmPgtable;
  readonly mmu: KvmS2Mmu;
  pool?: HypPool;
}

/** PKVM_NOPAGE: not a PTE state, the answer for "someone else owns it". */
export const PKVM_NOPAGE = -1n;

export function pageStateName(state: bigint): string {
  switch (state) {
    case PKVM_PAGE_OWNED: return 'OWNED';
    case PKVM_PAGE_SHARED_OWNED: return 'SHARED_OWNED';
    case PKVM_PAGE_SHARED_BORROWED: return 'SHARED_BORROWED';
    case PKVM_NOPAGE: return 'NOPAGE';
    default: return `state ${hex(state)}`;
  }
}

/** prepare_host_vtcr: an identity-mapped stage-2 as wide as the CPU's PA range (capped at 48 bits). */
export function prepare_host_vtcr(hv: Hypervisor): bigint {
  const parange = kvm_get_parange(hv.idAa64mmfr0);
  const phys_shift = parange_to_phys_shift(parange);
  // HA: CONFIG_ARM64_HW_AFDBM (Debian: y).
  return kvm_get_vtcr(hv.idAa64mmfr0, hv.idAa64mmfr1, phys_shift, { ha: true });
}

/** find_mem_range: the memory region holding addr, or the gap (MMIO) around it. */
export function find_mem_range(hv: Hypervisor, addr: bigint): { start: bigint; end: bigint; isMemory: boolean } {
  let left = 0;
  let right = hv.hypMemory.length;
  let start = 0n;
  let end = (1n << 64n) - 1n;
  while (left < right) {
    const cur = (left + right) >> 1;
    const reg = hv.hypMemory[cur]!;
    const regEnd = reg.base + reg.size;
    if (addr < reg.base) {
      right = cur;
      end = reg.base;
    } else if (addr >= regEnd) {
      left = cur + 1;
      start = regEnd;
    } else {
      return { start: reg.base, end: regEnd, isMemory: true };
    }
  }
  return { start, end, isMemory: false };
}

export function addr_is_memory(hv: Hypervisor, addr: bigint): boolean {
  return find_mem_range(hv, addr).isMemory;
}

/** range_is_memory: [start, end) lies inside one memory region. */
export function range_is_memory(hv: Hypervisor, start: bigint, end: bigint): boolean {
  const r = find_mem_range(hv, start);
  return r.isMemory && end <= r.end;
}

/**
 * kvm_host_prepare_stage2 (§3.2): the host's VTCR, host_s2_pool over the pages
 * divide_memory_pool set aside, the stage-2 page table (VMID 0), and, in the Android
 * tree, every memory region identity-mapped up front (prepopulate_host_stage2).
 */
export function kvm_host_prepare_stage2(hv: Hypervisor, pgt_pool_base: bigint, nrPages: number): number {
  const vtcr = prepare_host_vtcr(hv);
  const pool = new HypPool(hv.hyp, hv.vmemmap!, 'host_s2_pool');
  const ret0 = hyp_pool_init(pool, HypMemory.phys_to_pfn(hv.hyp.virt_to_phys(pgt_pool_base)), nrPages, 0);
  if (ret0) return ret0;
  const mmu: KvmS2Mmu = { vtcr, pgd_phys: 0n, vmid: 0, pgt: null };
  const pgt = new KvmPgtable();
  pgt.maxOwnerId = hv.profile.maxOwnerId;
  pgt.tlbi = hv.tlbi;
  const pte_ops = hostStage2PteOps({
    addrIsMemory: (pa) => addr_is_memory(hv, pa),
    rangeIsMemory: (s, e) => range_is_memory(hv, s, e),
    counting: hv.profile.name === 'android' ? 'android' : 'linux-6.1',
  });
  const flags = hv.profile.hostStage2PrefaultBlock ? KVM_HOST_S2_FLAGS_ANDROID : KVM_HOST_S2_FLAGS_V61;
  const ret = __kvm_pgtable_stage2_init(pgt, mmu, host_s2_mm_ops(pool), flags, pte_ops);
  if (ret) return ret;
  mmu.pgd_phys = pgt.pgdPhys;
  mmu.pgt = pgt;
  mmu.vmid = 0;
  hv.hostMmu = { pgt, mmu, pool };
  hv.note('kvm_host_prepare_stage2', `VTCR_EL2 ${hex(vtcr)}, ${pgt.ia_bits}-bit IPA from level ${pgt.start_level}, pgd at PA ${hex(mmu.pgd_phys)}, host_s2_pool ${nrPages} pages`);
  if (hv.profile.prepopulateHostStage2) return prepopulate_host_stage2(hv);
  return 0;
}

/** prepopulate_host_stage2 (Android): identity-map every memory region RWX before the host runs. */
export function prepopulate_host_stage2(hv: Hypervisor): number {
  for (const reg of hv.hypMemory) {
    const ret = host_stage2_idmap_locked(hv, reg.base, reg.size, PKVM_HOST_MEM_PROT);
    if (ret) return ret;
  }
  hv.note('prepopulate_host_stage2', `${hv.hypMemory.length} memory region(s) identity-mapped RWX`);
  return 0;
}

/**
 * host_stage2_unmap_dev_all (V61): drop every non-memory (MMIO) mapping to recover pool
 * pages. The Android tree reclaims table pages instead.
 */
function host_stage2_unmap_dev_all(hv: Hypervisor): number {
  const pgt = hv.hostMmu!.pgt;
  if (hv.profile.name === 'android') {
    let addr = 0n;
    for (const reg of hv.hypMemory) {
      if (reg.base > addr) kvm_pgtable_stage2_reclaim_leaves(pgt, addr, reg.base - addr);
      addr = reg.base + reg.size;
    }
    return kvm_pgtable_stage2_reclaim_leaves(pgt, addr, (1n << BigInt(pgt.ia_bits)) - addr);
  }
  let addr = 0n;
  for (const reg of hv.hypMemory) {
    const ret = kvm_pgtable_stage2_unmap(pgt, addr, reg.base - addr);
    if (ret) return ret;
    addr = reg.base + reg.size;
  }
  return kvm_pgtable_stage2_unmap(pgt, addr, (1n << BigInt(pgt.ia_bits)) - addr);
}

/** host_stage2_try: on -ENOMEM, recycle device mappings and retry once. */
function host_stage2_try(hv: Hypervisor, fn: () => number): number {
  let ret = fn();
  if (ret === ENOMEM_NEG) {
    hv.note('host_stage2_try', 'host_s2_pool exhausted: recycling MMIO mappings and retrying');
    ret = host_stage2_unmap_dev_all(hv);
    if (!ret) ret = fn();
  }
  return ret;
}

/** host_stage2_idmap_locked: map [addr, addr + size) to itself with prot in the host stage-2. */
export function host_stage2_idmap_locked(hv: Hypervisor, addr: bigint, size: bigint, prot: bigint): number {
  const host = hv.hostMmu!;
  return host_stage2_try(hv, () => kvm_pgtable_stage2_map(host.pgt, addr, size, addr, prot, host.pool));
}

/** host_stage2_set_owner_locked: invalid entries owned by owner_id (0 gives the pages back to the host). */
export function host_stage2_set_owner_locked(hv: Hypervisor, addr: bigint, size: bigint, owner_id: number): number {
  const host = hv.hostMmu!;
  return host_stage2_try(hv, () => kvm_pgtable_stage2_set_owner(host.pgt, addr, size, host.pool, owner_id));
}

/**
 * host_stage2_adjust_range: from the level where the walk for addr stops, grow to the
 * largest block that contains addr, lies inside the memory range, and that the level
 * supports. −EAGAIN when addr is already mapped (a race with another CPU), −EPERM
 * when someone else owns it.
 */
export function host_stage2_adjust_range(hv: Hypervisor, addr: bigint, range: { start: bigint; end: bigint }): number {
  const { ret, pte, level: leafLevel } = kvm_pgtable_get_leaf(hv.hostMmu!.pgt, addr);
  if (ret) return ret;
  if (kvm_pte_valid(pte)) return -EAGAIN;
  if (pte !== 0n) return EPERM_NEG;
  let level = leafLevel;
  let cur = { start: 0n, end: 0n };
  do {
    const granule = kvm_granule_size(level);
    const start = addr - (addr % granule);
    cur = { start, end: start + granule };
    level++;
  } while (level < KVM_PGTABLE_MAX_LEVELS && !(kvm_level_supports_block_mapping(level) && cur.start >= range.start && cur.end <= range.end));
  range.start = cur.start;
  range.end = cur.end;
  return 0;
}

export interface IdmapOutcome {
  readonly ret: number;
  readonly isMemory: boolean;
  readonly start: bigint;
  readonly end: bigint;
}

/** host_stage2_idmap: the host faulted at addr; map the largest block around it, RWX for memory, RW for MMIO. */
export function host_stage2_idmap(hv: Hypervisor, addr: bigint): IdmapOutcome {
  const found = find_mem_range(hv, addr);
  const prot = found.isMemory ? PKVM_HOST_MEM_PROT : PKVM_HOST_MMIO_PROT;
  const range = { start: found.start, end: found.end };
  let ret = host_stage2_adjust_range(hv, addr, range);
  if (!ret) ret = host_stage2_idmap_locked(hv, range.start, range.end - range.start, prot);
  return { ret, isMemory: found.isMemory, start: range.start, end: range.end };
}

/**
 * __pkvm_prot_finalize: on this CPU, turn the host stage-2 on: params->vttbr/vtcr,
 * HCR_EL2.VM, VTCR_EL2 then VTTBR_EL2 (__load_stage2), and flush the stage-1+2 TLB.
 * −EPERM the second time on a CPU.
 */
export function __pkvm_prot_finalize(hv: Hypervisor, cpu: CpuView): number {
  const host = hv.hostMmu!;
  const params = hv.hyp.virt_to_phys(hv.perCpuVa(cpu.index, 'kvm_init_params'));
  const hcr = hv.mem.read64(params + BigInt(NVHE_INIT.HCR_EL2));
  if (hcr & HCR_VM) return EPERM_NEG;
  // kvm_get_vttbr: BADDR | VMID << 48 | CnP (when the CPU has it).
  const vttbr = host.mmu.pgd_phys | (BigInt(host.mmu.vmid) << 48n) | (hv.caps.has('ARM64_HAS_CNP') ? 1n : 0n);
  hv.mem.write64(params + BigInt(NVHE_INIT.VTTBR), vttbr);
  hv.mem.write64(params + BigInt(NVHE_INIT.VTCR), host.mmu.vtcr);
  hv.mem.write64(params + BigInt(NVHE_INIT.HCR_EL2), hcr | HCR_VM);
  cpu.setReg('hcr_el2', hcr | HCR_VM);
  cpu.setReg('vtcr_el2', host.mmu.vtcr);
  cpu.setReg('vttbr_el2', vttbr);
  cpu.tlbi('vmalls12e1');
  return 0;
}

// ---- page states --------------------------------------------------------------------------------

/** host_get_page_state: a valid entry's state bits; an invalid non-zero one is NOPAGE. */
export function host_get_page_state(pte: bigint): bigint {
  if (!kvm_pte_valid(pte) && pte !== 0n) return PKVM_NOPAGE;
  return pkvm_getstate(kvm_pgtable_stage2_pte_prot(pte));
}

/** hyp_get_page_state: not mapped is NOPAGE, else the state bits of the mapping. */
export function hyp_get_page_state(pte: bigint): bigint {
  if (!kvm_pte_valid(pte)) return PKVM_NOPAGE;
  return pkvm_getstate(kvm_pgtable_hyp_pte_prot(pte));
}

/** The host's state for the page at addr (its stage-2 entry, mapped or not). */
export function hostPageState(hv: Hypervisor, addr: bigint): { state: bigint; pte: bigint; level: number } {
  const { pte, level } = kvm_pgtable_get_leaf(hv.hostMmu!.pgt, addr);
  return { state: host_get_page_state(pte), pte, level };
}

/** The hypervisor's state for the page at hyp VA va (its stage-1 entry). */
export function hypPageState(hv: Hypervisor, va: bigint): { state: bigint; pte: bigint; level: number } {
  const { pte, level } = kvm_pgtable_get_leaf(hv.pkvmPgtable, va);
  return { state: hyp_get_page_state(pte), pte, level };
}

/** __check_page_state_range: every page of [addr, addr + size) in `state` (as read by getState), else −EPERM. */
function checkPageStateRange(pgt: KvmPgtable, addr: bigint, size: bigint, state: bigint, getState: (pte: bigint) => bigint): number {
  return kvm_pgtable_walk(pgt, addr, size, {
    flags: KVM_PGTABLE_WALK_LEAF,
    cb: (ctx) => (getState(ctx.old) === state ? 0 : EPERM_NEG),
  });
}

/** A transition as the report shows it. */
export interface ShareTransition {
  readonly ret: number;
  readonly hostAddr: bigint;
  readonly hypAddr: bigint;
  readonly before: { host: string; hyp: string };
  readonly after: { host: string; hyp: string };
}

function states(hv: Hypervisor, hostAddr: bigint, hypAddr: bigint): { host: string; hyp: string } {
  return { host: pageStateName(hostPageState(hv, hostAddr).state), hyp: pageStateName(hypPageState(hv, hypAddr).state) };
}

/**
 * __pkvm_host_share_hyp(pfn): do_share from the host to the hypervisor, one page.
 * check_share: the host's page must be OWNED; the hypervisor accepts PAGE_HYP (its
 * NOPAGE check runs only with CONFIG_NVHE_EL2_DEBUG). __do_share: host stage-2 idmap
 * RWX + SHARED_OWNED, hyp stage-1 PAGE_HYP + SHARED_BORROWED at __hyp_va(addr).
 */
export function __pkvm_host_share_hyp(hv: Hypervisor, pfn: bigint): ShareTransition {
  const hostAddr = pfn << 12n;
  const hypAddr = hv.hyp.phys_to_virt(hostAddr);
  const before = states(hv, hostAddr, hypAddr);
  const done = (ret: number): ShareTransition => ({ ret, hostAddr, hypAddr, before, after: states(hv, hostAddr, hypAddr) });
  if (!addr_is_memory(hv, hostAddr)) return done(EPERM_NEG);
  let ret = checkPageStateRange(hv.hostMmu!.pgt, hostAddr, PAGE_SIZE, PKVM_PAGE_OWNED, host_get_page_state);
  if (ret) return done(ret);
  ret = host_stage2_idmap_locked(hv, hostAddr, PAGE_SIZE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED));
  if (ret) return done(ret);
  ret = kvm_pgtable_hyp_map(hv.pkvmPgtable, hypAddr, PAGE_SIZE, hostAddr, pkvm_mkstate(PAGE_HYP, PKVM_PAGE_SHARED_BORROWED));
  return done(ret);
}

/**
 * __pkvm_host_unshare_hyp(pfn): do_unshare. The host's page must be SHARED_OWNED (and,
 * with debug checks, the hyp's SHARED_BORROWED); the host goes back to OWNED (the
 * default RWX identity mapping) and the hypervisor unmaps it.
 */
export function __pkvm_host_unshare_hyp(hv: Hypervisor, pfn: bigint): ShareTransition {
  const hostAddr = pfn << 12n;
  const hypAddr = hv.hyp.phys_to_virt(hostAddr);
  const before = states(hv, hostAddr, hypAddr);
  const done = (ret: number): ShareTransition => ({ ret, hostAddr, hypAddr, before, after: states(hv, hostAddr, hypAddr) });
  let ret = checkPageStateRange(hv.hostMmu!.pgt, hostAddr, PAGE_SIZE, PKVM_PAGE_SHARED_OWNED, host_get_page_state);
  if (ret) return done(ret);
  ret = host_stage2_idmap_locked(hv, hostAddr, PAGE_SIZE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_OWNED));
  if (ret) return done(ret);
  const unmapped = kvm_pgtable_hyp_unmap(hv.pkvmPgtable, hypAddr, PAGE_SIZE);
  return done(unmapped !== PAGE_SIZE ? EFAULT_NEG : 0);
}

/**
 * __pkvm_host_donate_hyp(pfn, nr_pages) (≥ 6.2, Android; not in 6.1): an exclusive
 * transfer. The host's pages must be OWNED; they become invalid entries owned by the
 * hypervisor in the host stage-2 (owner id 1, PTE 0x4) and OWNED mappings in the hyp
 * stage-1.
 */
export function __pkvm_host_donate_hyp(hv: Hypervisor, pfn: bigint, nrPages: number): ShareTransition {
  if (!hv.profile.hostDonateHyp) throw new Error(`__pkvm_host_donate_hyp does not exist in the ${hv.profile.name} profile`);
  const hostAddr = pfn << 12n;
  const size = BigInt(nrPages) * PAGE_SIZE;
  const hypAddr = hv.hyp.phys_to_virt(hostAddr);
  const before = states(hv, hostAddr, hypAddr);
  const done = (ret: number): ShareTransition => ({ ret, hostAddr, hypAddr, before, after: states(hv, hostAddr, hypAddr) });
  if (!range_is_memory(hv, hostAddr, hostAddr + size)) return done(EPERM_NEG);
  let ret = checkPageStateRange(hv.hostMmu!.pgt, hostAddr, size, PKVM_PAGE_OWNED, host_get_page_state);
  if (ret) return done(ret);
  ret = host_stage2_set_owner_locked(hv, hostAddr, size, PKVM_ID_HYP);
  if (ret) return done(ret);
  for (let off = 0n; off < size && !ret; off += PAGE_SIZE) {
    ret = kvm_pgtable_hyp_map(hv.pkvmPgtable, hypAddr + off, PAGE_SIZE, hostAddr + off, PAGE_HYP);
  }
  return done(ret);
}

/**
 * __pkvm_hyp_donate_host(pfn, nr_pages): the reverse. The hypervisor's pages must be
 * OWNED by it; it unmaps them and the host gets them back (identity-mapped RWX).
 */
export function __pkvm_hyp_donate_host(hv: Hypervisor, pfn: bigint, nrPages: number): ShareTransition {
  if (!hv.profile.hostDonateHyp) throw new Error(`__pkvm_hyp_donate_host does not exist in the ${hv.profile.name} profile`);
  const hostAddr = pfn << 12n;
  const size = BigInt(nrPages) * PAGE_SIZE;
  const hypAddr = hv.hyp.phys_to_virt(hostAddr);
  const before = states(hv, hostAddr, hypAddr);
  const done = (ret: number): ShareTransition => ({ ret, hostAddr, hypAddr, before, after: states(hv, hostAddr, hypAddr) });
  let ret = checkPageStateRange(hv.pkvmPgtable, hypAddr, size, PKVM_PAGE_OWNED, hyp_get_page_state);
  if (ret) return done(ret);
  if (kvm_pgtable_hyp_unmap(hv.pkvmPgtable, hypAddr, size) !== size) return done(EFAULT_NEG);
  ret = host_stage2_idmap_locked(hv, hostAddr, size, PKVM_HOST_MEM_PROT);
  return done(ret);
}

/** The hyp's owner id for the host stage-2 annotations. */
export const pkvm_hyp_id = PKVM_ID_HYP;

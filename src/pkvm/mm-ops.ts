/**
 * `struct kvm_pgtable_mm_ops` (arch/arm64/include/asm/kvm_pgtable.h): how the kvm_pgtable
 * walker gets, refcounts and addresses page-table pages. The same walker builds tables
 * from whichever allocator its mm_ops name, as the kernel does during pKVM init
 * (pkvm-facts §3.1, §3.2):
 *
 * - `hyp_early_alloc_mm_ops`: the bump allocator, for the hyp stage-1 that
 *   `recreate_hyp_mappings` builds in `__pkvm_init` (get/put are no-ops, no page_count);
 * - `pkvm_pgtable_mm_ops`: the hyp buddy pool `hpool`, installed on the hyp stage-1 in
 *   `__pkvm_init_finalise` (refcounted table pages, freed when empty);
 * - the host stage-2 ops of `prepare_s2_pool` over `host_s2_pool` (zalloc_pages_exact for
 *   the concatenated PGD, zalloc_page taking the pool as its memcache argument).
 *
 * Pointers are hyp VAs (bigint). The model adds `mem`, the physical memory behind those
 * pointers: where the C code dereferences a pointer, the model reads or writes at
 * `virt_to_phys(pointer)` in `mem`.
 */
import { PAGE_SIZE, get_order, type PhysMem } from './hyp-memory.js';
import { HypEarlyAlloc, hyp_early_alloc_page } from './early-alloc.js';
import { HypPool, hyp_alloc_pages, hyp_get_page, hyp_page_count, hyp_put_page, hyp_split_page } from './hyp-pool.js';

export interface KvmPgtableMmOps {
  /** A zeroed page (hyp VA), or null. `arg` is the memcache (for host_s2: the pool). */
  zalloc_page(arg?: unknown): bigint | null;
  /** Zeroed, physically contiguous pages of `size` bytes (the stage-2 PGD), or null. */
  zalloc_pages_exact?(size: bigint): bigint | null;
  free_pages_exact?(addr: bigint, size: bigint): void;
  /** Take a reference on the page holding `addr`. */
  get_page(addr: bigint): void;
  /** Drop a reference on the page holding `addr` (it is freed at zero). */
  put_page(addr: bigint): void;
  /** References on the page holding `addr`; absent for the early allocator. */
  page_count?(addr: bigint): number;
  phys_to_virt(phys: bigint): bigint;
  virt_to_phys(virt: bigint): bigint;
  /** Android: tear down a table unlinked by a block mapping (default: kvm_pgtable_stage2_free_unlinked). */
  free_unlinked_table?(addr: bigint, level: number): void;
  /** Model extension: the physical memory the pointers above point into. */
  readonly mem: PhysMem;
  /** A label for reports ("hyp_early_alloc", "hpool", "host_s2_pool"). */
  readonly name: string;
}

/** hyp_early_alloc_mm_ops (early_alloc.c): pages from the bump allocator; refcounting does nothing. */
export function hyp_early_alloc_mm_ops(ea: HypEarlyAlloc): KvmPgtableMmOps {
  const hyp = ea.hyp;
  return {
    name: 'hyp_early_alloc',
    mem: hyp.mem,
    zalloc_page: () => hyp_early_alloc_page(ea),
    // The vmemmap is not there yet: nothing to count.
    get_page: () => {},
    put_page: () => {},
    phys_to_virt: (phys) => hyp.phys_to_virt(phys),
    virt_to_phys: (virt) => hyp.virt_to_phys(virt),
  };
}

/** hyp_zalloc_hyp_page (setup.c): one page from the hyp pool. */
export function hyp_zalloc_hyp_page(hpool: HypPool): bigint | null {
  return hyp_alloc_pages(hpool, 0);
}

/** pkvm_pgtable_mm_ops (setup.c, __pkvm_init_finalise): the hyp stage-1's ops once hpool exists. */
export function pkvm_pgtable_mm_ops(hpool: HypPool): KvmPgtableMmOps {
  const hyp = hpool.hyp;
  return {
    name: hpool.name,
    mem: hyp.mem,
    zalloc_page: () => hyp_zalloc_hyp_page(hpool),
    get_page: (addr) => hyp_get_page(hpool, addr),
    put_page: (addr) => hyp_put_page(hpool, addr),
    page_count: (addr) => hyp_page_count(hyp, hpool.vmemmap, addr),
    phys_to_virt: (phys) => hyp.phys_to_virt(phys),
    virt_to_phys: (virt) => hyp.virt_to_phys(virt),
  };
}

/**
 * host_s2_zalloc_pages_exact (mem_protect.c): an order-n block split into order-0 pages so
 * each can be refcounted alone. The concatenated PGD is a power of two of pages, so
 * nothing is left over (the kernel WARNs otherwise).
 */
export function host_s2_zalloc_pages_exact(pool: HypPool, size: bigint): bigint | null {
  const order = get_order(size);
  const addr = hyp_alloc_pages(pool, order);
  if (addr === null) return null;
  hyp_split_page(pool, addr);
  return addr;
}

/**
 * The host stage-2's mm_ops (mem_protect.c `prepare_s2_pool`): `host_mmu.mm_ops` over
 * host_s2_pool. zalloc_page allocates from the pool passed as the memcache argument,
 * as kvm_pgtable_stage2_map is called with `&host_s2_pool`.
 */
export function host_s2_mm_ops(host_s2_pool: HypPool): KvmPgtableMmOps {
  const hyp = host_s2_pool.hyp;
  return {
    name: host_s2_pool.name,
    mem: hyp.mem,
    zalloc_pages_exact: (size) => host_s2_zalloc_pages_exact(host_s2_pool, size),
    zalloc_page: (arg) => hyp_alloc_pages(arg instanceof HypPool ? arg : host_s2_pool, 0),
    free_pages_exact: (addr, size) => {
      for (let off = 0n; off < size; off += PAGE_SIZE) hyp_put_page(host_s2_pool, addr + off);
    },
    get_page: (addr) => hyp_get_page(host_s2_pool, addr),
    put_page: (addr) => hyp_put_page(host_s2_pool, addr),
    page_count: (addr) => hyp_page_count(hyp, host_s2_pool.vmemmap, addr),
    phys_to_virt: (phys) => hyp.phys_to_virt(phys),
    virt_to_phys: (virt) => hyp.virt_to_phys(virt),
  };
}

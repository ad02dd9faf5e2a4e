/**
 * hyp_early_alloc (kvm/hyp/nvhe/early_alloc.c, V61; pkvm-facts §1.7, §3.1): the bump
 * allocator `__pkvm_init` uses before the buddy allocator exists. It hands out zeroed
 * pages from [base, end) in order and never frees; `divide_memory_pool` carves the
 * reserved pool with it, and `recreate_hyp_mappings` re-inits it over the hyp stage-1
 * pages so that `kvm_pgtable_hyp_init`/`kvm_pgtable_hyp_map` build the new hyp page table
 * from them. Its get_page/put_page do nothing — the vmemmap is not usable yet, which is
 * why `fix_hyp_pgtable_refcnt` later recounts the table pages — and it has no page_count
 * (so `kvm_pgtable_hyp_unmap` refuses to run on an early-built table).
 *
 * The kernel keeps base/cur/end in file-scope statics; the model keeps them in an object.
 */
import { HypMemory, PAGE_SHIFT, hex } from './hyp-memory.js';

export class HypEarlyAlloc {
  /** Hyp VAs: the start, the next free byte and the end of the range. */
  base = 0n;
  cur = 0n;
  end = 0n;

  constructor(readonly hyp: HypMemory) {}

  /** Pages still available. */
  freePages(): number {
    return Number((this.end - this.cur) >> PAGE_SHIFT);
  }

  toString(): string {
    return `hyp_early_alloc ${hex(this.base)}..${hex(this.end)} (next ${hex(this.cur)})`;
  }
}

/** hyp_early_alloc_init: start bump-allocating from `virt` (a hyp VA) for `size` bytes. */
export function hyp_early_alloc_init(hyp: HypMemory, virt: bigint, size: bigint): HypEarlyAlloc {
  const ea = new HypEarlyAlloc(hyp);
  ea.base = ea.cur = virt;
  ea.end = virt + size;
  return ea;
}

/** hyp_early_alloc_nr_used_pages: pages handed out so far. */
export function hyp_early_alloc_nr_used_pages(ea: HypEarlyAlloc): number {
  return Number((ea.cur - ea.base) >> PAGE_SHIFT);
}

/** hyp_early_alloc_contig: nr_pages zeroed, contiguous pages (a hyp VA), or null when they do not fit. */
export function hyp_early_alloc_contig(ea: HypEarlyAlloc, nr_pages: number): bigint | null {
  if (nr_pages <= 0) return null;
  const size = BigInt(nr_pages) << PAGE_SHIFT;
  if (ea.end - ea.cur < size) return null;
  const ret = ea.cur;
  ea.cur += size;
  ea.hyp.mem.zero(ea.hyp.virt_to_phys(ret), size);
  return ret;
}

/** hyp_early_alloc_page: one zeroed page (the mm_ops zalloc_page). */
export function hyp_early_alloc_page(ea: HypEarlyAlloc): bigint | null {
  return hyp_early_alloc_contig(ea, 1);
}

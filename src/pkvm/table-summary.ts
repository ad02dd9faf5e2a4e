/**
 * Summaries of the page tables the boot flow built, read back by walking the very
 * descriptors in emulated memory (kvm_pgtable_walk over the whole input range): the
 * number of table pages per level, and the leaves merged into ranges — contiguous
 * input addresses with contiguous output, at the same level, with the same attributes,
 * page state and (for invalid stage-2 entries) owner.
 */
import {
  KVM_PGTABLE_WALK_LEAF, KVM_PGTABLE_WALK_TABLE_PRE, kvm_pgtable_walk, type KvmPgtable,
} from './pgtable.js';
import {
  formatProt, kvm_granule_size, kvm_invalid_pte_owner, kvm_pgtable_hyp_pte_prot, kvm_pgtable_stage2_pte_prot,
  kvm_pte_to_phys, kvm_pte_valid, ownerName, pkvm_getstate, pkvmPageStateName, KVM_PTE_LEAF_ATTR_LO_S1_ATTRIDX,
  KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR,
} from './pgtable-prot.js';

export interface TableRange {
  /** Input addresses [start, end). */
  readonly start: bigint;
  readonly end: bigint;
  /** Output PA of `start` (valid mappings only). */
  readonly pa?: bigint;
  readonly level: number;
  /** Leaves merged into this range. */
  readonly entries: number;
  /** "RW- normal", "invalid, owner hyp", … */
  readonly attrs: string;
  /** OWNED / SHARED_OWNED / SHARED_BORROWED for valid leaves. */
  readonly state?: string;
  /** For invalid annotated stage-2 entries. */
  readonly owner?: string;
}

export interface TableSummary {
  readonly title: string;
  readonly kind: 'hyp-stage1' | 'stage2';
  readonly pgdPa: bigint;
  readonly iaBits: number;
  readonly startLevel: number;
  /** Table pages per level (the PGD counts as the start level's). */
  readonly tablePages: number[];
  readonly ranges: TableRange[];
  /** Leaves per level. */
  readonly leaves: number[];
}

interface Leaf {
  va: bigint;
  size: bigint;
  pa?: bigint;
  level: number;
  key: string;
  attrs: string;
  state?: string;
  owner?: string;
}

function summarize(pgt: KvmPgtable, title: string, kind: TableSummary['kind']): TableSummary {
  const tablePages = [0, 0, 0, 0];
  const leavesPerLevel = [0, 0, 0, 0];
  tablePages[pgt.start_level] = 1;
  const leaves: Leaf[] = [];
  kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_PRE,
    cb: (ctx, visit) => {
      if (visit === KVM_PGTABLE_WALK_TABLE_PRE) {
        tablePages[ctx.level + 1]!++;
        return 0;
      }
      const pte = ctx.old;
      if (pte === 0n) return 0;
      const size = kvm_granule_size(ctx.level);
      leavesPerLevel[ctx.level]!++;
      if (!kvm_pte_valid(pte)) {
        const owner = kind === 'stage2' ? ownerName(kvm_invalid_pte_owner(pte)) : undefined;
        const attrs = owner ? `invalid, owner ${owner}` : `invalid (${`0x${pte.toString(16)}`})`;
        leaves.push({ va: ctx.addr, size, level: ctx.level, key: `i:${pte}`, attrs, owner });
        return 0;
      }
      const prot = kind === 'stage2' ? kvm_pgtable_stage2_pte_prot(pte) : kvm_pgtable_hyp_pte_prot(pte);
      const state = pkvmPageStateName(pkvm_getstate(prot));
      const type = kind === 'stage2'
        ? (((pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) >> 2n) === 0xfn ? 'normal' : 'device')
        : (((pte & KVM_PTE_LEAF_ATTR_LO_S1_ATTRIDX) >> 2n) === 0n ? 'normal' : 'device');
      const attrs = `${formatProt(prot & ~(3n << 55n))} ${type}`;
      leaves.push({ va: ctx.addr, size, pa: kvm_pte_to_phys(pte), level: ctx.level, key: `v:${attrs}:${state}`, attrs, state });
      return 0;
    },
  });
  const ranges: TableRange[] = [];
  let cur: (Leaf & { end: bigint; n: number }) | undefined;
  const flush = (): void => {
    if (!cur) return;
    ranges.push({ start: cur.va, end: cur.end, pa: cur.pa, level: cur.level, entries: cur.n, attrs: cur.attrs, state: cur.state, owner: cur.owner });
    cur = undefined;
  };
  for (const l of leaves) {
    if (cur && cur.end === l.va && cur.level === l.level && cur.key === l.key
      && (l.pa === undefined || (cur.pa !== undefined && cur.pa + (cur.end - cur.va) === l.pa))) {
      cur.end += l.size;
      cur.n++;
      continue;
    }
    flush();
    cur = { ...l, end: l.va + l.size, n: 1 };
  }
  flush();
  return { title, kind, pgdPa: pgt.pgdPhys, iaBits: pgt.ia_bits, startLevel: pgt.start_level, tablePages, ranges, leaves: leavesPerLevel };
}

export function summarizeHypStage1(pgt: KvmPgtable, title: string): TableSummary {
  return summarize(pgt, title, 'hyp-stage1');
}

export function summarizeStage2(pgt: KvmPgtable, title: string): TableSummary {
  return summarize(pgt, title, 'stage2');
}

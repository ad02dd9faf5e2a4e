/**
 * Helpers for the kvm_pgtable tests: a machine's RAM with a hyp vmemmap, the hyp pool
 * and host_s2_pool in it, and readers for descriptors and refcounts.
 */
import { createVirtMachine, type VirtMachine } from '../../src/machine/virt.js';
import { HypMemory, HypVmemmap, physMemOf, type PhysMem } from '../../src/pkvm/hyp-memory.js';
import { HypPool, hyp_pool_init } from '../../src/pkvm/hyp-pool.js';
import { host_s2_mm_ops, pkvm_pgtable_mm_ops } from '../../src/pkvm/mm-ops.js';
import {
  KvmPgtable, __kvm_pgtable_stage2_init, kvm_pgtable_hyp_init, type KvmPgtablePteOps, type KvmS2Mmu,
} from '../../src/pkvm/pgtable.js';
import { KVM_PTE_ADDR_MASK, kvm_granule_shift } from '../../src/pkvm/pgtable-prot.js';

export const RAM = 0x4000_0000n;
export const PAGE = 0x1000n;
export const SZ_2M = 0x20_0000n;
export const SZ_1G = 0x4000_0000n;
export const VMEMMAP = 0x6000_0000_0000n;
/** Where the vmemmap entries of RAM live (linear backing; 256 MiB of RAM needs 64 pages × 4 B). */
export const VMEMMAP_BACKING = RAM + 0x0010_0000n;
/** The hyp pool's pages and host_s2_pool's pages. */
export const HPOOL = RAM + 0x0080_0000n;
export const S2POOL = RAM + 0x00c0_0000n;

export const pfnOf = (pa: bigint): number => Number(pa >> 12n);

export interface Rig {
  machine: VirtMachine;
  mem: PhysMem;
  hyp: HypMemory;
  vmemmap: HypVmemmap;
  hpool: HypPool;
  s2pool: HypPool;
}

export function rig(opts: { hpoolPages?: number; s2Pages?: number; offset?: bigint; ramSize?: number } = {}): Rig {
  const machine = createVirtMachine({ ramSize: opts.ramSize ?? 256 * 1024 * 1024 });
  const mem = physMemOf(machine.memory);
  const hyp = new HypMemory(mem, opts.offset ?? 0n);
  const vmemmap = HypVmemmap.linear(mem, VMEMMAP, pfnOf(RAM), VMEMMAP_BACKING);
  const hpool = new HypPool(hyp, vmemmap, 'hpool');
  hyp_pool_init(hpool, pfnOf(HPOOL), opts.hpoolPages ?? 256, 0);
  const s2pool = new HypPool(hyp, vmemmap, 'host_s2_pool');
  hyp_pool_init(s2pool, pfnOf(S2POOL), opts.s2Pages ?? 256, 0);
  return { machine, mem, hyp, vmemmap, hpool, s2pool };
}

/** A hyp stage-1 (48-bit, level 0) on the hyp pool. */
export function hypPgtable(r: Rig): KvmPgtable {
  const pgt = new KvmPgtable();
  const ret = kvm_pgtable_hyp_init(pgt, 48, pkvm_pgtable_mm_ops(r.hpool));
  if (ret) throw new Error(`kvm_pgtable_hyp_init: ${ret}`);
  return pgt;
}

/** A stage-2 on host_s2_pool for the given VTCR. */
export function stage2Pgtable(r: Rig, vtcr: bigint, flags: number, pte_ops?: KvmPgtablePteOps): { pgt: KvmPgtable; mmu: KvmS2Mmu } {
  const pgt = new KvmPgtable();
  const mmu: KvmS2Mmu = { vtcr, pgd_phys: 0n, vmid: 0, pgt: null };
  const ret = __kvm_pgtable_stage2_init(pgt, mmu, host_s2_mm_ops(r.s2pool), flags, pte_ops);
  if (ret) throw new Error(`__kvm_pgtable_stage2_init: ${ret}`);
  mmu.pgd_phys = pgt.pgdPhys;
  mmu.pgt = pgt;
  return { pgt, mmu };
}

/** The descriptor for `addr` at `level`, read by walking the tables in memory directly (no model code). */
export function descAt(r: Rig, pgt: KvmPgtable, addr: bigint, level: number): { pa: bigint; desc: bigint } {
  let table = pgt.pgdPhys;
  for (let l = pgt.start_level; ; l++) {
    const shift = BigInt(kvm_granule_shift(l));
    const bits = l === pgt.start_level ? BigInt(pgt.ia_bits) - shift : 9n;
    const idx = (addr >> shift) & ((1n << bits) - 1n);
    const pa = table + idx * 8n;
    const desc = r.mem.read64(pa);
    if (l === level) return { pa, desc };
    if ((desc & 3n) !== 3n) throw new Error(`no table at level ${l} for ${addr.toString(16)}: ${desc.toString(16)}`);
    table = desc & KVM_PTE_ADDR_MASK;
  }
}

/** The refcount of the page holding PA `pa`, from the vmemmap in RAM. */
export function refcountOf(r: Rig, pa: bigint): number {
  return r.vmemmap.refcount(pfnOf(pa));
}

/** Number of non-zero and of valid entries in the table page at PA `table`. */
export function entriesIn(r: Rig, table: bigint): { nonzero: number; valid: number } {
  let nonzero = 0, valid = 0;
  for (let i = 0n; i < 512n; i++) {
    const d = r.mem.read64(table + i * 8n);
    if (d !== 0n) nonzero++;
    if (d & 1n) valid++;
  }
  return { nonzero, valid };
}

/**
 * The address spaces of the boot flow, as the models need them.
 *
 * Kernel (EL1).  The model's host kernel runs with its stage-1 MMU off, so
 * every address it uses is physical (and, once pKVM is up, an IPA that the
 * host stage 2 maps to the same PA).  The kernel's virtual layout still
 * exists on paper, because the hypervisor's VAs are derived from it:
 *   - PAGE_OFFSET = 0xffff_0000_0000_0000 (VA_BITS = 48): the linear map,
 *     __va(pa) = pa - memstart_addr + PAGE_OFFSET;
 *   - memstart_addr (PHYS_OFFSET) = start of DRAM rounded down to
 *     ARM64_MEMSTART_ALIGN (1 GiB with 4 KiB pages): 0x4000_0000 on virt;
 *   - kimage_voffset = 0: the image is linked at the PA it is loaded at
 *     (0x4008_0000), so a "kernel-image VA" equals the PA.  (In Linux it is
 *     KIMAGE_VADDR + KASLR offset - PA; nothing in the flow depends on it
 *     other than hyp_kimg_va, which the alternatives patcher fills in.)
 *
 * Hypervisor (EL2, pkvm-facts 5.7).  hyp_va_bits = 48 (TTBR0_EL2 only,
 * 4 levels).  kvm_compute_layout puts the linear alias in the upper half:
 *   hyp VA = (linear VA & GENMASK(tag_lsb - 1, 0)) | (tag_val << tag_lsb)
 * with tag_lsb = fls64(__va(DRAM start) ^ (high_memory - 1)) and tag_val =
 * BIT(47) >> tag_lsb (the idmap is below 2^47).  With CONFIG_RANDOMIZE_BASE
 * the kernel adds random bits [46:tag_lsb]; the model takes none (as a boot
 * without entropy does), so runs are reproducible.  The lower half holds
 * the idmap (VA == PA) and, after __pkvm_init, the private range from
 * __io_map_base and the vmemmap (computed in setup.ts's hyp_create_idmap).
 */

export const VA_BITS = 48;
export const PAGE_OFFSET = 0xffff_0000_0000_0000n;
/** ARM64_MEMSTART_ALIGN with 4 KiB pages (and VA_BITS 48): 1 GiB. */
export const ARM64_MEMSTART_ALIGN = 1n << 30n;
export const PAGE_SIZE = 4096n;
export const PAGE_SHIFT = 12n;

const mask64 = (1n << 64n) - 1n;

/** fls64: 1-based index of the most significant set bit, 0 for 0. */
export function fls64(x: bigint): number {
  let n = 0;
  let v = x & mask64;
  while (v > 0n) { n++; v >>= 1n; }
  return n;
}

export function genmask(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi + 1)) - 1n) & ~((1n << BigInt(lo)) - 1n);
}

export interface KernelVaLayout {
  /** memstart_addr: PHYS_OFFSET. */
  readonly memstartAddr: bigint;
  readonly pageOffset: bigint;
  /** kimage_voffset: kernel-image VA − PA (0 in this model). */
  readonly kimageVoffset: bigint;
  /** high_memory as a linear VA (end of DRAM). */
  readonly highMemory: bigint;
}

export function kernelVaLayout(dramStart: bigint, dramEnd: bigint): KernelVaLayout {
  const memstartAddr = dramStart & ~(ARM64_MEMSTART_ALIGN - 1n);
  return { memstartAddr, pageOffset: PAGE_OFFSET, kimageVoffset: 0n, highMemory: dramEnd - memstartAddr + PAGE_OFFSET };
}

/** __va(pa): the linear-map VA of a physical address. */
export function kernVa(k: KernelVaLayout, pa: bigint): bigint {
  return (pa - k.memstartAddr + k.pageOffset) & mask64;
}

/** __pa(va) for a linear-map VA. */
export function kernPa(k: KernelVaLayout, va: bigint): bigint {
  return va - k.pageOffset + k.memstartAddr;
}

/** What kvm_compute_layout works out (arch/arm64/kvm/va_layout.c). */
export interface HypVaLayout {
  readonly vaBits: number;
  readonly tagLsb: number;
  /** tag_val, already shifted right by tag_lsb as the kernel keeps it. */
  readonly tagVal: bigint;
  readonly vaMask: bigint;
  /** hyp_physvirt_offset: PA − hyp VA of the linear map (an s64). */
  readonly hypPhysvirtOffset: bigint;
  readonly kernel: KernelVaLayout;
}

export function kvmComputeLayout(kernel: KernelVaLayout, dramStart: bigint, idmapPa: bigint, vaBits = VA_BITS): HypVaLayout {
  const top = 1n << BigInt(vaBits - 1);
  // The linear alias goes in the half of the hyp VA space that does not hold the idmap.
  const hypVaMsb = (idmapPa & top) ^ top;
  const tagLsb = fls64(kernVa(kernel, dramStart) ^ (kernel.highMemory - 1n));
  const vaMask = genmask(tagLsb - 1, 0);
  const tagVal = hypVaMsb >> BigInt(tagLsb);
  const partial: Omit<HypVaLayout, 'hypPhysvirtOffset'> = { vaBits, tagLsb, tagVal, vaMask, kernel };
  // init_hyp_physvirt_offset: from any linear-map address, e.g. the DRAM start.
  const someVa = kernVa(kernel, dramStart);
  const hypPhysvirtOffset = BigInt.asIntN(64, kernPa(kernel, someVa) - kernHypVaOfVa(partial, someVa));
  return { ...partial, hypPhysvirtOffset };
}

function kernHypVaOfVa(l: Pick<HypVaLayout, 'vaMask' | 'tagVal' | 'tagLsb'>, va: bigint): bigint {
  return (va & l.vaMask) | (l.tagVal << BigInt(l.tagLsb));
}

/** kern_hyp_va(va): a kernel linear-map VA to its hyp alias (the mask and tag the alternatives patch in). */
export function kernHypVa(l: HypVaLayout, va: bigint): bigint {
  return kernHypVaOfVa(l, va);
}

/** kern_hyp_va(lm_alias(pa)): the hyp VA of a physical address through the linear alias. */
export function hypVa(l: HypVaLayout, pa: bigint): bigint {
  return kernHypVaOfVa(l, kernVa(l.kernel, pa));
}

/** __hyp_pa(va): PA of a hyp linear-alias VA. */
export function hypPa(l: HypVaLayout, va: bigint): bigint {
  return BigInt.asUintN(64, va + l.hypPhysvirtOffset);
}

/** Is `va` in the hyp linear alias (upper half of the hyp VA space)? */
export function isHypLinearVa(l: HypVaLayout, va: bigint): boolean {
  const top = 1n << BigInt(l.vaBits - 1);
  return (va & top) !== 0n && va < (1n << BigInt(l.vaBits));
}

export const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16)}`;

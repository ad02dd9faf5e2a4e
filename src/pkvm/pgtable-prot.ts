/**
 * Descriptor bits and protection encodings of the kvm_pgtable code
 * (arch/arm64/include/asm/kvm_pgtable.h, kvm/hyp/pgtable.c, V61; pkvm-facts §5.5, §5.6):
 *
 * - the hyp stage-1 leaf attributes for PAGE_HYP / PAGE_HYP_EXEC / PAGE_HYP_RO /
 *   PAGE_HYP_DEVICE (AttrIndx into the kernel's MAIR_EL2, AP, SH, AF, XN);
 * - the stage-2 leaf attributes (MemAttr as MT_S2_NORMAL / MT_S2_DEVICE_nGnRE without
 *   FWB, S2AP, SH, AF, XN);
 * - the ownership annotation of invalid stage-2 entries (owner id in bits [9:2]) and the
 *   pKVM page states kept in the software bits (mem_protect.h).
 *
 * 64-bit values are bigint.
 */

const bit = (n: number): bigint => 1n << BigInt(n);
const genmask = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);

// ---- errno values the kernel functions return (negated) ----------------------------------------
export const EPERM = 1;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const E2BIG = 7;
export const EINVAL = 22;
export const ERANGE = 34;

const ERRNO_NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM', [E2BIG]: 'E2BIG', [EINVAL]: 'EINVAL', [ERANGE]: 'ERANGE',
};

/** "-ENOMEM" for −12, "0" for 0. */
export function errnoName(ret: number): string {
  if (ret === 0) return '0';
  const name = ERRNO_NAMES[-ret];
  return name ? `-${name}` : String(ret);
}

// ---- descriptor layout --------------------------------------------------------------------------
export const KVM_PGTABLE_MAX_LEVELS = 4;
/** The last level (3 with 4 KiB pages): pages, never tables. */
export const KVM_PGTABLE_LAST_LEVEL = KVM_PGTABLE_MAX_LEVELS - 1;
/** KVM_PGTABLE_MIN_BLOCK_LEVEL with 4 KiB pages: 1 GiB blocks at level 1, 2 MiB at level 2. */
export const KVM_PGTABLE_MIN_BLOCK_LEVEL = 1;
export const PTRS_PER_PTE = 512;

export const KVM_PTE_VALID = bit(0);
export const KVM_PTE_TYPE = bit(1);
export const KVM_PTE_TYPE_BLOCK = 0n;
export const KVM_PTE_TYPE_PAGE = 1n;
export const KVM_PTE_TYPE_TABLE = 1n;
export const KVM_PTE_ADDR_MASK = genmask(47, 12);
/** PA marker for ownership-only walks (set_owner / annotate). */
export const KVM_PHYS_INVALID = (1n << 64n) - 1n;

export const KVM_PTE_LEAF_ATTR_LO = genmask(11, 2);
export const KVM_PTE_LEAF_ATTR_HI = genmask(63, 51);
/** Software bits [58:55]: pKVM keeps the page state here. */
export const KVM_PTE_LEAF_ATTR_HI_SW = genmask(58, 55);

// stage 1
export const KVM_PTE_LEAF_ATTR_LO_S1_ATTRIDX = genmask(4, 2);
export const KVM_PTE_LEAF_ATTR_LO_S1_AP = genmask(7, 6);
export const KVM_PTE_LEAF_ATTR_LO_S1_AP_RO = 3n;
export const KVM_PTE_LEAF_ATTR_LO_S1_AP_RW = 1n;
export const KVM_PTE_LEAF_ATTR_LO_S1_SH = genmask(9, 8);
export const KVM_PTE_LEAF_ATTR_LO_S1_SH_IS = 3n;
export const KVM_PTE_LEAF_ATTR_LO_S1_AF = bit(10);
/** GP (BTI guarded page), set on executable hyp mappings when the kernel uses BTI. */
export const KVM_PTE_LEAF_ATTR_HI_S1_GP = bit(50);
export const KVM_PTE_LEAF_ATTR_HI_S1_XN = bit(54);

// stage 2
export const KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR = genmask(5, 2);
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R = bit(6);
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W = bit(7);
export const KVM_PTE_LEAF_ATTR_LO_S2_SH = genmask(9, 8);
export const KVM_PTE_LEAF_ATTR_LO_S2_SH_IS = 3n;
export const KVM_PTE_LEAF_ATTR_LO_S2_AF = bit(10);
/** XN is one bit in V61 (Android widens it to [54:53] for PXN/UXN; XN alone is still bit 54). */
export const KVM_PTE_LEAF_ATTR_HI_S2_XN = bit(54);
export const KVM_PTE_LEAF_ATTR_S2_PERMS = KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN;

/** Owner id of an invalid stage-2 entry: bits [9:2] (V61 and later). */
export const KVM_INVALID_PTE_OWNER_MASK = genmask(9, 2);
/** FIELD_MAX of the owner mask; V61 itself caps owners at 1 (host 0, hyp 1). */
export const KVM_MAX_OWNER_ID = 255;
export const KVM_MAX_OWNER_ID_V61 = 1;
/** A transient "locked" invalid entry during break-before-make (Android / ≥ 6.3). */
export const KVM_INVALID_PTE_LOCKED = bit(10);

// ---- enum kvm_pgtable_prot ------------------------------------------------------------------------
export const KVM_PGTABLE_PROT_X = bit(0);
export const KVM_PGTABLE_PROT_W = bit(1);
export const KVM_PGTABLE_PROT_R = bit(2);
export const KVM_PGTABLE_PROT_DEVICE = bit(3);
export const KVM_PGTABLE_PROT_SW0 = bit(55);
export const KVM_PGTABLE_PROT_SW1 = bit(56);
export const KVM_PGTABLE_PROT_SW2 = bit(57);
export const KVM_PGTABLE_PROT_SW3 = bit(58);
export const KVM_PGTABLE_PROT_RW = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W;
export const KVM_PGTABLE_PROT_RWX = KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_X;

export const PAGE_HYP = KVM_PGTABLE_PROT_RW;
export const PAGE_HYP_EXEC = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_X;
export const PAGE_HYP_RO = KVM_PGTABLE_PROT_R;
export const PAGE_HYP_DEVICE = PAGE_HYP | KVM_PGTABLE_PROT_DEVICE;

/** The host stage-2's default mappings (mem_protect.h): memory RWX, MMIO RW. */
export const PKVM_HOST_MEM_PROT = KVM_PGTABLE_PROT_RWX;
export const PKVM_HOST_MMIO_PROT = KVM_PGTABLE_PROT_RW;

// ---- memory types --------------------------------------------------------------------------------
/** MAIR indices (arch/arm64/include/asm/memory.h) and the kernel's MAIR_EL1 = MAIR_EL2 value (§5.5). */
export const MT_NORMAL = 0;
export const MT_NORMAL_TAGGED = 1;
export const MT_NORMAL_NC = 2;
export const MT_DEVICE_nGnRnE = 3;
export const MT_DEVICE_nGnRE = 4;
export const MAIR_EL2_VALUE = 0x0000_0004_0044_ffffn;

/** Stage-2 MemAttr[3:0] without FWB, and with FEAT_S2FWB. */
export const MT_S2_NORMAL = 0xfn;
export const MT_S2_DEVICE_nGnRE = 0x1n;
export const MT_S2_FWB_NORMAL = 6n;
export const MT_S2_FWB_DEVICE_nGnRE = 1n;

// ---- pKVM page states and owners (kvm/hyp/include/nvhe/mem_protect.h) -----------------------------
export const PKVM_PAGE_OWNED = 0n;
export const PKVM_PAGE_SHARED_OWNED = KVM_PGTABLE_PROT_SW0;
export const PKVM_PAGE_SHARED_BORROWED = KVM_PGTABLE_PROT_SW1;
export const PKVM_PAGE_STATE_PROT_MASK = KVM_PGTABLE_PROT_SW0 | KVM_PGTABLE_PROT_SW1;

export function pkvm_mkstate(prot: bigint, state: bigint): bigint {
  return (prot & ~PKVM_PAGE_STATE_PROT_MASK) | state;
}

export function pkvm_getstate(prot: bigint): bigint {
  return prot & PKVM_PAGE_STATE_PROT_MASK;
}

export function pkvmPageStateName(state: bigint): string {
  switch (state) {
    case PKVM_PAGE_OWNED: return 'OWNED';
    case PKVM_PAGE_SHARED_OWNED: return 'SHARED_OWNED';
    case PKVM_PAGE_SHARED_BORROWED: return 'SHARED_BORROWED';
    default: return 'RESERVED';
  }
}

/** Owner ids (enum pkvm_component_id): V61 has host 0 and hyp 1; Android adds the rest. */
export const PKVM_ID_HOST = 0;
export const PKVM_ID_HYP = 1;
export const PKVM_ID_GUEST = 2;
export const PKVM_ID_FFA = 3;
export const PKVM_ID_PROTECTED = 4;

export function ownerName(id: number): string {
  return ['host', 'hyp', 'guest', 'ffa', 'protected'][id] ?? `owner ${id}`;
}

// ---- small descriptor helpers -----------------------------------------------------------------------
export function kvm_pte_valid(pte: bigint): boolean {
  return (pte & KVM_PTE_VALID) !== 0n;
}

export function kvm_pte_to_phys(pte: bigint): bigint {
  return pte & KVM_PTE_ADDR_MASK;
}

export function kvm_phys_to_pte(pa: bigint): bigint {
  return pa & KVM_PTE_ADDR_MASK;
}

/** A table descriptor: valid, type 1, below the last level. */
export function kvm_pte_table(pte: bigint, level: number): boolean {
  if (level === KVM_PGTABLE_LAST_LEVEL) return false;
  if (!kvm_pte_valid(pte)) return false;
  return ((pte & KVM_PTE_TYPE) >> 1n) === KVM_PTE_TYPE_TABLE;
}

/** ARM64_HW_PGTABLE_LEVEL_SHIFT: 39, 30, 21, 12 for levels 0..3 (48 for level −1). */
export function kvm_granule_shift(level: number): number {
  return (12 - 3) * (4 - level) + 3;
}

export function kvm_granule_size(level: number): bigint {
  return 1n << BigInt(kvm_granule_shift(level));
}

export function kvm_level_supports_block_mapping(level: number): boolean {
  return level >= KVM_PGTABLE_MIN_BLOCK_LEVEL;
}

/** PAs must be below the largest PA size (PARANGE_MAX = 48 bits); KVM_PHYS_INVALID is not. */
export function kvm_phys_is_valid(phys: bigint): boolean {
  return phys < (1n << 48n);
}

export function kvm_init_table_pte(childPhys: bigint): bigint {
  return kvm_phys_to_pte(childPhys) | (KVM_PTE_TYPE_TABLE << 1n) | KVM_PTE_VALID;
}

export function kvm_init_valid_leaf_pte(pa: bigint, attr: bigint, level: number): bigint {
  const type = level === KVM_PGTABLE_LAST_LEVEL ? KVM_PTE_TYPE_PAGE : KVM_PTE_TYPE_BLOCK;
  return kvm_phys_to_pte(pa) | (attr & (KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI)) | (type << 1n) | KVM_PTE_VALID;
}

/** An invalid entry carrying an owner id in bits [9:2]. */
export function kvm_init_invalid_leaf_owner(owner_id: number): bigint {
  return (BigInt(owner_id) << 2n) & KVM_INVALID_PTE_OWNER_MASK;
}

/** The owner id of an invalid entry (0 = the table's owner, i.e. the host). */
export function kvm_invalid_pte_owner(pte: bigint): number {
  return Number((pte & KVM_INVALID_PTE_OWNER_MASK) >> 2n);
}

// ---- prot → attributes -------------------------------------------------------------------------------

export interface AttrResult {
  /** 0 or a negative errno. */
  ret: number;
  attr: bigint;
}

/**
 * hyp_set_prot_attr (V61): the leaf attributes of a hyp stage-1 mapping. R is required;
 * W+X and device+X are refused (−EINVAL). Device memory is MAIR index 4 (nGnRE), the
 * rest index 0 (Normal WB); everything is inner shareable with AF set; non-executable
 * mappings get XN; W gives AP = RW (01), otherwise RO (11). `bti` adds GP on executable
 * mappings as a BTI kernel would (cortex-a57 has no BTI).
 */
export function hyp_set_prot_attr(prot: bigint, opts: { bti?: boolean } = {}): AttrResult {
  const device = (prot & KVM_PGTABLE_PROT_DEVICE) !== 0n;
  const mtype = BigInt(device ? MT_DEVICE_nGnRE : MT_NORMAL);
  let attr = mtype << 2n;
  const ap = (prot & KVM_PGTABLE_PROT_W) !== 0n ? KVM_PTE_LEAF_ATTR_LO_S1_AP_RW : KVM_PTE_LEAF_ATTR_LO_S1_AP_RO;
  if ((prot & KVM_PGTABLE_PROT_R) === 0n) return { ret: -EINVAL, attr: 0n };
  if ((prot & KVM_PGTABLE_PROT_X) !== 0n) {
    if ((prot & KVM_PGTABLE_PROT_W) !== 0n) return { ret: -EINVAL, attr: 0n };
    if (device) return { ret: -EINVAL, attr: 0n };
    if (opts.bti) attr |= KVM_PTE_LEAF_ATTR_HI_S1_GP;
  } else {
    attr |= KVM_PTE_LEAF_ATTR_HI_S1_XN;
  }
  attr |= ap << 6n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S1_SH_IS << 8n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S1_AF;
  attr |= prot & KVM_PTE_LEAF_ATTR_HI_SW;
  return { ret: 0, attr };
}

/** kvm_pgtable_hyp_pte_prot: the prot a hyp stage-1 leaf grants (software bits included). */
export function kvm_pgtable_hyp_pte_prot(pte: bigint): bigint {
  let prot = pte & KVM_PTE_LEAF_ATTR_HI_SW;
  if (!kvm_pte_valid(pte)) return prot;
  if ((pte & KVM_PTE_LEAF_ATTR_HI_S1_XN) === 0n) prot |= KVM_PGTABLE_PROT_X;
  const ap = (pte & KVM_PTE_LEAF_ATTR_LO_S1_AP) >> 6n;
  if (ap === KVM_PTE_LEAF_ATTR_LO_S1_AP_RO) prot |= KVM_PGTABLE_PROT_R;
  else if (ap === KVM_PTE_LEAF_ATTR_LO_S1_AP_RW) prot |= KVM_PGTABLE_PROT_RW;
  return prot;
}

/** PAGE_S2_MEMATTR: the stage-2 MemAttr field for normal or device memory, with or without FWB. */
export function kvm_s2_memattr(device: boolean, fwb: boolean): bigint {
  const v = device ? (fwb ? MT_S2_FWB_DEVICE_nGnRE : MT_S2_DEVICE_nGnRE) : (fwb ? MT_S2_FWB_NORMAL : MT_S2_NORMAL);
  return v << 2n;
}

/**
 * stage2_set_prot_attr (V61): MemAttr Normal or Device-nGnRE (device+X is −EINVAL), XN
 * unless X, S2AP from R and W, inner shareable, AF, and the software bits.
 */
export function stage2_set_prot_attr(prot: bigint, fwb = false): AttrResult {
  const device = (prot & KVM_PGTABLE_PROT_DEVICE) !== 0n;
  let attr = kvm_s2_memattr(device, fwb);
  if ((prot & KVM_PGTABLE_PROT_X) === 0n) attr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
  else if (device) return { ret: -EINVAL, attr: 0n };
  if ((prot & KVM_PGTABLE_PROT_R) !== 0n) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
  if ((prot & KVM_PGTABLE_PROT_W) !== 0n) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_SH_IS << 8n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_AF;
  attr |= prot & KVM_PTE_LEAF_ATTR_HI_SW;
  return { ret: 0, attr };
}

/** kvm_pgtable_stage2_pte_prot: the prot a stage-2 leaf grants (software bits included). */
export function kvm_pgtable_stage2_pte_prot(pte: bigint): bigint {
  let prot = pte & KVM_PTE_LEAF_ATTR_HI_SW;
  if (!kvm_pte_valid(pte)) return prot;
  if ((pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R) !== 0n) prot |= KVM_PGTABLE_PROT_R;
  if ((pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W) !== 0n) prot |= KVM_PGTABLE_PROT_W;
  if ((pte & KVM_PTE_LEAF_ATTR_HI_S2_XN) === 0n) prot |= KVM_PGTABLE_PROT_X;
  return prot;
}

/** The host stage-2's default leaf bits (Android mem_protect.h): what `host_stage2_pte_is_counted` compares. */
export const KVM_HOST_S2_DEFAULT_MASK = KVM_PTE_LEAF_ATTR_HI | KVM_PTE_LEAF_ATTR_LO;
export const KVM_HOST_S2_DEFAULT_MEM_PTE = (MT_S2_NORMAL << 2n) | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W
  | KVM_PTE_LEAF_ATTR_LO_S2_AF | (KVM_PTE_LEAF_ATTR_LO_S2_SH_IS << 8n);
export const KVM_HOST_S2_DEFAULT_MMIO_PTE = KVM_HOST_S2_DEFAULT_MEM_PTE | KVM_PTE_LEAF_ATTR_HI_S2_XN;

/** A one-line description of prot bits, e.g. "RW-" or "R-X device SHARED_OWNED". */
export function formatProt(prot: bigint): string {
  let s = ((prot & KVM_PGTABLE_PROT_R) ? 'R' : '-') + ((prot & KVM_PGTABLE_PROT_W) ? 'W' : '-') + ((prot & KVM_PGTABLE_PROT_X) ? 'X' : '-');
  if (prot & KVM_PGTABLE_PROT_DEVICE) s += ' device';
  const state = pkvm_getstate(prot);
  if (state !== PKVM_PAGE_OWNED) s += ` ${pkvmPageStateName(state)}`;
  return s;
}

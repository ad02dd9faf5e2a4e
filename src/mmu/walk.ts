/**
 * VMSAv8-64 translation table walks for one stage at a time, reading like the
 * Arm ARM's AArch64.S1Walk / AArch64.S2Walk and the permission checks of
 * AArch64.S1CheckPermissions / AArch64.S2CheckPermissions:
 *
 *  - stage 1 (EL2 or EL1&0 regime): table, block and page descriptors for
 *    4, 16 and 64 KiB granules from any start level; output-address size
 *    checks; hierarchical APTable/XNTable/PXNTable (unless HPD); AP/UXN/PXN,
 *    WXN, PAN; with stage 2 enabled, every table address is itself
 *    translated by stage 2, a fault there being a stage-2 fault on the
 *    stage-1 walk (S1PTW);
 *  - stage 2: VTCR_EL2 start level with concatenated tables, S2AP, XN (with
 *    FEAT_XNX the EL1/EL0 split), MemAttr;
 *  - the access flag faults unless hardware update is enabled (FEAT_HAFDBS:
 *    TCR.HA sets AF, TCR.HD with DBM makes a clean page writable on a write),
 *    then the descriptor is updated after the permission check passes;
 *  - alignment faults for unaligned data accesses to Device memory.
 *
 * Results and faults go to fields of the walker (no allocation). Addresses
 * are (lo, hi) int32 halves; physical addresses become JS numbers only to
 * index physical memory.
 */
import type { CpuModel } from '../cpu/cpu-model.js';
import type { PhysicalMemory } from '../machine/physical-memory.js';
import { MemoryFault } from '../machine/physical-memory.js';
import { Access } from './memory-port.js';
import { isDevice, stage2Attribute } from './attributes.js';
import { hasXnx, Stage1Regime, TableWalkParams } from './regime.js';
import { TlbKey, TranslationCache } from './tlb.js';

/** Kinds of translation fault, reported in ESR_ELx.{DFSC,IFSC} and PAR_EL1.FST. */
export const enum FaultType {
  None = 0,
  Translation = 1,
  AddressSize = 2,
  AccessFlag = 3,
  Permission = 4,
  Alignment = 5,
  /** Synchronous external abort on a translation table walk (reading a descriptor failed). */
  ExternalOnWalk = 6,
  /** Synchronous external abort on the access itself. */
  External = 7,
}

/** The fault status code (DFSC/IFSC/FST) of a fault at a level. */
export function faultStatusCode(type: FaultType, level: number): number {
  switch (type) {
    case FaultType.AddressSize: return 0b000000 | level;
    case FaultType.Translation: return 0b000100 | level;
    case FaultType.AccessFlag: return 0b001000 | level;
    case FaultType.Permission: return 0b001100 | level;
    case FaultType.ExternalOnWalk: return 0b010100 | level;
    case FaultType.External: return 0b010000;
    case FaultType.Alignment: return 0b100001;
    default: return 0;
  }
}

export class FaultRecord {
  type: FaultType = FaultType.None;
  level = 0;
  /** A stage-2 fault (taken to EL2, HPFAR_EL2 = the IPA). */
  stage2 = false;
  /** A stage-2 fault on a stage-1 table walk. */
  s1ptw = false;
  /** The faulting IPA of a stage-2 fault (the table address for S1PTW). */
  ipaLo = 0;
  ipaHi = 0;
}

/**
 * Permission bits of a cached translation. Stage 1 (and combined): the
 * privileged level (EL1, or EL2 for the EL2 regime) and EL0; PAN marks pages
 * EL0 can read, which PSTATE.PAN makes inaccessible to EL1 data accesses.
 */
export const enum Perm {
  R = 1,
  W = 2,
  X = 4,
  UR = 8,
  UW = 16,
  UX = 32,
  Pan = 64,
  All = R | W | X | UR | UW | UX,
}
/** Stage-2 permission bits: S2AP read/write, execution at EL1 and at EL0. */
export const enum S2Perm {
  R = 1,
  W = 2,
  X1 = 4,
  X0 = 8,
}
// (const enums: the values are inlined where used, where an exported const is loaded from its module binding)
export const PERM_R = Perm.R;
export const PERM_W = Perm.W;
export const PERM_X = Perm.X;
export const PERM_UR = Perm.UR;
export const PERM_UW = Perm.UW;
export const PERM_UX = Perm.UX;
export const PERM_PAN = Perm.Pan;
export const PERM_ALL = Perm.All;
export const S2_R = S2Perm.R;
export const S2_W = S2Perm.W;
export const S2_X1 = S2Perm.X1;
export const S2_X0 = S2Perm.X0;

/** A stage-1 leaf's access-permission bits as walkStage1 gathers them: AP[2], AP[1], UXN/XN, PXN. */
const S1_AP2 = 8;
const S1_AP1 = 4;
const S1_XN = 2;
const S1_PXN = 1;

/** PERM_* bits of a stage-1 leaf (VMSAv8-64 stage-1 access permissions and execute-never, with WXN). */
function stage1Permissions(twoRanges: boolean, wxn: boolean, bits: number): number {
  const privW = (bits & S1_AP2) === 0;
  const xn = (bits & S1_XN) !== 0;
  if (!twoRanges) {
    // One privilege level (EL2): AP[1] and PXN are ignored.
    return Perm.R | (privW ? Perm.W : 0) | (!xn && !(privW && wxn) ? Perm.X : 0);
  }
  const userR = (bits & S1_AP1) !== 0;
  const userW = userR && privW;
  const userX = !xn && !(userW && wxn);
  // EL1 never executes what EL0 can write.
  const privX = (bits & S1_PXN) === 0 && !(privW && wxn) && !userW;
  return Perm.R | (privW ? Perm.W : 0) | (privX ? Perm.X : 0) |
    (userR ? Perm.UR | Perm.Pan : 0) | (userW ? Perm.UW : 0) | (userX ? Perm.UX : 0);
}

/** stage1Permissions for every input, indexed by (twoRanges << 5) | (wxn << 4) | bits. */
const STAGE1_PERMISSIONS = Uint8Array.from({ length: 64 }, (_, i) => stage1Permissions((i & 32) !== 0, (i & 16) !== 0, i & 15));

/** Whether stage-1 (or combined) permissions allow an access. */
export function permits(perm: number, access: Access, privileged: boolean, pan: boolean): boolean {
  if (privileged) {
    if (access === Access.Fetch) return (perm & Perm.X) !== 0;
    if (pan && (perm & Perm.Pan) !== 0) return false;
    return (perm & (access === Access.Write ? Perm.W : Perm.R)) !== 0;
  }
  if (access === Access.Fetch) return (perm & Perm.UX) !== 0;
  return (perm & (access === Access.Write ? Perm.UW : Perm.UR)) !== 0;
}

/** Whether stage-2 permissions allow an access (table walks are reads). */
export function permitsStage2(perm: number, access: Access, el0: boolean): boolean {
  if (access === Access.Fetch) return (perm & (el0 ? S2Perm.X0 : S2Perm.X1)) !== 0;
  return (perm & (access === Access.Write ? S2Perm.W : S2Perm.R)) !== 0;
}

/** Stage-2 permissions folded into stage-1 permission bits (the combined TLB entry). */
export function combinePermissions(s1: number, s2: number): number {
  if (s2 === (S2Perm.R | S2Perm.W | S2Perm.X1 | S2Perm.X0)) return s1;
  let p = s1;
  if ((s2 & S2Perm.R) === 0) p &= ~(Perm.R | Perm.UR);
  if ((s2 & S2Perm.W) === 0) p &= ~(Perm.W | Perm.UW);
  if ((s2 & S2Perm.X1) === 0) p &= ~Perm.X;
  if ((s2 & S2Perm.X0) === 0) p &= ~Perm.UX;
  return p;
}

/** Index bits [lsb + n - 1 : lsb] of a 64-bit value in halves (12 <= lsb, n <= 20). */
function indexBits(lo: number, hi: number, lsb: number, n: number): number {
  let v: number;
  if (lsb >= 32) v = hi >>> (lsb - 32);
  else if (lsb + n <= 32) v = lo >>> lsb;
  else v = (lo >>> lsb) | (hi << (32 - lsb));
  return v & ((1 << n) - 1);
}

/** True if any bit at or above `n` (0 < n <= 64) is set. */
export function bitsAbove(lo: number, hi: number, n: number): boolean {
  if (n >= 64) return false;
  if (n >= 32) return (hi >>> (n - 32)) !== 0;
  return hi !== 0 || (lo >>> n) !== 0;
}

/** Stage-2 MemAttr[3:0] → MAIR-format attribute. */
const STAGE2_ATTRIBUTES = Uint8Array.from({ length: 16 }, (_, m) => stage2Attribute(m));

/** Entries in each walk cache (direct-mapped). */
const WALK_CACHE_SIZE = 256;
/**
 * A walk-cache entry: eight ints (one 32-byte block, so a lookup touches one
 * cache line). WC_OWNER tags the entry with the walk-cache generation
 * (bits [29:20]) and what it was made for (bits [19:0]: the
 * TableWalkParams.id for stage 1, the stage-2 context), so that a flush is
 * a new generation rather than a clear; 0 = empty; WC_KEY_* the region's input
 * address (its low bits zero); WC_TABLE_* the level-3 table's address.
 * Stage 1 only: WC_PA_* the table's PA (its IPA translated by stage 2),
 * valid when WC_FLAGS has WC_PA_VALID (the stage-2 page holds the whole
 * table); WC_FLAGS also holds the hierarchical attributes gathered above the
 * table [4:0], and the table's stage-2 permissions [11:8] and level [15:12].
 */
const WC_STRIDE = 8;
const WC_OWNER = 0;
const WC_KEY_LO = 1;
const WC_KEY_HI = 2;
const WC_TABLE_LO = 3;
const WC_TABLE_HI = 4;
const WC_PA_LO = 5;
const WC_PA_HI = 6;
const WC_FLAGS = 7;
const WC_PA_VALID = 1 << 16;
/** The owner tag's generation unit and limit (bits [29:20]), and the mask of what the entry was made for. */
const WC_GENERATION_ONE = 1 << 20;
const WC_GENERATION_LIMIT = 1 << 30;
const WC_OWNER_MASK = WC_GENERATION_ONE - 1;

/** Block descriptors exist at level 1 and 2 for 4 KiB, level 2 only for 16 and 64 KiB (without 52-bit addresses). */
function blockAllowed(granuleBits: number, level: number): boolean {
  return granuleBits === 12 ? level === 1 || level === 2 : level === 2;
}

export class Walker {
  // ---- configuration (set by the Mmu when registers change) -------------------
  /** Stage-2 parameters, its context key in the stage-2 TLB, and whether stage 2 applies. */
  readonly stage2 = new TableWalkParams();
  stage2Context = 0;
  /** HCR_EL2.PTW: a stage-1 walk to stage-2 Device memory is a stage-2 permission fault. */
  stage2Ptw = false;
  /** Descriptor updates and TLB fills; off for side-effect-free probes. */
  sideEffects = true;
  /** The walk caches below (off to measure or test bare walks). */
  useWalkCaches = true;

  // ---- result of the last stage-1 walk ------------------------------------------
  /** Output address (IPA when stage 2 follows, else PA) of the input address. */
  outLo = 0;
  outHi = 0;
  level = 0;
  /** log2 of the leaf's size (page or block). */
  shift = 12;
  /** MAIR-format attribute, shareability, PERM_* bits, and nG == 0. */
  attr = 0;
  sh = 0;
  perm = 0;
  global = true;

  // ---- result of the last stage-2 translation -------------------------------------
  s2OutLo = 0;
  s2OutHi = 0;
  s2Level = 0;
  s2Shift = 12;
  s2Attr = 0;
  s2Sh = 0;
  s2Perm = 0;

  readonly fault = new FaultRecord();
  /** Descriptor reads done since the counter was reset (for benchmarks and statistics). */
  descriptorReads = 0;

  private dLo = 0;
  private dHi = 0;
  private readonly scratch = new Uint32Array(2);

  /**
   * The RAM fast window as int32 halves, so that descriptor addresses are
   * checked and indexed without double arithmetic: PA[63:32] == winHi and
   * PA[31:0] - winBaseLo (unsigned) < winSize. winHi = -1 (never matched)
   * when there is no window or it straddles a 4 GiB boundary. Re-read when
   * the memory's window (its ram32 array) changes.
   */
  private winRam: Uint32Array | undefined = undefined;
  private winBaseLo = 0;
  private winHi = -1;
  private winSize = 0;

  private syncWindow(): void {
    const m = this.memory;
    const base = m.ramBase, size = m.ramSize;
    this.winRam = m.ram32;
    const hi = Math.floor(base / 4294967296);
    const sameHi = size > 0 && Math.floor((base + size - 1) / 4294967296) === hi;
    this.winBaseLo = base % 4294967296 | 0;
    this.winHi = sameHi ? hi : -1;
    this.winSize = sameHi ? size : 0;
  }
  private readonly xnx: boolean;

  /**
   * Walk caches: for the region one last-level (level-3) table covers, that
   * table's address, so a walk that misses the TLB reads one descriptor
   * instead of four. Stage 1 also keeps the table's stage-2 translation and
   * the hierarchical attributes gathered above it. Direct-mapped; flushed
   * on every TLBI and every write to a translation register (caching table
   * entries is allowed, and no TLBI leaves one of them stale).
   */
  private readonly s1wc = new Int32Array(WALK_CACHE_SIZE * WC_STRIDE);
  private readonly s2wc = new Int32Array(WALK_CACHE_SIZE * WC_STRIDE);

  /** Forgets every cached table address. */
  flushWalkCaches(): void {
    // Translation-register writes and TLBIs come often (every exception return in some code): O(1) but
    // every 1023rd time.
    this.wcGeneration += WC_GENERATION_ONE;
    if (this.wcGeneration >= WC_GENERATION_LIMIT) {
      this.s1wc.fill(0);
      this.s2wc.fill(0);
      this.wcGeneration = WC_GENERATION_ONE;
    }
  }

  /** The current generation of the walk caches, in the entries' owner tags (a multiple of WC_GENERATION_ONE). */
  private wcGeneration = WC_GENERATION_ONE;

  constructor(
    private readonly memory: PhysicalMemory,
    model: CpuModel,
    /** Stage-2 TLB consulted for table addresses and final IPAs (null: always walk). */
    readonly stage2Tlb: TranslationCache | null,
  ) {
    this.xnx = hasXnx(model);
  }

  private fail(type: FaultType, level: number): false {
    const f = this.fault;
    f.type = type;
    f.level = level;
    f.stage2 = false;
    f.s1ptw = false;
    return false;
  }

  private failStage2(type: FaultType, level: number, ipaLo: number, ipaHi: number, s1ptw: boolean): false {
    const f = this.fault;
    f.type = type;
    f.level = level;
    f.stage2 = true;
    f.s1ptw = s1ptw;
    f.ipaLo = ipaLo;
    f.ipaHi = ipaHi;
    return false;
  }

  /** Reads a descriptor outside the RAM fast window into dLo/dHi; false on an external abort. */
  private readDescriptorSlow(pa: number): boolean {
    const m = this.memory;
    m.read64(pa, this.scratch, 0);
    if (m.lastFault !== MemoryFault.None) return false;
    this.dLo = this.scratch[0]! | 0;
    this.dHi = this.scratch[1]! | 0;
    return true;
  }

  /** Hardware update of a descriptor's low word (AF set, AP[2]/S2AP[1] changed for DBM). */
  private updateDescriptor(paLo: number, paHi: number, lo: number): boolean {
    return this.memory.write32(paHi * 4294967296 + (paLo >>> 0), lo);
  }

  /**
   * Stage-1 walk of `p` (one VA range of regime `r`) for the VA, checking the
   * access: translation, address-size and access-flag faults at their level,
   * then the alignment fault for unaligned data accesses to Device memory,
   * then permissions. With `withStage2`, table addresses are IPAs translated
   * by stage 2 (faults there are stage-2 faults with S1PTW).
   */
  walkStage1(
    r: Stage1Regime, p: TableWalkParams, vaLo: number, vaHi: number,
    access: Access, privileged: boolean, pan: boolean, unalignedData: boolean, withStage2: boolean, el0: boolean,
  ): boolean {
    if (p.walkDisabled) return this.fail(FaultType.Translation, 0);
    if (p.baseOutOfRange) return this.fail(FaultType.AddressSize, 0);
    if (this.memory.ram32 !== this.winRam) this.syncWindow();
    const ram = this.winRam!, winBaseLo = this.winBaseLo, winHi = this.winHi, winSize = this.winSize;
    const g = p.granuleBits, stride = p.stride;
    const oaCheck = p.oaBits < 48;
    const oaShift = p.oaBits - 32;
    // The leaf descriptor: its value, level, the attributes of the tables above it, its address as
    // the walk names it (IPA with stage 2: addrLo, tHi) and its PA (descLo, descHi) for updates.
    let dLo = 0, dHi = 0, level: number;
    let tableAttrs: number;
    let addrLo: number, tHi: number;
    let descLo: number, descHi: number, descS2Perm = S2Perm.R | S2Perm.W;
    // Walk cache: the level-3 table for this VA's region, and its PA when stage 2 applies.
    const regionShift = g + stride;
    const regionLo = vaLo & ~((1 << regionShift) - 1);
    const wcs = this.s1wc;
    const wc = (((regionLo >>> regionShift) ^ vaHi ^ p.id) & (WALK_CACHE_SIZE - 1)) * WC_STRIDE;
    const owner = this.wcGeneration | (p.id & WC_OWNER_MASK);
    const wcHit = p.startLevel < 3 && this.useWalkCaches &&
      wcs[wc + WC_OWNER] === owner && wcs[wc + WC_KEY_LO] === regionLo && wcs[wc + WC_KEY_HI] === vaHi;
    const wcFlags = wcHit ? wcs[wc + WC_FLAGS]! : 0;
    if (wcHit && (!withStage2 || (wcFlags & WC_PA_VALID) !== 0)) {
      // The cached level-3 table (and its PA): one descriptor read.
      level = 3;
      tableAttrs = wcFlags & 0x1f;
      const index = ((vaLo >>> g) & ((1 << stride) - 1)) << 3;
      addrLo = wcs[wc + WC_TABLE_LO]! | index;
      tHi = wcs[wc + WC_TABLE_HI]!;
      if (withStage2) {
        descLo = wcs[wc + WC_PA_LO]! | index;
        descHi = wcs[wc + WC_PA_HI]!;
        descS2Perm = (wcFlags >>> 8) & 0xf;
        this.s2Level = (wcFlags >>> 12) & 0xf;
      } else {
        descLo = addrLo;
        descHi = tHi;
      }
      this.descriptorReads++;
      const off = (descLo - winBaseLo) >>> 0;
      if (descHi === winHi && off < winSize) {
        const w = off >>> 2;
        dLo = ram[w]! | 0;
        dHi = ram[w + 1]! | 0;
      } else if (this.readDescriptorSlow(descHi * 4294967296 + (descLo >>> 0))) {
        dLo = this.dLo;
        dHi = this.dHi;
      } else {
        return this.fail(FaultType.ExternalOnWalk, 3);
      }
      // Level 3: bits[1:0] = 11 is a page; 01 is reserved and, like 00, invalid.
      if ((dLo & 3) !== 3) return this.fail(FaultType.Translation, 3);
    } else {
      level = p.startLevel;
      let n = p.startBits;
      let tLo = p.baseLo;
      tHi = p.baseHi;
      tableAttrs = 0;
      let wcOwned = false;
      if (wcHit) {
        wcOwned = true;
        level = 3;
        n = stride;
        tLo = wcs[wc + WC_TABLE_LO]!;
        tHi = wcs[wc + WC_TABLE_HI]!;
        tableAttrs = wcFlags & 0x1f;
      }
      for (;;) {
        const index = indexBits(vaLo, vaHi, g + stride * (3 - level), n) << 3;
        addrLo = tLo | index;
        descLo = addrLo;
        descHi = tHi;
        if (withStage2) {
          if (!this.translateStage2(addrLo, tHi, Access.Read, el0, false, true)) return false;
          descLo = this.s2OutLo;
          descHi = this.s2OutHi;
          descS2Perm = this.s2Perm;
          if (level === 3 && wcOwned && this.sideEffects) {
            // Remember the level-3 table's translation.
            wcs[wc + WC_PA_LO] = descLo & ~index;
            wcs[wc + WC_PA_HI] = descHi;
            wcs[wc + WC_FLAGS] = tableAttrs | (descS2Perm << 8) | (this.s2Level << 12) | (this.s2Shift >= g ? WC_PA_VALID : 0);
          }
        }
        // The descriptor, from the RAM fast window inline, else through the memory map.
        this.descriptorReads++;
        const off = (descLo - winBaseLo) >>> 0;
        if (descHi === winHi && off < winSize) {
          const w = off >>> 2;
          dLo = ram[w]! | 0;
          dHi = ram[w + 1]! | 0;
        } else if (this.readDescriptorSlow(descHi * 4294967296 + (descLo >>> 0))) {
          dLo = this.dLo;
          dHi = this.dHi;
        } else {
          return this.fail(FaultType.ExternalOnWalk, level);
        }
        if ((dLo & 1) === 0) return this.fail(FaultType.Translation, level);
        if (level < 3 && (dLo & 2) !== 0) {
          // Table descriptor: next-level table address, and the hierarchical attributes (bits [63:59]).
          if (oaCheck && ((dHi & 0xffff) >>> oaShift) !== 0) return this.fail(FaultType.AddressSize, level);
          tableAttrs |= dHi >>> 27;
          tLo = dLo & ~((1 << g) - 1);
          tHi = dHi & 0xffff;
          level++;
          n = stride;
          if (level === 3 && this.useWalkCaches && this.sideEffects) {
            wcOwned = true;
            wcs[wc + WC_OWNER] = owner;
            wcs[wc + WC_KEY_LO] = regionLo;
            wcs[wc + WC_KEY_HI] = vaHi;
            wcs[wc + WC_TABLE_LO] = tLo;
            wcs[wc + WC_TABLE_HI] = tHi;
            wcs[wc + WC_FLAGS] = tableAttrs;
          }
          continue;
        }
        if (level === 3 ? (dLo & 2) === 0 : !blockAllowed(g, level)) return this.fail(FaultType.Translation, level);
        break;
      }
    }
    if (oaCheck && ((dHi & 0xffff) >>> oaShift) !== 0) return this.fail(FaultType.AddressSize, level);

    // Leaf: block or page.
    const shift = g + stride * (3 - level);
    const offsetMask = (1 << shift) - 1;
    this.outLo = (dLo & ~offsetMask) | (vaLo & offsetMask);
    this.outHi = dHi & 0xffff;
    this.level = level;
    this.shift = shift;
    let newLo = dLo;
    if ((dLo & (1 << 10)) === 0) {
      if (!p.hwAccessFlag) return this.fail(FaultType.AccessFlag, level);
      newLo |= 1 << 10;
    }
    const attr = r.mairTable[(dLo >>> 2) & 7]!;
    this.attr = attr;
    this.sh = (dLo >>> 8) & 3;
    this.global = !r.twoRanges || (dLo & (1 << 11)) === 0;
    if (unalignedData && isDevice(attr)) return this.fail(FaultType.Alignment, 0);

    // Access permissions: AP[2:1], UXN/XN, PXN (S1_AP2 | S1_AP1 | S1_XN | S1_PXN), narrowed by the table
    // attributes, then mapped (with WXN) to PERM_* bits.
    let bits = ((dLo >>> 4) & (S1_AP2 | S1_AP1)) | ((dHi >>> 21) & (S1_XN | S1_PXN));
    if ((bits & S1_AP2) !== 0 && access === Access.Write && p.hwDirty && ((dHi >>> 19) & 1) === 1) {
      bits &= ~S1_AP2; // DBM: the write makes the page dirty (AP[2] cleared) instead of faulting
      newLo &= ~(1 << 7);
    }
    if (tableAttrs !== 0 && !p.hierarchicalDisabled) {
      // APTable[1] (bit 3) forbids writes and XNTable/UXNTable (bit 1) execution: the same bit positions.
      bits |= tableAttrs & (S1_AP2 | S1_XN);
      if (r.twoRanges) {
        if ((tableAttrs & 4) !== 0) bits &= ~S1_AP1; // APTable[0]: no EL0 access
        bits |= tableAttrs & S1_PXN; // PXNTable
      }
    }
    const perm = STAGE1_PERMISSIONS[(r.twoRanges ? 32 : 0) | (r.wxn ? 16 : 0) | bits]!;
    this.perm = perm;
    if (!permits(perm, access, privileged, pan)) return this.fail(FaultType.Permission, level);

    if (newLo !== dLo && this.sideEffects) {
      // The descriptor update is a write by the walk: with stage 2 it needs stage-2 write permission.
      if (withStage2 && (descS2Perm & S2Perm.W) === 0) {
        return this.failStage2(FaultType.Permission, this.s2Level, addrLo, tHi, true);
      }
      if (!this.updateDescriptor(descLo, descHi, newLo)) return this.fail(FaultType.ExternalOnWalk, level);
    }
    return true;
  }

  /**
   * Stage 2 for an IPA: from the stage-2 TLB when it holds a usable entry,
   * else by a walk (filling the TLB). `forWalk` marks the table address of a
   * stage-1 walk (checked as a read, faults report S1PTW; HCR_EL2.PTW makes
   * Device memory there a permission fault).
   */
  translateStage2(
    ipaLo: number, ipaHi: number, access: Access, el0: boolean, unalignedData: boolean, forWalk: boolean,
  ): boolean {
    return this.stage2Translation(ipaLo, ipaHi, access, el0, unalignedData, forWalk, this.stage2Tlb);
  }

  /** The stage-2 walk proper (AArch64.S2Walk) with its checks, without the stage-2 TLB. */
  walkStage2(ipaLo: number, ipaHi: number, access: Access, el0: boolean, unalignedData: boolean, forWalk: boolean): boolean {
    return this.stage2Translation(ipaLo, ipaHi, access, el0, unalignedData, forWalk, null);
  }

  /**
   * translateStage2 (with `tlb`) and walkStage2 (null) in one body, so that
   * the hot path makes one call: the TLB probe, the walk, the TLB fill.
   */
  private stage2Translation(
    ipaLo: number, ipaHi: number, access: Access, el0: boolean, unalignedData: boolean, forWalk: boolean,
    tlb: TranslationCache | null,
  ): boolean {
    const p = this.stage2;
    if (p.walkDisabled || bitsAbove(ipaLo, ipaHi, p.inputBits)) {
      return this.failStage2(FaultType.Translation, 0, ipaLo, ipaHi, forWalk);
    }
    let e = -1;
    if (tlb !== null) {
      e = tlb.find(ipaLo & ~0xfff, ipaHi, this.stage2Context, TlbKey.Global);
      if (e >= 0) {
        const info = tlb.info[e]!;
        const perm = info & 0xff, attr = (info >>> 8) & 0xff;
        if (permitsStage2(perm, access, el0) && !(isDevice(attr) && (unalignedData || (forWalk && this.stage2Ptw)))) {
          const out = tlb.pages[e << 1]! + (ipaLo & 0xfff);
          this.s2OutLo = out | 0;
          this.s2OutHi = (out / 4294967296) | 0;
          this.s2Perm = perm;
          this.s2Attr = attr;
          this.s2Sh = (info >>> 16) & 3;
          this.s2Level = (info >>> 27) & 0xf;
          this.s2Shift = (info >>> 18) & 31;
          return true;
        }
        // A cached entry that does not permit the access: walk again for the exact fault (or a newer descriptor).
      }
    }
    if (p.baseOutOfRange) return this.failStage2(FaultType.AddressSize, 0, ipaLo, ipaHi, forWalk);
    if (this.memory.ram32 !== this.winRam) this.syncWindow();
    const ram = this.winRam!, winBaseLo = this.winBaseLo, winHi = this.winHi, winSize = this.winSize;
    const g = p.granuleBits, stride = p.stride, oaBits = p.oaBits;
    const oaCheck = oaBits < 48;
    const oaShift = oaBits - 32;
    let level = p.startLevel;
    let n = p.startBits;
    let tLo = p.baseLo, tHi = p.baseHi;
    const regionShift = g + stride;
    const regionLo = ipaLo & ~((1 << regionShift) - 1);
    const wcs = this.s2wc;
    const wc = (((regionLo >>> regionShift) ^ ipaHi) & (WALK_CACHE_SIZE - 1)) * WC_STRIDE;
    const owner = this.wcGeneration | (this.stage2Context & WC_OWNER_MASK);
    if (level < 3 && this.useWalkCaches && wcs[wc + WC_OWNER] === owner && wcs[wc + WC_KEY_LO] === regionLo && wcs[wc + WC_KEY_HI] === ipaHi) {
      level = 3;
      n = stride;
      tLo = wcs[wc + WC_TABLE_LO]!;
      tHi = wcs[wc + WC_TABLE_HI]!;
    }
    for (;;) {
      const lsb = g + stride * (3 - level);
      const addrLo = tLo | (indexBits(ipaLo, ipaHi, lsb, n) << 3);
      this.descriptorReads++;
      let dLo: number, dHi: number;
      const off = (addrLo - winBaseLo) >>> 0;
      if (tHi === winHi && off < winSize) {
        const w = off >>> 2;
        dLo = ram[w]! | 0;
        dHi = ram[w + 1]! | 0;
      } else if (this.readDescriptorSlow(tHi * 4294967296 + (addrLo >>> 0))) {
        dLo = this.dLo;
        dHi = this.dHi;
      } else {
        return this.failStage2(FaultType.ExternalOnWalk, level, ipaLo, ipaHi, forWalk);
      }
      if ((dLo & 1) === 0) return this.failStage2(FaultType.Translation, level, ipaLo, ipaHi, forWalk);
      if (level < 3 && (dLo & 2) !== 0) {
        if (oaCheck && ((dHi & 0xffff) >>> oaShift) !== 0) return this.failStage2(FaultType.AddressSize, level, ipaLo, ipaHi, forWalk);
        tLo = dLo & ~((1 << g) - 1);
        tHi = dHi & 0xffff;
        level++;
        n = stride;
        if (level === 3 && this.useWalkCaches && this.sideEffects) {
          wcs[wc + WC_OWNER] = owner;
          wcs[wc + WC_KEY_LO] = regionLo;
          wcs[wc + WC_KEY_HI] = ipaHi;
          wcs[wc + WC_TABLE_LO] = tLo;
          wcs[wc + WC_TABLE_HI] = tHi;
        }
        continue;
      }
      if (level === 3 ? (dLo & 2) === 0 : !blockAllowed(g, level)) return this.failStage2(FaultType.Translation, level, ipaLo, ipaHi, forWalk);
      if (oaCheck && ((dHi & 0xffff) >>> oaShift) !== 0) return this.failStage2(FaultType.AddressSize, level, ipaLo, ipaHi, forWalk);

      const shift = lsb;
      const offsetMask = (1 << shift) - 1;
      this.s2OutLo = (dLo & ~offsetMask) | (ipaLo & offsetMask);
      this.s2OutHi = dHi & 0xffff;
      this.s2Level = level;
      this.s2Shift = shift;
      let newLo = dLo;
      if ((dLo & (1 << 10)) === 0) {
        if (!p.hwAccessFlag) return this.failStage2(FaultType.AccessFlag, level, ipaLo, ipaHi, forWalk);
        newLo |= 1 << 10;
      }
      const attr = STAGE2_ATTRIBUTES[(dLo >>> 2) & 0xf]!;
      this.s2Attr = attr;
      this.s2Sh = (dLo >>> 8) & 3;
      if (unalignedData && isDevice(attr)) return this.failStage2(FaultType.Alignment, 0, ipaLo, ipaHi, false);
      if (forWalk && this.stage2Ptw && isDevice(attr)) return this.failStage2(FaultType.Permission, level, ipaLo, ipaHi, true);

      let s2ap = (dLo >>> 6) & 3;
      if ((s2ap & 2) === 0 && access === Access.Write && !forWalk && p.hwDirty && ((dHi >>> 19) & 1) === 1) {
        s2ap |= 2; // DBM: S2AP[1] set by the write
        newLo |= 1 << 7;
      }
      // XN[1:0] (bits [54:53]) with FEAT_XNX: 00 both, 01 EL0 only, 10 none, 11 EL1 only; else XN = bit 54.
      const xn = this.xnx ? (dHi >>> 21) & 3 : ((dHi >>> 22) & 1) << 1;
      const x1 = xn === 0 || xn === 3;
      const x0 = xn === 0 || xn === 1;
      const perm = s2ap | (x1 ? S2Perm.X1 : 0) | (x0 ? S2Perm.X0 : 0); // S2AP[0] = read (S2Perm.R), S2AP[1] = write (S2Perm.W)
      this.s2Perm = perm;
      if (!permitsStage2(perm, forWalk ? Access.Read : access, el0)) {
        return this.failStage2(FaultType.Permission, level, ipaLo, ipaHi, forWalk);
      }
      if (newLo !== dLo && this.sideEffects) {
        if (!this.updateDescriptor(addrLo, tHi, newLo)) return this.failStage2(FaultType.ExternalOnWalk, level, ipaLo, ipaHi, forWalk);
      }
      if (tlb !== null && this.sideEffects) {
        tlb.insert(ipaLo & ~0xfff, ipaHi, this.stage2Context, TlbKey.Global, this.s2OutLo & ~0xfff, this.s2OutHi, 0, -1, perm,
          attr, this.s2Sh, shift, (level << 4) | TlbKey.NoLevel, e);
      }
      return true;
    }
  }
}

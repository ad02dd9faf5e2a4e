/**
 * The translation regimes' parameters, decoded from the control registers
 * (SCTLR_ELx, TCR_ELx, TTBRn_ELx, MAIR_ELx, HCR_EL2, VTCR_EL2, VTTBR_EL2)
 * once when one of them changes, so that walks and TLB lookups read plain
 * fields. Follows the Arm ARM's AArch64.S1TTWParams / AArch64.S2TTWParams,
 * AArch64.S1StartLevel and AArch64.S2InvalidSL / S2InconsistentSL.
 */
import type { CpuModel } from '../cpu/cpu-model.js';

/** TCR_ELx.PS/IPS and ID_AA64MMFR0_EL1.PARange encodings → address bits. */
const PA_SIZE_BITS = [32, 36, 40, 42, 44, 48, 52, 52];

/** PARange encoding of a PA size in bits (the largest encoding not above it). */
function paRangeOf(bits: number): number {
  let r = 0;
  for (let i = 0; i < 7; i++) if (PA_SIZE_BITS[i]! <= bits) r = i;
  return r;
}

/** Effective output address size: the PS/IPS field bounded by the PE's PARange, and by 48 without FEAT_LPA. */
export function outputAddressBits(psField: number, model: CpuModel): number {
  const range = Math.min(psField & 7, paRangeOf(model.paBits));
  return Math.min(PA_SIZE_BITS[range]!, 48);
}

export const GRANULE_4K = 12;
export const GRANULE_16K = 14;
export const GRANULE_64K = 16;

/** The PE's supported granules; an unsupported or reserved TGx value behaves as a supported one (IMPLEMENTATION DEFINED: 4 KiB first). */
function supportedGranule(bits: number, model: CpuModel): number {
  const g = model.granules;
  if (bits === GRANULE_4K && g.g4k) return bits;
  if (bits === GRANULE_16K && g.g16k) return bits;
  if (bits === GRANULE_64K && g.g64k) return bits;
  return g.g4k ? GRANULE_4K : g.g64k ? GRANULE_64K : GRANULE_16K;
}

/** TCR_ELx.TG0 / VTCR_EL2.TG0: 00 = 4 KiB, 01 = 64 KiB, 10 = 16 KiB, 11 reserved. */
export function decodeTg0(tg0: number, model: CpuModel): number {
  const bits = tg0 === 0 ? GRANULE_4K : tg0 === 1 ? GRANULE_64K : tg0 === 2 ? GRANULE_16K : -1;
  return supportedGranule(bits, model);
}

/** TCR_EL1.TG1: 01 = 16 KiB, 10 = 4 KiB, 11 = 64 KiB, 00 reserved. */
export function decodeTg1(tg1: number, model: CpuModel): number {
  const bits = tg1 === 2 ? GRANULE_4K : tg1 === 3 ? GRANULE_64K : tg1 === 1 ? GRANULE_16K : -1;
  return supportedGranule(bits, model);
}

/** Smallest and largest TxSZ without FEAT_LVA / FEAT_TTST: 48-bit to 25-bit input addresses. */
export const MIN_TXSZ = 16;
export const MAX_TXSZ = 39;

/**
 * How one table walk starts: for a stage-1 VA range (TTBR0 or TTBR1 half) or
 * for stage 2. Addresses are (lo, hi) int32 halves.
 */
let nextParamsId = 1;

export class TableWalkParams {
  /** Distinguishes the walks of different ranges/stages in the walk caches. */
  readonly id = nextParamsId++;
  /** Granule size as log2 bytes (12, 14, 16) and index bits per level (granuleBits - 3). */
  granuleBits = GRANULE_4K;
  stride = 9;
  /** Input address size in bits (64 - TxSZ). */
  inputBits = 48;
  startLevel = 0;
  /** Index bits resolved at the start level (more than `stride` for concatenated stage-2 tables). */
  startBits = 9;
  /** Base address of the start-level table (TTBR/VTTBR BADDR, aligned down to the table size). */
  baseLo = 0;
  baseHi = 0;
  /** Effective output address size in bits. */
  oaBits = 48;
  /** BADDR has bits at or above oaBits: an address size fault at level 0 on a walk. */
  baseOutOfRange = false;
  /** EPDn = 1, TxSZ out of range, or an inconsistent VTCR_EL2.SL0: a translation fault at level 0 on a TLB miss. */
  walkDisabled = false;
  /** TCR_ELx.HPDn: hierarchical permissions (APTable, XNTable, PXNTable) ignored. */
  hierarchicalDisabled = false;
  /** Hardware update of the access flag (TCR.HA) and of dirty state (TCR.HD), when FEAT_HAFDBS is implemented. */
  hwAccessFlag = false;
  hwDirty = false;
  /** Top byte ignored for addresses in this range (TCR.TBI, TBI0/TBI1). */
  tbi = false;
}

/** Start level and start-level index bits for an input size (AArch64.S1StartLevel, generalised). */
function setLevels(p: TableWalkParams, granuleBits: number, inputBits: number): void {
  const stride = granuleBits - 3;
  p.granuleBits = granuleBits;
  p.stride = stride;
  p.inputBits = inputBits;
  p.startLevel = 4 - Math.ceil((inputBits - granuleBits) / stride);
  p.startBits = inputBits - (granuleBits + stride * (3 - p.startLevel));
}

/** Base address from TTBR/VTTBR bits [47:1], aligned to the start-level table size; checks it against oaBits. */
function setBase(p: TableWalkParams, ttbrLo: number, ttbrHi: number): void {
  const alignBits = p.startBits + 3;
  p.baseLo = ttbrLo & ~((1 << alignBits) - 1) & ~1;
  p.baseHi = ttbrHi & 0xffff;
  p.baseOutOfRange = p.oaBits < 48 && (p.baseHi >>> (p.oaBits - 32)) !== 0;
}

/**
 * Stage-1 parameters of one VA range. `tg` is the decoded granule (bits),
 * `txsz` the TxSZ field, `psField` the TCR IPS/PS field.
 */
export function decodeStage1Range(
  p: TableWalkParams, model: CpuModel,
  granuleBits: number, txsz: number, psField: number, epd: boolean,
  ttbrLo: number, ttbrHi: number, tbi: boolean, hpd: boolean, ha: boolean, hd: boolean,
): void {
  p.oaBits = outputAddressBits(psField, model);
  p.tbi = tbi;
  const outOfRange = txsz < MIN_TXSZ || txsz > MAX_TXSZ;
  // An out-of-range TxSZ may be clamped or fault at level 0 (Arm ARM R_SXWGM); like QEMU we fault.
  setLevels(p, granuleBits, 64 - Math.min(Math.max(txsz, MIN_TXSZ), MAX_TXSZ));
  p.walkDisabled = epd || outOfRange;
  setBase(p, ttbrLo, ttbrHi);
  p.hierarchicalDisabled = hpd && hasHpds(model);
  p.hwAccessFlag = ha && model.hardwareAccessFlag;
  p.hwDirty = hd && ha && model.hardwareAccessFlag;
}

/**
 * Stage-2 parameters from VTCR_EL2 and VTTBR_EL2: start level from SL0 and
 * the granule, with the checks of AArch64.S2InvalidSL and
 * AArch64.S2InconsistentSL (an invalid combination faults at level 0).
 */
export function decodeStage2(p: TableWalkParams, model: CpuModel, vtcrLo: number, vttbrLo: number, vttbrHi: number): void {
  const t0sz = vtcrLo & 0x3f;
  const sl0 = (vtcrLo >>> 6) & 3;
  const granuleBits = decodeTg0((vtcrLo >>> 14) & 3, model);
  const stride = granuleBits - 3;
  p.oaBits = outputAddressBits((vtcrLo >>> 16) & 7, model);
  p.tbi = false;
  p.hierarchicalDisabled = true;
  const ha = ((vtcrLo >>> 21) & 1) === 1;
  p.hwAccessFlag = ha && model.hardwareAccessFlag;
  p.hwDirty = ha && ((vtcrLo >>> 22) & 1) === 1 && model.hardwareAccessFlag;

  // AArch64.S2MinTxSZ: the IPA size cannot exceed the PA size. Out of range is IMPLEMENTATION DEFINED
  // (clamp or a level-0 translation fault); like QEMU we fault.
  const minTxsz = Math.max(MIN_TXSZ, 64 - Math.min(model.paBits, 48));
  const txszOutOfRange = t0sz < minTxsz || t0sz > MAX_TXSZ;
  const inputBits = 64 - Math.min(Math.max(t0sz, minTxsz), MAX_TXSZ);
  let startLevel: number;
  let invalidSl = false;
  const paMax = model.paBits;
  if (granuleBits === GRANULE_4K) {
    startLevel = 2 - sl0;
    if (sl0 === 3) invalidSl = true; // level 3 start needs FEAT_TTST
    else if (sl0 === 2 && paMax < 44) invalidSl = true;
  } else if (granuleBits === GRANULE_16K) {
    startLevel = 3 - sl0;
    if (sl0 === 3) invalidSl = true; // level 0 start needs FEAT_LPA2
    else if (sl0 === 2 && paMax < 42) invalidSl = true;
  } else {
    startLevel = 3 - sl0;
    if (sl0 === 3) invalidSl = true;
    else if (sl0 === 2 && paMax < 44) invalidSl = true;
  }
  if (startLevel < 0) startLevel = 0;
  // AArch64.S2InconsistentSL: the start level must resolve at least one bit and at most 16 concatenated tables.
  const levels = 3 - startLevel;
  const minInput = levels * stride + granuleBits + 1;
  const maxInput = minInput + (stride - 1) + 4;
  const inconsistent = inputBits < minInput || inputBits > maxInput;

  p.granuleBits = granuleBits;
  p.stride = stride;
  p.inputBits = inputBits;
  p.startLevel = startLevel;
  p.startBits = Math.max(1, inputBits - (granuleBits + stride * levels));
  p.walkDisabled = txszOutOfRange || invalidSl || inconsistent;
  setBase(p, vttbrLo, vttbrHi);
}

/** FEAT_HPDS (ID_AA64MMFR1_EL1.HPDS, bits [15:12]). */
function hasHpds(model: CpuModel): boolean {
  const v = model.idRegisters['id_aa64mmfr1_el1'];
  return v !== undefined && ((v[0] >>> 12) & 0xf) >= 1;
}

/** FEAT_XNX (ID_AA64MMFR1_EL1.XNX, bits [31:28]): stage-2 XN[0] distinguishes EL1 and EL0 execution. */
export function hasXnx(model: CpuModel): boolean {
  const v = model.idRegisters['id_aa64mmfr1_el1'];
  return v !== undefined && ((v[0] >>> 28) & 0xf) >= 1;
}

/**
 * Everything about one stage-1 regime the walker needs: EL2 (one VA range)
 * or EL1&0 (two VA ranges, ASIDs).
 */
export class Stage1Regime {
  /** SCTLR_ELx.M (after HCR_EL2.DC/TGE for EL1&0). */
  enabled = false;
  /** SCTLR_ELx.WXN. */
  wxn = false;
  /** SCTLR_ELx.A: alignment checks on every data access. */
  alignmentCheck = false;
  /** SCTLR_ELx.I: instruction fetches with stage 1 off are cacheable. */
  icache = false;
  /** EL1&0: TTBR1 for VA[55] = 1. */
  readonly twoRanges: boolean;
  readonly lower = new TableWalkParams();
  readonly upper = new TableWalkParams();
  /** The current ASID (TTBR0 or TTBR1 per TCR_EL1.A1; 8 bits unless TCR_EL1.AS = 1). */
  asid = 0;
  /** 16-bit ASIDs in use (TCR_EL1.AS on a PE that has them). */
  asid16 = false;
  mairLo = 0;
  mairHi = 0;
  /** MAIR_ELx split into its eight attribute bytes, indexed by AttrIndx. */
  readonly mairTable = new Uint8Array(8);

  setMair(lo: number, hi: number): void {
    this.mairLo = lo;
    this.mairHi = hi;
    for (let i = 0; i < 4; i++) {
      this.mairTable[i] = (lo >>> (8 * i)) & 0xff;
      this.mairTable[i + 4] = (hi >>> (8 * i)) & 0xff;
    }
  }

  constructor(twoRanges: boolean) {
    this.twoRanges = twoRanges;
  }
}

/**
 * Memory attributes of a translation, in the MAIR_ELx byte format (upper
 * nibble outer, lower nibble inner; upper nibble 0 = Device with the type in
 * bits [3:2]), as PAR_EL1.ATTR reports them. Stage-2 MemAttr values are
 * converted to that format and combined with stage 1 as the Arm ARM's
 * "Combining the stage 1 and stage 2 attributes" (HCR_EL2.FWB = 0) says.
 */

/** Device-nGnRnE: data accesses with the stage-1 MMU off. */
export const ATTR_DEVICE_nGnRnE = 0x00;
/** Normal, inner and outer Write-Back, read/write-allocate (HCR_EL2.DC = 1, stage-1 walks). */
export const ATTR_NORMAL_WB = 0xff;
/** Normal, inner and outer Non-cacheable. */
export const ATTR_NORMAL_NC = 0x44;
/** Normal Write-Through, read-allocate: instruction fetches with the MMU off and SCTLR_ELx.I = 1. */
export const ATTR_NORMAL_WT = 0xaa;

/** Shareability field values (SH[1:0]). */
export const SH_NON = 0;
export const SH_OUTER = 2;
export const SH_INNER = 3;

export function isDevice(attr: number): boolean {
  return (attr & 0xf0) === 0;
}

/** The MAIR_ELx byte for AttrIndx from the (lo, hi) register halves. */
export function mairAttribute(mairLo: number, mairHi: number, index: number): number {
  return index < 4 ? (mairLo >>> (index * 8)) & 0xff : (mairHi >>> ((index - 4) * 8)) & 0xff;
}

/** One nibble of a stage-2 Normal MemAttr (01 NC, 10 WT, 11 WB) in MAIR form. */
function stage2Nibble(v: number): number {
  switch (v) {
    case 2: return 0xa; // Write-Through, read-allocate
    case 3: return 0xf; // Write-Back, read/write-allocate
    default: return 0x4; // Non-cacheable (00 in the inner field is reserved: treated as NC)
  }
}

/** Stage-2 MemAttr[3:0] (HCR_EL2.FWB = 0) in MAIR format. */
export function stage2Attribute(memAttr: number): number {
  if ((memAttr & 0xc) === 0) return (memAttr & 3) << 2; // Device, type in MemAttr[1:0]
  return (stage2Nibble((memAttr >>> 2) & 3) << 4) | stage2Nibble(memAttr & 3);
}

/** Cacheability of one nibble: the weaker wins, allocation hints come from stage 1. */
function combineNibble(s1: number, s2: number): number {
  if (s1 === 0x4 || s2 === 0x4) return 0x4; // Non-cacheable
  const s1WriteThrough = (s1 >>> 2) === 0 || (s1 >>> 2) === 2;
  if (s1WriteThrough) return s1;
  if ((s2 >>> 2) === 2) return (2 << 2) | (s1 & 3); // stage-2 Write-Through, stage-1 hints
  return s1;
}

/** combineAttributes results, indexed by s1 << 8 | s2 (-1: not computed yet). */
const combined = new Int16Array(65536).fill(-1);

/** Combined stage-1 + stage-2 memory type (the more restrictive Device type, or the weaker cacheability). */
export function combineAttributes(s1: number, s2: number): number {
  const k = (s1 << 8) | s2;
  let r = combined[k]!;
  if (r < 0) combined[k] = r = computeCombined(s1, s2);
  return r;
}

function computeCombined(s1: number, s2: number): number {
  const d1 = isDevice(s1), d2 = isDevice(s2);
  if (d1 || d2) {
    if (d1 && d2) return Math.min(s1 & 0xc, s2 & 0xc);
    return d1 ? s1 & 0xc : s2 & 0xc;
  }
  return (combineNibble(s1 >>> 4, s2 >>> 4) << 4) | combineNibble(s1 & 0xf, s2 & 0xf);
}

/** Combined shareability: Outer beats Inner beats Non-shareable. */
export function combineShareability(s1: number, s2: number): number {
  if (s1 === SH_OUTER || s2 === SH_OUTER) return SH_OUTER;
  if (s1 === SH_INNER || s2 === SH_INNER) return SH_INNER;
  return SH_NON;
}

/** Device memory and Normal inner+outer Non-cacheable memory are treated as Outer Shareable. */
export function effectiveShareability(attr: number, sh: number): number {
  if (isDevice(attr) || attr === ATTR_NORMAL_NC) return SH_OUTER;
  return sh;
}

/** Human-readable memory type, for traces and tools. */
export function describeAttribute(attr: number): string {
  if (isDevice(attr)) return ['Device-nGnRnE', 'Device-nGnRE', 'Device-nGRE', 'Device-GRE'][(attr >>> 2) & 3]!;
  const nibble = (n: number): string => {
    if (n === 0x4) return 'NC';
    const kind = (n >>> 2) === 0 || (n >>> 2) === 2 ? 'WT' : 'WB';
    const transient = (n >>> 3) === 0 ? 'T' : '';
    const alloc = `${n & 2 ? 'R' : ''}${n & 1 ? 'W' : ''}`;
    return `${kind}${transient}${alloc ? `-${alloc}A` : ''}`;
  };
  return `Normal(outer ${nibble(attr >>> 4)}, inner ${nibble(attr & 0xf)})`;
}

export function describeShareability(sh: number): string {
  return sh === SH_OUTER ? 'OSH' : sh === SH_INNER ? 'ISH' : sh === SH_NON ? 'NSH' : 'reserved';
}

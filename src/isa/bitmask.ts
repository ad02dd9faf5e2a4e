/**
 * Logical-immediate ("bitmask") encoding: a repeating element of size 2..64
 * holding a rotated run of ones, encoded as N:immr:imms (Arm ARM DecodeBitMasks).
 * Values are handled as two 32-bit halves so the CPU's decoder can use the
 * same code without BigInt.
 */

/**
 * Decodes N:immr:imms for a 32- or 64-bit operation; returns false for a reserved encoding.
 * `allowAllOnes` is DecodeBitMasks' immediate=FALSE (bitfield moves), where an all-ones element is valid.
 */
export function decodeBitMask(
  n: number, immr: number, imms: number, is64: boolean, out: Uint32Array | number[], allowAllOnes = false,
): boolean {
  // len = index of the highest set bit of N:NOT(imms)
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return false;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return false;
  if (!is64 && len > 5) return false;
  const esize = 1 << len;
  const levels = esize - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels && !allowAllOnes) return false; // reserved for logical immediates, allowed for bitfields
  // element: (s+1) ones rotated right by r within esize bits
  let lo = 0;
  let hi = 0;
  const ones = s + 1;
  // Build the element as up to 64 bits in two halves.
  let elo: number, ehi: number;
  if (ones >= 64) { elo = 0xffffffff; ehi = 0xffffffff; }
  else if (ones >= 32) { elo = 0xffffffff; ehi = ones === 32 ? 0 : (0xffffffff >>> (64 - ones)); }
  else { elo = (0xffffffff >>> (32 - ones)) >>> 0; ehi = 0; }
  // rotate right by r within esize
  if (r !== 0) {
    [elo, ehi] = rotateRightElement(elo, ehi, r, esize);
  }
  // replicate element across 64 bits
  if (esize === 64) { lo = elo; hi = ehi; }
  else if (esize === 32) { lo = elo; hi = elo; }
  else {
    const emask = (1 << esize) - 1;
    let pat = elo & emask;
    for (let width = esize; width < 32; width *= 2) pat = (pat | (pat << width)) >>> 0;
    lo = pat >>> 0; hi = pat >>> 0;
  }
  if (!is64) hi = 0;
  out[0] = lo >>> 0;
  out[1] = hi >>> 0;
  return true;
}

function rotateRightElement(lo: number, hi: number, r: number, esize: number): [number, number] {
  if (esize === 64) {
    if (r >= 32) { [lo, hi] = [hi, lo]; r -= 32; }
    if (r === 0) return [lo >>> 0, hi >>> 0];
    const nlo = ((lo >>> r) | (hi << (32 - r))) >>> 0;
    const nhi = ((hi >>> r) | (lo << (32 - r))) >>> 0;
    return [nlo, nhi];
  }
  const mask = esize === 32 ? 0xffffffff : (1 << esize) - 1;
  const v = lo & mask;
  const rotated = ((v >>> r) | (v << (esize - r))) & mask;
  return [rotated >>> 0, 0];
}

/**
 * Encodes a 64-bit value (as bigint; the assembler is not a hot path) as N:immr:imms,
 * or returns undefined when it is not a valid bitmask immediate for the width.
 */
export function encodeBitMask(value: bigint, is64: boolean): { n: number; immr: number; imms: number } | undefined {
  const width = is64 ? 64 : 32;
  const full = (1n << BigInt(width)) - 1n;
  value &= full;
  if (value === 0n || value === full) return undefined;
  // Find the smallest element size that replicates to the value.
  let esize = width;
  while (esize > 2) {
    const half = esize / 2;
    const m = (1n << BigInt(half)) - 1n;
    if ((value & m) !== ((value >> BigInt(half)) & m)) break;
    esize = half;
  }
  const emask = (1n << BigInt(esize)) - 1n;
  const elem = value & emask;
  // The element must be a rotation of a contiguous run of ones.
  for (let r = 0; r < esize; r++) {
    // rotate elem left by r to get the unrotated run (ones at the bottom)
    const rot = ((elem << BigInt(r)) | (elem >> BigInt(esize - r))) & emask;
    if (((rot + 1n) & rot) === 0n) {
      // rot = 2^ones - 1
      let ones = 0;
      let t = rot;
      while (t & 1n) { ones++; t >>= 1n; }
      if (ones === 0 || ones === esize) return undefined;
      const immr = r % esize;
      // imms: high bits encode the element size, low bits (ones-1)
      const sizeBits = (~(esize - 1) << 1) & 0x3f;
      const imms = (sizeBits | (ones - 1)) & 0x3f;
      const n = esize === 64 ? 1 : 0;
      return { n, immr, imms };
    }
  }
  return undefined;
}

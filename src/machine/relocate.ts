/**
 * Applies one AArch64 ELF relocation to an image being loaded, following the
 * "ELF for the Arm 64-bit Architecture" (AAELF64) definitions: `value` is
 * S + A, `place` is P, both as 64-bit bigints (this runs once per relocation
 * at load time, so clarity beats speed). Checked relocations report overflow;
 * the `_NC` forms do not check.
 */
import {
  R_AARCH64_ABS16,
  R_AARCH64_ABS32,
  R_AARCH64_ABS64,
  R_AARCH64_ADD_ABS_LO12_NC,
  R_AARCH64_ADR_PREL_LO21,
  R_AARCH64_ADR_PREL_PG_HI21,
  R_AARCH64_ADR_PREL_PG_HI21_NC,
  R_AARCH64_CALL26,
  R_AARCH64_CONDBR19,
  R_AARCH64_JUMP26,
  R_AARCH64_LDST128_ABS_LO12_NC,
  R_AARCH64_LDST16_ABS_LO12_NC,
  R_AARCH64_LDST32_ABS_LO12_NC,
  R_AARCH64_LDST64_ABS_LO12_NC,
  R_AARCH64_LDST8_ABS_LO12_NC,
  R_AARCH64_LD_PREL_LO19,
  R_AARCH64_MOVW_PREL_G0,
  R_AARCH64_MOVW_PREL_G0_NC,
  R_AARCH64_MOVW_PREL_G1,
  R_AARCH64_MOVW_PREL_G1_NC,
  R_AARCH64_MOVW_PREL_G2,
  R_AARCH64_MOVW_PREL_G2_NC,
  R_AARCH64_MOVW_PREL_G3,
  R_AARCH64_MOVW_SABS_G0,
  R_AARCH64_MOVW_SABS_G1,
  R_AARCH64_MOVW_SABS_G2,
  R_AARCH64_MOVW_UABS_G0,
  R_AARCH64_MOVW_UABS_G0_NC,
  R_AARCH64_MOVW_UABS_G1,
  R_AARCH64_MOVW_UABS_G1_NC,
  R_AARCH64_MOVW_UABS_G2,
  R_AARCH64_MOVW_UABS_G2_NC,
  R_AARCH64_MOVW_UABS_G3,
  R_AARCH64_NONE,
  R_AARCH64_PREL16,
  R_AARCH64_PREL32,
  R_AARCH64_PREL64,
  R_AARCH64_TSTBR14,
} from '../elf/constants.js';

/** Bytes a relocation of `type` patches (so the caller can bounds-check it). */
export function relocationWidth(type: number): number {
  switch (type) {
    case R_AARCH64_NONE:
      return 0;
    case R_AARCH64_ABS64:
    case R_AARCH64_PREL64:
      return 8;
    case R_AARCH64_ABS16:
    case R_AARCH64_PREL16:
      return 2;
    default:
      return 4;
  }
}

/** Unsigned MOVW groups: relocation type → [group, checked]. */
const MOVW_UNSIGNED: ReadonlyMap<number, readonly [number, boolean]> = new Map([
  [R_AARCH64_MOVW_UABS_G0, [0, true]],
  [R_AARCH64_MOVW_UABS_G0_NC, [0, false]],
  [R_AARCH64_MOVW_UABS_G1, [1, true]],
  [R_AARCH64_MOVW_UABS_G1_NC, [1, false]],
  [R_AARCH64_MOVW_UABS_G2, [2, true]],
  [R_AARCH64_MOVW_UABS_G2_NC, [2, false]],
  [R_AARCH64_MOVW_UABS_G3, [3, false]],
] as const);

/**
 * Signed MOVW groups: type → [group, pc-relative, checked]. Checked forms
 * also pick MOVZ or MOVN by the sign; `_NC` forms and G3 leave the opcode.
 */
const MOVW_SIGNED: ReadonlyMap<number, readonly [number, boolean, boolean]> = new Map([
  [R_AARCH64_MOVW_SABS_G0, [0, false, true]],
  [R_AARCH64_MOVW_SABS_G1, [1, false, true]],
  [R_AARCH64_MOVW_SABS_G2, [2, false, true]],
  [R_AARCH64_MOVW_PREL_G0, [0, true, true]],
  [R_AARCH64_MOVW_PREL_G0_NC, [0, true, false]],
  [R_AARCH64_MOVW_PREL_G1, [1, true, true]],
  [R_AARCH64_MOVW_PREL_G1_NC, [1, true, false]],
  [R_AARCH64_MOVW_PREL_G2, [2, true, true]],
  [R_AARCH64_MOVW_PREL_G2_NC, [2, true, false]],
  [R_AARCH64_MOVW_PREL_G3, [3, true, false]],
] as const);

/** LDST*_ABS_LO12_NC: type → log2 of the access size that scales imm12. */
const LDST_LO12_SHIFT: ReadonlyMap<number, number> = new Map([
  [R_AARCH64_LDST8_ABS_LO12_NC, 0],
  [R_AARCH64_LDST16_ABS_LO12_NC, 1],
  [R_AARCH64_LDST32_ABS_LO12_NC, 2],
  [R_AARCH64_LDST64_ABS_LO12_NC, 3],
  [R_AARCH64_LDST128_ABS_LO12_NC, 4],
]);

/**
 * Patches `image` at `offset`. Returns null on success, or a description of
 * why the relocation cannot be applied (overflow, misalignment, unsupported).
 */
export function applyRelocation(image: Uint8Array, offset: number, type: number, value: bigint, place: bigint): string | null {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const relative = value - place;

  const patchInsn = (clearMask: number, bits: number): null => {
    const insn = view.getUint32(offset, true);
    view.setUint32(offset, ((insn & ~clearMask) | bits) >>> 0, true);
    return null;
  };
  /** Checks a byte displacement of a branch or literal load and returns it as a number. */
  const branchDisplacement = (x: bigint, bits: number): number | string => {
    // `bits` is the width of the scaled immediate; the byte range is 2^(bits+1) each way.
    const limit = 1n << BigInt(bits + 1);
    if (x < -limit || x >= limit) return `displacement ${signedHex(x)} is out of range (±${hexBig(limit)})`;
    if ((x & 3n) !== 0n) return `target displacement ${signedHex(x)} is not a multiple of 4`;
    return Number(x);
  };

  switch (type) {
    case R_AARCH64_NONE:
      return null;
    case R_AARCH64_ABS64:
      view.setBigUint64(offset, BigInt.asUintN(64, value), true);
      return null;
    case R_AARCH64_PREL64:
      view.setBigUint64(offset, BigInt.asUintN(64, relative), true);
      return null;
    case R_AARCH64_ABS32:
    case R_AARCH64_PREL32: {
      const x = type === R_AARCH64_ABS32 ? value : relative;
      if (x < -(1n << 31n) || x >= 1n << 32n) return `value ${signedHex(x)} does not fit in 32 bits`;
      view.setUint32(offset, Number(BigInt.asUintN(32, x)), true);
      return null;
    }
    case R_AARCH64_ABS16:
    case R_AARCH64_PREL16: {
      const x = type === R_AARCH64_ABS16 ? value : relative;
      if (x < -(1n << 15n) || x >= 1n << 16n) return `value ${signedHex(x)} does not fit in 16 bits`;
      view.setUint16(offset, Number(BigInt.asUintN(16, x)), true);
      return null;
    }
    case R_AARCH64_LD_PREL_LO19:
    case R_AARCH64_CONDBR19: {
      const d = branchDisplacement(relative, 19);
      if (typeof d === 'string') return d;
      return patchInsn(0x7ffff << 5, ((d >> 2) & 0x7ffff) << 5);
    }
    case R_AARCH64_TSTBR14: {
      const d = branchDisplacement(relative, 14);
      if (typeof d === 'string') return d;
      return patchInsn(0x3fff << 5, ((d >> 2) & 0x3fff) << 5);
    }
    case R_AARCH64_JUMP26:
    case R_AARCH64_CALL26: {
      const d = branchDisplacement(relative, 26);
      if (typeof d === 'string') return d;
      return patchInsn(0x3ffffff, (d >> 2) & 0x3ffffff);
    }
    case R_AARCH64_ADR_PREL_LO21: {
      if (relative < -(1n << 20n) || relative >= 1n << 20n) return `displacement ${signedHex(relative)} is out of range (±1 MiB)`;
      return patchInsn(ADR_IMM_MASK, adrImmediate(Number(relative)));
    }
    case R_AARCH64_ADR_PREL_PG_HI21:
    case R_AARCH64_ADR_PREL_PG_HI21_NC: {
      const pages = (value & ~0xfffn) - (place & ~0xfffn);
      if (type === R_AARCH64_ADR_PREL_PG_HI21 && (pages < -(1n << 32n) || pages >= 1n << 32n)) {
        return `page displacement ${signedHex(pages)} is out of range (±4 GiB)`;
      }
      return patchInsn(ADR_IMM_MASK, adrImmediate(Number(BigInt.asIntN(21, pages >> 12n))));
    }
    case R_AARCH64_ADD_ABS_LO12_NC:
      return patchInsn(0xfff << 10, Number(value & 0xfffn) << 10);
    default:
      break;
  }

  const ldstShift = LDST_LO12_SHIFT.get(type);
  if (ldstShift !== undefined) {
    const lo12 = Number(value & 0xfffn);
    if ((lo12 & ((1 << ldstShift) - 1)) !== 0) {
      return `address ${hexBig(BigInt.asUintN(64, value))} is not aligned to the ${1 << ldstShift}-byte access`;
    }
    return patchInsn(0xfff << 10, (lo12 >> ldstShift) << 10);
  }

  const unsigned = MOVW_UNSIGNED.get(type);
  if (unsigned !== undefined) {
    const [group, checked] = unsigned;
    if (checked && (value < 0n || value >= 1n << BigInt(16 * (group + 1)))) {
      return `value ${signedHex(value)} does not fit in ${16 * (group + 1)} unsigned bits`;
    }
    const imm16 = Number((BigInt.asUintN(64, value) >> BigInt(16 * group)) & 0xffffn);
    return patchInsn(0xffff << 5, imm16 << 5);
  }

  const signed = MOVW_SIGNED.get(type);
  if (signed !== undefined) {
    const [group, pcRelative, checked] = signed;
    const x = pcRelative ? relative : value;
    if (!checked) {
      const imm16 = Number((BigInt.asUintN(64, x) >> BigInt(16 * group)) & 0xffffn);
      return patchInsn(0xffff << 5, imm16 << 5);
    }
    const limit = 1n << BigInt(16 * (group + 1));
    if (x < -limit || x >= limit) return `value ${signedHex(x)} does not fit in ${16 * (group + 1) + 1} signed bits`;
    // MOVN writes NOT(imm16 << shift), so a negative value is encoded inverted.
    const negative = x < 0n;
    const field = negative ? ~x : x;
    const imm16 = Number((field >> BigInt(16 * group)) & 0xffffn);
    const opc = negative ? MOVN_OPC : MOVZ_OPC;
    return patchInsn(MOVW_OPC_MASK | (0xffff << 5), opc | (imm16 << 5));
  }

  return 'unsupported relocation type';
}

/** ADR/ADRP immediate: immlo in bits [30:29], immhi in bits [23:5]. */
const ADR_IMM_MASK = (3 << 29) | (0x7ffff << 5);
function adrImmediate(imm21: number): number {
  return ((imm21 & 3) << 29) | (((imm21 >> 2) & 0x7ffff) << 5);
}

/** opc field (bits [30:29]) of the move-wide instructions. */
const MOVW_OPC_MASK = 3 << 29;
const MOVN_OPC = 0;
const MOVZ_OPC = 2 << 29;

function hexBig(x: bigint): string {
  return '0x' + x.toString(16);
}

function signedHex(x: bigint): string {
  return x < 0n ? '-' + hexBig(-x) : hexBig(x);
}

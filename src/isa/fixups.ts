/**
 * Fixups: operand fields whose value is only known at layout or link time
 * (PC-relative labels, relocation operators such as :lo12:). The instruction
 * table's operand kinds request them; the assembler resolves them, either by
 * patching the word here or by emitting the ELF relocation named here.
 */

export type FixupKind =
  | 'branch26' | 'call26' | 'condbr19' | 'tstbr14' | 'ld_prel19' | 'adr21' | 'adrp21' | 'adrp21_nc'
  | 'add_lo12' | 'ldst8_lo12' | 'ldst16_lo12' | 'ldst32_lo12' | 'ldst64_lo12' | 'ldst128_lo12'
  | 'movw_uabs_g0' | 'movw_uabs_g0_nc' | 'movw_uabs_g1' | 'movw_uabs_g1_nc' | 'movw_uabs_g2' | 'movw_uabs_g2_nc' | 'movw_uabs_g3'
  | 'movw_sabs_g0' | 'movw_sabs_g1' | 'movw_sabs_g2'
  | 'movw_prel_g0' | 'movw_prel_g0_nc' | 'movw_prel_g1' | 'movw_prel_g1_nc' | 'movw_prel_g2' | 'movw_prel_g2_nc' | 'movw_prel_g3'
  | 'got_page' | 'got_lo12'
  | 'data8' | 'data16' | 'data32' | 'data64' | 'prel16' | 'prel32' | 'prel64';

/** ELF relocation numbers (AArch64 ELF ABI). */
export const RELOC: Record<FixupKind, number> = {
  data64: 257, data32: 258, data16: 259, data8: 0, prel64: 260, prel32: 261, prel16: 262,
  movw_uabs_g0: 263, movw_uabs_g0_nc: 264, movw_uabs_g1: 265, movw_uabs_g1_nc: 266,
  movw_uabs_g2: 267, movw_uabs_g2_nc: 268, movw_uabs_g3: 269,
  movw_sabs_g0: 270, movw_sabs_g1: 271, movw_sabs_g2: 272,
  movw_prel_g0: 287, movw_prel_g0_nc: 288, movw_prel_g1: 289, movw_prel_g1_nc: 290,
  movw_prel_g2: 291, movw_prel_g2_nc: 292, movw_prel_g3: 293,
  ld_prel19: 273, adr21: 274, adrp21: 275, adrp21_nc: 276, add_lo12: 277, ldst8_lo12: 278,
  tstbr14: 279, condbr19: 280, branch26: 282, call26: 283, ldst16_lo12: 284, ldst32_lo12: 285,
  ldst64_lo12: 286, ldst128_lo12: 299, got_page: 311, got_lo12: 312,
};

export function isPcRelative(kind: FixupKind): boolean {
  switch (kind) {
    case 'branch26': case 'call26': case 'condbr19': case 'tstbr14': case 'ld_prel19':
    case 'adr21': case 'adrp21': case 'adrp21_nc': case 'prel16': case 'prel32': case 'prel64':
    case 'movw_prel_g0': case 'movw_prel_g0_nc': case 'movw_prel_g1': case 'movw_prel_g1_nc':
    case 'movw_prel_g2': case 'movw_prel_g2_nc': case 'movw_prel_g3':
      return true;
    default:
      return false;
  }
}

function fits(v: bigint, bits: number, signed: boolean): boolean {
  if (signed) return v >= -(1n << BigInt(bits - 1)) && v < (1n << BigInt(bits - 1));
  return v >= 0n && v < (1n << BigInt(bits));
}

/**
 * Patches `word` with the resolved value of a fixup. For PC-relative kinds,
 * `value` is target - place (adrp: page(target) - page(place)). Returns the new
 * word or an error message (GNU-like wording) when the value does not fit.
 */
export function applyFixup(kind: FixupKind, word: number, value: bigint): number | string {
  const w = word >>> 0;
  const setBits = (lsb: number, width: number, v: bigint) =>
    ((w & ~(((2 ** width - 1) << lsb) >>> 0)) | (Number(v & BigInt(2 ** width - 1)) << lsb)) >>> 0;
  switch (kind) {
    case 'branch26': case 'call26':
      if (value & 3n) return 'branch target is misaligned';
      if (!fits(value >> 2n, 26, true)) return 'branch out of range';
      return setBits(0, 26, value >> 2n);
    case 'condbr19': case 'ld_prel19':
      if (value & 3n) return kind === 'ld_prel19' ? 'literal load target is misaligned' : 'branch target is misaligned';
      if (!fits(value >> 2n, 19, true)) return kind === 'ld_prel19' ? 'literal load offset out of range' : 'conditional branch out of range';
      return setBits(5, 19, value >> 2n);
    case 'tstbr14':
      if (value & 3n) return 'branch target is misaligned';
      if (!fits(value >> 2n, 14, true)) return 'conditional branch out of range';
      return setBits(5, 14, value >> 2n);
    case 'adr21':
      if (!fits(value, 21, true)) return 'immediate out of range';
      return withImmLo(setBits(5, 19, value >> 2n), Number(value & 3n));
    case 'adrp21': case 'adrp21_nc': {
      const pages = value >> 12n;
      if (kind === 'adrp21' && !fits(pages, 21, true)) return 'immediate out of range';
      return withImmLo(setBits(5, 19, pages >> 2n), Number(pages & 3n));
    }
    case 'add_lo12': return setBits(10, 12, value & 0xfffn);
    case 'ldst8_lo12': return setBits(10, 12, value & 0xfffn);
    case 'ldst16_lo12': return setBits(10, 12, (value & 0xfffn) >> 1n);
    case 'ldst32_lo12': return setBits(10, 12, (value & 0xfffn) >> 2n);
    case 'ldst64_lo12': case 'got_lo12': return setBits(10, 12, (value & 0xfffn) >> 3n);
    case 'ldst128_lo12': return setBits(10, 12, (value & 0xfffn) >> 4n);
    case 'movw_uabs_g0': case 'movw_uabs_g1': case 'movw_uabs_g2': case 'movw_uabs_g3': {
      const g = Number(kind[kind.length - 1]);
      const part = value >> BigInt(16 * g);
      if (g < 3 && (value < 0n || part > 0xffffn)) return 'immediate out of range';
      return setBits(5, 16, part & 0xffffn);
    }
    case 'movw_uabs_g0_nc': case 'movw_uabs_g1_nc': case 'movw_uabs_g2_nc': {
      const g = Number(kind[kind.length - 4]);
      return setBits(5, 16, (value >> BigInt(16 * g)) & 0xffffn);
    }
    case 'movw_sabs_g0': case 'movw_sabs_g1': case 'movw_sabs_g2':
    case 'movw_prel_g0': case 'movw_prel_g1': case 'movw_prel_g2': case 'movw_prel_g3': {
      const g = Number(kind[kind.length - 1]);
      const part = value >> BigInt(16 * g);
      // Signed forms pick MOVZ for non-negative values and MOVN (of the inverted value) for negative ones.
      const neg = value < 0n;
      const field = neg ? (~part) & 0xffffn : part & 0xffffn;
      if (g < 3 && !fits(part, 17, true)) return 'immediate out of range';
      let nw = setBits(5, 16, field);
      nw = neg ? (nw & ~(1 << 30)) >>> 0 : (nw | (1 << 30)) >>> 0;
      return nw;
    }
    case 'movw_prel_g0_nc': case 'movw_prel_g1_nc': case 'movw_prel_g2_nc': {
      const g = Number(kind[kind.length - 4]);
      return setBits(5, 16, (value >> BigInt(16 * g)) & 0xffffn);
    }
    case 'got_page':
      return 'GOT-relative references need a linker';
    case 'data8': case 'data16': case 'data32': case 'data64': case 'prel16': case 'prel32': case 'prel64':
      return `data fixup ${kind} is not an instruction fixup`;
  }
  return `unhandled fixup ${kind as string}`;
}

/** ADR/ADRP keep the low two bits of the offset in bits 30:29 (immlo). */
function withImmLo(word: number, immlo: number): number {
  return ((word & ~(3 << 29)) | (immlo << 29)) >>> 0;
}

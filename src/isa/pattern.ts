/**
 * Bit patterns in the style of QEMU's decodetree: a string of space-separated
 * tokens, most significant bit first, totalling 32 bits. A token is a run of
 * literal bits ("0110"), don't-care bits ("x" or "xx"), or a field
 * ("Rd", "imm12:12"). Fields without an explicit width use FIELD_WIDTHS.
 * A field may appear with '=' to pin its value in an alias ("Rn=11111").
 */

export interface FieldSpec {
  name: string;
  lsb: number;
  width: number;
  /** Value pinned by the pattern ('Rd=11111'), for aliases. */
  fixed?: number;
}

export interface ParsedPattern {
  mask: number;
  value: number;
  fields: FieldSpec[];
}

/** Conventional widths, so patterns read like the Arm ARM's encoding diagrams. */
export const FIELD_WIDTHS: Record<string, number> = {
  Rd: 5, Rn: 5, Rm: 5, Ra: 5, Rt: 5, Rt2: 5, Rs: 5,
  sf: 1, sh: 1, N: 1, S: 1, Q: 1, L: 1, o0: 1, o1: 1, o2: 1, o3: 1, b5: 1, op: 1, U: 1, V: 1,
  immr: 6, imms: 6, imm6: 6, imm7: 7, imm9: 9, imm12: 12, imm14: 14, imm16: 16, imm19: 19, imm26: 26,
  immlo: 2, immhi: 19, hw: 2, shift: 2, cond: 4, nzcv: 4, imm5: 5, option: 3, imm3: 3, size: 2, opc: 2,
  b40: 5, CRn: 4, CRm: 4, op1: 3, op2: 3, op0: 2, sys_op0: 1, imm8: 8, rmode: 2, ftype: 2, opcode: 3,
  imm4: 4, scale: 6, o3_: 1, cmode: 4, a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1,
};

export function parsePattern(pattern: string): ParsedPattern {
  let bit = 32;
  let mask = 0;
  let value = 0;
  const fields: FieldSpec[] = [];
  for (const token of pattern.trim().split(/\s+/)) {
    if (/^[01x]+$/.test(token)) {
      for (const ch of token) {
        bit--;
        if (ch !== 'x') {
          mask |= 1 << bit;
          if (ch === '1') value |= 1 << bit;
        }
      }
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?(?:=([01]+))?$/.exec(token);
    if (!m) throw new Error(`bad pattern token '${token}' in '${pattern}'`);
    const name = m[1]!;
    const fixed = m[3];
    const width = m[2] !== undefined ? Number(m[2]) : fixed !== undefined ? fixed.length : FIELD_WIDTHS[name];
    if (width === undefined) throw new Error(`field '${name}' needs a width in '${pattern}'`);
    bit -= width;
    if (fixed !== undefined) {
      if (fixed.length !== width) throw new Error(`fixed value width mismatch for '${token}'`);
      for (let i = 0; i < width; i++) {
        const b = bit + width - 1 - i;
        mask |= 1 << b;
        if (fixed[i] === '1') value |= 1 << b;
      }
    }
    fields.push(fixed !== undefined ? { name, lsb: bit, width, fixed: parseInt(fixed, 2) } : { name, lsb: bit, width });
  }
  if (bit !== 0) throw new Error(`pattern is ${32 - bit} bits, not 32: '${pattern}'`);
  return { mask: mask >>> 0, value: value >>> 0, fields };
}

export function extractField(word: number, f: FieldSpec): number {
  return f.width === 32 ? word >>> 0 : (word >>> f.lsb) & ((1 << f.width) - 1);
}

export function insertField(word: number, f: FieldSpec, v: number): number {
  const m = (f.width === 32 ? 0xffffffff : (1 << f.width) - 1) >>> 0;
  return ((word & ~(m << f.lsb)) | ((v & m) << f.lsb)) >>> 0;
}

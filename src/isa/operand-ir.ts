/**
 * The operand IR shared by the assembler's parser and the instruction table.
 * The parser produces these shapes without knowing which instruction they
 * belong to; the table's operand kinds decide whether a shape fits.
 */

/** An assembler expression, evaluated by the assembler (symbols, '.', relocation operators). */
export type Expr =
  /** `hex` records a number written in hexadecimal (FMOV reads those as bit patterns, as GNU as does). */
  | { t: 'num'; v: bigint; hex?: true }
  | { t: 'sym'; name: string }
  | { t: 'dot' }
  | { t: 'localref'; n: number; dir: 'b' | 'f' }
  | { t: 'un'; op: '-' | '~' | '!' | '+'; a: Expr }
  | { t: 'bin'; op: BinaryOp; a: Expr; b: Expr }
  | { t: 'reloc'; op: string; a: Expr }
  | { t: 'str'; v: string };

export type BinaryOp =
  | '*' | '/' | '%' | '<<' | '>>' | '|' | '&' | '^' | '!' | '+' | '-'
  | '==' | '!=' | '<>' | '<' | '>' | '<=' | '>=' | '&&' | '||';

/** Register classes as written in source. */
export type RegClass =
  | 'x' | 'w' | 'sp' | 'wsp' | 'xzr' | 'wzr'
  | 'b' | 'h' | 's' | 'd' | 'q' | 'v' | 'z' | 'p';

export interface RegRef {
  cls: RegClass;
  /** 0..31; sp/wsp/xzr/wzr are 31. */
  num: number;
  /** Vector arrangement such as '8b', '4s', or an element size 'b','h','s','d' with an index. */
  arrangement?: string;
  /** Element index for `v0.s[1]`. */
  index?: number;
}

export type ShiftOp =
  | 'lsl' | 'lsr' | 'asr' | 'ror' | 'msl'
  | 'uxtb' | 'uxth' | 'uxtw' | 'uxtx' | 'sxtb' | 'sxth' | 'sxtw' | 'sxtx';

export interface Shift {
  op: ShiftOp;
  /** Omitted amount (e.g. `uxtw` alone) is undefined. */
  amount?: Expr;
}

export type Operand =
  | { k: 'reg'; reg: RegRef }
  /** `#expr` (hash=true) or a bare expression such as a label or a system-register name. */
  | { k: 'imm'; e: Expr; hash: boolean }
  | { k: 'shift'; shift: Shift }
  | {
      k: 'mem';
      base: RegRef;
      /** Immediate or register offset. */
      offset?: { imm: Expr } | { reg: RegRef; shift?: Shift };
      /** 'pre' for `[..]!`, 'post' for `[..], off` (the post offset is in postOffset). */
      mode: 'offset' | 'pre' | 'post';
      postOffset?: { imm: Expr } | { reg: RegRef };
    }
  /** `=expr` for the `ldr Rt, =value` literal-pool pseudo-instruction. */
  | { k: 'literal'; e: Expr }
  /** `{v0.16b, v1.16b}` or `{v0.s - v3.s}[1]` for SIMD structure loads/stores. */
  | { k: 'list'; regs: RegRef[]; index?: number };

export function exprSymbolName(e: Expr): string | undefined {
  return e.t === 'sym' ? e.name : undefined;
}

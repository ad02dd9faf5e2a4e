/**
 * The shape of one instruction-table entry. Each entry ties assembler syntax
 * (mnemonic + operand kinds) to an encoding (bit pattern with fields) and to
 * the CPU's semantic handler (`exec`). The encoder, the decoder and the
 * disassembler all read the same entries.
 */
import type { FieldSpec } from './pattern.js';

export type Feature =
  | 'lse' | 'rcpc' | 'pauth' | 'bti' | 'sb' | 'predres' | 'fp' | 'simd' | 'crc' | 'lor' | 'pan' | 'ras'
  | 'ssbs' | 'dit' | 'uao' | 'memtag' | 'flagm' | 'rng' | 'ls64' | 'wfxt' | 'v8.1' | 'v8.2' | 'v8.3' | 'v8.4' | 'v8.5';

export type Fields = Record<string, number>;

export interface OperandSpec {
  /** The token as written in the table, e.g. 'Xd|sp', '#aimm', 'mem.u12'. */
  token: string;
  kind: import('./operand-kinds.js').OperandKind;
  optional: boolean;
}

export interface InsnDef {
  /** Unique id, e.g. 'ADD_imm_x'. */
  id: string;
  mnemonic: string;
  operands: OperandSpec[];
  pattern: string;
  mask: number;
  value: number;
  fields: FieldSpec[];
  /** Semantic handler name for the CPU; aliases and assembler-only forms share their base's. */
  exec: string;
  /** 32 or 64 for sized integer forms, the access size for loads/stores, else 0. */
  datasize: number;
  /** An alias is preferred by the disassembler when `preferred(fields)` holds; the CPU decodes the base form. */
  alias: boolean;
  preferred?: (f: Fields, d: InsnDef) => boolean;
  /** Accepted by the assembler only (e.g. `ldr` with an offset that needs LDUR); never chosen by the decoder. */
  asmOnly: boolean;
  feature?: Feature;
  /** Extra per-entry parameters for operand kinds (access scale, element size, …). */
  params: Record<string, number | string>;
  /** Where it was defined, for diagnostics in the table itself. */
  group: string;
}

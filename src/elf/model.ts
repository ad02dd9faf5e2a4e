/**
 * The in-memory description of a relocatable object that the assembler builds
 * and `writeRelocatableObject` serialises. It is deliberately close to what
 * GNU as puts in its ELF output, so oracle comparisons stay one-to-one.
 */

export type ObjSectionType = 'progbits' | 'nobits' | 'note' | 'init_array' | 'fini_array';

export interface ObjSectionFlags {
  alloc: boolean;
  write: boolean;
  exec: boolean;
  merge?: boolean;
  strings?: boolean;
  /** Sets SHF_GROUP only; this model has no way to describe the group section itself. */
  group?: boolean;
  tls?: boolean;
}

export interface ObjSection {
  name: string;
  type: ObjSectionType;
  flags: ObjSectionFlags;
  /** sh_addralign: 0 or a power of two. */
  align: number;
  entsize?: number;
  /** Section contents; empty for nobits. */
  data: Uint8Array;
  /** Section size; for progbits-like sections it must equal data.length. */
  size: number;
  relocs: ObjReloc[];
}

export interface ObjReloc {
  /** Offset within the section the relocation applies to. */
  offset: number;
  /** An R_AARCH64_* number from ./constants.ts. */
  type: number;
  /**
   * A symbol by name, or the section symbol of a section (what GNU as emits for
   * references to local symbols, with the symbol's offset folded into the addend).
   */
  symbol: string | { section: string };
  addend: bigint;
}

export type ObjSymbolBinding = 'local' | 'global' | 'weak';
export type ObjSymbolType = 'notype' | 'func' | 'object' | 'section' | 'file' | 'tls';
export type ObjSymbolVisibility = 'default' | 'hidden' | 'protected' | 'internal';

export interface ObjSymbol {
  name: string;
  /** Offset in its section; for 'COM' symbols, the alignment (as GNU as stores it). */
  value: bigint;
  size: bigint;
  /** A section name, or one of the special indices. */
  section: string | 'UND' | 'ABS' | 'COM';
  binding: ObjSymbolBinding;
  type: ObjSymbolType;
  visibility: ObjSymbolVisibility;
}

export interface ObjectModel {
  /** In creation order; the writer keeps this order in the section header table. */
  sections: ObjSection[];
  /** Every symbol except the section symbols, which the writer creates for each section. */
  symbols: ObjSymbol[];
}

/**
 * Sections and symbols as the assembler builds them: growable section
 * contents, the fixups still to resolve, mapping-symbol state, and the
 * symbol table.
 */
import type { Expr } from '../isa/operand-ir.js';
import type { FixupKind } from '../isa/fixups.js';
import type { SourceLocation } from '../common/diagnostics.js';
import type { ObjSectionFlags, ObjSectionType } from '../elf/model.js';

export interface Fixup {
  offset: number;
  kind: FixupKind;
  expr: Expr;
  loc: SourceLocation;
  /** Value of '.' when the fixup was made (data fixups such as `.word x - .`). */
  dotOffset: number;
  /** Bytes the fixup covers (instructions: 4). */
  size: number;
  /** The instruction word before patching (instructions only). */
  isInstruction: boolean;
}

export class Section {
  data = new Uint8Array(256);
  size = 0;
  align = 1;
  fixups: Fixup[] = [];
  /** Mapping-symbol state: what kind of content was emitted last ('x' code, 'd' data); shared by a section's subsections, as in gas. */
  private ownMapping: 'none' | 'x' | 'd' = 'none';
  get mapping(): 'none' | 'x' | 'd' {
    return this.parent ? this.parent.mapping : this.ownMapping;
  }
  set mapping(v: 'none' | 'x' | 'd') {
    if (this.parent) this.parent.mapping = v; else this.ownMapping = v;
  }
  /** For a subsection chunk (`.subsection N`, N > 0): the section it belongs to. */
  parent: Section | undefined = undefined;
  subsectionNumber = 0;
  /** Subsections N > 0 of this section, laid out after it in ascending N at the end of assembly. */
  readonly subsections: Section[] = [];
  mappingSymbols: { name: '$x' | '$d'; offset: number }[] = [];
  /** Listing: offset → source location of what was emitted there. */
  listing: { offset: number; size: number; loc: SourceLocation }[] = [];

  constructor(
    readonly name: string,
    public type: ObjSectionType,
    public flags: ObjSectionFlags,
    readonly index: number,
    public entsize = 0,
  ) {}

  get isNobits(): boolean {
    return this.type === 'nobits';
  }

  reserve(n: number): number {
    const at = this.size;
    const need = at + n;
    if (!this.isNobits && need > this.data.length) {
      let cap = this.data.length;
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    this.size = need;
    return at;
  }

  emitBytes(bytes: ArrayLike<number>): void {
    const at = this.reserve(bytes.length);
    if (!this.isNobits) for (let i = 0; i < bytes.length; i++) this.data[at + i] = bytes[i]! & 0xff;
  }

  emitLE(value: bigint, size: number): void {
    const at = this.reserve(size);
    if (this.isNobits) return;
    let v = BigInt.asUintN(size * 8, value);
    for (let i = 0; i < size; i++) {
      this.data[at + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  emitWord(word: number): void {
    const at = this.reserve(4);
    if (this.isNobits) return;
    this.data[at] = word & 0xff;
    this.data[at + 1] = (word >>> 8) & 0xff;
    this.data[at + 2] = (word >>> 16) & 0xff;
    this.data[at + 3] = (word >>> 24) & 0xff;
  }

  readWord(offset: number): number {
    const d = this.data;
    return (d[offset]! | (d[offset + 1]! << 8) | (d[offset + 2]! << 16) | (d[offset + 3]! << 24)) >>> 0;
  }

  writeLE(offset: number, value: bigint, size: number): void {
    let v = BigInt.asUintN(size * 8, value);
    for (let i = 0; i < size; i++) {
      this.data[offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  contents(): Uint8Array {
    return this.isNobits ? new Uint8Array(0) : this.data.slice(0, this.size);
  }

  /**
   * Mapping symbols ($x code, $d data; AArch64 ELF ABI) placed as GNU as
   * places them. A first data directive in a non-code section starts no
   * mapping; an instruction after unmapped data first marks offset 0 as data.
   */
  mapInstructions(): void {
    if (this.mapping === 'x') return;
    if (this.mapping === 'none' && this.size > 0) this.addMappingSymbol('$d', 0);
    this.setMapping('x');
  }

  mapData(): void {
    if (this.mapping === 'd') return;
    if (this.mapping === 'none' && !(this.parent ?? this).flags.exec) return;
    this.setMapping('d');
  }

  /** Alignment and fill frags switch the mapping unconditionally (code alignment in code sections). */
  setMapping(kind: 'x' | 'd'): void {
    if (this.mapping === kind) return;
    // (also in nobits sections: gas records fill and alignment frags there too)
    this.mapping = kind;
    this.addMappingSymbol(kind === 'x' ? '$x' : '$d', this.size);
  }

  addMappingSymbol(name: '$x' | '$d', offset: number): void {
    const last = this.mappingSymbols[this.mappingSymbols.length - 1];
    // A later mapping symbol at the same address replaces the earlier one.
    if (last && last.offset === offset) this.mappingSymbols.pop();
    this.mappingSymbols.push({ name, offset });
  }

  /**
   * Appends the subsections to this section (ascending number), moving their
   * labels, fixups, mapping symbols and listing entries by their new base.
   * Returns the base offset of each chunk.
   */
  mergeSubsections(): Map<Section, number> {
    const bases = new Map<Section, number>();
    const chunks = [...this.subsections].sort((a, b) => a.subsectionNumber - b.subsectionNumber);
    for (const c of chunks) {
      if (c.align > this.align) this.align = c.align;
      const pad = (c.align - (this.size % c.align)) % c.align;
      if (pad) this.reserve(pad);
      const base = this.size;
      bases.set(c, base);
      // gas joins subsections with an alignment frag, which marks the section's kind
      // ($x in code, $d elsewhere) when the mapping state at that point differs.
      this.setMapping(this.flags.exec ? 'x' : 'd');
      this.reserve(c.size);
      if (!this.isNobits) this.data.set(c.data.subarray(0, c.size), base);
      for (const fx of c.fixups) this.fixups.push({ ...fx, offset: fx.offset + base, dotOffset: fx.dotOffset + base });
      for (const m of c.mappingSymbols) this.addMappingSymbol(m.name, m.offset + base);
      for (const l of c.listing) this.listing.push({ ...l, offset: l.offset + base });
    }
    this.subsections.length = 0;
    return bases;
  }

  /** Mapping symbols that mark nothing (at the end of the section) are dropped, as gas does. */
  finalMappingSymbols(): { name: '$x' | '$d'; offset: number }[] {
    return this.mappingSymbols.filter((m) => m.offset < this.size);
  }
}

export type SymbolBinding = 'local' | 'global' | 'weak';

export interface AsmSymbol {
  name: string;
  section?: Section;
  /** For label symbols: offset in the section; for absolute symbols: the value. */
  value: bigint;
  defined: boolean;
  /** `.set`/`.equ` to an expression that could not be resolved when seen. */
  equated?: Expr;
  binding: SymbolBinding;
  explicitBinding: boolean;
  type: 'notype' | 'func' | 'object' | 'tls';
  visibility: 'default' | 'hidden' | 'protected' | 'internal';
  size?: Expr;
  /** Referenced by a relocation or an expression (an undefined referenced symbol goes to the symbol table). */
  referenced: boolean;
  /** A `.set` symbol may be redefined; a label may not. */
  isEquate: boolean;
  /** Internal names (numeric local labels) never reach the symbol table. */
  internal: boolean;
  loc?: SourceLocation;
}

export class SymbolTable {
  private readonly map = new Map<string, AsmSymbol>();

  get(name: string): AsmSymbol | undefined {
    return this.map.get(name);
  }

  getOrCreate(name: string): AsmSymbol {
    let s = this.map.get(name);
    if (!s) {
      s = {
        name, value: 0n, defined: false, binding: 'local', explicitBinding: false, type: 'notype',
        visibility: 'default', referenced: false, isEquate: false, internal: false,
      };
      this.map.set(name, s);
    }
    return s;
  }

  all(): IterableIterator<AsmSymbol> {
    return this.map.values();
  }
}

/**
 * A defensive ELF64 little-endian AArch64 reader. Every malformed, truncated
 * or foreign input is reported as an ElfFormatError with a message a person
 * can act on; no other exception escapes readElf.
 */
import {
  EI_CLASS,
  EI_DATA,
  EI_VERSION,
  ELF64_EHDR_SIZE,
  ELF64_PHDR_SIZE,
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SHDR_SIZE,
  ELF64_SYM_SIZE,
  ELF_MAGIC,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EM_AARCH64,
  EV_CURRENT,
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  relocTypeName,
} from './constants.js';

export class ElfFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfFormatError';
  }
}

export type ElfSymbolBinding = 'local' | 'global' | 'weak' | 'unique' | `binding${number}`;
export type ElfSymbolType =
  | 'notype'
  | 'object'
  | 'func'
  | 'section'
  | 'file'
  | 'common'
  | 'tls'
  | 'ifunc'
  | `type${number}`;
export type ElfSymbolVisibility = 'default' | 'internal' | 'hidden' | 'protected';

export interface ElfSection {
  index: number;
  name: string;
  /** SHT_* number. */
  type: number;
  /** SHF_* bits. */
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
  /** The section's bytes (a copy); empty for SHT_NOBITS and SHT_NULL. */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in its symbol table. */
  index: number;
  /** For section symbols GNU leaves the name empty; this holds the section's name instead. */
  name: string;
  value: bigint;
  size: bigint;
  binding: ElfSymbolBinding;
  type: ElfSymbolType;
  visibility: ElfSymbolVisibility;
  /** Raw section index (after SHN_XINDEX resolution). */
  sectionIndex: number;
  /** Section name, or 'UND' / 'ABS' / 'COM', or 'SHN_0x....' for other reserved indices. */
  section: string;
}

export interface ElfRelocation {
  offset: bigint;
  type: number;
  typeName: string;
  symbolIndex: number;
  /** Symbol name, or the section for a relocation against a section symbol ('' for index 0). */
  symbol: string | { section: string };
  /** Explicit addend (0n for SHT_REL tables). */
  addend: bigint;
}

export interface ElfRelocationTable {
  /** The relocation section's own name, e.g. ".rela.text". */
  name: string;
  sectionIndex: number;
  /** Name of the section the relocations apply to ('' when sh_info is 0, as in .rela.dyn). */
  target: string;
  targetIndex: number;
  relocations: ElfRelocation[];
}

export interface ElfProgramHeader {
  /** PT_* number. */
  type: number;
  /** PF_* bits. */
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: bigint;
  align: bigint;
  /** The filesz bytes the segment loads from the file (a copy). */
  data: Uint8Array;
}

export interface ElfFile {
  /** ET_* number. */
  type: number;
  machine: number;
  entry: bigint;
  flags: number;
  sections: ElfSection[];
  /** Entries of .symtab (SHT_SYMTAB), including the null entry at index 0; empty if absent. */
  symbols: ElfSymbol[];
  relocations: ElfRelocationTable[];
  programHeaders: ElfProgramHeader[];
}

/** The first section with this name. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** All relocations (from every REL/RELA table) that apply to the named section. */
export function relocationsFor(elf: ElfFile, sectionName: string): ElfRelocation[] {
  return elf.relocations.filter((t) => t.target === sectionName).flatMap((t) => t.relocations);
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** Bounds-checked little-endian field access over the input. */
class InputView {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  private check(at: number, width: number, what: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + width > this.bytes.length) {
      throw new ElfFormatError(`truncated ${what} at ${hex(at)}`);
    }
  }
  u8(at: number, what: string): number {
    this.check(at, 1, what);
    return this.view.getUint8(at);
  }
  u16(at: number, what: string): number {
    this.check(at, 2, what);
    return this.view.getUint16(at, true);
  }
  u32(at: number, what: string): number {
    this.check(at, 4, what);
    return this.view.getUint32(at, true);
  }
  u64(at: number, what: string): bigint {
    this.check(at, 8, what);
    return this.view.getBigUint64(at, true);
  }
  i64(at: number, what: string): bigint {
    this.check(at, 8, what);
    return this.view.getBigInt64(at, true);
  }
  /** A 64-bit file offset or size that must be usable as a JS number. */
  u64AsNumber(at: number, what: string): number {
    const value = this.u64(at, what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ElfFormatError(`${what} ${hex(value)} is too large`);
    }
    return Number(value);
  }
  /** Checks that [offset, offset+size) lies inside the file. */
  requireRange(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new ElfFormatError(
        `truncated ${what} at ${hex(offset)}: needs ${hex(size)} bytes, file is ${hex(this.bytes.length)} bytes`,
      );
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/** Reads a NUL-terminated name at `offset` inside the string table `table`. */
function readString(table: ElfSection, offset: number, what: string): string {
  if (offset >= table.data.length) {
    if (offset === 0) return ''; // an empty table holds only the empty name
    throw new ElfFormatError(
      `${what}: name offset ${hex(offset)} is outside string table [${table.index}] (${hex(table.data.length)} bytes)`,
    );
  }
  const end = table.data.indexOf(0, offset);
  if (end < 0) {
    throw new ElfFormatError(`${what}: name at ${hex(offset)} in string table [${table.index}] is not NUL-terminated`);
  }
  return utf8.decode(table.data.subarray(offset, end));
}

const BINDINGS: ElfSymbolBinding[] = ['local', 'global', 'weak'];
const SYMBOL_TYPES: Record<number, ElfSymbolType> = {
  0: 'notype',
  1: 'object',
  2: 'func',
  3: 'section',
  4: 'file',
  5: 'common',
  6: 'tls',
  10: 'ifunc',
};
const VISIBILITIES: ElfSymbolVisibility[] = ['default', 'internal', 'hidden', 'protected'];

function checkIdent(input: InputView): void {
  const bytes = input.bytes;
  if (bytes.length < 4 || ELF_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ElfFormatError('not an ELF file (bad magic number)');
  }
  if (bytes.length < 16) throw new ElfFormatError(`truncated ELF identification: file is ${bytes.length} bytes`);
  const elfClass = bytes[EI_CLASS];
  if (elfClass === ELFCLASS32) throw new ElfFormatError('ELF class 32 not supported (only ELF64)');
  if (elfClass !== ELFCLASS64) throw new ElfFormatError(`invalid ELF class ${elfClass}`);
  const encoding = bytes[EI_DATA];
  if (encoding === ELFDATA2MSB) throw new ElfFormatError('big-endian ELF not supported (only little-endian)');
  if (encoding !== ELFDATA2LSB) throw new ElfFormatError(`invalid ELF data encoding ${encoding}`);
  if (bytes[EI_VERSION] !== EV_CURRENT) throw new ElfFormatError(`unsupported ELF version ${bytes[EI_VERSION]}`);
  if (bytes.length < ELF64_EHDR_SIZE) {
    throw new ElfFormatError(`truncated ELF header: file is ${bytes.length} bytes, header needs ${ELF64_EHDR_SIZE}`);
  }
}

function parse(bytes: Uint8Array): ElfFile {
  const input = new InputView(bytes);
  checkIdent(input);

  const type = input.u16(16, 'ELF header');
  const machine = input.u16(18, 'ELF header');
  if (machine !== EM_AARCH64) throw new ElfFormatError(`machine ${machine} is not AArch64 (${EM_AARCH64})`);
  const entry = input.u64(24, 'ELF header');
  const phoff = input.u64AsNumber(32, 'program header table offset');
  const shoff = input.u64AsNumber(40, 'section header table offset');
  const flags = input.u32(48, 'ELF header');
  const phentsize = input.u16(54, 'ELF header');
  const phnumField = input.u16(56, 'ELF header');
  const shentsize = input.u16(58, 'ELF header');
  let shnum = input.u16(60, 'ELF header');
  let shstrndx = input.u16(62, 'ELF header');

  // --- Section headers (with extended numbering held in section 0). ---
  if (shoff !== 0) {
    if (shentsize !== ELF64_SHDR_SIZE) {
      throw new ElfFormatError(`section header entry size ${shentsize} is not ${ELF64_SHDR_SIZE}`);
    }
    input.requireRange(shoff, ELF64_SHDR_SIZE, 'section header table');
    if (shnum === 0) shnum = input.u64AsNumber(shoff + 32, 'extended section count');
    if (shstrndx === SHN_XINDEX) shstrndx = input.u32(shoff + 40, 'extended section name index');
    input.requireRange(shoff, shnum * ELF64_SHDR_SIZE, 'section header table');
  } else {
    shnum = 0;
  }

  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  for (let index = 0; index < shnum; index++) {
    const at = shoff + index * ELF64_SHDR_SIZE;
    const what = `section header [${index}]`;
    const sectionType = input.u32(at + 4, what);
    const offset = input.u64AsNumber(at + 24, `${what} offset`);
    const size = input.u64AsNumber(at + 32, `${what} size`);
    const align = input.u64AsNumber(at + 48, `${what} alignment`);
    const entsize = input.u64AsNumber(at + 56, `${what} entry size`);
    const hasFileData = sectionType !== SHT_NOBITS && sectionType !== SHT_NULL && index !== 0;
    if (hasFileData && (offset > input.length || size > input.length - offset)) {
      throw new ElfFormatError(
        `truncated section [${index}]: data at ${hex(offset)} size ${hex(size)} extends past end of file (${hex(input.length)})`,
      );
    }
    nameOffsets.push(input.u32(at, what));
    sections.push({
      index,
      name: '',
      type: sectionType,
      flags: Number(input.u64(at + 8, what)),
      addr: input.u64(at + 16, what),
      offset,
      size,
      link: input.u32(at + 40, what),
      info: input.u32(at + 44, what),
      align,
      entsize,
      data: hasFileData ? bytes.slice(offset, offset + size) : new Uint8Array(0),
    });
  }

  if (shnum > 0 && shstrndx !== SHN_UNDEF) {
    if (shstrndx >= shnum) {
      throw new ElfFormatError(`section name table index ${shstrndx} is out of range (${shnum} sections)`);
    }
    const names = sections[shstrndx];
    if (names.type !== SHT_STRTAB) {
      throw new ElfFormatError(`section name table [${shstrndx}] has type ${names.type}, not SHT_STRTAB`);
    }
    sections.forEach((section, i) => {
      section.name = readString(names, nameOffsets[i], `section header [${i}]`);
    });
  }

  const sectionByIndex = (index: number, what: string): ElfSection => {
    const section = sections[index];
    if (section === undefined) throw new ElfFormatError(`${what} refers to section ${index}, which does not exist`);
    return section;
  };

  // --- Symbol tables, parsed on demand (relocations may link to .dynsym). ---
  const symbolTables = new Map<number, ElfSymbol[]>();
  const readSymbolTable = (table: ElfSection): ElfSymbol[] => {
    const cached = symbolTables.get(table.index);
    if (cached) return cached;
    const what = `symbol table [${table.index}] ${table.name}`;
    if (table.entsize !== ELF64_SYM_SIZE) {
      throw new ElfFormatError(`${what} has entry size ${table.entsize}, not ${ELF64_SYM_SIZE}`);
    }
    if (table.size % ELF64_SYM_SIZE !== 0) {
      throw new ElfFormatError(`${what} size ${hex(table.size)} is not a multiple of ${ELF64_SYM_SIZE}`);
    }
    const strings = sectionByIndex(table.link, what);
    if (strings.type !== SHT_STRTAB) {
      throw new ElfFormatError(`${what} links to section [${strings.index}], which is not a string table`);
    }
    const extendedIndices = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === table.index);
    const view = new InputView(table.data);
    const count = table.size / ELF64_SYM_SIZE;
    const symbols: ElfSymbol[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * ELF64_SYM_SIZE;
      const symbolWhat = `symbol ${i} of ${what}`;
      const info = view.u8(at + 4, symbolWhat);
      const other = view.u8(at + 5, symbolWhat);
      const rawSectionIndex = view.u16(at + 6, symbolWhat);
      let sectionIndex = rawSectionIndex;
      let sectionName: string;
      if (rawSectionIndex === SHN_XINDEX && extendedIndices) {
        // The real index lives in the SHT_SYMTAB_SHNDX table, one u32 per symbol.
        sectionIndex = new InputView(extendedIndices.data).u32(i * 4, `extended section index of ${symbolWhat}`);
        sectionName = sectionByIndex(sectionIndex, symbolWhat).name;
      } else if (rawSectionIndex === SHN_UNDEF) sectionName = 'UND';
      else if (rawSectionIndex === SHN_ABS) sectionName = 'ABS';
      else if (rawSectionIndex === SHN_COMMON) sectionName = 'COM';
      else if (rawSectionIndex >= SHN_LORESERVE) sectionName = `SHN_${hex(rawSectionIndex)}`;
      else sectionName = sectionByIndex(rawSectionIndex, symbolWhat).name;
      const typeNumber = info & 0xf;
      const type = SYMBOL_TYPES[typeNumber] ?? (`type${typeNumber}` as const);
      const bindingNumber = info >> 4;
      const binding: ElfSymbolBinding =
        BINDINGS[bindingNumber] ?? (bindingNumber === 10 ? 'unique' : (`binding${bindingNumber}` as const));
      let name = readString(strings, view.u32(at, symbolWhat), symbolWhat);
      if (type === 'section' && name === '' && sectionIndex !== SHN_UNDEF) name = sectionName;
      symbols.push({
        index: i,
        name,
        value: view.u64(at + 8, symbolWhat),
        size: view.u64(at + 16, symbolWhat),
        binding,
        type,
        visibility: VISIBILITIES[other & 3],
        sectionIndex,
        section: sectionName,
      });
    }
    symbolTables.set(table.index, symbols);
    return symbols;
  };

  const symtabSection = sections.find((s) => s.type === SHT_SYMTAB);
  const symbols = symtabSection ? readSymbolTable(symtabSection) : [];

  // --- Relocation tables. ---
  const relocations: ElfRelocationTable[] = [];
  for (const table of sections) {
    if (table.type !== SHT_RELA && table.type !== SHT_REL) continue;
    const withAddend = table.type === SHT_RELA;
    const entrySize = withAddend ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
    const what = `relocation section [${table.index}] ${table.name}`;
    if (table.entsize !== entrySize) {
      throw new ElfFormatError(`${what} has entry size ${table.entsize}, not ${entrySize}`);
    }
    if (table.size % entrySize !== 0) {
      throw new ElfFormatError(`${what} size ${hex(table.size)} is not a multiple of ${entrySize}`);
    }
    let tableSymbols: ElfSymbol[] = [];
    if (table.link !== SHN_UNDEF) {
      const linked = sectionByIndex(table.link, what);
      if (linked.type !== SHT_SYMTAB && linked.type !== SHT_DYNSYM) {
        throw new ElfFormatError(`${what} links to section [${linked.index}], which is not a symbol table`);
      }
      tableSymbols = readSymbolTable(linked);
    }
    const target = table.info !== 0 ? sectionByIndex(table.info, what) : undefined;
    const view = new InputView(table.data);
    const entries: ElfRelocation[] = [];
    for (let at = 0; at < table.size; at += entrySize) {
      const entryWhat = `relocation ${at / entrySize} of ${what}`;
      const info = view.u64(at + 8, entryWhat);
      const relocType = Number(info & 0xffffffffn);
      const symbolIndex = Number(info >> 32n);
      let symbol: ElfRelocation['symbol'] = '';
      if (symbolIndex !== 0) {
        const entry = tableSymbols[symbolIndex];
        if (entry === undefined) {
          throw new ElfFormatError(`${entryWhat} refers to symbol ${symbolIndex}, which does not exist`);
        }
        symbol = entry.type === 'section' ? { section: entry.section } : entry.name;
      }
      entries.push({
        offset: view.u64(at, entryWhat),
        type: relocType,
        typeName: relocTypeName(relocType),
        symbolIndex,
        symbol,
        addend: withAddend ? view.i64(at + 16, entryWhat) : 0n,
      });
    }
    relocations.push({
      name: table.name,
      sectionIndex: table.index,
      target: target?.name ?? '',
      targetIndex: target?.index ?? 0,
      relocations: entries,
    });
  }

  // --- Program headers. ---
  const programHeaders: ElfProgramHeader[] = [];
  const phnum = phoff !== 0 ? phnumField : 0;
  if (phnum > 0) {
    if (phentsize !== ELF64_PHDR_SIZE) {
      throw new ElfFormatError(`program header entry size ${phentsize} is not ${ELF64_PHDR_SIZE}`);
    }
    input.requireRange(phoff, phnum * ELF64_PHDR_SIZE, 'program header table');
  }
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * ELF64_PHDR_SIZE;
    const what = `program header ${i}`;
    const offset = input.u64AsNumber(at + 8, `${what} offset`);
    const filesz = input.u64AsNumber(at + 32, `${what} file size`);
    const memsz = input.u64(at + 40, what);
    if (offset > input.length || filesz > input.length - offset) {
      throw new ElfFormatError(
        `truncated segment ${i}: data at ${hex(offset)} size ${hex(filesz)} extends past end of file (${hex(input.length)})`,
      );
    }
    programHeaders.push({
      type: input.u32(at, what),
      flags: input.u32(at + 4, what),
      offset,
      vaddr: input.u64(at + 16, what),
      paddr: input.u64(at + 24, what),
      filesz,
      memsz,
      align: input.u64(at + 48, what),
      data: bytes.slice(offset, offset + filesz),
    });
  }

  return { type, machine, entry, flags, sections, symbols, relocations, programHeaders };
}

/**
 * Parses an ELF64 little-endian AArch64 file. Throws ElfFormatError, and only
 * ElfFormatError, for anything it cannot make sense of.
 */
export function readElf(bytes: Uint8Array): ElfFile {
  try {
    return parse(bytes);
  } catch (error) {
    if (error instanceof ElfFormatError) throw error;
    // A parser bug must still honour the contract; the prefix makes it findable.
    const detail = error instanceof Error ? error.message : String(error);
    throw new ElfFormatError(`internal error while reading ELF: ${detail}`);
  }
}

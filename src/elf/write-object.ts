/**
 * Serialises an ObjectModel as an ELF64 little-endian AArch64 relocatable
 * object, laid out the way GNU as 2.40 does it:
 *
 *   section headers: NULL, each section followed by its .rela.X (if any),
 *                    .symtab, .strtab, .shstrtab
 *   file contents:   ELF header, section data in creation order, .symtab,
 *                    .strtab, the .rela.X tables, .shstrtab, section headers
 *   symbol table:    null, STT_FILE symbols, a section symbol per section,
 *                    other locals, then globals and weaks
 */
import { ByteSink, StringTableBuilder, writeSectionHeaders } from './binary.js';
import {
  EI_CLASS,
  EI_DATA,
  EI_NIDENT,
  EI_OSABI,
  EI_VERSION,
  ELF64_EHDR_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SHDR_SIZE,
  ELF64_SYM_SIZE,
  ELF_MAGIC,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFOSABI_SYSV,
  EM_AARCH64,
  ET_REL,
  EV_CURRENT,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_GROUP,
  SHF_INFO_LINK,
  SHF_MERGE,
  SHF_STRINGS,
  SHF_TLS,
  SHF_WRITE,
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_FINI_ARRAY,
  SHT_INIT_ARRAY,
  SHT_NOBITS,
  SHT_NOTE,
  SHT_PROGBITS,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
  STT_TLS,
  STV_DEFAULT,
  STV_HIDDEN,
  STV_INTERNAL,
  STV_PROTECTED,
} from './constants.js';
import type { ObjectModel, ObjSection, ObjSymbol } from './model.js';

/** Bad input to one of the ELF writers (a bug in the caller, not in a file). */
export class ElfWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfWriteError';
  }
}

const SECTION_TYPE_NUMBERS: Record<ObjSection['type'], number> = {
  progbits: SHT_PROGBITS,
  nobits: SHT_NOBITS,
  note: SHT_NOTE,
  init_array: SHT_INIT_ARRAY,
  fini_array: SHT_FINI_ARRAY,
};

const BINDING_NUMBERS: Record<ObjSymbol['binding'], number> = {
  local: STB_LOCAL,
  global: STB_GLOBAL,
  weak: STB_WEAK,
};

const SYMBOL_TYPE_NUMBERS: Record<ObjSymbol['type'], number> = {
  notype: STT_NOTYPE,
  object: STT_OBJECT,
  func: STT_FUNC,
  section: STT_SECTION,
  file: STT_FILE,
  tls: STT_TLS,
};

const VISIBILITY_NUMBERS: Record<ObjSymbol['visibility'], number> = {
  default: STV_DEFAULT,
  internal: STV_INTERNAL,
  hidden: STV_HIDDEN,
  protected: STV_PROTECTED,
};

export function sectionFlagBits(flags: ObjSection['flags']): number {
  let bits = 0;
  if (flags.write) bits |= SHF_WRITE;
  if (flags.alloc) bits |= SHF_ALLOC;
  if (flags.exec) bits |= SHF_EXECINSTR;
  if (flags.merge) bits |= SHF_MERGE;
  if (flags.strings) bits |= SHF_STRINGS;
  if (flags.group) bits |= SHF_GROUP;
  if (flags.tls) bits |= SHF_TLS;
  return bits;
}

/** One symbol table row before serialisation. */
interface SymbolRow {
  name: string;
  info: number;
  other: number;
  sectionIndex: number;
  value: bigint;
  size: bigint;
}

/** One section header row before serialisation. */
interface SectionHeaderRow {
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

function isPowerOfTwoOrZero(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && (n & (n - 1)) === 0;
}

function validateSections(sections: ObjSection[]): void {
  const seen = new Set<string>();
  for (const section of sections) {
    const what = `section "${section.name}"`;
    if (section.name === '') throw new ElfWriteError('writeRelocatableObject: a section has an empty name');
    if (seen.has(section.name)) {
      throw new ElfWriteError(`writeRelocatableObject: duplicate ${what}; relocations and symbols name sections uniquely`);
    }
    seen.add(section.name);
    if (!isPowerOfTwoOrZero(section.align)) {
      throw new ElfWriteError(`writeRelocatableObject: ${what} has alignment ${section.align}, not a power of two`);
    }
    if (section.type === 'nobits') {
      if (section.data.length !== 0) throw new ElfWriteError(`writeRelocatableObject: nobits ${what} carries data`);
    } else if (section.data.length !== section.size) {
      throw new ElfWriteError(
        `writeRelocatableObject: ${what} has size ${section.size} but ${section.data.length} bytes of data`,
      );
    }
    for (const reloc of section.relocs) {
      if (!Number.isInteger(reloc.offset) || reloc.offset < 0 || reloc.offset >= Math.max(section.size, 1)) {
        throw new ElfWriteError(`writeRelocatableObject: relocation at offset ${reloc.offset} is outside ${what}`);
      }
    }
  }
  // Section indices must stay below SHN_LORESERVE (no extended numbering here).
  const headerCount = 1 + sections.length + sections.filter((s) => s.relocs.length > 0).length + 3;
  if (headerCount >= SHN_LORESERVE) {
    throw new ElfWriteError(`writeRelocatableObject: ${headerCount} sections exceed the ELF limit of ${SHN_LORESERVE - 1}`);
  }
}

export function writeRelocatableObject(obj: ObjectModel): Uint8Array {
  validateSections(obj.sections);

  // --- Section header indices: each section is directly followed by its .rela. ---
  const sectionIndexByName = new Map<string, number>();
  const relaIndexBySection = new Map<string, number>();
  let nextIndex = 1;
  for (const section of obj.sections) {
    sectionIndexByName.set(section.name, nextIndex++);
    if (section.relocs.length > 0) relaIndexBySection.set(section.name, nextIndex++);
  }
  const symtabIndex = nextIndex++;
  const strtabIndex = nextIndex++;
  const shstrtabIndex = nextIndex++;
  const sectionCount = nextIndex;

  const resolveSymbolSection = (symbol: ObjSymbol): number => {
    switch (symbol.section) {
      case 'UND':
        return SHN_UNDEF;
      case 'ABS':
        return SHN_ABS;
      case 'COM':
        return SHN_COMMON;
    }
    const index = sectionIndexByName.get(symbol.section);
    if (index === undefined) {
      throw new ElfWriteError(
        `writeRelocatableObject: symbol "${symbol.name}" is defined in unknown section "${symbol.section}"`,
      );
    }
    return index;
  };

  // --- Symbol table rows, in GNU order. ---
  const toRow = (symbol: ObjSymbol): SymbolRow => ({
    name: symbol.name,
    info: (BINDING_NUMBERS[symbol.binding] << 4) | SYMBOL_TYPE_NUMBERS[symbol.type],
    other: VISIBILITY_NUMBERS[symbol.visibility],
    sectionIndex: resolveSymbolSection(symbol),
    value: symbol.value,
    size: symbol.size,
  });
  const fileRows: SymbolRow[] = [];
  const localRows: SymbolRow[] = [];
  const globalRows: SymbolRow[] = [];
  // Section symbols: anonymous (st_name 0) as GNU writes them.
  const sectionSymbolRows: SymbolRow[] = obj.sections.map((section) => ({
    name: '',
    info: (STB_LOCAL << 4) | STT_SECTION,
    other: STV_DEFAULT,
    sectionIndex: sectionIndexByName.get(section.name)!,
    value: 0n,
    size: 0n,
  }));
  for (const symbol of obj.symbols) {
    // The writer already emits one section symbol per section.
    if (symbol.type === 'section' && sectionIndexByName.has(symbol.section)) continue;
    const row = toRow(symbol);
    if (symbol.binding !== 'local') globalRows.push(row);
    else if (symbol.type === 'file') fileRows.push(row);
    else localRows.push(row);
  }
  const symbolRows: SymbolRow[] = [
    { name: '', info: 0, other: 0, sectionIndex: SHN_UNDEF, value: 0n, size: 0n },
    ...fileRows,
    ...sectionSymbolRows,
    ...localRows,
    ...globalRows,
  ];
  const firstNonLocalIndex = symbolRows.length - globalRows.length;

  // Relocations name symbols; globals and weaks win over same-named locals,
  // and among locals the first definition wins.
  const symbolIndexByName = new Map<string, number>();
  symbolRows.forEach((row, index) => {
    if (row.name === '') return;
    const isLocal = index < firstNonLocalIndex;
    if (!isLocal || !symbolIndexByName.has(row.name)) symbolIndexByName.set(row.name, index);
  });
  const sectionSymbolIndexByName = new Map<string, number>();
  obj.sections.forEach((section, i) => {
    sectionSymbolIndexByName.set(section.name, 1 + fileRows.length + i);
  });

  const strtab = new StringTableBuilder();
  for (const row of symbolRows) strtab.add(row.name);
  const strtabBytes = strtab.finish();

  // GNU as enters the symbol/string table names first, then the sections'.
  const shstrtab = new StringTableBuilder(true);
  for (const name of ['.symtab', '.strtab', '.shstrtab']) shstrtab.add(name);
  for (const section of obj.sections) {
    shstrtab.add(section.name);
    if (section.relocs.length > 0) shstrtab.add(`.rela${section.name}`);
  }
  const shstrtabBytes = shstrtab.finish();

  // --- File contents. ---
  const out = new ByteSink();
  out.zeros(ELF64_EHDR_SIZE); // header written last, once offsets are known

  const headers: SectionHeaderRow[] = new Array(sectionCount);
  headers[0] = { name: '', type: 0, flags: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 };

  for (const section of obj.sections) {
    out.alignTo(section.align);
    const offset = out.position;
    if (section.type !== 'nobits') out.bytes(section.data);
    headers[sectionIndexByName.get(section.name)!] = {
      name: section.name,
      type: SECTION_TYPE_NUMBERS[section.type],
      flags: sectionFlagBits(section.flags),
      offset,
      size: section.size,
      link: 0,
      info: 0,
      align: section.align,
      entsize: section.entsize ?? 0,
    };
  }

  out.alignTo(8);
  const symtabOffset = out.position;
  for (const row of symbolRows) {
    out.u32(strtab.offsetOf(row.name));
    out.u8(row.info);
    out.u8(row.other);
    out.u16(row.sectionIndex);
    out.u64(row.value);
    out.u64(row.size);
  }
  headers[symtabIndex] = {
    name: '.symtab',
    type: SHT_SYMTAB,
    flags: 0,
    offset: symtabOffset,
    size: symbolRows.length * ELF64_SYM_SIZE,
    link: strtabIndex,
    info: firstNonLocalIndex,
    align: 8,
    entsize: ELF64_SYM_SIZE,
  };

  const strtabOffset = out.position;
  out.bytes(strtabBytes);
  headers[strtabIndex] = {
    name: '.strtab',
    type: SHT_STRTAB,
    flags: 0,
    offset: strtabOffset,
    size: strtabBytes.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  };

  for (const section of obj.sections) {
    if (section.relocs.length === 0) continue;
    out.alignTo(8);
    const offset = out.position;
    for (const reloc of section.relocs) {
      let symbolIndex: number | undefined;
      if (typeof reloc.symbol === 'string') {
        symbolIndex = symbolIndexByName.get(reloc.symbol);
        if (symbolIndex === undefined) {
          throw new ElfWriteError(
            `writeRelocatableObject: relocation in "${section.name}" at 0x${reloc.offset.toString(16)} names unknown symbol "${reloc.symbol}"`,
          );
        }
      } else {
        symbolIndex = sectionSymbolIndexByName.get(reloc.symbol.section);
        if (symbolIndex === undefined) {
          throw new ElfWriteError(
            `writeRelocatableObject: relocation in "${section.name}" at 0x${reloc.offset.toString(16)} names unknown section "${reloc.symbol.section}"`,
          );
        }
      }
      out.u64(reloc.offset);
      out.u64((BigInt(symbolIndex) << 32n) | BigInt(reloc.type >>> 0));
      out.u64(reloc.addend);
    }
    headers[relaIndexBySection.get(section.name)!] = {
      name: `.rela${section.name}`,
      type: SHT_RELA,
      // GNU marks a group member's relocations as group members too.
      flags: SHF_INFO_LINK | (section.flags.group ? SHF_GROUP : 0),
      offset,
      size: section.relocs.length * ELF64_RELA_SIZE,
      link: symtabIndex,
      info: sectionIndexByName.get(section.name)!,
      align: 8,
      entsize: ELF64_RELA_SIZE,
    };
  }

  const shstrtabOffset = out.position;
  out.bytes(shstrtabBytes);
  headers[shstrtabIndex] = {
    name: '.shstrtab',
    type: SHT_STRTAB,
    flags: 0,
    offset: shstrtabOffset,
    size: shstrtabBytes.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  };

  const sectionHeadersOffset = writeSectionHeaders(out, headers, shstrtab);

  const bytes = out.toBytes();
  writeElfHeader(bytes, {
    type: ET_REL,
    entry: 0n,
    programHeadersOffset: 0,
    programHeaderCount: 0,
    programHeaderEntrySize: 0,
    sectionHeadersOffset,
    sectionHeaderCount: sectionCount,
    sectionNamesIndex: shstrtabIndex,
  });
  return bytes;
}

export interface ElfHeaderFields {
  type: number;
  entry: bigint;
  programHeadersOffset: number;
  programHeaderCount: number;
  programHeaderEntrySize: number;
  sectionHeadersOffset: number;
  sectionHeaderCount: number;
  sectionNamesIndex: number;
}

/** Fills the 64-byte ELF64 LE AArch64 header at the start of `bytes`. */
export function writeElfHeader(bytes: Uint8Array, fields: ElfHeaderFields): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, ELF64_EHDR_SIZE);
  bytes.fill(0, 0, EI_NIDENT);
  bytes.set(ELF_MAGIC, 0);
  bytes[EI_CLASS] = ELFCLASS64;
  bytes[EI_DATA] = ELFDATA2LSB;
  bytes[EI_VERSION] = EV_CURRENT;
  bytes[EI_OSABI] = ELFOSABI_SYSV;
  view.setUint16(16, fields.type, true);
  view.setUint16(18, EM_AARCH64, true);
  view.setUint32(20, EV_CURRENT, true);
  view.setBigUint64(24, fields.entry, true);
  view.setBigUint64(32, BigInt(fields.programHeadersOffset), true);
  view.setBigUint64(40, BigInt(fields.sectionHeadersOffset), true);
  view.setUint32(48, 0, true); // e_flags: AArch64 defines none
  view.setUint16(52, ELF64_EHDR_SIZE, true);
  view.setUint16(54, fields.programHeaderEntrySize, true);
  view.setUint16(56, fields.programHeaderCount, true);
  view.setUint16(58, ELF64_SHDR_SIZE, true);
  view.setUint16(60, fields.sectionHeaderCount, true);
  view.setUint16(62, fields.sectionNamesIndex, true);
}

/**
 * Image loaders: put a program into PhysicalMemory and report its entry
 * point and symbols.
 *
 *  - `loadFlatBinary`: raw bytes at an address (e.g. an arm64 `Image`).
 *  - `loadElfExecutable`: an ELF64 AArch64 ET_EXEC; PT_LOAD segments go to
 *    their physical addresses (p_paddr), zero-filled from p_filesz to p_memsz.
 *  - `loadElfObject`: an ELF64 AArch64 ET_REL placed at a base address, a
 *    minimal static link: allocatable sections laid out in order, RELA
 *    relocations applied, symbols resolved across sections.
 *  - `loadImage`: picks one of the above from the file's contents.
 *
 * Every failure (corrupt or truncated file, wrong kind of ELF, anything that
 * would land outside RAM, an undefined symbol, a relocation that overflows)
 * is a `LoadError`. A load either completes or writes nothing.
 *
 * After loading, the RAM chunk holding the entry point becomes the memory's
 * fast window, since that is where execution starts.
 */
import { readElf, ElfFormatError } from '../elf/read.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/read.js';
import {
  ET_DYN,
  ET_EXEC,
  ET_REL,
  PT_LOAD,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  relocTypeName,
} from '../elf/constants.js';
import { PhysicalMemory, PHYS_ADDR_LIMIT, hex } from './physical-memory.js';
import { SymbolTable } from './symbol-table.js';
import { applyRelocation, relocationWidth } from './relocate.js';

export class LoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoadError';
  }
}

export interface LoadedImage {
  /** Physical address where execution starts. */
  entry: number;
  symbols: SymbolTable;
  /** The physical ranges written, for diagnostics and tracing. */
  segments: LoadedSegment[];
}

export interface LoadedSegment {
  name: string;
  base: number;
  /** Bytes occupied in memory, including zero fill. */
  size: number;
}

export interface FlatLoadOptions {
  /** Entry point; defaults to the load address. */
  entry?: number;
  /** Symbols to attach to the result (a flat image carries none). */
  symbols?: ReadonlyMap<string, number>;
}

export interface ObjectLoadOptions {
  /** Symbol whose address is the entry point (default `_start`, else the first executable section). */
  entrySymbol?: string;
  /** Addresses for symbols the object references but does not define. */
  externalSymbols?: ReadonlyMap<string, number>;
}

// ---------------------------------------------------------------- flat

export function loadFlatBinary(
  memory: PhysicalMemory,
  bytes: Uint8Array,
  address: number,
  options: FlatLoadOptions = {},
): LoadedImage {
  checkAddress(address, 'load address');
  requireRam(memory, address, bytes.length, 'flat image');
  const entry = options.entry ?? address;
  checkEntry(memory, entry);
  memory.writeBytes(address, bytes);
  const symbols = new SymbolTable();
  for (const [name, value] of options.symbols ?? []) symbols.define(name, value, true);
  memory.setFastWindow(entry);
  return { entry, symbols, segments: [{ name: 'flat', base: address, size: bytes.length }] };
}

// ---------------------------------------------------------------- ELF executable

export function loadElfExecutable(memory: PhysicalMemory, bytes: Uint8Array): LoadedImage {
  const elf = parseElf(bytes);
  if (elf.type !== ET_EXEC) {
    throw new LoadError(`expected an ELF executable (ET_EXEC), got ${elfTypeName(elf.type)}`);
  }
  const loads = elf.programHeaders.filter((ph) => ph.type === PT_LOAD && ph.memsz > 0n);
  if (loads.length === 0) throw new LoadError('ELF executable has no PT_LOAD segments');

  // Validate everything before writing anything.
  const planned = loads.map((ph, i) => {
    const name = `segment ${i}`;
    if (ph.memsz < BigInt(ph.filesz)) {
      throw new LoadError(`${name}: file size ${hex(ph.filesz)} exceeds memory size 0x${ph.memsz.toString(16)}`);
    }
    const base = bigToAddress(ph.paddr, `${name} physical address`);
    const size = bigToAddress(ph.memsz, `${name} memory size`);
    checkAddress(base + size - 1, `${name} end`);
    requireRam(memory, base, size, `${name} [${hex(base)}, ${hex(base + size)})`);
    return { name, base, size, ph };
  });

  // e_entry is a virtual address; with the MMU off the CPU starts at the
  // physical address the containing segment was loaded to.
  let entry: number | undefined;
  for (const { base, ph } of planned) {
    if (elf.entry >= ph.vaddr && elf.entry < ph.vaddr + ph.memsz) {
      entry = base + Number(elf.entry - ph.vaddr);
      break;
    }
  }
  entry ??= bigToAddress(elf.entry, 'entry point');
  checkEntry(memory, entry);

  for (const { base, size, ph } of planned) {
    memory.writeBytes(base, ph.data);
    memory.zeroFill(base + ph.filesz, size - ph.filesz);
  }

  const symbols = new SymbolTable();
  for (const symbol of elf.symbols) {
    if (!isNamedAddressSymbol(symbol) || symbol.sectionIndex === SHN_UNDEF) continue;
    symbols.define(symbol.name, symbol.value, symbol.binding !== 'local');
  }
  memory.setFastWindow(entry);
  return { entry, symbols, segments: planned.map(({ name, base, size }) => ({ name, base, size })) };
}

// ---------------------------------------------------------------- ELF relocatable object

interface PlacedSection {
  section: ElfSection;
  /** Offset of the section in the combined image. */
  offset: number;
}

export function loadElfObject(
  memory: PhysicalMemory,
  bytes: Uint8Array,
  base: number,
  options: ObjectLoadOptions = {},
): LoadedImage {
  checkAddress(base, 'load address');
  const elf = parseElf(bytes);
  if (elf.type !== ET_REL) {
    throw new LoadError(`expected an ELF relocatable object (ET_REL), got ${elfTypeName(elf.type)}`);
  }

  // 1. Lay out allocatable sections in header order, each at its alignment
  //    (aligned in absolute addresses, so ADRP/page arithmetic sees the truth).
  const placed = new Map<number, PlacedSection>();
  const segments: LoadedSegment[] = [];
  let cursor = base;
  for (const section of elf.sections) {
    if ((section.flags & SHF_ALLOC) === 0) continue;
    const start = alignUp(cursor, sectionAlignment(section.align, section.name));
    placed.set(section.index, { section, offset: start - base });
    segments.push({ name: section.name, base: start, size: section.size });
    cursor = start + section.size;
  }
  // COMMON symbols (`.comm`) get space after all sections, at their alignment
  // (which ELF stores in st_value).
  const commonAddress = new Map<number, number>();
  let commonStart = -1;
  for (const symbol of elf.symbols) {
    if (symbol.sectionIndex !== SHN_COMMON) continue;
    const start = alignUp(cursor, sectionAlignment(Number(symbol.value), `common symbol '${symbol.name}'`));
    if (commonStart < 0) commonStart = start;
    commonAddress.set(symbol.index, start);
    cursor = start + Number(symbol.size);
  }
  if (commonStart >= 0) segments.push({ name: 'COMMON', base: commonStart, size: cursor - commonStart });
  const imageSize = cursor - base;
  if (imageSize === 0) throw new LoadError('ELF object has no allocatable sections');
  checkAddress(base + imageSize - 1, 'image end');
  requireRam(memory, base, imageSize, `object image [${hex(base)}, ${hex(base + imageSize)})`);

  // 2. Resolve every symbol to an address (bigint: relocation math is 64-bit).
  const external = options.externalSymbols ?? new Map<string, number>();
  const undefinedNames = new Set<string>();
  const symbolValue = (symbol: ElfSymbol): bigint | undefined => {
    const index = symbol.sectionIndex;
    if (index === SHN_UNDEF) {
      if (symbol.index === 0) return 0n;
      const value = external.get(symbol.name);
      if (value !== undefined) return BigInt(value);
      if (symbol.binding === 'weak') return 0n; // an undefined weak symbol is zero
      undefinedNames.add(symbol.name);
      return undefined;
    }
    if (index === SHN_ABS) return symbol.value;
    if (index === SHN_COMMON) return BigInt(commonAddress.get(symbol.index)!);
    if (index >= SHN_LORESERVE) throw new LoadError(`symbol '${symbol.name}' is in unsupported special section ${hex(index)}`);
    const home = placed.get(index);
    // Symbols in non-allocated sections (debug info) have no address.
    if (home === undefined) return undefined;
    return BigInt(base + home.offset) + symbol.value;
  };
  const resolved = elf.symbols.map(symbolValue);

  // 3. Build the image and apply relocations to it.
  const image = new Uint8Array(imageSize);
  for (const { section, offset } of placed.values()) {
    if (section.type !== SHT_NOBITS) image.set(section.data, offset);
  }
  for (const table of elf.relocations) {
    const target = placed.get(table.targetIndex);
    if (target === undefined) continue; // relocations of debug sections
    const tableSection = elf.sections[table.sectionIndex]!;
    if (tableSection.type === SHT_REL) {
      throw new LoadError(`${table.name}: REL relocations (without addends) are not supported for AArch64`);
    }
    for (const reloc of table.relocations) {
      const where = `${target.section.name}+${hex(Number(reloc.offset))}`;
      const symbolName =
        reloc.symbolIndex === 0 ? '' : typeof reloc.symbol === 'string' ? reloc.symbol : reloc.symbol.section;
      if (reloc.offset + BigInt(relocationWidth(reloc.type)) > BigInt(target.section.size)) {
        throw new LoadError(`${relocTypeName(reloc.type)} at ${where} is outside section ${target.section.name}`);
      }
      const symbolAddress = reloc.symbolIndex === 0 ? 0n : resolved[reloc.symbolIndex];
      if (symbolAddress === undefined) {
        if (undefinedNames.has(symbolName)) continue; // reported all together below
        throw new LoadError(`${relocTypeName(reloc.type)} at ${where} refers to '${symbolName}', which has no address`);
      }
      const place = BigInt(base + target.offset) + reloc.offset;
      const problem = applyRelocation(image, target.offset + Number(reloc.offset), reloc.type, symbolAddress + reloc.addend, place);
      if (problem !== null) {
        throw new LoadError(`${relocTypeName(reloc.type)} at ${where} against '${symbolName || '(none)'}': ${problem}`);
      }
    }
  }
  if (undefinedNames.size > 0) {
    const names = [...undefinedNames].sort().map((n) => `'${n}'`).join(', ');
    throw new LoadError(`undefined symbol${undefinedNames.size > 1 ? 's' : ''}: ${names}`);
  }

  // 4. Symbols and entry point.
  const symbols = new SymbolTable();
  elf.symbols.forEach((symbol, i) => {
    const value = resolved[i];
    if (value === undefined || !isNamedAddressSymbol(symbol) || symbol.sectionIndex === SHN_UNDEF) return;
    symbols.define(symbol.name, value, symbol.binding !== 'local');
  });
  let entry: number;
  const entryName = options.entrySymbol ?? '_start';
  const entryValue = symbols.get(entryName);
  if (entryValue !== undefined) entry = entryValue;
  else if (options.entrySymbol !== undefined) throw new LoadError(`entry symbol '${options.entrySymbol}' is not defined`);
  else {
    const firstCode = [...placed.values()].find(({ section }) => (section.flags & SHF_EXECINSTR) !== 0);
    entry = base + (firstCode?.offset ?? 0);
  }
  checkEntry(memory, entry);

  memory.writeBytes(base, image);
  memory.setFastWindow(entry);
  return { entry, symbols, segments };
}

// ---------------------------------------------------------------- auto-detect

/**
 * Loads an ELF executable at its own addresses, an ELF object at `address`,
 * or anything else as a flat binary at `address`.
 */
export function loadImage(memory: PhysicalMemory, bytes: Uint8Array, address?: number): LoadedImage {
  const isElf = bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (isElf) {
    const type = bytes.length >= 18 ? bytes[16]! | (bytes[17]! << 8) : -1;
    if (type === ET_REL) {
      if (address === undefined) throw new LoadError('an ELF relocatable object needs a load address');
      return loadElfObject(memory, bytes, address);
    }
    return loadElfExecutable(memory, bytes);
  }
  if (address === undefined) throw new LoadError('a flat binary needs a load address');
  return loadFlatBinary(memory, bytes, address);
}

// ---------------------------------------------------------------- helpers

function parseElf(bytes: Uint8Array): ElfFile {
  try {
    return readElf(bytes);
  } catch (error) {
    if (error instanceof ElfFormatError) throw new LoadError(`bad ELF file: ${error.message}`, { cause: error });
    throw new LoadError(`bad ELF file: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function elfTypeName(type: number): string {
  switch (type) {
    case ET_REL:
      return 'a relocatable object (ET_REL)';
    case ET_EXEC:
      return 'an executable (ET_EXEC)';
    case ET_DYN:
      return 'a shared object or PIE (ET_DYN)';
    default:
      return `ELF type ${type}`;
  }
}

/** Symbols worth naming: not section/file symbols, not `$x`/`$d` mapping symbols, not empty. */
function isNamedAddressSymbol(symbol: ElfSymbol): boolean {
  if (symbol.name === '' || symbol.type === 'section' || symbol.type === 'file') return false;
  return !(symbol.name.startsWith('$x') || symbol.name.startsWith('$d'));
}

function sectionAlignment(align: number, what: string): number {
  if (align <= 1) return 1;
  if ((align & (align - 1)) !== 0 || align > 2 ** 30) {
    throw new LoadError(`${what}: alignment ${align} is not a power of two up to 1 GiB`);
  }
  return align;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

function bigToAddress(value: bigint, what: string): number {
  if (value < 0n || value >= BigInt(PHYS_ADDR_LIMIT)) {
    throw new LoadError(`${what} 0x${value.toString(16)} is outside the 48-bit physical address space`);
  }
  return Number(value);
}

function checkAddress(address: number, what: string): void {
  if (!Number.isSafeInteger(address) || address < 0 || address >= PHYS_ADDR_LIMIT) {
    throw new LoadError(`${what} ${address} is outside the 48-bit physical address space`);
  }
}

function requireRam(memory: PhysicalMemory, base: number, size: number, what: string): void {
  if (size === 0 || memory.isRam(base, size)) return;
  // Name the first address that is not RAM.
  let bad = base;
  while (bad < base + size && memory.findRam(bad) >= 0) bad = memory.ramChunks[memory.findRam(bad)]!.end;
  throw new LoadError(`${what} is outside RAM: ${hex(bad)} is ${memory.describe(bad)}`);
}

function checkEntry(memory: PhysicalMemory, entry: number): void {
  checkAddress(entry, 'entry point');
  if (memory.findRam(entry) < 0) {
    throw new LoadError(`entry point ${hex(entry)} is outside RAM (${memory.describe(entry)})`);
  }
}

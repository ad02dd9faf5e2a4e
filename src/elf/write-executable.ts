/**
 * Writes a statically placed AArch64 ELF64 executable (ET_EXEC): one PT_LOAD
 * per segment, plus section headers (one section per segment, a NOBITS
 * section for any zero-filled tail, and optionally .symtab/.strtab) so that
 * objdump and gdb can disassemble it and show symbol names. QEMU's `-kernel`
 * loader only looks at the program headers.
 */
import { ByteSink, StringTableBuilder, writeSectionHeaders } from './binary.js';
import {
  ELF64_EHDR_SIZE,
  ELF64_PHDR_SIZE,
  ELF64_SYM_SIZE,
  ET_EXEC,
  PF_R,
  PF_W,
  PF_X,
  PT_LOAD,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_ABS,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_GLOBAL,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STV_DEFAULT,
} from './constants.js';
import { ElfWriteError, writeElfHeader } from './write-object.js';

export type SegmentPermissions = 'rx' | 'rw' | 'r' | 'rwx';

export interface ExecutableSegment {
  /** Virtual address the segment is loaded at. */
  vaddr: bigint;
  /** Physical (load) address; defaults to vaddr. */
  paddr?: bigint;
  /** Initialised contents; the rest up to memsz is zero-filled. */
  data: Uint8Array;
  memsz: bigint;
  flags: SegmentPermissions;
  /** Section name shown by objdump/gdb; defaults to .text/.data/.rodata by permissions. */
  name?: string;
}

export interface ExecutableSymbol {
  name: string;
  value: bigint;
  size: bigint;
  type: 'func' | 'object' | 'notype';
}

export interface ExecutableImage {
  entry: bigint;
  segments: ExecutableSegment[];
  symbols?: ExecutableSymbol[];
}

/** File offsets are kept congruent to vaddr modulo this, as loaders expect. */
const SEGMENT_FILE_ALIGNMENT = 0x1000;

const PERMISSION_BITS: Record<SegmentPermissions, number> = {
  r: PF_R,
  rw: PF_R | PF_W,
  rx: PF_R | PF_X,
  rwx: PF_R | PF_W | PF_X,
};

const DEFAULT_SECTION_NAMES: Record<SegmentPermissions, string> = {
  r: '.rodata',
  rw: '.data',
  rx: '.text',
  rwx: '.text',
};

function sectionFlagsFor(permissions: SegmentPermissions): number {
  let flags = SHF_ALLOC;
  if (permissions.includes('w')) flags |= SHF_WRITE;
  if (permissions.includes('x')) flags |= SHF_EXECINSTR;
  return flags;
}

interface ExecSectionHeader {
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: bigint;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

/** Picks a name not used yet: ".text", then ".text.1", ".text.2", ... */
function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 1; used.has(name); n++) name = `${base}.${n}`;
  used.add(name);
  return name;
}

function validateImage(image: ExecutableImage): void {
  const ranges: { start: bigint; end: bigint; index: number }[] = [];
  image.segments.forEach((segment, index) => {
    const dataLength = BigInt(segment.data.length);
    if (segment.memsz < dataLength) {
      throw new ElfWriteError(`writeExecutable: segment ${index} has memsz ${segment.memsz} below its ${dataLength} data bytes`);
    }
    if (segment.vaddr < 0n || segment.vaddr + segment.memsz > 1n << 64n) {
      throw new ElfWriteError(`writeExecutable: segment ${index} does not fit in the 64-bit address space`);
    }
    if (segment.memsz > 0n) ranges.push({ start: segment.vaddr, end: segment.vaddr + segment.memsz, index });
  });
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].start < ranges[i - 1].end) {
      throw new ElfWriteError(`writeExecutable: segments ${ranges[i - 1].index} and ${ranges[i].index} overlap`);
    }
  }
}

export function writeExecutable(image: ExecutableImage): Uint8Array {
  validateImage(image);
  const segments = image.segments;
  const symbols = image.symbols ?? [];

  const out = new ByteSink();
  out.zeros(ELF64_EHDR_SIZE + segments.length * ELF64_PHDR_SIZE);

  // --- Segment contents, each at a file offset congruent to its vaddr. ---
  const usedNames = new Set<string>();
  const sections: ExecSectionHeader[] = [
    { name: '', type: 0, flags: 0, addr: 0n, offset: 0, size: 0n, link: 0, info: 0, align: 0, entsize: 0 },
  ];
  const segmentOffsets: number[] = [];
  for (const segment of segments) {
    const wanted = Number(segment.vaddr % BigInt(SEGMENT_FILE_ALIGNMENT));
    const current = out.position % SEGMENT_FILE_ALIGNMENT;
    out.zeros((wanted - current + SEGMENT_FILE_ALIGNMENT) % SEGMENT_FILE_ALIGNMENT);
    const offset = out.position;
    segmentOffsets.push(offset);
    out.bytes(segment.data);

    const baseName = segment.name ?? DEFAULT_SECTION_NAMES[segment.flags];
    const flags = sectionFlagsFor(segment.flags);
    if (segment.data.length > 0 || segment.memsz === 0n) {
      sections.push({
        name: uniqueName(baseName, usedNames),
        type: SHT_PROGBITS,
        flags,
        addr: segment.vaddr,
        offset,
        size: BigInt(segment.data.length),
        link: 0,
        info: 0,
        align: 4,
        entsize: 0,
      });
    }
    const zeroFilled = segment.memsz - BigInt(segment.data.length);
    if (zeroFilled > 0n) {
      // The zero-filled tail is a .bss-like NOBITS section, so the section
      // view covers the whole segment as a linker would lay it out.
      sections.push({
        name: uniqueName(segment.data.length > 0 ? '.bss' : baseName, usedNames),
        type: SHT_NOBITS,
        flags: flags | SHF_WRITE,
        addr: segment.vaddr + BigInt(segment.data.length),
        offset: offset + segment.data.length,
        size: zeroFilled,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
      });
    }
  }

  // --- Optional symbol table; each symbol lands in the section that contains it. ---
  let symtabIndex = 0;
  if (symbols.length > 0) {
    const containing = (value: bigint): number => {
      for (let i = 1; i < sections.length; i++) {
        const s = sections[i];
        if (value >= s.addr && value < s.addr + s.size) return i;
      }
      // An end marker (value == end of a section) still belongs to it.
      for (let i = 1; i < sections.length; i++) {
        const s = sections[i];
        if (value === s.addr + s.size) return i;
      }
      return SHN_ABS;
    };
    const strtab = new StringTableBuilder();
    for (const symbol of symbols) strtab.add(symbol.name);
    const strtabBytes = strtab.finish();

    out.alignTo(8);
    const symtabOffset = out.position;
    out.zeros(ELF64_SYM_SIZE); // null symbol
    const typeNumbers = { func: STT_FUNC, object: STT_OBJECT, notype: STT_NOTYPE } as const;
    for (const symbol of symbols) {
      out.u32(strtab.offsetOf(symbol.name));
      out.u8((STB_GLOBAL << 4) | typeNumbers[symbol.type]);
      out.u8(STV_DEFAULT);
      out.u16(containing(symbol.value));
      out.u64(symbol.value);
      out.u64(symbol.size);
    }
    const strtabOffset = out.position;
    out.bytes(strtabBytes);
    symtabIndex = sections.length;
    sections.push({
      name: '.symtab',
      type: SHT_SYMTAB,
      flags: 0,
      addr: 0n,
      offset: symtabOffset,
      size: BigInt((symbols.length + 1) * ELF64_SYM_SIZE),
      link: symtabIndex + 1,
      info: 1, // every symbol is global
      align: 8,
      entsize: ELF64_SYM_SIZE,
    });
    sections.push({
      name: '.strtab',
      type: SHT_STRTAB,
      flags: 0,
      addr: 0n,
      offset: strtabOffset,
      size: BigInt(strtabBytes.length),
      link: 0,
      info: 0,
      align: 1,
      entsize: 0,
    });
  }

  const shstrtab = new StringTableBuilder(true);
  for (const section of sections) shstrtab.add(section.name);
  shstrtab.add('.shstrtab');
  const shstrtabBytes = shstrtab.finish();
  const shstrtabOffset = out.position;
  out.bytes(shstrtabBytes);
  const shstrtabIndex = sections.length;
  sections.push({
    name: '.shstrtab',
    type: SHT_STRTAB,
    flags: 0,
    addr: 0n,
    offset: shstrtabOffset,
    size: BigInt(shstrtabBytes.length),
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });

  const sectionHeadersOffset = writeSectionHeaders(out, sections, shstrtab);

  const bytes = out.toBytes();
  // Program headers sit right after the ELF header.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  segments.forEach((segment, i) => {
    const at = ELF64_EHDR_SIZE + i * ELF64_PHDR_SIZE;
    view.setUint32(at, PT_LOAD, true);
    view.setUint32(at + 4, PERMISSION_BITS[segment.flags], true);
    view.setBigUint64(at + 8, BigInt(segmentOffsets[i]), true);
    view.setBigUint64(at + 16, segment.vaddr, true);
    view.setBigUint64(at + 24, segment.paddr ?? segment.vaddr, true);
    view.setBigUint64(at + 32, BigInt(segment.data.length), true);
    view.setBigUint64(at + 40, segment.memsz, true);
    view.setBigUint64(at + 48, BigInt(SEGMENT_FILE_ALIGNMENT), true);
  });
  writeElfHeader(bytes, {
    type: ET_EXEC,
    entry: image.entry,
    programHeadersOffset: segments.length > 0 ? ELF64_EHDR_SIZE : 0,
    programHeaderCount: segments.length,
    programHeaderEntrySize: ELF64_PHDR_SIZE,
    sectionHeadersOffset,
    sectionHeaderCount: sections.length,
    sectionNamesIndex: shstrtabIndex,
  });
  return bytes;
}

/** ELF64 AArch64 support: object/executable writers and a defensive reader. */
export * from './constants.js';
export type * from './model.js';
export { ElfWriteError, writeRelocatableObject } from './write-object.js';
export { writeExecutable } from './write-executable.js';
export type { ExecutableImage, ExecutableSegment, ExecutableSymbol, SegmentPermissions } from './write-executable.js';
export { ElfFormatError, findSection, readElf, relocationsFor } from './read.js';
export type {
  ElfFile,
  ElfProgramHeader,
  ElfRelocation,
  ElfRelocationTable,
  ElfSection,
  ElfSymbol,
  ElfSymbolBinding,
  ElfSymbolType,
  ElfSymbolVisibility,
} from './read.js';

/**
 * ELF64 and AArch64 ELF ABI constants (System V gABI, "ELF for the Arm 64-bit
 * Architecture (AArch64)"). Only numbers live here so both the writers and the
 * reader can share them without pulling in each other.
 */

// --- ELF identification (e_ident) ---
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_NIDENT = 16;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;
export const ELFOSABI_SYSV = 0;

// --- e_type ---
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// --- e_machine ---
export const EM_AARCH64 = 183;

// --- Fixed ELF64 structure sizes ---
export const ELF64_EHDR_SIZE = 64;
export const ELF64_PHDR_SIZE = 56;
export const ELF64_SHDR_SIZE = 64;
export const ELF64_SYM_SIZE = 24;
export const ELF64_RELA_SIZE = 24;
export const ELF64_REL_SIZE = 16;

// --- Special section indices ---
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// --- sh_type ---
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;

// --- sh_flags ---
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_LINK_ORDER = 0x80;
export const SHF_OS_NONCONFORMING = 0x100;
export const SHF_GROUP = 0x200;
export const SHF_TLS = 0x400;
export const SHF_COMPRESSED = 0x800;
export const SHF_EXCLUDE = 0x80000000;

// --- Symbol binding (high nibble of st_info) ---
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

// --- Symbol type (low nibble of st_info) ---
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

// --- Symbol visibility (st_other & 3) ---
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// --- p_type ---
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;

// --- p_flags ---
export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

// --- AArch64 relocation types (ELF for the Arm 64-bit Architecture, 5.7) ---
export const R_AARCH64_NONE = 0;
// Data relocations.
export const R_AARCH64_ABS64 = 257;
export const R_AARCH64_ABS32 = 258;
export const R_AARCH64_ABS16 = 259;
export const R_AARCH64_PREL64 = 260;
export const R_AARCH64_PREL32 = 261;
export const R_AARCH64_PREL16 = 262;
// Group relocations for MOVZ/MOVK/MOVN, unsigned absolute.
export const R_AARCH64_MOVW_UABS_G0 = 263;
export const R_AARCH64_MOVW_UABS_G0_NC = 264;
export const R_AARCH64_MOVW_UABS_G1 = 265;
export const R_AARCH64_MOVW_UABS_G1_NC = 266;
export const R_AARCH64_MOVW_UABS_G2 = 267;
export const R_AARCH64_MOVW_UABS_G2_NC = 268;
export const R_AARCH64_MOVW_UABS_G3 = 269;
// Signed absolute (MOVN/MOVZ chosen by the linker from the sign).
export const R_AARCH64_MOVW_SABS_G0 = 270;
export const R_AARCH64_MOVW_SABS_G1 = 271;
export const R_AARCH64_MOVW_SABS_G2 = 272;
// PC-relative address computation.
export const R_AARCH64_LD_PREL_LO19 = 273;
export const R_AARCH64_ADR_PREL_LO21 = 274;
export const R_AARCH64_ADR_PREL_PG_HI21 = 275;
export const R_AARCH64_ADR_PREL_PG_HI21_NC = 276;
export const R_AARCH64_ADD_ABS_LO12_NC = 277;
export const R_AARCH64_LDST8_ABS_LO12_NC = 278;
// Control flow.
export const R_AARCH64_TSTBR14 = 279;
export const R_AARCH64_CONDBR19 = 280;
export const R_AARCH64_JUMP26 = 282;
export const R_AARCH64_CALL26 = 283;
export const R_AARCH64_LDST16_ABS_LO12_NC = 284;
export const R_AARCH64_LDST32_ABS_LO12_NC = 285;
export const R_AARCH64_LDST64_ABS_LO12_NC = 286;
// Group relocations, PC-relative.
export const R_AARCH64_MOVW_PREL_G0 = 287;
export const R_AARCH64_MOVW_PREL_G0_NC = 288;
export const R_AARCH64_MOVW_PREL_G1 = 289;
export const R_AARCH64_MOVW_PREL_G1_NC = 290;
export const R_AARCH64_MOVW_PREL_G2 = 291;
export const R_AARCH64_MOVW_PREL_G2_NC = 292;
export const R_AARCH64_MOVW_PREL_G3 = 293;
export const R_AARCH64_LDST128_ABS_LO12_NC = 299;
// GOT-relative.
export const R_AARCH64_MOVW_GOTOFF_G0 = 300;
export const R_AARCH64_MOVW_GOTOFF_G0_NC = 301;
export const R_AARCH64_MOVW_GOTOFF_G1 = 302;
export const R_AARCH64_MOVW_GOTOFF_G1_NC = 303;
export const R_AARCH64_MOVW_GOTOFF_G2 = 304;
export const R_AARCH64_MOVW_GOTOFF_G2_NC = 305;
export const R_AARCH64_MOVW_GOTOFF_G3 = 306;
export const R_AARCH64_GOTREL64 = 307;
export const R_AARCH64_GOTREL32 = 308;
export const R_AARCH64_GOT_LD_PREL19 = 309;
export const R_AARCH64_LD64_GOTOFF_LO15 = 310;
export const R_AARCH64_ADR_GOT_PAGE = 311;
export const R_AARCH64_LD64_GOT_LO12_NC = 312;
export const R_AARCH64_LD64_GOTPAGE_LO15 = 313;
export const R_AARCH64_PLT32 = 314;
// Thread-local storage (the subset an assembler for boot code may meet).
export const R_AARCH64_TLSGD_ADR_PREL21 = 512;
export const R_AARCH64_TLSGD_ADR_PAGE21 = 513;
export const R_AARCH64_TLSGD_ADD_LO12_NC = 514;
export const R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21 = 541;
export const R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC = 542;
export const R_AARCH64_TLSLE_MOVW_TPREL_G2 = 544;
export const R_AARCH64_TLSLE_MOVW_TPREL_G1 = 545;
export const R_AARCH64_TLSLE_MOVW_TPREL_G1_NC = 546;
export const R_AARCH64_TLSLE_MOVW_TPREL_G0 = 547;
export const R_AARCH64_TLSLE_MOVW_TPREL_G0_NC = 548;
export const R_AARCH64_TLSLE_ADD_TPREL_HI12 = 549;
export const R_AARCH64_TLSLE_ADD_TPREL_LO12 = 550;
export const R_AARCH64_TLSLE_ADD_TPREL_LO12_NC = 551;
export const R_AARCH64_TLSDESC_ADR_PAGE21 = 562;
export const R_AARCH64_TLSDESC_LD64_LO12 = 563;
export const R_AARCH64_TLSDESC_ADD_LO12 = 564;
export const R_AARCH64_TLSDESC_CALL = 569;
// Dynamic relocations (appear only in linked images).
export const R_AARCH64_COPY = 1024;
export const R_AARCH64_GLOB_DAT = 1025;
export const R_AARCH64_JUMP_SLOT = 1026;
export const R_AARCH64_RELATIVE = 1027;
export const R_AARCH64_TLS_DTPMOD = 1028;
export const R_AARCH64_TLS_DTPREL = 1029;
export const R_AARCH64_TLS_TPREL = 1030;
export const R_AARCH64_TLSDESC = 1031;
export const R_AARCH64_IRELATIVE = 1032;

/**
 * Relocation type number -> name as binutils prints it, so diagnostics and
 * oracle diffs read like `readelf -r` output.
 */
export const AARCH64_RELOC_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [R_AARCH64_NONE, 'R_AARCH64_NONE'],
  [R_AARCH64_ABS64, 'R_AARCH64_ABS64'],
  [R_AARCH64_ABS32, 'R_AARCH64_ABS32'],
  [R_AARCH64_ABS16, 'R_AARCH64_ABS16'],
  [R_AARCH64_PREL64, 'R_AARCH64_PREL64'],
  [R_AARCH64_PREL32, 'R_AARCH64_PREL32'],
  [R_AARCH64_PREL16, 'R_AARCH64_PREL16'],
  [R_AARCH64_MOVW_UABS_G0, 'R_AARCH64_MOVW_UABS_G0'],
  [R_AARCH64_MOVW_UABS_G0_NC, 'R_AARCH64_MOVW_UABS_G0_NC'],
  [R_AARCH64_MOVW_UABS_G1, 'R_AARCH64_MOVW_UABS_G1'],
  [R_AARCH64_MOVW_UABS_G1_NC, 'R_AARCH64_MOVW_UABS_G1_NC'],
  [R_AARCH64_MOVW_UABS_G2, 'R_AARCH64_MOVW_UABS_G2'],
  [R_AARCH64_MOVW_UABS_G2_NC, 'R_AARCH64_MOVW_UABS_G2_NC'],
  [R_AARCH64_MOVW_UABS_G3, 'R_AARCH64_MOVW_UABS_G3'],
  [R_AARCH64_MOVW_SABS_G0, 'R_AARCH64_MOVW_SABS_G0'],
  [R_AARCH64_MOVW_SABS_G1, 'R_AARCH64_MOVW_SABS_G1'],
  [R_AARCH64_MOVW_SABS_G2, 'R_AARCH64_MOVW_SABS_G2'],
  [R_AARCH64_LD_PREL_LO19, 'R_AARCH64_LD_PREL_LO19'],
  [R_AARCH64_ADR_PREL_LO21, 'R_AARCH64_ADR_PREL_LO21'],
  [R_AARCH64_ADR_PREL_PG_HI21, 'R_AARCH64_ADR_PREL_PG_HI21'],
  [R_AARCH64_ADR_PREL_PG_HI21_NC, 'R_AARCH64_ADR_PREL_PG_HI21_NC'],
  [R_AARCH64_ADD_ABS_LO12_NC, 'R_AARCH64_ADD_ABS_LO12_NC'],
  [R_AARCH64_LDST8_ABS_LO12_NC, 'R_AARCH64_LDST8_ABS_LO12_NC'],
  [R_AARCH64_TSTBR14, 'R_AARCH64_TSTBR14'],
  [R_AARCH64_CONDBR19, 'R_AARCH64_CONDBR19'],
  [R_AARCH64_JUMP26, 'R_AARCH64_JUMP26'],
  [R_AARCH64_CALL26, 'R_AARCH64_CALL26'],
  [R_AARCH64_LDST16_ABS_LO12_NC, 'R_AARCH64_LDST16_ABS_LO12_NC'],
  [R_AARCH64_LDST32_ABS_LO12_NC, 'R_AARCH64_LDST32_ABS_LO12_NC'],
  [R_AARCH64_LDST64_ABS_LO12_NC, 'R_AARCH64_LDST64_ABS_LO12_NC'],
  [R_AARCH64_MOVW_PREL_G0, 'R_AARCH64_MOVW_PREL_G0'],
  [R_AARCH64_MOVW_PREL_G0_NC, 'R_AARCH64_MOVW_PREL_G0_NC'],
  [R_AARCH64_MOVW_PREL_G1, 'R_AARCH64_MOVW_PREL_G1'],
  [R_AARCH64_MOVW_PREL_G1_NC, 'R_AARCH64_MOVW_PREL_G1_NC'],
  [R_AARCH64_MOVW_PREL_G2, 'R_AARCH64_MOVW_PREL_G2'],
  [R_AARCH64_MOVW_PREL_G2_NC, 'R_AARCH64_MOVW_PREL_G2_NC'],
  [R_AARCH64_MOVW_PREL_G3, 'R_AARCH64_MOVW_PREL_G3'],
  [R_AARCH64_LDST128_ABS_LO12_NC, 'R_AARCH64_LDST128_ABS_LO12_NC'],
  [R_AARCH64_MOVW_GOTOFF_G0, 'R_AARCH64_MOVW_GOTOFF_G0'],
  [R_AARCH64_MOVW_GOTOFF_G0_NC, 'R_AARCH64_MOVW_GOTOFF_G0_NC'],
  [R_AARCH64_MOVW_GOTOFF_G1, 'R_AARCH64_MOVW_GOTOFF_G1'],
  [R_AARCH64_MOVW_GOTOFF_G1_NC, 'R_AARCH64_MOVW_GOTOFF_G1_NC'],
  [R_AARCH64_MOVW_GOTOFF_G2, 'R_AARCH64_MOVW_GOTOFF_G2'],
  [R_AARCH64_MOVW_GOTOFF_G2_NC, 'R_AARCH64_MOVW_GOTOFF_G2_NC'],
  [R_AARCH64_MOVW_GOTOFF_G3, 'R_AARCH64_MOVW_GOTOFF_G3'],
  [R_AARCH64_GOTREL64, 'R_AARCH64_GOTREL64'],
  [R_AARCH64_GOTREL32, 'R_AARCH64_GOTREL32'],
  [R_AARCH64_GOT_LD_PREL19, 'R_AARCH64_GOT_LD_PREL19'],
  [R_AARCH64_LD64_GOTOFF_LO15, 'R_AARCH64_LD64_GOTOFF_LO15'],
  [R_AARCH64_ADR_GOT_PAGE, 'R_AARCH64_ADR_GOT_PAGE'],
  [R_AARCH64_LD64_GOT_LO12_NC, 'R_AARCH64_LD64_GOT_LO12_NC'],
  [R_AARCH64_LD64_GOTPAGE_LO15, 'R_AARCH64_LD64_GOTPAGE_LO15'],
  [R_AARCH64_PLT32, 'R_AARCH64_PLT32'],
  [R_AARCH64_TLSGD_ADR_PREL21, 'R_AARCH64_TLSGD_ADR_PREL21'],
  [R_AARCH64_TLSGD_ADR_PAGE21, 'R_AARCH64_TLSGD_ADR_PAGE21'],
  [R_AARCH64_TLSGD_ADD_LO12_NC, 'R_AARCH64_TLSGD_ADD_LO12_NC'],
  [R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21, 'R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21'],
  [R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC, 'R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC'],
  [R_AARCH64_TLSLE_MOVW_TPREL_G2, 'R_AARCH64_TLSLE_MOVW_TPREL_G2'],
  [R_AARCH64_TLSLE_MOVW_TPREL_G1, 'R_AARCH64_TLSLE_MOVW_TPREL_G1'],
  [R_AARCH64_TLSLE_MOVW_TPREL_G1_NC, 'R_AARCH64_TLSLE_MOVW_TPREL_G1_NC'],
  [R_AARCH64_TLSLE_MOVW_TPREL_G0, 'R_AARCH64_TLSLE_MOVW_TPREL_G0'],
  [R_AARCH64_TLSLE_MOVW_TPREL_G0_NC, 'R_AARCH64_TLSLE_MOVW_TPREL_G0_NC'],
  [R_AARCH64_TLSLE_ADD_TPREL_HI12, 'R_AARCH64_TLSLE_ADD_TPREL_HI12'],
  [R_AARCH64_TLSLE_ADD_TPREL_LO12, 'R_AARCH64_TLSLE_ADD_TPREL_LO12'],
  [R_AARCH64_TLSLE_ADD_TPREL_LO12_NC, 'R_AARCH64_TLSLE_ADD_TPREL_LO12_NC'],
  [R_AARCH64_TLSDESC_ADR_PAGE21, 'R_AARCH64_TLSDESC_ADR_PAGE21'],
  [R_AARCH64_TLSDESC_LD64_LO12, 'R_AARCH64_TLSDESC_LD64_LO12'],
  [R_AARCH64_TLSDESC_ADD_LO12, 'R_AARCH64_TLSDESC_ADD_LO12'],
  [R_AARCH64_TLSDESC_CALL, 'R_AARCH64_TLSDESC_CALL'],
  [R_AARCH64_COPY, 'R_AARCH64_COPY'],
  [R_AARCH64_GLOB_DAT, 'R_AARCH64_GLOB_DAT'],
  [R_AARCH64_JUMP_SLOT, 'R_AARCH64_JUMP_SLOT'],
  [R_AARCH64_RELATIVE, 'R_AARCH64_RELATIVE'],
  [R_AARCH64_TLS_DTPMOD, 'R_AARCH64_TLS_DTPMOD64'], // binutils' spelling
  [R_AARCH64_TLS_DTPREL, 'R_AARCH64_TLS_DTPREL64'], // binutils' spelling
  [R_AARCH64_TLS_TPREL, 'R_AARCH64_TLS_TPREL64'], // binutils' spelling
  [R_AARCH64_TLSDESC, 'R_AARCH64_TLSDESC'],
  [R_AARCH64_IRELATIVE, 'R_AARCH64_IRELATIVE'],
]);

/** Name of an AArch64 relocation type, or `R_AARCH64_<n>` for an unknown number. */
export function relocTypeName(type: number): string {
  return AARCH64_RELOC_NAMES.get(type) ?? `R_AARCH64_${type}`;
}

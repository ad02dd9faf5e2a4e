/**
 * An emulated CPU described by its ID registers and the features they
 * advertise. Presets follow what QEMU 7.2 reports for `-cpu cortex-a57` and
 * `-cpu cortex-a76` on `-M virt,virtualization=on` (EL2 present, no EL3), so
 * that the same image behaves the same in both.
 */
export interface CpuModel {
  name: string;
  hasEl2: boolean;
  hasEl3: boolean;
  /** ID register reset values as [lo, hi] halves, keyed by lower-case register name. */
  idRegisters: Record<string, readonly [number, number]>;
  /** Physical address size in bits (from ID_AA64MMFR0_EL1.PARange). */
  paBits: number;
  /** Translation granules the CPU supports. */
  granules: { g4k: boolean; g16k: boolean; g64k: boolean };
  vmidBits: 8 | 16;
  asidBits: 8 | 16;
  /** Hardware update of the access flag / dirty state (FEAT_HAFDBS). */
  hardwareAccessFlag: boolean;
  features: { lse: boolean; pauth: boolean; pan: boolean; uao: boolean; vhe: boolean; ras: boolean };
}

export const CORTEX_A57: CpuModel = {
  name: 'cortex-a57',
  hasEl2: true,
  hasEl3: false,
  idRegisters: {
    midr_el1: [0x411fd070, 0],
    // EL0..EL2 AArch64+AArch32, no EL3 (QEMU clears the field without secure=on), FP and AdvSIMD present.
    id_aa64pfr0_el1: [0x00000222, 0],
    id_aa64pfr1_el1: [0, 0],
    id_aa64dfr0_el1: [0x10305106, 0],
    id_aa64isar0_el1: [0x00011120, 0],
    id_aa64isar1_el1: [0, 0],
    // PARange 44 bits, 16-bit ASIDs, 4K and 64K granules, no 16K.
    id_aa64mmfr0_el1: [0x00001124, 0],
    id_aa64mmfr1_el1: [0, 0],
    id_aa64mmfr2_el1: [0, 0],
    ctr_el0: [0x8444c004, 0],
    clidr_el1: [0x0a200023, 0],
    dczid_el0: [0x00000004, 0],
  },
  paBits: 44,
  granules: { g4k: true, g16k: false, g64k: true },
  vmidBits: 8,
  asidBits: 16,
  hardwareAccessFlag: false,
  features: { lse: false, pauth: false, pan: false, uao: false, vhe: false, ras: false },
};

export const CORTEX_A76: CpuModel = {
  name: 'cortex-a76',
  hasEl2: true,
  hasEl3: false,
  idRegisters: {
    midr_el1: [0x414fd0b1, 0],
    id_aa64pfr0_el1: [0x11000222, 0x00000000],
    id_aa64pfr1_el1: [0x00000010, 0],
    id_aa64dfr0_el1: [0x10305408, 0],
    id_aa64isar0_el1: [0x00100000 | 0x00011120 | 0x10000000, 0],
    id_aa64isar1_el1: [0x00100001, 0],
    // PARange 40 bits, 16-bit ASIDs, 4K/16K/64K granules.
    id_aa64mmfr0_el1: [0x00101122, 0],
    id_aa64mmfr1_el1: [0x10212122, 0],
    id_aa64mmfr2_el1: [0x00001011, 0],
    ctr_el0: [0x8444c004, 0],
    clidr_el1: [0x82000023, 0],
    dczid_el0: [0x00000004, 0],
  },
  paBits: 40,
  granules: { g4k: true, g16k: true, g64k: true },
  vmidBits: 16,
  asidBits: 16,
  hardwareAccessFlag: true,
  features: { lse: true, pauth: false, pan: true, uao: true, vhe: true, ras: true },
};

export const CPU_MODELS: Record<string, CpuModel> = { 'cortex-a57': CORTEX_A57, 'cortex-a76': CORTEX_A76 };

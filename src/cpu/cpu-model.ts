/**
 * An emulated CPU described by its ID registers and the features they
 * advertise. Presets follow what QEMU 7.2 reports for `-cpu cortex-a57` and
 * `-cpu cortex-a76` on `-M virt,virtualization=on` (EL2 present, no EL3), so
 * that the same image behaves the same in both. Every value in
 * `idRegisters` was read back with MRS under that QEMU (see
 * test/cpu/system-qemu.test.ts, which compares them again).
 */
export interface CpuModel {
  name: string;
  hasEl2: boolean;
  hasEl3: boolean;
  /**
   * Reset values as [lo, hi] halves, keyed by lower-case register name: the ID
   * registers, and the registers whose reset value is model-specific
   * (SCTLR_EL1, PMCR_EL0, …). Registers not listed reset to their definition's value.
   */
  idRegisters: Record<string, readonly [number, number]>;
  /** CCSIDR_EL1 for each CSSELR_EL1 value (Level:InD); missing entries read as 0. */
  ccsidr: readonly number[];
  /**
   * IMPLEMENTATION DEFINED registers (16-bit MRS/MSR encodings) the model
   * implements as read-as-zero, writes ignored, accessible from EL1.
   */
  impdefRaz?: readonly number[];
  /** Physical address size in bits (from ID_AA64MMFR0_EL1.PARange). */
  paBits: number;
  /** Translation granules the CPU supports. */
  granules: { g4k: boolean; g16k: boolean; g64k: boolean };
  vmidBits: 8 | 16;
  asidBits: 8 | 16;
  /** Hardware update of the access flag / dirty state (FEAT_HAFDBS). */
  hardwareAccessFlag: boolean;
  features: {
    lse: boolean; pauth: boolean; pan: boolean; uao: boolean; vhe: boolean; ras: boolean;
    /** FEAT_LOR: LORegions registers (v8.1). */
    lor: boolean;
    /** FEAT_SSBS: PSTATE.SSBS and its MSR/MRS forms. */
    ssbs: boolean;
    /** FEAT_DIT: PSTATE.DIT. */
    dit: boolean;
    /** FEAT_DPB: DC CVAP. */
    dpb: boolean;
    /** FEAT_PAN2: AT S1E1RP/S1E1WP. */
    pan2: boolean;
    /** EL1 can run AArch32 (so HCR_EL2.RW is a real bit, not RAO/WI in the architecture). */
    aarch32El1: boolean;
  };
}

export const CORTEX_A57: CpuModel = {
  name: 'cortex-a57',
  hasEl2: true,
  hasEl3: false,
  idRegisters: {
    midr_el1: [0x411fd070, 0],
    mpidr_el1: [0x80000000 | 0, 0],
    revidr_el1: [0, 0],
    aidr_el1: [0, 0],
    // AArch32 identification (EL0/EL1 support AArch32 on this core).
    id_pfr0_el1: [0x00000131, 0],
    id_pfr1_el1: [0x00011001, 0],
    id_dfr0_el1: [0x03010006, 0],
    id_afr0_el1: [0, 0],
    id_mmfr0_el1: [0x10101105, 0],
    id_mmfr1_el1: [0x40000000, 0],
    id_mmfr2_el1: [0x01260000, 0],
    id_mmfr3_el1: [0x02102211, 0],
    id_isar0_el1: [0x02101110, 0],
    id_isar1_el1: [0x13112111, 0],
    id_isar2_el1: [0x21232042, 0],
    id_isar3_el1: [0x01112131, 0],
    id_isar4_el1: [0x00011142, 0],
    id_isar5_el1: [0x00011121, 0],
    mvfr0_el1: [0x10110222, 0],
    mvfr1_el1: [0x12111111, 0],
    mvfr2_el1: [0x00000043, 0],
    // EL0..EL2 AArch64+AArch32, no EL3 (QEMU clears the field without secure=on), FP and AdvSIMD present, GIC system registers absent (gic-version=2).
    id_aa64pfr0_el1: [0x00000222, 0],
    id_aa64pfr1_el1: [0, 0],
    id_aa64dfr0_el1: [0x10305106, 0],
    id_aa64isar0_el1: [0x00011120, 0],
    id_aa64isar1_el1: [0, 0],
    // PARange 44 bits, 16-bit ASIDs, 4K and 64K granules, no 16K.
    id_aa64mmfr0_el1: [0x00001124, 0],
    id_aa64mmfr1_el1: [0, 0],
    id_aa64mmfr2_el1: [0, 0],
    ctr_el0: [0x8444c004 | 0, 0],
    clidr_el1: [0x0a200023, 0],
    dczid_el0: [0x00000004, 0],
    vpidr_el2: [0x411fd070, 0],
    vmpidr_el2: [0x80000000 | 0, 0],
    // Model-specific reset values.
    sctlr_el1: [0x00c50838, 0],
    pmcr_el0: [0x41013000, 0],
    pmceid0_el0: [0x00020001, 0],
    pmceid1_el0: [0, 0],
  },
  ccsidr: [0x701fe00a, 0x201fe012, 0x70ffe07a],
  // L2CTLR_EL1, L2ECTLR_EL1, L2ACTLR_EL1, CPUACTLR_EL1, CPUECTLR_EL1, CPUMERRSR_EL1, L2MERRSR_EL1 (QEMU: RAZ/WI, one CPU).
  impdefRaz: [0xcd82, 0xcd83, 0xcf80, 0xcf90, 0xcf91, 0xcf92, 0xcf93],
  paBits: 44,
  granules: { g4k: true, g16k: false, g64k: true },
  vmidBits: 8,
  asidBits: 16,
  hardwareAccessFlag: false,
  features: {
    lse: false, pauth: false, pan: false, uao: false, vhe: false, ras: false,
    lor: false, ssbs: false, dit: false, dpb: false, pan2: false, aarch32El1: true,
  },
};

export const CORTEX_A76: CpuModel = {
  name: 'cortex-a76',
  hasEl2: true,
  hasEl3: false,
  idRegisters: {
    midr_el1: [0x414fd0b1, 0],
    mpidr_el1: [0x80000000 | 0, 0],
    revidr_el1: [0, 0],
    aidr_el1: [0, 0],
    id_pfr0_el1: [0x10010131, 0],
    id_pfr1_el1: [0x00010000, 0],
    id_pfr2_el1: [0x00000011, 0],
    id_dfr0_el1: [0x04010008, 0],
    id_afr0_el1: [0, 0],
    id_mmfr0_el1: [0x10201105, 0],
    id_mmfr1_el1: [0x40000000, 0],
    id_mmfr2_el1: [0x01260000, 0],
    id_mmfr3_el1: [0x02122211, 0],
    id_mmfr4_el1: [0x00021110, 0],
    id_isar0_el1: [0x02101110, 0],
    id_isar1_el1: [0x13112111, 0],
    id_isar2_el1: [0x21232042, 0],
    id_isar3_el1: [0x01112131, 0],
    id_isar4_el1: [0x00010142, 0],
    id_isar5_el1: [0x01011121, 0],
    id_isar6_el1: [0x00000010, 0],
    mvfr0_el1: [0x10110222, 0],
    mvfr1_el1: [0x13211111, 0],
    mvfr2_el1: [0x00000043, 0],
    // EL0 AArch64+AArch32, EL1/EL2 AArch64 only, FP16, RAS, CSV2, CSV3.
    id_aa64pfr0_el1: [0x10110112, 0x11000000],
    // SSBS.
    id_aa64pfr1_el1: [0x00000010, 0],
    id_aa64dfr0_el1: [0x10305408, 0],
    // AES+PMULL, SHA1, SHA2, CRC32, LSE atomics, RDM, DotProd.
    id_aa64isar0_el1: [0x10211120, 0x00001000],
    // DPB (DC CVAP), LRCPC.
    id_aa64isar1_el1: [0x00100001, 0],
    // PARange 40 bits, 16-bit ASIDs, 4K/16K/64K granules.
    id_aa64mmfr0_el1: [0x00101122, 0],
    // HAFDBS, 16-bit VMIDs, VHE, HPDS, LOR, PAN (with AT S1E1xP), XNX.
    id_aa64mmfr1_el1: [0x10212122, 0],
    // CnP, UAO, IESB.
    id_aa64mmfr2_el1: [0x00001011, 0],
    ctr_el0: [0x8444c004 | 0, 0],
    clidr_el1: [0x82000023 | 0, 0],
    dczid_el0: [0x00000004, 0],
    vpidr_el2: [0x414fd0b1, 0],
    vmpidr_el2: [0x80000000 | 0, 0],
    sctlr_el1: [0x30c50838, 0],
    pmcr_el0: [0x410b3000, 0],
    pmceid0_el0: [0x00020001, 0],
    pmceid1_el0: [0x00000018, 0],
  },
  ccsidr: [0x701fe01a, 0x201fe01a, 0x707fe03a],
  paBits: 40,
  granules: { g4k: true, g16k: true, g64k: true },
  vmidBits: 16,
  asidBits: 16,
  hardwareAccessFlag: true,
  features: {
    lse: true, pauth: false, pan: true, uao: true, vhe: true, ras: true,
    lor: true, ssbs: true, dit: false, dpb: true, pan2: true, aarch32El1: false,
  },
};

export const CPU_MODELS: Record<string, CpuModel> = { 'cortex-a57': CORTEX_A57, 'cortex-a76': CORTEX_A76 };

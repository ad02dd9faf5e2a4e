/**
 * Kernel profiles: where the documents' Android tree and Linux 6.1 differ in the pKVM
 * boot flow, the models read the difference from here instead of branching on names.
 *
 * - `android` (the default): the Android 15 / 6.6 common-kernel derivative the documents
 *   (shared/seeds) walk through; pkvm-facts.md tags AND66 / AND66b.
 * - `linux-6.1`: Linux 6.1 (pkvm-facts.md tag V61), the kernel Debian ships and the
 *   reservation model is checked against under QEMU (scripts/kernel-reservation-check.mjs).
 *
 * Every field cites the pkvm-facts.md section it comes from; values marked "assumed" were
 * not verified against a built tree.
 */

export type KernelProfileName = 'android' | 'linux-6.1';

export const KERNEL_PROFILE_NAMES: readonly KernelProfileName[] = ['android', 'linux-6.1'];
export const DEFAULT_KERNEL_PROFILE: KernelProfileName = 'android';

/** The pieces `divide_memory_pool` carves out of the reserved pool, by kernel name. */
export type PoolPartName = 'vmemmap' | 'vm_table' | 'hyp_s1_pgtable' | 'host_s2_pgtable' | 'ffa_proxy';

/** How the EL2 `struct hyp_page` array (the vmemmap) is sized in `kvm_hyp_reserve`. */
export type VmemmapSizing =
  /** v6.1: only the pool itself needs hyp_page entries; a fixed-point loop sizes it (§1.2 step 5). */
  | 'pool-fixed-point'
  /** ≥ v6.2 and Android: entries for every memory region (`hyp_vmemmap_pages`, §1.3). */
  | 'all-memory';

/** Sizes of the FF-A descriptor pieces that bound `hyp_ffa_proxy_pages()` (§1.3). */
export interface FfaProxyLayout {
  /** KVM_FFA_MBOX_NR_PAGES: pages per mailbox (TX and RX). */
  readonly mailboxPages: number;
  /** sizeof(struct ffa_mem_region): 48 with the FF-A v1.1 layout. */
  readonly memRegionBytes: number;
  /** sizeof(struct ffa_mem_region_attributes). */
  readonly memRegionAttributesBytes: number;
  /** sizeof(struct ffa_composite_mem_region). */
  readonly compositeMemRegionBytes: number;
  /** sizeof(struct ffa_mem_region_addr_range). */
  readonly addrRangeBytes: number;
  /** Constituents a descriptor may carry: KVM_FFA_MAX_NR_CONSTITUENTS (Android) / SG_MAX_SEGMENTS (mainline). */
  readonly maxConstituents: number;
}

export interface KernelProfile {
  readonly name: KernelProfileName;
  /** One line for reports: which kernel the model followed. */
  readonly title: string;
  /** pkvm-facts.md source tags the values come from. */
  readonly sources: readonly string[];

  // ---- kvm_hyp_reserve (§1.2, §1.3) ----
  /** sizeof(struct hyp_page): 4 in v6.1 ({u16 refcount; u16 order}); Android assumed 4 (§1.3). */
  readonly structHypPageSize: number;
  readonly vmemmapSizing: VmemmapSizing;
  /** KVM_MAX_PVMS when `hyp_vm_table_pages()` exists (≥ v6.2, Android), else null. */
  readonly kvmMaxPvms: number | null;
  /** FF-A proxy buffers counted by `hyp_ffa_proxy_pages()` (≥ ~v6.4, Android), else null. */
  readonly ffaProxy: FfaProxyLayout | null;
  /**
   * What `__hyp_pgtable_*_pages` sums over: every memblock memory region (v6.1,
   * `__hyp_pgtable_total_pages`) or the moveable regions, i.e. the memblock regions plus
   * DT "pkvm,protected-region" nodes (Android, `__hyp_pgtable_moveable_regs_pages`, §1.8).
   */
  readonly pgtableRegions: 'memblock' | 'moveable';
  /** HYP_MEMBLOCK_REGIONS: capacity of the EL2 hyp_memory[] array (§1.2 step 3). */
  readonly hypMemblockRegionsMax: number;
  /** PKVM_NR_MOVEABLE_REGS (Android only), else null (§1.3). */
  readonly moveableRegionsMax: number | null;
  /** Order of divide_memory_pool's bump allocations (§1.7). */
  readonly poolLayout: readonly PoolPartName[];

  // ---- the rest of the boot flow (§2, §3, §4, §6) ----
  /** The EL1 entry that runs init_hyp_mode (§2.1). */
  readonly kvmEntry: 'kvm_arch_init' | 'kvm_arm_init';
  /** Where the host finishes protected mode (§2.1): inline, or a device_initcall_sync. */
  readonly finalize: 'finalize_hyp_mode' | 'finalize_pkvm';
  /** `hyp_alloc_init(SZ_128M)` in __pkvm_init: the private VA range it reserves, or null (§1.8, §3.1). */
  readonly hypAllocInitVaBytes: number | null;
  /** kvm_host_prepare_stage2 ends with prepopulate_host_stage2 (idmap all memory up front) (§3.2). */
  readonly prepopulateHostStage2: boolean;
  /** KVM_PGTABLE_S2_PREFAULT_BLOCK in the host stage-2 flags (§5.6). */
  readonly hostStage2PrefaultBlock: boolean;
  /** x0 of __pkvm_init_switch_pgd: the PA of the init params (v6.1) or their VA (Android) (§4.3). */
  readonly switchPgdParams: 'pa' | 'va';
  /** __host_exit swaps ptrauth keys under ARM64_KVM_PROTECTED_MODE (§4.4). */
  readonly hostExitPtrauthSwitch: boolean;
  /** init_el2 cleans hyp text to PoC and turns SCTLR_EL2.M off when entered with the MMU on (§4.1). */
  readonly initEl2MmuOffPrologue: boolean;
  /** `__pkvm_host_donate_hyp` exists (§5.8). */
  readonly hostDonateHyp: boolean;
  /** The hyp `.data` section is mapped separately (§2.3 step 5). */
  readonly hypDataSection: boolean;
  /** Highest owner id encodable in an invalid host stage-2 PTE (KVM_MAX_OWNER_ID, §5.6). */
  readonly maxOwnerId: number;
  /** __pkvm_init_finalise's steps after hyp_pool_init, in order (§3.2). */
  readonly finaliseSteps: readonly string[];
}

const MiB = 1024 * 1024;

const LINUX_61: KernelProfile = {
  name: 'linux-6.1',
  title: 'Linux 6.1 (Debian 6.1 / stable 6.1.158 arithmetic)',
  sources: ['V61', 'V61-check'],
  structHypPageSize: 4,
  vmemmapSizing: 'pool-fixed-point',
  kvmMaxPvms: null,
  ffaProxy: null,
  pgtableRegions: 'memblock',
  hypMemblockRegionsMax: 128,
  moveableRegionsMax: null,
  poolLayout: ['vmemmap', 'hyp_s1_pgtable', 'host_s2_pgtable'],
  kvmEntry: 'kvm_arch_init',
  finalize: 'finalize_hyp_mode',
  hypAllocInitVaBytes: null,
  prepopulateHostStage2: false,
  hostStage2PrefaultBlock: false,
  switchPgdParams: 'pa',
  hostExitPtrauthSwitch: false,
  initEl2MmuOffPrologue: false,
  hostDonateHyp: false,
  hypDataSection: false,
  maxOwnerId: 1,
  finaliseSteps: ['hyp_pool_init', 'kvm_host_prepare_stage2', 'pkvm_pgtable_mm_ops', 'finalize_host_mappings', '__host_enter'],
};

const ANDROID: KernelProfile = {
  name: 'android',
  title: "Android 15 / 6.6 common kernel (the documents' tree)",
  sources: ['AND66', 'AND66b', 'BLOG'],
  // Android's hyp_page adds a host_state byte; 4 bytes is assumed, not verified (§1.3, §7.5).
  structHypPageSize: 4,
  vmemmapSizing: 'all-memory',
  kvmMaxPvms: 255,
  ffaProxy: {
    mailboxPages: 1,
    memRegionBytes: 48,
    memRegionAttributesBytes: 16,
    compositeMemRegionBytes: 16,
    addrRangeBytes: 16,
    maxConstituents: 12288,
  },
  pgtableRegions: 'moveable',
  hypMemblockRegionsMax: 128,
  moveableRegionsMax: 512,
  poolLayout: ['vmemmap', 'vm_table', 'hyp_s1_pgtable', 'host_s2_pgtable', 'ffa_proxy'],
  kvmEntry: 'kvm_arm_init',
  finalize: 'finalize_pkvm',
  hypAllocInitVaBytes: 128 * MiB,
  prepopulateHostStage2: true,
  hostStage2PrefaultBlock: true,
  switchPgdParams: 'va',
  hostExitPtrauthSwitch: true,
  initEl2MmuOffPrologue: true,
  hostDonateHyp: true,
  hypDataSection: true,
  maxOwnerId: 255,
  finaliseSteps: [
    'hyp_pool_init',
    'kvm_host_prepare_stage2',
    'pkvm_pgtable_mm_ops',
    'fix_hyp_pgtable_refcnt',
    'hyp_create_pcpu_fixmap',
    'pkvm_timer_init',
    'fix_host_ownership',
    'unmap_protected_regions',
    'pin_host_tables',
    'hyp_ffa_init',
    'pkvm_hyp_vm_table_init',
    '__host_enter',
  ],
};

export const KERNEL_PROFILES: Readonly<Record<KernelProfileName, KernelProfile>> = {
  android: ANDROID,
  'linux-6.1': LINUX_61,
};

export function isKernelProfileName(name: string): name is KernelProfileName {
  return (KERNEL_PROFILE_NAMES as readonly string[]).includes(name);
}

/** The profile for a `--profile` value; an unknown name is an error that lists the valid ones. */
export function getKernelProfile(name: string = DEFAULT_KERNEL_PROFILE): KernelProfile {
  if (!isKernelProfileName(name)) {
    throw new Error(`unknown kernel profile '${name}': expected one of ${KERNEL_PROFILE_NAMES.join(', ')}`);
  }
  return KERNEL_PROFILES[name];
}

/** Accepts a profile or its name, so callers can pass either. */
export function resolveKernelProfile(profile: KernelProfile | KernelProfileName | undefined): KernelProfile {
  return typeof profile === 'object' ? profile : getKernelProfile(profile ?? DEFAULT_KERNEL_PROFILE);
}

/**
 * The memblock model (top-down allocation, reservations, NOMAP) and memblock as it stands
 * on QEMU virt when kvm_hyp_reserve runs; plus the kernel profiles' data.
 */
import { describe, expect, it } from 'vitest';
import {
  DEBIAN_6_1_CLOUD_ARM64,
  EarlyBootMemoryError,
  formatBytes,
  pagingInitTablePages,
  virtMemblockAtHypReserve,
  virtUnflattenedDtBytes,
} from '../../src/pkvm/early-memblock.js';
import { alignDown, alignUp, isPowerOfTwo, Memblock } from '../../src/pkvm/memblock.js';
import { DEFAULT_KERNEL_PROFILE, getKernelProfile, KERNEL_PROFILE_NAMES, KERNEL_PROFILES } from '../../src/pkvm/profile.js';
import { kvmHypReserveOnVirt } from '../../src/pkvm/reservation.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RAM = 0x4000_0000;

function ram(size: number): Memblock {
  const mb = new Memblock();
  mb.addMemory(RAM, size);
  return mb;
}

describe('memblock_phys_alloc (top-down)', () => {
  it('takes the highest aligned address below the top', () => {
    const mb = ram(64 * MiB);
    expect(mb.physAlloc(4096, 4096, 'a')).toBe(RAM + 64 * MiB - 4096);
    // Below the page just taken, 2 MiB-aligned: the 2 MiB slot under it.
    expect(mb.physAlloc(2 * MiB, 2 * MiB, 'b')).toBe(RAM + 62 * MiB - 2 * MiB);
  });

  it('skips reserved ranges and free gaps too small', () => {
    const mb = ram(64 * MiB);
    mb.reserve(RAM + 63 * MiB, MiB, 'top');
    mb.reserve(RAM + 60 * MiB, 2 * MiB, 'middle'); // leaves a 1 MiB gap at 62 MiB
    expect(mb.physAlloc(2 * MiB, 4096, 'x')).toBe(RAM + 58 * MiB);
    expect(mb.physAlloc(MiB, 4096, 'y')).toBe(RAM + 62 * MiB);
  });

  it('never hands out NOMAP memory, page 0, or anything above the current limit', () => {
    const mb = ram(16 * MiB);
    mb.markNomap(RAM + 12 * MiB, 4 * MiB);
    expect(mb.physAlloc(MiB, MiB, 'a')).toBe(RAM + 11 * MiB);
    mb.currentLimit = RAM + 8 * MiB;
    expect(mb.physAlloc(MiB, MiB, 'b')).toBe(RAM + 7 * MiB);
    const low = new Memblock();
    low.addMemory(0, 8192);
    expect(low.physAlloc(4096, 4096, 'c')).toBe(4096);
    expect(low.physAlloc(4096, 4096, 'd')).toBeNull();
  });

  it('returns null when nothing fits, and rejects bad sizes and alignments', () => {
    const mb = ram(4 * MiB);
    expect(mb.physAlloc(8 * MiB, 4096, 'big')).toBeNull();
    expect(() => mb.physAlloc(0, 4096, 'z')).toThrow(/not a positive integer/);
    expect(() => mb.physAlloc(4096, 3000, 'z')).toThrow(/not a power of two/);
  });
});

describe('memblock regions and reservations', () => {
  it('marking NOMAP splits a region; clearing it merges them again', () => {
    const mb = ram(GiB);
    mb.markNomap(RAM + 256 * MiB, 2 * MiB);
    expect(mb.memoryRegions()).toEqual([
      { base: RAM, size: 256 * MiB, nomap: false },
      { base: RAM + 256 * MiB, size: 2 * MiB, nomap: true },
      { base: RAM + 258 * MiB, size: GiB - 258 * MiB, nomap: false },
    ]);
    mb.clearNomap(RAM + 256 * MiB, 2 * MiB);
    expect(mb.memoryRegions()).toEqual([{ base: RAM, size: GiB, nomap: false }]);
  });

  it('adjacent memory merges; a second bank stays separate', () => {
    const mb = ram(GiB);
    mb.addMemory(RAM + GiB, GiB);
    mb.addMemory(RAM + 4 * GiB, GiB);
    expect(mb.memoryRegions().map((r) => [r.base, r.size])).toEqual([
      [RAM, 2 * GiB],
      [RAM + 4 * GiB, GiB],
    ]);
    expect(mb.startOfDram()).toBe(RAM);
    expect(mb.endOfDram()).toBe(RAM + 5 * GiB);
  });

  it('free splits reservations; the merged view joins touching ones', () => {
    const mb = ram(GiB);
    mb.reserve(RAM, 3 * MiB, 'a');
    mb.reserve(RAM + 3 * MiB, MiB, 'b');
    expect(mb.reservedMerged()).toEqual([{ base: RAM, size: 4 * MiB }]);
    mb.free(RAM + MiB, MiB);
    expect(mb.reservedRanges()).toEqual([
      { base: RAM, size: MiB, label: 'a' },
      { base: RAM + 2 * MiB, size: MiB, label: 'a' },
      { base: RAM + 3 * MiB, size: MiB, label: 'b' },
    ]);
    expect(mb.freeRanges()[0]).toEqual({ base: RAM + MiB, size: MiB });
  });

  it('helpers', () => {
    expect(alignDown(0x4567, 0x1000)).toBe(0x4000);
    expect(alignUp(0x4567, 0x1000)).toBe(0x5000);
    expect(alignUp(0x4000, 0x1000)).toBe(0x4000);
    expect([1, 2, 4096, 2 ** 40].every(isPowerOfTwo)).toBe(true);
    expect([0, 3, 4095, -4].some(isPowerOfTwo)).toBe(false);
    expect([formatBytes(1536 * MiB), formatBytes(36 * MiB), formatBytes(4360 * 1024), formatBytes(100)]).toEqual([
      '1.5 GiB',
      '36 MiB',
      '4360 KiB',
      '100 bytes',
    ]);
  });
});

describe('memblock on QEMU virt when kvm_hyp_reserve runs', () => {
  it('512 MiB: image, DTB at 128 MiB, then page tables, DT, NUMA distance and NODE_DATA from the top', () => {
    const early = virtMemblockAtHypReserve({ ramSize: 512 * MiB });
    expect(early.kernelImage).toMatchObject({ base: 0x4021_0000, size: 0x1ab_0000 - 0x1_0000 });
    expect(early.dtb).toMatchObject({ base: 0x4800_0000, size: MiB });
    expect(early.initrd).toBeNull();
    // 256 PTE tables + 1 PMD + 1 PUD for the linear map, + 4 fixed = 262 (as the kernel took).
    expect(early.pagingInitTablePages).toBe(262);
    expect(early.earlyAllocations).toEqual([
      { label: 'paging_init page tables', base: 0x5fef_a000, size: 262 * 4096 },
      { label: 'unflattened device tree', base: 0x5fef_03e0, size: 39964 },
      { label: 'numa_distance', base: 0x5fef_0000, size: 256 },
      { label: 'NODE_DATA(0)', base: 0x5fee_d380, size: 11392 },
    ]);
  });

  it('small RAM: the DTB goes after the image when RAM/2 is still inside it', () => {
    expect(virtMemblockAtHypReserve({ ramSize: 40 * MiB }).dtb.base).toBe(0x41e0_0000);
    expect(virtMemblockAtHypReserve({ ramSize: 64 * MiB }).dtb.base).toBe(0x4200_0000);
    expect(virtMemblockAtHypReserve({ ramSize: 128 * MiB }).dtb.base).toBe(0x4400_0000);
  });

  // As the real kernel showed for 1 GiB with a 5 MiB + 100 B initrd: [0x4800_0000, 0x4850_1000) and the DTB at 0x4860_0000.
  it('an initrd sits where the DTB would, and the DTB follows it', () => {
    const early = virtMemblockAtHypReserve({ ramSize: GiB, initrdSize: 5 * MiB + 100 });
    expect(early.initrd).toMatchObject({ base: 0x4800_0000, size: 5 * MiB + 4096 });
    expect(early.dtb.base).toBe(0x4860_0000);
  });

  it('more CPUs grow the unflattened DT (measured for 1, 2, 4 and 8)', () => {
    expect([1, 2, 4, 8].map(virtUnflattenedDtBytes)).toEqual([39964, 41276, 43708, 48572]);
    const four = virtMemblockAtHypReserve({ ramSize: 512 * MiB, cpus: 4 });
    expect(four.earlyAllocations.find((a) => a.label === 'unflattened device tree')?.size).toBe(43708);
  });

  it('page tables of the linear map follow the memory regions', () => {
    const regions = [
      { base: RAM, size: GiB, nomap: false },
      { base: RAM + GiB, size: MiB, nomap: true }, // not linearly mapped
      { base: RAM + 2 * GiB + MiB, size: 3 * MiB, nomap: false }, // touches two 2 MiB slots
    ];
    const fixed = DEBIAN_6_1_CLOUD_ARM64.fixedPageTablePages;
    expect(pagingInitTablePages(regions)).toBe(512 + 2 + 2 + 1 + fixed);
  });

  it('a no-map /reserved-memory node splits the region for kvm_hyp_reserve', () => {
    const { reservation } = kvmHypReserveOnVirt({ ramSize: GiB, profile: 'linux-6.1', noMapRegions: [{ base: 0x6000_0000, size: 4 * MiB }] });
    expect(reservation.hypMemory.length).toBe(3);
    expect(reservation.log).toBe('kvm [0]: Reserved 10 MiB at 0x7f200000');
  });

  it('bad sizes are named', () => {
    expect(() => virtMemblockAtHypReserve({ ramSize: 100 })).toThrow(EarlyBootMemoryError);
    expect(() => virtMemblockAtHypReserve({ ramSize: 100 })).toThrow(/multiple of 4 KiB/);
    expect(() => virtMemblockAtHypReserve({ ramSize: 16 * MiB })).toThrow(/16 MiB of RAM cannot hold the kernel image/);
    expect(() => virtMemblockAtHypReserve({ ramSize: GiB, cpus: 0 })).toThrow(/CPU count 0/);
  });
});

describe('kernel profiles', () => {
  it('android is the default; both names resolve', () => {
    expect(DEFAULT_KERNEL_PROFILE).toBe('android');
    expect(getKernelProfile().name).toBe('android');
    expect(KERNEL_PROFILE_NAMES.map((n) => getKernelProfile(n).name)).toEqual(['android', 'linux-6.1']);
    expect(() => getKernelProfile('mainline')).toThrow(/expected one of android, linux-6.1/);
  });

  it('carries the differences between the trees as data', () => {
    const a = KERNEL_PROFILES.android;
    const l = KERNEL_PROFILES['linux-6.1'];
    expect([a.vmemmapSizing, l.vmemmapSizing]).toEqual(['all-memory', 'pool-fixed-point']);
    expect([a.structHypPageSize, l.structHypPageSize]).toEqual([4, 4]);
    expect([a.hypAllocInitVaBytes, l.hypAllocInitVaBytes]).toEqual([128 * MiB, null]);
    expect([a.prepopulateHostStage2, l.prepopulateHostStage2]).toEqual([true, false]);
    expect([a.ffaProxy !== null, l.ffaProxy !== null]).toEqual([true, false]);
    expect([a.switchPgdParams, l.switchPgdParams]).toEqual(['va', 'pa']);
    expect(a.poolLayout).toEqual(['vmemmap', 'vm_table', 'hyp_s1_pgtable', 'host_s2_pgtable', 'ffa_proxy']);
    expect(l.poolLayout).toEqual(['vmemmap', 'hyp_s1_pgtable', 'host_s2_pgtable']);
    expect(a.finaliseSteps).toContain('pin_host_tables');
    expect(l.finaliseSteps).not.toContain('pin_host_tables');
  });
});

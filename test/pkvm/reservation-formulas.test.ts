/**
 * kvm_hyp_reserve's formulas and divide_memory_pool with hand-computed cases
 * (pkvm-facts §1.3, §1.7), for both kernel profiles.
 */
import { describe, expect, it } from 'vitest';
import { Memblock } from '../../src/pkvm/memblock.js';
import { getKernelProfile, KERNEL_PROFILES } from '../../src/pkvm/profile.js';
import type { KernelProfile } from '../../src/pkvm/profile.js';
import {
  divideMemoryPool,
  hostS2PgtablePages,
  hypFfaProxyPages,
  hypMemPagesFor,
  hypPgtableMaxPages,
  hypPgtableTotalPages,
  hypS1PgtablePages,
  hypVmemmapPages,
  hypVmemmapRangePages,
  hypVmTablePages,
  kvmHypReserve,
  kvmHypReserveOnVirt,
  poolPart,
  reservationLogLine,
  ReservationError,
  v61VmemmapFixedPointPages,
} from '../../src/pkvm/reservation.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RAM = 0x4000_0000;
const ONE_GIB = [{ base: RAM, size: GiB }];

describe('__hyp_pgtable_max_pages', () => {
  it.each([
    [0, 0],
    [1, 4], // one table at each of the 4 levels
    [512, 4], // one full PTE table
    [513, 5], // a second PTE table
    [131072, 259], // 512 MiB: 256 + 1 + 1 + 1
    [262144, 515], // 1 GiB: 512 + 1 + 1 + 1
    [512 ** 3, 262144 + 512 + 1 + 1], // 512 GiB
  ])('%i pages need %i table pages', (pages, tables) => {
    expect(hypPgtableMaxPages(pages)).toBe(tables);
  });

  it('rejects negative and fractional counts', () => {
    expect(() => hypPgtableMaxPages(-1)).toThrow(/not a non-negative integer/);
    expect(() => hypPgtableMaxPages(1.5)).toThrow(/not a non-negative integer/);
  });
});

describe('page-table totals over regions', () => {
  it('sums the worst case per region, so splitting RAM costs pages', () => {
    expect(hypPgtableTotalPages(ONE_GIB)).toBe(515);
    expect(hypPgtableTotalPages([{ base: RAM, size: GiB / 2 }, { base: RAM + GiB / 2, size: GiB / 2 }])).toBe(2 * 259);
    // A region smaller than a page maps no page.
    expect(hypPgtableTotalPages([{ base: RAM, size: 4095 }])).toBe(0);
  });

  it('hyp_s1 = total + 1 GiB of private mappings; host_s2 = total + 16 PGD pages + 1 GiB of MMIO', () => {
    expect(hypS1PgtablePages(ONE_GIB)).toBe(515 + 515);
    expect(hostS2PgtablePages(ONE_GIB)).toBe(515 + 16 + 515);
    expect(hypS1PgtablePages([])).toBe(515);
  });
});

describe('vmemmap sizing', () => {
  it('v6.1 fixed point: the pool vmemmap plus its own tables', () => {
    // 1 GiB: 2076 pages → ceil(2076·4/4096) = 3 entries pages + 4 tables = 7; 2083 pages → still 3 → 7.
    expect(v61VmemmapFixedPointPages(2076, 4)).toBe(7);
    // 512 MiB: 1564 → 2 + 4 = 6, stable.
    expect(v61VmemmapFixedPointPages(1564, 4)).toBe(6);
    // 1023 → 1 + 4 = 5; 1028 → 2 + 4 = 6; 1029 → 2 → 6: three rounds.
    expect(v61VmemmapFixedPointPages(1023, 4)).toBe(6);
    expect(v61VmemmapFixedPointPages(0, 4)).toBe(0);
  });

  it('all-memory vmemmap: each region slice rounded out to pages', () => {
    // PA 0x4000_0000 is pfn 0x40000: entries [0x100000, 0x200000) → 256 pages.
    expect(hypVmemmapPages(ONE_GIB, 4)).toBe(256);
    expect(hypVmemmapPages(ONE_GIB, 8)).toBe(512);
    // 3 pages at 0x4000_1000: bytes [0x100004, 0x100010) → one page.
    expect(hypVmemmapPages([{ base: 0x4000_1000, size: 0x3000 }], 4)).toBe(1);
    // Two tiny regions in the same vmemmap page count once each, as the kernel sums them.
    expect(hypVmemmapPages([{ base: 0x4000_0000, size: 0x1000 }, { base: 0x4000_2000, size: 0x1000 }], 4)).toBe(2);
  });

  it("v6.1 divide_memory_pool's pool-only vmemmap range", () => {
    // 10 MiB at 0x7f20_0000: entries [0x1fc800, 0x1ff000) → pages [0x1fc000, 0x1ff000) = 3.
    expect(hypVmemmapRangePages(0x7f20_0000, 10 * MiB, 4)).toBe(3);
  });
});

describe('VM table and FF-A proxy', () => {
  it('hyp_vm_table_pages: 255 pointers fit one page on Android; absent in 6.1', () => {
    expect(hypVmTablePages('android')).toBe(1);
    expect(hypVmTablePages('linux-6.1')).toBe(0);
  });

  it('hyp_ffa_proxy_pages: 2 mailbox pages + the largest descriptor', () => {
    // 48 + 16 + 16 + 12288·16 = 196688 bytes → 49 pages, + 2.
    expect(hypFfaProxyPages('android')).toBe(51);
    expect(hypFfaProxyPages('linux-6.1')).toBe(0);
    // Mainline bounds constituents by SG_MAX_SEGMENTS = 2048: 32848 bytes → 9 pages, + 2.
    const mainline: KernelProfile = { ...KERNEL_PROFILES.android, ffaProxy: { ...KERNEL_PROFILES.android.ffaProxy!, maxConstituents: 2048 } };
    expect(hypFfaProxyPages(mainline)).toBe(11);
  });
});

describe('hyp_mem_pages per profile', () => {
  it('linux-6.1, 1 GiB: s1 1030 + s2 1046 + vmemmap 7 = 2083', () => {
    const { hypMemPages, breakdown } = hypMemPagesFor(ONE_GIB, { profile: 'linux-6.1' });
    expect(breakdown).toEqual({
      pgtableRegions: 1,
      pgtableTotalPages: 515,
      hypS1PgtablePages: 1030,
      hostS2PgtablePages: 1046,
      hypVmTablePages: 0,
      hypVmemmapPages: 7,
      hypFfaProxyPages: 0,
    });
    expect(hypMemPages).toBe(2083);
  });

  it('android, 1 GiB: s1 1030 + s2 1046 + VM table 1 + vmemmap 256 + FF-A 51 = 2384', () => {
    const { hypMemPages, breakdown } = hypMemPagesFor(ONE_GIB, { profile: 'android' });
    expect(breakdown.hypVmemmapPages).toBe(256);
    expect(breakdown.hypVmTablePages).toBe(1);
    expect(breakdown.hypFfaProxyPages).toBe(51);
    expect(hypMemPages).toBe(2384);
  });

  it('android is the default profile', () => {
    expect(hypMemPagesFor(ONE_GIB).hypMemPages).toBe(2384);
  });

  it('android counts DT protected regions as extra moveable regions in the page-table terms', () => {
    const prot = [{ base: 0x8000_0000, size: 2 * MiB }]; // 512 pages → 4 table pages in s1 and in s2
    const plain = hypMemPagesFor(ONE_GIB, { profile: 'android' });
    const withProt = hypMemPagesFor(ONE_GIB, { profile: 'android', protectedRegions: prot });
    expect(withProt.breakdown.pgtableRegions).toBe(2);
    expect(withProt.hypMemPages - plain.hypMemPages).toBe(8);
    // v6.1 has no moveable regions: protected regions change nothing.
    expect(hypMemPagesFor(ONE_GIB, { profile: 'linux-6.1', protectedRegions: prot }).hypMemPages).toBe(2083);
    expect(() => hypMemPagesFor(ONE_GIB, { profile: 'android', protectedRegions: [{ base: 0x8000_0800, size: 4096 }] })).toThrow(
      /not page-aligned/,
    );
  });

  it('the 6.1 and Android totals of pkvm-facts §1.5 (512 MiB … 4 GiB)', () => {
    const pages = (gib: number) => hypMemPagesFor([{ base: RAM, size: gib * GiB }], { profile: 'linux-6.1' }).hypMemPages;
    expect([pages(0.5), pages(1), pages(2), pages(4)]).toEqual([1570, 2083, 3110, 5164]);
  });
});

describe("the kernel's log line", () => {
  it('prints size >> 20 in MiB and the base in lower-case hex', () => {
    expect(reservationLogLine(10 * MiB, 0x7f20_0000)).toBe('kvm [0]: Reserved 10 MiB at 0x7f200000');
    expect(reservationLogLine(38 * MiB, 0x2_3c80_0000)).toBe('kvm [0]: Reserved 38 MiB at 0x23c800000');
    // The page-aligned fallback keeps the unaligned size; the MiB figure truncates.
    expect(reservationLogLine(4481024, 0x41f9_5000)).toBe('kvm [0]: Reserved 4 MiB at 0x41f95000');
  });
});

describe('kvm_hyp_reserve on a bare memblock', () => {
  it('takes the PMD-aligned size top-down and records the slack', () => {
    const mb = new Memblock();
    mb.addMemory(RAM, GiB);
    const r = kvmHypReserve(mb, { profile: 'linux-6.1' });
    expect(r.hypMemPages).toBe(2083);
    expect(r.hypMemSize).toBe(10 * MiB);
    expect(r.hypMemBase).toBe(RAM + GiB - 10 * MiB);
    expect(r.slackPages).toBe(2560 - 2083);
    expect(r.attempts).toEqual([{ bytes: 10 * MiB, align: 2 * MiB, base: r.hypMemBase }]);
    expect(mb.reservedRanges()).toContainEqual({ base: r.hypMemBase, size: 10 * MiB, label: 'hyp memory pool' });
    expect(r.hypMemory).toEqual([{ base: RAM, size: GiB, nomap: false }]);
  });

  it('falls back to page alignment with the exact size when no 2 MiB-aligned range is free', () => {
    const mb = new Memblock();
    mb.addMemory(RAM, GiB);
    // Leave only [RAM + 1 MiB, RAM + 10 MiB + 1 MiB) free: 10 MiB, never at a 2 MiB boundary that fits.
    mb.reserve(RAM, MiB, 'low');
    mb.reserve(RAM + 11 * MiB, GiB - 11 * MiB, 'high');
    const r = kvmHypReserve(mb, { profile: 'linux-6.1' });
    expect(r.alignment).toBe(4096);
    expect(r.hypMemSize).toBe(2083 * 4096);
    expect(r.hypMemBase).toBe(RAM + 11 * MiB - 2083 * 4096);
    expect(r.attempts.map((a) => a.base === null)).toEqual([true, false]);
    expect(r.log).toBe(`kvm [0]: Reserved 8 MiB at 0x${(RAM + 11 * MiB - 2083 * 4096).toString(16)}`);
  });

  it('registers NOMAP regions too, each costing its own page tables', () => {
    const mb = new Memblock();
    mb.addMemory(RAM, GiB);
    mb.markNomap(RAM + 256 * MiB, 2 * MiB); // splits into three regions
    const r = kvmHypReserve(mb, { profile: 'linux-6.1' });
    expect(r.hypMemory.map((m) => m.nomap)).toEqual([false, true, false]);
    // 256 MiB: 128+1+1+1 = 131; 2 MiB: 4; 766 MiB: 383+1+1+1 = 386 → 521 instead of 515.
    expect(r.breakdown.pgtableTotalPages).toBe(131 + 4 + 386);
  });

  it('more than HYP_MEMBLOCK_REGIONS regions is the kernel\'s -ENOMEM', () => {
    const mb = new Memblock();
    for (let i = 0; i < 129; i++) mb.addMemory(RAM + i * 4 * MiB, 2 * MiB);
    expect(() => kvmHypReserve(mb)).toThrow(ReservationError);
    expect(() => kvmHypReserve(mb)).toThrow(/129 memblock regions exceed HYP_MEMBLOCK_REGIONS \(128\)/);
  });

  it('an unknown profile name lists the valid ones', () => {
    const mb = new Memblock();
    mb.addMemory(RAM, GiB);
    expect(() => kvmHypReserve(mb, { profile: 'linux-6.6' as never })).toThrow(/unknown kernel profile 'linux-6.6': expected one of android, linux-6.1/);
    expect(getKernelProfile('linux-6.1').vmemmapSizing).toBe('pool-fixed-point');
  });
});

describe('divide_memory_pool', () => {
  it('linux-6.1, 1 GiB: pool vmemmap, s1, s2 in order; the fixed-point surplus and alignment are slack', () => {
    const { reservation: r } = kvmHypReserveOnVirt({ ramSize: GiB, profile: 'linux-6.1' });
    expect(r.hypMemBase).toBe(0x7f20_0000);
    const d = divideMemoryPool({ base: r.hypMemBase, size: r.hypMemSize, hypMemory: r.hypMemory, profile: 'linux-6.1' });
    expect(d.parts).toEqual([
      { name: 'vmemmap', base: 0x7f20_0000, pages: 3 },
      { name: 'hyp_s1_pgtable', base: 0x7f20_3000, pages: 1030 },
      { name: 'host_s2_pgtable', base: 0x7f60_9000, pages: 1046 },
    ]);
    expect(d.usedPages).toBe(2079);
    expect(d.slack).toEqual({ base: 0x7fa1_f000, pages: 2560 - 2079 });
    expect(poolPart(d, 'hyp_s1_pgtable').pages).toBe(r.breakdown.hypS1PgtablePages);
    expect(() => poolPart(d, 'ffa_proxy')).toThrow(/no ffa_proxy part/);
  });

  it('android, 1 GiB: vmemmap, VM table, s1, s2, FF-A: exactly the reserved pages', () => {
    const { reservation: r } = kvmHypReserveOnVirt({ ramSize: GiB, profile: 'android' });
    const d = divideMemoryPool({ base: r.hypMemBase, size: r.hypMemSize, hypMemory: r.hypMemory });
    expect(d.parts.map((p) => [p.name, p.pages])).toEqual([
      ['vmemmap', 256],
      ['vm_table', 1],
      ['hyp_s1_pgtable', 1030],
      ['host_s2_pgtable', 1046],
      ['ffa_proxy', 51],
    ]);
    expect(d.usedPages).toBe(r.hypMemPages);
    for (let i = 1; i < d.parts.length; i++) expect(d.parts[i]!.base).toBe(d.parts[i - 1]!.base + d.parts[i - 1]!.pages * 4096);
  });

  it('agrees with the reservation by construction, for every size and profile', () => {
    for (const profile of ['android', 'linux-6.1'] as const) {
      for (const mib of [36, 64, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192]) {
        const { reservation: r } = kvmHypReserveOnVirt({ ramSize: mib * MiB, profile });
        const d = divideMemoryPool({ base: r.hypMemBase, size: r.hypMemSize, hypMemory: r.hypMemory, profile });
        expect(d.usedPages).toBeLessThanOrEqual(r.hypMemPages);
        expect(d.slack.base + d.slack.pages * 4096).toBe(r.hypMemBase + r.hypMemSize);
      }
    }
  });

  it('refuses a pool too small for its parts, or unaligned', () => {
    expect(() => divideMemoryPool({ base: 0x7f20_0000, size: 2 * MiB, hypMemory: ONE_GIB, profile: 'linux-6.1' })).toThrow(
      // The pool-only vmemmap of a 2 MiB pool is 1 page: 1 + 1030 + 1046.
      /cannot hold 2077 pages/,
    );
    expect(() => divideMemoryPool({ base: 0x7f20_0800, size: 10 * MiB, hypMemory: ONE_GIB })).toThrow(/must be page-aligned/);
  });
});

describe('errors from kvm_hyp_reserve carry the kernel message', () => {
  it('ReservationError.kernelMessage', () => {
    const mb = new Memblock();
    mb.addMemory(RAM, 4 * MiB);
    try {
      kvmHypReserve(mb, { profile: 'android' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ReservationError);
      expect((e as ReservationError).kernelMessage).toBe('kvm [0]: Failed to reserve hyp memory');
      expect((e as Error).message).toMatch(/needs \d+ pages .* for the android profile, but with 4 MiB of RAM the largest free range .* is 4 MiB/);
    }
  });
});

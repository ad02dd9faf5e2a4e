import { describe, expect, it } from 'vitest';
import { MemoryFault, PhysicalMemory } from '../../src/machine/physical-memory.js';
import type { AccessSize, MmioDevice } from '../../src/machine/mmio-device.js';

const RAM_BASE = 0x4000_0000;

function smallRam(size = 0x10000, chunkSize?: number): PhysicalMemory {
  const memory = new PhysicalMemory();
  memory.addRam('ram', RAM_BASE, size, chunkSize);
  return memory;
}

/** Records every access; reads return a value derived from the offset. */
class RecordingDevice implements MmioDevice {
  readonly name = 'recorder';
  readonly log: string[] = [];
  high32 = 0;
  constructor(readonly handles64 = false) {}
  read(offset: number, size: AccessSize): number {
    this.log.push(`r${size}@${offset.toString(16)}`);
    if (size === 8) this.high32 = 0xcafe0000 | offset;
    return (0xab000000 | offset) >>> 0;
  }
  write(offset: number, size: AccessSize, lo: number, hi: number): void {
    this.log.push(`w${size}@${offset.toString(16)}=${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`);
  }
}

describe('PhysicalMemory RAM', () => {
  it('reads back every width little-endian, aligned', () => {
    const memory = smallRam();
    const out = new Uint32Array(2);
    expect(memory.write64(RAM_BASE + 0x100, 0x4433_2211, 0x8877_6655)).toBe(true);
    expect(memory.read8(RAM_BASE + 0x100)).toBe(0x11);
    expect(memory.read8(RAM_BASE + 0x107)).toBe(0x88);
    expect(memory.read16(RAM_BASE + 0x102)).toBe(0x4433);
    expect(memory.read32(RAM_BASE + 0x104) >>> 0).toBe(0x8877_6655);
    expect(memory.read32(RAM_BASE + 0x104)).toBe(0x8877_6655 | 0); // int32 pattern
    expect(memory.read64(RAM_BASE + 0x100, out, 0)).toBe(true);
    expect([...out]).toEqual([0x4433_2211, 0x8877_6655]);

    memory.write8(RAM_BASE + 0x200, 0x1ff); // only the low byte is stored
    memory.write16(RAM_BASE + 0x202, 0xbeef);
    memory.write32(RAM_BASE + 0x204, -2);
    expect(memory.read32(RAM_BASE + 0x200) >>> 0).toBe(0xbeef_00ff);
    expect(memory.read32(RAM_BASE + 0x204) >>> 0).toBe(0xffff_fffe);
    expect(memory.lastFault).toBe(MemoryFault.None);
  });

  it('handles unaligned accesses of every width', () => {
    const memory = smallRam();
    const out = new Uint32Array(3);
    for (let misalign = 1; misalign < 8; misalign++) {
      const pa = RAM_BASE + 0x1000 + misalign;
      expect(memory.write64(pa, 0x0403_0201, 0x0807_0605)).toBe(true);
      for (let k = 0; k < 8; k++) expect(memory.read8(pa + k)).toBe(k + 1);
      expect(memory.read16(pa + 1)).toBe(0x0302);
      expect(memory.read32(pa + 3) >>> 0).toBe(0x0706_0504);
      expect(memory.read64(pa, out, 1)).toBe(true);
      expect([out[1], out[2]]).toEqual([0x0403_0201, 0x0807_0605]);
      memory.write32(pa + 1, 0xa1b2_c3d4);
      expect(memory.read32(pa + 1) >>> 0).toBe(0xa1b2_c3d4);
      memory.write16(pa + 5, 0x7788);
      expect(memory.read16(pa + 5)).toBe(0x7788);
    }
  });

  it('accesses across a chunk boundary', () => {
    const chunk = 0x2000;
    const memory = smallRam(3 * chunk, chunk);
    expect(memory.ramChunks.length).toBe(3);
    const out = new Uint32Array(2);
    const boundary = RAM_BASE + chunk;
    for (const start of [boundary - 7, boundary - 4, boundary - 1]) {
      expect(memory.write64(start, 0x1122_3344, 0x5566_7788)).toBe(true);
      expect(memory.read64(start, out, 0)).toBe(true);
      expect([out[0], out[1]]).toEqual([0x1122_3344, 0x5566_7788]);
      expect(memory.read8(start)).toBe(0x44);
    }
    memory.write32(boundary - 2, 0xdead_beef);
    expect(memory.read32(boundary - 2) >>> 0).toBe(0xdead_beef);
    expect(memory.read16(boundary - 1)).toBe(0xadbe);
    memory.write16(boundary + chunk - 1, 0x1234);
    expect(memory.read16(boundary + chunk - 1)).toBe(0x1234);
    expect(memory.lastFault).toBe(MemoryFault.None);
  });

  it('allocates chunks lazily and reads untouched ones as zero', () => {
    const chunk = 0x4000;
    const memory = smallRam(4 * chunk, chunk);
    // Only the fast window (first chunk) has backing store.
    expect(memory.ramChunks.map((c) => c.allocated)).toEqual([true, false, false, false]);
    const last = RAM_BASE + 4 * chunk - 8;
    expect(memory.read32(last)).toBe(0);
    expect(memory.write64(last, 0, 0)).toBe(true); // zeros need no store
    expect(memory.ramChunks[3]!.allocated).toBe(false);
    expect(memory.write8(last, 9)).toBe(true);
    expect(memory.ramChunks[3]!.allocated).toBe(true);
    expect(memory.read8(last)).toBe(9);
    expect(memory.allocatedRamBytes()).toBe(2 * chunk);
  });

  it('exposes the fast window for direct indexing', () => {
    const memory = smallRam(0x4000 * 2, 0x4000);
    expect(memory.ramBase).toBe(RAM_BASE);
    expect(memory.ramSize).toBe(0x4000);
    memory.ram32[4] = 0x1234_5678;
    expect(memory.read32(RAM_BASE + 16)).toBe(0x1234_5678);
    expect(memory.ram8[16]).toBe(0x78);
    expect(memory.setFastWindow(RAM_BASE + 0x4000 + 12)).toBe(true);
    expect(memory.ramBase).toBe(RAM_BASE + 0x4000);
    memory.ram32[1] = 0xfeed;
    expect(memory.read32(RAM_BASE + 0x4004)).toBe(0xfeed);
    expect(memory.read32(RAM_BASE + 16)).toBe(0x1234_5678); // still readable via the slow path
    expect(memory.setFastWindow(0x1000)).toBe(false);
    expect(memory.findRam(RAM_BASE + 0x4000)).toBe(1);
    expect(memory.findRam(RAM_BASE - 1)).toBe(-1);
    const words = memory.ramWordsOf(0);
    expect(words[4]).toBe(0x1234_5678);
  });

  it('copies bulk data across chunks and refuses partial copies', () => {
    const chunk = 0x2000;
    const memory = smallRam(2 * chunk, chunk);
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const start = RAM_BASE + chunk - 100;
    expect(memory.writeBytes(start, data)).toBe(true);
    expect(memory.readBytes(start, 300)).toEqual(data);
    expect(memory.zeroFill(start + 10, 200)).toBe(true);
    const back = memory.readBytes(start, 300)!;
    expect(back[9]).toBe(9);
    expect(back[10]).toBe(0);
    expect(back[209]).toBe(0);
    expect(back[210]).toBe(210);

    const end = RAM_BASE + 2 * chunk;
    expect(memory.writeBytes(end - 4, new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe(false);
    expect(memory.lastFault).toBe(MemoryFault.Unmapped);
    expect(memory.lastFaultAddress).toBe(end);
    expect(memory.read32(end - 4)).toBe(0); // nothing was written
    expect(memory.readBytes(end - 4, 8)).toBeNull();
    expect(memory.isRam(end - 4, 4)).toBe(true);
    expect(memory.isRam(end - 4, 5)).toBe(false);
  });

  it('treats adjacent RAM regions as one contiguous range', () => {
    const memory = new PhysicalMemory();
    memory.addRam('low', 0x8000_0000, 0x1000);
    memory.addRam('high', 0x8000_1000, 0x1000);
    expect(memory.write32(0x8000_0ffe, 0x0102_0304)).toBe(true);
    expect(memory.read32(0x8000_0ffe)).toBe(0x0102_0304);
    expect(memory.read8(0x8000_1000)).toBe(0x02);
  });

  it('rejects overlapping and malformed regions at setup', () => {
    const memory = smallRam();
    expect(() => memory.addRam('again', RAM_BASE + 0x1000, 0x1000)).toThrow(/overlaps 'ram'/);
    expect(() => memory.addMmio('dev', RAM_BASE - 0x800, 0x1000, new RecordingDevice())).toThrow(/overlaps/);
    expect(() => memory.addRam('odd', 0x1000_0000, 0x123)).toThrow(/multiples of 4 KiB/);
    expect(() => memory.addRam('huge', 2 ** 48 - 0x1000, 0x2000)).toThrow(/48-bit/);
  });
});

describe('PhysicalMemory faults', () => {
  it('reports unmapped accesses without throwing', () => {
    const memory = smallRam();
    memory.addReserved('gic', 0x0800_0000, 0x1_0000);
    const out = new Uint32Array([7, 7]);
    expect(memory.read32(0x1000)).toBe(0);
    expect(memory.lastFault).toBe(MemoryFault.Unmapped);
    expect(memory.lastFaultAddress).toBe(0x1000);
    expect(memory.read8(0x2_0000_0000)).toBe(0);
    expect(memory.read16(0x2_0000_0000)).toBe(0);
    expect(memory.read64(0x10, out, 0)).toBe(false);
    expect([...out]).toEqual([0, 0]);
    expect(memory.write8(0x10, 1)).toBe(false);
    expect(memory.write16(0x10, 1)).toBe(false);
    expect(memory.write32(0x10, 1)).toBe(false);
    expect(memory.write64(0x10, 1, 2)).toBe(false);
    expect(memory.read32(0x0800_0004)).toBe(0);
    expect(memory.lastFault).toBe(MemoryFault.NotModelled);
    expect(memory.describe(0x0800_0004)).toContain("'gic'");
    // A successful access clears the status.
    memory.read32(RAM_BASE);
    expect(memory.lastFault).toBe(MemoryFault.None);
  });

  it('faults an access that runs off the end of RAM', () => {
    const memory = smallRam(0x1000);
    const end = RAM_BASE + 0x1000;
    expect(memory.read32(end - 2)).toBe(0);
    expect(memory.lastFault).toBe(MemoryFault.Straddle);
    expect(memory.write64(end - 4, 1, 1)).toBe(false);
    expect(memory.lastFault).toBe(MemoryFault.Straddle);
    expect(memory.read8(end - 4)).toBe(0); // the failed write stored nothing
  });
});

describe('PhysicalMemory MMIO', () => {
  it('dispatches accesses with device-relative offsets', () => {
    const memory = smallRam();
    const device = new RecordingDevice();
    memory.addMmio('dev', 0x0900_0000, 0x1000, device);
    expect(memory.read32(0x0900_0018) >>> 0).toBe(0xab00_0018);
    expect(memory.read8(0x0900_0018)).toBe(0x18);
    expect(memory.read16(0x0900_0018)).toBe(0x0018);
    expect(memory.write8(0x0900_0000, 0x141)).toBe(true);
    expect(memory.write32(0x0900_0030, 0x8000_0301)).toBe(true);
    expect(device.log).toEqual(['r4@18', 'r1@18', 'r2@18', 'w1@0=0:41', 'w4@30=0:80000301']);
  });

  it('splits 8-byte accesses for 32-bit devices and passes them whole otherwise', () => {
    const memory = smallRam();
    const narrow = new RecordingDevice(false);
    const wide = new RecordingDevice(true);
    memory.addMmio('narrow', 0x0900_0000, 0x1000, narrow);
    memory.addMmio('wide', 0x0a00_0000, 0x1000, wide);
    const out = new Uint32Array(2);
    expect(memory.read64(0x0900_0010, out, 0)).toBe(true);
    expect([...out]).toEqual([0xab00_0010, 0xab00_0014]);
    expect(memory.write64(0x0900_0010, 1, 2)).toBe(true);
    expect(narrow.log).toEqual(['r4@10', 'r4@14', 'w4@10=0:1', 'w4@14=0:2']);
    expect(memory.read64(0x0a00_0008, out, 0)).toBe(true);
    expect([...out]).toEqual([0xab00_0008, 0xcafe_0008]);
    expect(memory.write64(0x0a00_0008, 3, 4)).toBe(true);
    expect(wide.log).toEqual(['r8@8', 'w8@8=4:3']);
  });

  it('faults an access running past the end of a device', () => {
    const memory = smallRam();
    const device = new RecordingDevice();
    memory.addMmio('dev', 0x0900_0000, 0x1000, device);
    expect(memory.read32(0x0900_0ffe)).toBe(0);
    expect(memory.lastFault).toBe(MemoryFault.Straddle);
    expect(memory.write64(0x0900_0ffc, 0, 0)).toBe(false);
    expect(device.log).toEqual([]);
    // Bulk copies never touch devices.
    expect(memory.readBytes(0x0900_0000, 4)).toBeNull();
    expect(memory.writeBytes(0x0900_0000, new Uint8Array(4))).toBe(false);
    expect(device.log).toEqual([]);
  });
});

describe('PhysicalMemory code-page write hook', () => {
  it('fires only for stores to marked pages', () => {
    const memory = smallRam(0x4000 * 2, 0x4000);
    const hits: [number, number][] = [];
    memory.onCodeWrite = (pa, size) => hits.push([pa, size]);
    expect(memory.markCodePage(RAM_BASE + 0x1010)).toBe(true);
    expect(memory.markCodePage(0x10)).toBe(false);
    expect(memory.isCodePage(RAM_BASE + 0x1fff)).toBe(true);

    memory.write32(RAM_BASE + 0x2000, 1); // other page
    memory.write8(RAM_BASE + 0x0fff, 1); // page below
    expect(hits).toEqual([]);
    memory.write32(RAM_BASE + 0x1000, 1);
    memory.write64(RAM_BASE + 0x1ff8, 1, 2);
    memory.write16(RAM_BASE + 0x1002, 1);
    memory.write8(RAM_BASE + 0x1003, 1);
    memory.write32(RAM_BASE + 0x0ffe, 1); // unaligned, straddles into the code page
    memory.write64(RAM_BASE + 0x1ffc, 1, 2); // unaligned, straddles out of it
    expect(hits).toEqual([
      [RAM_BASE + 0x1000, 4],
      [RAM_BASE + 0x1ff8, 8],
      [RAM_BASE + 0x1002, 2],
      [RAM_BASE + 0x1003, 1],
      [RAM_BASE + 0x0ffe, 4],
      [RAM_BASE + 0x1ffc, 8],
    ]);

    hits.length = 0;
    memory.writeBytes(RAM_BASE + 0x0f00, new Uint8Array(0x200));
    expect(hits).toEqual([[RAM_BASE + 0x0f00, 0x200]]);

    hits.length = 0;
    memory.clearCodePages();
    memory.write32(RAM_BASE + 0x1000, 5);
    expect(hits).toEqual([]);
  });

  it('fires for marked pages outside the fast window too', () => {
    const memory = smallRam(0x4000 * 2, 0x4000);
    const hits: number[] = [];
    memory.onCodeWrite = (pa) => hits.push(pa);
    memory.markCodePage(RAM_BASE + 0x5000);
    memory.write32(RAM_BASE + 0x5004, 1);
    memory.write32(RAM_BASE + 0x6004, 1);
    memory.unmarkCodePage(RAM_BASE + 0x5000);
    memory.write32(RAM_BASE + 0x5008, 1);
    expect(hits).toEqual([RAM_BASE + 0x5004]);
  });
});

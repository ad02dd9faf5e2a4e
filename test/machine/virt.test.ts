import { describe, expect, it } from 'vitest';
import { createVirtMachine, VIRT_MEMORY_MAP } from '../../src/machine/virt.js';
import { MemoryFault } from '../../src/machine/physical-memory.js';

const GiB = 2 ** 30;

describe('virt machine', () => {
  it('has QEMU virt addresses and a 128 MiB default RAM', () => {
    const machine = createVirtMachine({ uartSink: () => {} });
    expect(machine.ramBase).toBe(0x4000_0000);
    expect(machine.ramSize).toBe(128 * 2 ** 20);
    const { memory } = machine;
    expect(memory.ramBase).toBe(0x4000_0000);
    expect(memory.ramSize).toBe(128 * 2 ** 20);
    expect(memory.write32(0x4008_0000, 0xd503_201f)).toBe(true);
    expect(memory.ram32[0x8_0000 / 4]).toBe(0xd503_201f);
    expect(memory.read32(0x4800_0000)).toBe(0); // just past RAM
    expect(memory.lastFault).toBe(MemoryFault.Unmapped);
    expect(memory.describe(0x0900_0018)).toBe("MMIO 'pl011' +0x18");
  });

  it('makes the GIC and flash external aborts for now, naming them', () => {
    const { memory } = createVirtMachine({ uartSink: () => {} });
    for (const [pa, name] of [
      [VIRT_MEMORY_MAP.gicDistributor.base, 'gic-distributor'],
      [VIRT_MEMORY_MAP.gicRedistributor.base + 0x10000, 'gic-redistributor'],
      [0x100, 'flash'],
    ] as const) {
      expect(memory.read32(pa)).toBe(0);
      expect(memory.lastFault).toBe(MemoryFault.NotModelled);
      expect(memory.write32(pa, 1)).toBe(false);
      expect(memory.describe(pa)).toContain(name);
    }
  });

  it('creates an 8 GiB machine without committing its memory', () => {
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    const machine = createVirtMachine({ ramSize: 8 * GiB, uartSink: () => {} });
    const { memory } = machine;
    expect(memory.ramChunks.length).toBe(8);
    const top = 0x4000_0000 + 8 * GiB;
    // Touch both ends and a middle chunk; reads of untouched chunks are zero.
    expect(memory.read32(top - 4)).toBe(0);
    expect(memory.write32(top - 4, 0x1234_5678)).toBe(true);
    expect(memory.read32(top - 4)).toBe(0x1234_5678);
    expect(memory.write8(0x4000_0000 + 3 * GiB + 5, 0x5a)).toBe(true);
    expect(memory.read8(0x4000_0000 + 3 * GiB + 5)).toBe(0x5a);
    expect(memory.write32(0x4008_0000, 1)).toBe(true);
    // Chunks with backing store: the fast window and the two written ones.
    expect(memory.allocatedRamBytes()).toBe(3 * GiB);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(64 * 2 ** 20);
    expect(memory.read32(top)).toBe(0);
    expect(memory.lastFault).toBe(MemoryFault.Unmapped);
  });

  it('rejects bad RAM sizes', () => {
    expect(() => createVirtMachine({ ramSize: 1000 })).toThrow(/multiple of 4 KiB/);
    expect(() => createVirtMachine({ ramSize: 0 })).toThrow(/RAM size/);
  });
});

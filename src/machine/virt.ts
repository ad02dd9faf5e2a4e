/**
 * A machine shaped like QEMU's `-M virt` (hw/arm/virt.c memory map): RAM at
 * 0x4000_0000, a PL011 at 0x0900_0000, PSCI firmware on the SMC/HVC conduit.
 * The GIC and the flash are named but not modelled yet, so accesses there
 * are external aborts that diagnostics can name.
 */
import { PhysicalMemory } from './physical-memory.js';
import type { RamRegion } from './physical-memory.js';
import { Pl011 } from './devices/pl011.js';
import type { ByteSink } from './devices/pl011.js';
import { Psci } from './devices/psci.js';
import type { PsciResult } from './devices/psci.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Base addresses and sizes of the virt board's regions that this model knows. */
export const VIRT_MEMORY_MAP = {
  /** Two 64 MiB NOR flash banks (firmware). Not modelled. */
  flash: { base: 0x0000_0000, size: 0x0800_0000 },
  /** GICv2/v3 distributor. Not modelled: an interrupt controller comes later. */
  gicDistributor: { base: 0x0800_0000, size: 0x0001_0000 },
  /** GICv2 CPU interface. Not modelled. */
  gicCpuInterface: { base: 0x0801_0000, size: 0x0001_0000 },
  /** GICv3 redistributors. Not modelled. */
  gicRedistributor: { base: 0x080a_0000, size: 0x00f6_0000 },
  uart: { base: 0x0900_0000, size: 0x0000_1000 },
  ram: { base: 0x4000_0000 },
} as const;

export const VIRT_DEFAULT_RAM_SIZE = 128 * MiB;
/** QEMU's virt allows 255 GiB below the high-memory devices; far beyond any use here. */
export const VIRT_MAX_RAM_SIZE = 255 * GiB;

export type MachineStopReason = 'psci-system-off' | 'psci-system-reset' | (string & {});

export interface VirtMachineOptions {
  /** Bytes of RAM (4 KiB multiple); default 128 MiB. */
  ramSize?: number;
  /** Receives UART output; default: line-buffered stdout. */
  uartSink?: ByteSink;
  /** Number of CPUs (for PSCI bookkeeping); default 1. */
  cpus?: number;
}

export interface VirtMachine {
  readonly memory: PhysicalMemory;
  readonly uart: Pl011;
  readonly psci: Psci;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly ram: RamRegion;
  readonly cpus: number;
  readonly map: typeof VIRT_MEMORY_MAP;
  /** Set when something (a PSCI call, the host) asked the machine to stop; the run loop checks it. */
  stopReason: MachineStopReason | null;
  stop(reason: MachineStopReason): void;
  /**
   * Handles an SMC/HVC PSCI call with x0..x3 in a halves register file and
   * records a stop request if the call asks for one. The CPU writes back x0
   * (`x0Lo`/`x0Hi`) and acts on the returned action.
   */
  psciCall(regs: Uint32Array | Int32Array, callingCpu?: number): PsciResult;
}

export function createVirtMachine(options: VirtMachineOptions = {}): VirtMachine {
  const ramSize = options.ramSize ?? VIRT_DEFAULT_RAM_SIZE;
  if (!Number.isSafeInteger(ramSize) || ramSize <= 0 || ramSize % 4096 !== 0 || ramSize > VIRT_MAX_RAM_SIZE) {
    throw new Error(`virt: RAM size ${ramSize} must be a positive multiple of 4 KiB up to 255 GiB`);
  }
  const cpus = options.cpus ?? 1;
  const map = VIRT_MEMORY_MAP;

  const memory = new PhysicalMemory();
  memory.addReserved('flash', map.flash.base, map.flash.size);
  memory.addReserved('gic-distributor', map.gicDistributor.base, map.gicDistributor.size);
  memory.addReserved('gic-cpu-interface', map.gicCpuInterface.base, map.gicCpuInterface.size);
  memory.addReserved('gic-redistributor', map.gicRedistributor.base, map.gicRedistributor.size);

  const uart = new Pl011(options.uartSink !== undefined ? { sink: options.uartSink } : {});
  memory.addMmio('pl011', map.uart.base, map.uart.size, uart);

  // Chunks are allocated on first write; the first becomes the fast window,
  // which is where images are linked (0x4008_0000).
  const ram = memory.addRam('ram', map.ram.base, ramSize);

  const psci = new Psci({ cpus });

  const machine: VirtMachine = {
    memory,
    uart,
    psci,
    ramBase: map.ram.base,
    ramSize,
    ram,
    cpus,
    map,
    stopReason: null,
    stop(reason) {
      if (machine.stopReason === null) machine.stopReason = reason;
    },
    psciCall(regs, callingCpu = 0) {
      const outcome = psci.callFromHalves(regs, callingCpu);
      if (outcome.action.kind === 'stop') machine.stop(outcome.action.reason);
      return outcome;
    },
  };
  return machine;
}

/**
 * Helpers for MMU unit tests: a CPU on the virt board, a builder that writes
 * translation tables into emulated memory, and an access helper that
 * translates through cpu.port (the real path) and reports the PA or the
 * exception it took (ESR, FAR, HPFAR, target EL).
 */
import { createVirtMachine } from '../../src/machine/virt.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { CORTEX_A57, type CpuModel } from '../../src/cpu/cpu-model.js';
import { Access } from '../../src/mmu/memory-port.js';
import type { PhysicalMemory } from '../../src/machine/physical-memory.js';

export { Access };

export const RAM = 0x4000_0000n;

export function makeCpu(model: CpuModel = CORTEX_A57): { cpu: Cpu; mem: PhysicalMemory } {
  const m = createVirtMachine({ ramSize: 256 * 1024 * 1024 });
  const cpu = new Cpu(m.memory, model);
  return { cpu, mem: m.memory };
}

export function setReg(cpu: Cpu, name: string, value: bigint): void {
  cpu.sys.setBig(name, value);
}

export function getReg(cpu: Cpu, name: string): bigint {
  return cpu.sys.getBig(name);
}

// ---- descriptor bits -------------------------------------------------------------------
export const AF = 1n << 10n;
export const NG = 1n << 11n;
export const SH_INNER = 3n << 8n;
export const AP_RW_EL1 = 0n << 6n; // AP[2:1] = 00
export const AP_RW_ALL = 1n << 6n; // 01
export const AP_RO_EL1 = 2n << 6n; // 10
export const AP_RO_ALL = 3n << 6n; // 11
export const PXN = 1n << 53n;
export const UXN = 1n << 54n;
export const XN = 1n << 54n;
export const DBM = 1n << 51n;
export const CONTIGUOUS = 1n << 52n;
export const PXN_TABLE = 1n << 59n;
export const XN_TABLE = 1n << 60n;
export const AP_TABLE0 = 1n << 61n;
export const AP_TABLE1 = 1n << 62n;
export const attrIndx = (i: number): bigint => BigInt(i) << 2n;
/** Stage-2 leaf bits: S2AP read (bit 6), write (bit 7), MemAttr[5:2]. */
export const S2_R = 1n << 6n;
export const S2_W = 1n << 7n;
export const S2_RW = S2_R | S2_W;
export const memAttr = (v: number): bigint => BigInt(v) << 2n;
export const S2_NORMAL_WB = memAttr(0xf);
export const S2_DEVICE = memAttr(0x0);

/** Default stage-1 leaf attributes: AF, inner shareable, AttrIndx 0. */
export const S1_DEFAULT = AF | SH_INNER;
/** Default stage-2 leaf attributes: AF, inner shareable, read/write, Normal WB. */
export const S2_DEFAULT = AF | SH_INNER | S2_RW | S2_NORMAL_WB;

/**
 * A translation table tree in emulated memory. Tables are allocated from a
 * bump allocator (at physical = table address; for stage 1 under stage 2 map
 * the allocator's range identically at stage 2, or use `tableOffset`).
 */
export class Tables {
  readonly stride: number;
  readonly startLevel: number;
  readonly startBits: number;
  readonly root: bigint;
  private next: bigint;

  constructor(
    private readonly mem: PhysicalMemory,
    readonly granuleBits: number,
    readonly inputBits: number,
    allocBase: bigint,
    startLevel?: number,
  ) {
    this.stride = granuleBits - 3;
    this.startLevel = startLevel ?? 4 - Math.ceil((inputBits - granuleBits) / this.stride);
    this.startBits = inputBits - (granuleBits + this.stride * (3 - this.startLevel));
    const rootSize = 8n << BigInt(this.startBits);
    const granule = 1n << BigInt(granuleBits);
    const align = rootSize > granule ? rootSize : granule;
    this.root = (allocBase + align - 1n) / align * align;
    this.next = this.root + (rootSize > granule ? rootSize : granule);
    this.zero(this.root, Number(rootSize > granule ? rootSize : granule));
  }

  private zero(pa: bigint, n: number): void {
    this.mem.writeBytes(Number(pa), new Uint8Array(n));
  }

  /** Allocates and zeroes one granule-sized table. */
  allocTable(): bigint {
    const t = this.next;
    this.next += 1n << BigInt(this.granuleBits);
    this.zero(t, 1 << this.granuleBits);
    return t;
  }

  /** Bytes of memory used by the tables so far. */
  get end(): bigint {
    return this.next;
  }

  shiftOf(level: number): number {
    return this.granuleBits + this.stride * (3 - level);
  }

  indexOf(addr: bigint, level: number): bigint {
    const bits = level === this.startLevel ? this.startBits : this.stride;
    return (addr >> BigInt(this.shiftOf(level))) & ((1n << BigInt(bits)) - 1n);
  }

  read64(pa: bigint): bigint {
    const b = this.mem.readBytes(Number(pa), 8)!;
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  }

  write64(pa: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v & 0xffff_ffff_ffff_ffffn, true);
    this.mem.writeBytes(Number(pa), b);
  }

  /** Address of the descriptor for `addr` at `level`, creating tables above it (with `tableBits` on new table descriptors). */
  slot(addr: bigint, level: number, tableBits = 0n): bigint {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const d = table + this.indexOf(addr, l) * 8n;
      let desc = this.read64(d);
      if ((desc & 3n) !== 3n) {
        const t = this.allocTable();
        desc = t | 3n | tableBits;
        this.write64(d, desc);
      }
      table = desc & 0x0000_ffff_ffff_f000n & ~((1n << BigInt(this.granuleBits)) - 1n);
    }
    return table + this.indexOf(addr, level) * 8n;
  }

  /** Maps a leaf at `level` (page at level 3, block above): `addr` → `out` with the given attribute bits. */
  map(addr: bigint, out: bigint, level = 3, attrs = S1_DEFAULT, tableBits = 0n): bigint {
    const d = this.slot(addr, level, tableBits);
    this.write64(d, out | attrs | (level === 3 ? 3n : 1n));
    return d;
  }

  /** Writes a raw descriptor for `addr` at `level`. */
  setRaw(addr: bigint, level: number, desc: bigint): bigint {
    const d = this.slot(addr, level);
    this.write64(d, desc);
    return d;
  }

  /** Identity-maps [base, base + size) with leaves at `level`. */
  identity(base: bigint, size: bigint, level: number, attrs: bigint): void {
    const step = 1n << BigInt(this.shiftOf(level));
    for (let a = base; a < base + size; a += step) this.map(a, a, level, attrs);
  }
}

export interface AccessResult {
  pa?: bigint;
  fault?: { target: number; esr: bigint; ec: number; iss: number; fsc: number; far: bigint; hpfar: bigint };
}

const PC = 0x4008_0000n;

/**
 * Translates `va` through cpu.port as an access at `el`; on a fault, returns
 * what the exception recorded and puts the CPU back at `el`.
 */
export function access(cpu: Cpu, va: bigint, kind: Access = Access.Read, el = 2, size = 8): AccessResult {
  cpu.el = el;
  cpu.spsel = 1;
  cpu.syncStackPointer();
  cpu.setPc(PC);
  setReg(cpu, 'hpfar_el2', 0n);
  const lo = Number(va & 0xffffffffn) | 0, hi = Number((va >> 32n) & 0xffffffffn) | 0;
  const pa = cpu.port.translate(lo, hi, kind, size);
  if (pa >= 0) return { pa: BigInt(pa) };
  const target = cpu.el;
  const esr = getReg(cpu, `esr_el${target}`);
  const fault = {
    target, esr, ec: Number(esr >> 26n), iss: Number(esr & 0x1ffffffn), fsc: Number(esr & 0x3fn),
    far: getReg(cpu, `far_el${target}`), hpfar: getReg(cpu, 'hpfar_el2'),
  };
  cpu.el = el;
  cpu.syncStackPointer();
  return { fault };
}

/** Fault status codes. */
export const FSC = {
  addressSize: (l: number) => 0b000000 | l,
  translation: (l: number) => 0b000100 | l,
  accessFlag: (l: number) => 0b001000 | l,
  permission: (l: number) => 0b001100 | l,
  externalWalk: (l: number) => 0b010100 | l,
  alignment: 0b100001,
};

/** TCR_EL2 for the given T0SZ, TG0 (0 = 4K, 1 = 64K, 2 = 16K) and PS. */
export function tcrEl2(t0sz: number, tg0 = 0, ps = 4): bigint {
  return BigInt(t0sz) | (BigInt(tg0) << 14n) | (BigInt(ps) << 16n) | (3n << 12n) | (1n << 8n) | (1n << 10n);
}

/** TCR_EL1 fields. */
export function tcrEl1(o: { t0sz?: number; t1sz?: number; tg0?: number; tg1?: number; ips?: number; a1?: boolean; as16?: boolean; epd0?: boolean; epd1?: boolean; tbi0?: boolean; tbi1?: boolean; ha?: boolean; hd?: boolean; hpd0?: boolean; hpd1?: boolean }): bigint {
  let v = BigInt(o.t0sz ?? 16) | (BigInt(o.t1sz ?? 16) << 16n);
  v |= BigInt(o.tg0 ?? 0) << 14n;
  v |= BigInt(o.tg1 ?? 2) << 30n; // TG1 4K = 0b10
  v |= BigInt(o.ips ?? 4) << 32n;
  if (o.a1) v |= 1n << 22n;
  if (o.as16) v |= 1n << 36n;
  if (o.epd0) v |= 1n << 7n;
  if (o.epd1) v |= 1n << 23n;
  if (o.tbi0) v |= 1n << 37n;
  if (o.tbi1) v |= 1n << 38n;
  if (o.ha) v |= 1n << 39n;
  if (o.hd) v |= 1n << 40n;
  if (o.hpd0) v |= 1n << 41n;
  if (o.hpd1) v |= 1n << 42n;
  return v;
}

/** VTCR_EL2 for T0SZ, SL0, TG0 and PS. */
export function vtcr(t0sz: number, sl0: number, tg0 = 0, ps = 4): bigint {
  return BigInt(t0sz) | (BigInt(sl0) << 6n) | (BigInt(tg0) << 14n) | (BigInt(ps) << 16n) | (3n << 12n) | (1n << 8n) | (1n << 10n);
}

/** MAIR: index 0 Normal WB, 1 Device-nGnRnE, 2 Normal NC, 3 Device-nGnRE. */
export const MAIR = 0xff | (0x00 << 8) | (0x44 << 16) | (0x04 << 24);

export const HCR_VM = 1n;
export const HCR_RW = 1n << 31n;

/** Turns the EL2 MMU on with the given tables (4K granule by default). */
export function enableEl2(cpu: Cpu, t: Tables, tg0 = 0, ps = 4): void {
  setReg(cpu, 'mair_el2', BigInt(MAIR));
  setReg(cpu, 'tcr_el2', tcrEl2(64 - t.inputBits, tg0, ps));
  setReg(cpu, 'ttbr0_el2', t.root);
  setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
}

/**
 * System-register storage and access. Each register is defined once in
 * ./definitions.ts (encoding, reset value, RES0/RES1 masks, lowest EL that
 * may access it, traps, side effects); values live in one Int32Array as
 * (lo, hi) pairs indexed by the register's id. MRS/MSR look registers up by
 * their 16-bit encoding op0:op1:CRn:CRm:op2; the access rules are in ./traps.ts.
 */
import type { Cpu } from '../cpu.js';
import type { CpuModel } from '../cpu-model.js';
import { SYSREG_DEFS, type Pair, type SysregDef, type SysregFeature } from './definitions.js';

const byEncoding = new Map<number, number>();
const byName = new Map<string, number>();
SYSREG_DEFS.forEach((d, id) => {
  if (d.encoding >= 0) byEncoding.set(d.encoding, id);
  byName.set(d.name, id);
});

/** Id of a register by lower-case name; throws for a name that is not defined (a programming error). */
export function sysregId(name: string): number {
  const id = byName.get(name);
  if (id === undefined) throw new Error(`system register ${name} is not defined`);
  return id;
}

/** Id of the register with this encoding, or -1 (whether the CPU model implements it: `sysregPresent`). */
export function sysregIdByEncoding(encoding: number): number {
  return byEncoding.get(encoding) ?? -1;
}

export function sysregDef(id: number): SysregDef {
  return SYSREG_DEFS[id]!;
}

/** Whether `model` (with the ID register values in `sys`) implements a feature a register depends on. */
export function modelHasFeature(model: CpuModel, f: SysregFeature, idValue: (name: string) => number): boolean {
  switch (f) {
    case 'vhe': return model.features.vhe;
    case 'ras': return model.features.ras;
    case 'lor': return model.features.lor;
    case 'pan': return model.features.pan;
    case 'uao': return model.features.uao;
    case 'ssbs': return model.features.ssbs;
    case 'dit': return model.features.dit;
    case 'pauth': return model.features.pauth;
    case 'aarch32El1': return model.features.aarch32El1;
    // ID_AA64PFR0_EL1.GIC: the machine enables it when it provides a GICv3.
    case 'gicv3': return ((idValue('id_aa64pfr0_el1') >>> 24) & 0xf) !== 0;
  }
}

const pairOf = (p: SysregDef['res0'], m: CpuModel): Pair => (typeof p === 'function' ? p(m) : p);

export class SystemRegisters {
  readonly values = new Int32Array(SYSREG_DEFS.length * 2);
  /** RES0 and RES1 masks for this model, as (lo, hi) pairs per id. */
  readonly res0 = new Int32Array(SYSREG_DEFS.length * 2);
  readonly res1 = new Int32Array(SYSREG_DEFS.length * 2);
  /** Ids of registers written since the last call to takeWritten() (for traces). */
  readonly written: number[] = [];
  trackWrites = false;

  constructor(private readonly cpu: Cpu, private readonly model: CpuModel) {
    SYSREG_DEFS.forEach((d, id) => {
      const r0 = pairOf(d.res0, model), r1 = pairOf(d.res1, model);
      this.res0[id * 2] = r0[0]; this.res0[id * 2 + 1] = r0[1];
      this.res1[id * 2] = r1[0]; this.res1[id * 2 + 1] = r1[1];
    });
  }

  reset(): void {
    SYSREG_DEFS.forEach((d, id) => {
      const [lo, hi] = this.model.idRegisters[d.name] ?? d.reset;
      this.values[id * 2] = lo | 0;
      this.values[id * 2 + 1] = hi | 0;
    });
  }

  /** Whether the CPU implements register `id` (its feature, if any, is present). */
  present(id: number): boolean {
    const f = SYSREG_DEFS[id]!.feature;
    if (f === undefined) return true;
    return modelHasFeature(this.model, f, (name) => this.values[sysregId(name) * 2]!);
  }

  lo(id: number): number {
    return this.values[id * 2]!;
  }

  hi(id: number): number {
    return this.values[id * 2 + 1]!;
  }

  /** Raw store without masks or side effects (exception entry writes ESR/ELR/SPSR/FAR this way). */
  set(id: number, lo: number, hi: number): void {
    this.values[id * 2] = lo | 0;
    this.values[id * 2 + 1] = hi | 0;
    if (this.trackWrites) this.written.push(id);
  }

  /** An MSR write: applies the RES0/RES1 masks and the register's side effect. */
  write(id: number, lo: number, hi: number): void {
    const d = SYSREG_DEFS[id]!;
    const k = id * 2;
    const nlo = ((lo & ~this.res0[k]!) | this.res1[k]!) | 0;
    const nhi = ((hi & ~this.res0[k + 1]!) | this.res1[k + 1]!) | 0;
    const oldLo = this.values[k]!, oldHi = this.values[k + 1]!;
    this.values[k] = nlo;
    this.values[k + 1] = nhi;
    if (this.trackWrites) this.written.push(id);
    d.onWrite?.(this.cpu, oldLo, oldHi);
  }

  /** The value an MRS returns (some registers are computed). */
  read(id: number, out: Int32Array, at: number): void {
    const d = SYSREG_DEFS[id]!;
    if (d.onRead) {
      d.onRead(this.cpu, out, at);
      return;
    }
    out[at] = this.values[id * 2]!;
    out[at + 1] = this.values[id * 2 + 1]!;
  }

  getBig(name: string): bigint {
    const id = sysregId(name);
    const tmp = new Int32Array(2);
    this.read(id, tmp, 0);
    return (BigInt(tmp[1]! >>> 0) << 32n) | BigInt(tmp[0]! >>> 0);
  }

  setBig(name: string, value: bigint): void {
    const id = sysregId(name);
    this.write(id, Number(value & 0xffffffffn) | 0, Number((value >> 32n) & 0xffffffffn) | 0);
  }
}

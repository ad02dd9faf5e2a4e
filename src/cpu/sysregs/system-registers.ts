/**
 * System-register storage and access. Each register is defined once in
 * ./definitions.ts (encoding, reset value, RES0/RES1 masks, lowest EL that
 * may access it, side effects); values live in one Int32Array as (lo, hi)
 * pairs indexed by the register's id. MRS/MSR look registers up by their
 * 16-bit encoding op0:op1:CRn:CRm:op2.
 */
import type { Cpu } from '../cpu.js';
import type { CpuModel } from '../cpu-model.js';
import { SYSREG_DEFS, type SysregDef } from './definitions.js';

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

export function sysregIdByEncoding(encoding: number): number {
  return byEncoding.get(encoding) ?? -1;
}

export function sysregDef(id: number): SysregDef {
  return SYSREG_DEFS[id]!;
}

export class SystemRegisters {
  readonly values = new Int32Array(SYSREG_DEFS.length * 2);
  /** Ids of registers written since the last call to takeWritten() (for traces). */
  readonly written: number[] = [];
  trackWrites = false;

  constructor(private readonly cpu: Cpu, private readonly model: CpuModel) {}

  reset(): void {
    SYSREG_DEFS.forEach((d, id) => {
      const idv = this.model.idRegisters[d.name];
      const [lo, hi] = idv ?? d.reset;
      this.values[id * 2] = lo | 0;
      this.values[id * 2 + 1] = hi | 0;
    });
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

  /** An MSR write: applies RES0/RES1 masks and the register's side effect. */
  write(id: number, lo: number, hi: number): void {
    const d = SYSREG_DEFS[id]!;
    const nlo = ((lo & ~d.res0[0]) | d.res1[0]) | 0;
    const nhi = ((hi & ~d.res0[1]) | d.res1[1]) | 0;
    const oldLo = this.values[id * 2]!, oldHi = this.values[id * 2 + 1]!;
    this.values[id * 2] = nlo;
    this.values[id * 2 + 1] = nhi;
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

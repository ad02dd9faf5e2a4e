/**
 * What a modelled C function sees of the CPU it runs on: its number, its
 * registers (general and system, read and written as the C code's
 * read_sysreg/write_sysreg would, without access checks) and TLB
 * maintenance (the C code's inline `tlbi`).  The boot flow gives every CPU
 * one (src/pkvm/boot-flow.ts).
 */
import type { Cpu } from '../cpu/cpu.js';
import { sysregIdByEncoding } from '../cpu/sysregs/system-registers.js';
import { lookupSysreg } from '../isa/sysreg-names.js';

export interface CpuView {
  readonly index: number;
  /** x0..x30, sp, pc, el, or a system register by name. */
  reg(name: string): bigint;
  setReg(name: string, value: bigint): void;
  /** A TLBI operation by name ("alle2", "vmalls12e1is", …) with its Xt operand. */
  tlbi(op: string, xt?: bigint): void;
  readonly cpu: Cpu;
}

/** A CpuView over an interpreter Cpu. */
export function cpuView(cpu: Cpu, index: number): CpuView {
  const scratch = new Int32Array(2);
  const ids = new Map<string, number>();
  const idOf = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      const enc = lookupSysreg(name);
      id = enc === undefined ? -1 : sysregIdByEncoding(enc);
      if (id < 0) throw new Error(`unknown system register '${name}'`);
      ids.set(name, id);
    }
    return id;
  };
  return {
    index,
    cpu,
    reg(name) {
      const n = name.toLowerCase();
      const m = /^x([0-9]+)$/.exec(n);
      if (m && Number(m[1]) <= 30) return cpu.getX(Number(m[1]));
      if (n === 'sp') return cpu.getSp();
      if (n === 'pc') return cpu.getPc();
      if (n === 'el') return BigInt(cpu.el);
      cpu.sys.read(idOf(n), scratch, 0);
      return (BigInt(scratch[1]! >>> 0) << 32n) | BigInt(scratch[0]! >>> 0);
    },
    setReg(name, value) {
      const n = name.toLowerCase();
      const v = BigInt.asUintN(64, value);
      const m = /^x([0-9]+)$/.exec(n);
      if (m && Number(m[1]) <= 30) { cpu.setX(Number(m[1]), v); return; }
      if (n === 'sp') { cpu.setSp(v); return; }
      cpu.sys.write(idOf(n), Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
      // A translation-control change must be seen by the next fetch.
      cpu.fetchStale = true;
    },
    tlbi(op, xt = 0n) {
      cpu.port.tlbi(op, Number(xt & 0xffffffffn) | 0, Number((xt >> 32n) & 0xffffffffn) | 0);
      cpu.fetchStale = true;
    },
  };
}

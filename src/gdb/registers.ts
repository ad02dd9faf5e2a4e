/**
 * Reads and writes the registers of the layout in ./target-description.ts
 * on an Emulator, as target-order (little-endian) bytes.
 */
import type { Emulator } from '../machine/emulator.js';
import { sysregId } from '../cpu/sysregs/system-registers.js';
import { aarch64Registers, type GdbRegister } from './target-description.js';
import { fromLittleEndian, littleEndian } from './packets.js';

export class RegisterAccessError extends Error {}

const pair = new Int32Array(2);
const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

export class RegisterFile {
  readonly regs: GdbRegister[];

  constructor(private readonly emu: Emulator) {
    const sys = emu.cpu.sys;
    this.regs = aarch64Registers((name) => {
      try { return sys.present(sysregId(name)); } catch { return false; }
    });
  }

  get count(): number {
    return this.regs.length;
  }

  size(regnum: number): number {
    return this.regs[regnum]!.bitsize / 8;
  }

  /** The value of register `regnum` (which must exist). */
  value(regnum: number): bigint {
    const r = this.regs[regnum]!;
    const cpu = this.emu.cpu;
    switch (r.kind) {
      case 'x': return cpu.getX(r.index);
      case 'sp': return cpu.getSp();
      case 'pc': return cpu.getPc();
      case 'cpsr': return BigInt(cpu.spsrValue());
      case 'v': return cpu.getV(r.index);
      case 'fpsr': return BigInt(cpu.fpsr >>> 0);
      case 'fpcr': return BigInt(cpu.fpcr >>> 0);
      case 'el': return BigInt(cpu.el);
      case 'sp_el': cpu.readSpEl(r.index, pair, 0); return big(pair[0]!, pair[1]!);
      case 'sysreg': cpu.sys.read(sysregId(r.sysreg!), pair, 0); return big(pair[0]!, pair[1]!);
    }
  }

  read(regnum: number): Uint8Array {
    return littleEndian(this.value(regnum), this.size(regnum));
  }

  /** Writes `bytes` (exactly the register's size) to register `regnum`; throws RegisterAccessError for values the CPU cannot hold. */
  write(regnum: number, bytes: Uint8Array): void {
    const r = this.regs[regnum]!;
    if (bytes.length !== this.size(regnum)) throw new RegisterAccessError(`${r.name} takes ${this.size(regnum)} bytes`);
    const v = fromLittleEndian(bytes);
    const cpu = this.emu.cpu;
    const lo = Number(v & 0xffffffffn) | 0, hi = Number((v >> 32n) & 0xffffffffn) | 0;
    switch (r.kind) {
      case 'x': cpu.setX(r.index, v); return;
      case 'sp': cpu.setSp(v); return;
      case 'pc': cpu.setPc(v); return;
      case 'cpsr': this.writePstate(Number(v)); return;
      case 'v': cpu.setV(r.index, v); return;
      // Through the MSR path so RES0 bits stay zero.
      case 'fpsr': cpu.sys.write(sysregId('fpsr'), lo, 0); return;
      case 'fpcr': cpu.sys.write(sysregId('fpcr'), lo, 0); return;
      case 'el': this.emu.setReg('el', v); return;
      case 'sp_el': cpu.writeSpEl(r.index, lo, hi); return;
      case 'sysreg': cpu.sys.write(sysregId(r.sysreg!), lo, hi); return;
    }
  }

  /** CPSR from gdb: every PSTATE field the model implements; EL and SPSel switch the banked SP. */
  private writePstate(v: number): void {
    const cpu = this.emu.cpu;
    const el = (v >>> 2) & 3;
    if ((v & 0x10) !== 0) throw new RegisterAccessError('AArch32 state (cpsr.nRW) is not supported');
    if (el === 3 || (el === 2 && !cpu.model.hasEl2)) throw new RegisterAccessError(`EL${el} is not implemented`);
    const f = cpu.model.features;
    cpu.nzcv = (v >>> 28) & 0xf;
    cpu.daif = (v >>> 6) & 0xf;
    cpu.btype = (v >>> 10) & 3;
    cpu.ssbs = f.ssbs ? (v >>> 12) & 1 : 0;
    cpu.il = (v >>> 20) & 1;
    cpu.ss = (v >>> 21) & 1;
    cpu.pan = f.pan ? (v >>> 22) & 1 : 0;
    cpu.uao = f.uao ? (v >>> 23) & 1 : 0;
    cpu.dit = f.dit ? (v >>> 24) & 1 : 0;
    cpu.el = el;
    cpu.spsel = v & 1;
    cpu.syncStackPointer();
    cpu.fetchStale = true;
  }
}

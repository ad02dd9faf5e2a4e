/**
 * The architectural state of one AArch64 PE (processing element): general
 * registers, SP banking, PC, PSTATE, FP/SIMD registers, system registers,
 * plus the caches the interpreter keeps beside them. 64-bit values are two
 * 32-bit halves; bigint appears only in the accessor methods at the API edge.
 */
import { REGISTER_SLOTS, SP_SLOT } from './registers.js';
import { DecodeCache } from './decode-cache.js';
import { SystemRegisters } from './sysregs/system-registers.js';
import type { PhysicalMemory } from '../machine/physical-memory.js';
import type { CpuModel } from './cpu-model.js';
import type { ExceptionEvent } from './exceptions.js';
import { MemoryPort } from '../mmu/memory-port.js';
import { Mmu } from '../mmu/mmu.js';
import { CodeHooks } from './code-hooks.js';
import { InterruptLines, installWaitForInterrupt } from './interrupts.js';

export type StopReason =
  | { kind: 'budget' }
  | { kind: 'psci-off' }
  | { kind: 'psci-reset' }
  | { kind: 'stopped'; why: string }
  | { kind: 'breakpoint'; pcLo: number; pcHi: number }
  | { kind: 'wfi' }
  | { kind: 'fatal'; why: string };

export class Cpu {
  /** X0..X30, ZR, write sink, current SP, as (lo, hi) int32 pairs. */
  readonly x = new Int32Array(REGISTER_SLOTS * 2);
  /** V0..V31, four 32-bit words each (little-endian lanes). */
  readonly v = new Int32Array(32 * 4);
  /** SP_EL0..SP_EL3 while not selected (the selected one lives in x[SP_SLOT]). */
  readonly spBank = new Int32Array(8);
  pcLo = 0;
  pcHi = 0;
  // PSTATE
  nf = 0;
  zf = 0;
  cf = 0;
  vf = 0;
  el = 2;
  /** PSTATE.SP: 1 = SP_ELx, 0 = SP_EL0. */
  spsel = 1;
  /** PSTATE.{D,A,I,F} as bits 3..0. */
  daif = 0xf;
  pan = 0;
  uao = 0;
  dit = 0;
  ssbs = 0;
  /** PSTATE.IL: set by an illegal exception return. */
  il = 0;
  ss = 0;
  btype = 0;
  /** Index into spBank of the SP currently held in x[SP_SLOT]. */
  private liveSp = 2;
  fpcr = 0;
  fpsr = 0;

  readonly sys: SystemRegisters;
  /** Virtual-to-physical translation and memory access for loads, stores and fetches. */
  readonly port: MemoryPort;
  /** Called after every exception entry and return. */
  onException: ((e: ExceptionEvent) => void) | undefined = undefined;
  /**
   * Firmware behind SMC/HVC (PSCI on QEMU's virt): called by the SMC/HVC
   * semantics when the call is not trapped to a guest EL; returns true when the
   * firmware handled it (x0.. updated), false to take the architectural path.
   */
  firmwareCall: ((conduit: 'smc' | 'hvc') => boolean) | undefined = undefined;
  /** Called when an encoding is UNDEFINED or not implemented, before the exception is taken. */
  onUndefined: ((word: number, name: string) => void) | undefined = undefined;
  /** The event register of WFE/SEV/SEVL (set by SEV, SEVL, exception return). */
  eventRegister = 0;
  readonly decodeCache = new DecodeCache();
  /** Physical interrupt lines that devices drive (IRQ, FIQ, SError). */
  readonly interrupts: InterruptLines = new InterruptLines(this);
  /** Functions run when execution reaches given addresses (breakpoints, host functions). */
  readonly hooks: CodeHooks = new CodeHooks(this);
  /** Constants too wide for a decoded slot (bitfield masks, …), referenced by index. */
  readonly constants: number[] = [];

  // ---- interpreter support -------------------------------------------------
  /** Set by a handler that wrote pcLo/pcHi itself (branches, exceptions). */
  branched = false;
  /** Set when translation or PSTATE changed so the cached fetch page must be looked up again. */
  fetchStale = true;
  stopRequest: StopReason | undefined = undefined;
  /** Instructions retired so far. */
  retired = 0;
  /** Exclusive monitor: physical address of the reservation, -1 when clear. */
  exclusiveAddress = -1;
  exclusiveSize = 0;

  constructor(readonly memory: PhysicalMemory, readonly model: CpuModel) {
    this.sys = new SystemRegisters(this, model);
    this.port = new MemoryPort(this, memory);
    installWaitForInterrupt(this);
    this.port.mmu = new Mmu(this, memory);
    this.reset();
    // A store into a page holding decoded code drops its decodes; the loop re-fetches.
    memory.onCodeWrite = (pa) => {
      this.decodeCache.invalidatePage(Math.floor(pa / 4096));
      this.memory.unmarkCodePage(pa);
      this.fetchStale = true;
    };
  }

  /** The state QEMU's virt machine gives a kernel with virtualization=on: EL2h, DAIF masked, Z set. */
  reset(): void {
    this.x.fill(0);
    this.v.fill(0);
    this.spBank.fill(0);
    this.pcLo = 0; this.pcHi = 0;
    this.nf = 0; this.zf = 1; this.cf = 0; this.vf = 0;
    this.el = this.model.hasEl2 ? 2 : 1;
    this.spsel = 1;
    this.liveSp = this.el;
    this.daif = 0xf;
    this.pan = 0; this.uao = 0; this.dit = 0; this.ssbs = 0; this.il = 0; this.ss = 0; this.btype = 0;
    this.fpcr = 0; this.fpsr = 0;
    this.sys.reset();
    this.port.reset();
    this.fetchStale = true;
    this.exclusiveAddress = -1;
  }

  // ---- stack pointer banking ----------------------------------------------

  /** Which SP_ELn PSTATE selects. */
  selectedSpIndex(): number {
    return this.spsel ? this.el : 0;
  }

  /** Call after changing el or spsel: moves the live SP into its bank and loads the new one. */
  syncStackPointer(): void {
    const want = this.selectedSpIndex();
    if (want === this.liveSp) return;
    const x = this.x;
    this.spBank[this.liveSp * 2] = x[SP_SLOT * 2]!;
    this.spBank[this.liveSp * 2 + 1] = x[SP_SLOT * 2 + 1]!;
    x[SP_SLOT * 2] = this.spBank[want * 2]!;
    x[SP_SLOT * 2 + 1] = this.spBank[want * 2 + 1]!;
    this.liveSp = want;
  }

  /** SP_ELn regardless of the current selection (for MRS SP_EL0/SP_EL1, traces). */
  readSpEl(n: number, out: Int32Array, at: number): void {
    if (n === this.liveSp) {
      out[at] = this.x[SP_SLOT * 2]!;
      out[at + 1] = this.x[SP_SLOT * 2 + 1]!;
    } else {
      out[at] = this.spBank[n * 2]!;
      out[at + 1] = this.spBank[n * 2 + 1]!;
    }
  }

  writeSpEl(n: number, lo: number, hi: number): void {
    if (n === this.liveSp) {
      this.x[SP_SLOT * 2] = lo;
      this.x[SP_SLOT * 2 + 1] = hi;
    } else {
      this.spBank[n * 2] = lo;
      this.spBank[n * 2 + 1] = hi;
    }
  }

  // ---- PSTATE ---------------------------------------------------------------

  get nzcv(): number {
    return (this.nf << 3) | (this.zf << 2) | (this.cf << 1) | this.vf;
  }

  set nzcv(v: number) {
    this.nf = (v >> 3) & 1; this.zf = (v >> 2) & 1; this.cf = (v >> 1) & 1; this.vf = v & 1;
  }

  /** PSTATE as saved in SPSR_ELx for an AArch64 source state. */
  spsrValue(): number {
    return (
      (this.nf << 31) | (this.zf << 30) | (this.cf << 29) | (this.vf << 28) |
      (this.dit << 24) | (this.uao << 23) | (this.pan << 22) | (this.ss << 21) | (this.il << 20) |
      (this.ssbs << 12) | (this.btype << 10) | (this.daif << 6) | (this.el << 2) | this.spsel
    ) >>> 0;
  }

  /** ConditionHolds() for a 4-bit condition code. */
  conditionHolds(cond: number): boolean {
    let r: boolean;
    switch (cond >> 1) {
      case 0: r = this.zf === 1; break;
      case 1: r = this.cf === 1; break;
      case 2: r = this.nf === 1; break;
      case 3: r = this.vf === 1; break;
      case 4: r = this.cf === 1 && this.zf === 0; break;
      case 5: r = this.nf === this.vf; break;
      case 6: r = this.nf === this.vf && this.zf === 0; break;
      default: return true; // AL and NV
    }
    return (cond & 1) !== 0 ? !r : r;
  }

  // ---- API edge: bigint accessors --------------------------------------------

  /** X0..X30; 31 reads as XZR (0). */
  getX(n: number): bigint {
    if (n === 31) return 0n;
    return (BigInt(this.x[n * 2 + 1]! >>> 0) << 32n) | BigInt(this.x[n * 2]! >>> 0);
  }

  setX(n: number, value: bigint): void {
    if (n < 0 || n > 30) throw new RangeError(`no register x${n}`);
    this.x[n * 2] = Number(value & 0xffffffffn) | 0;
    this.x[n * 2 + 1] = Number((value >> 32n) & 0xffffffffn) | 0;
  }

  getSp(): bigint {
    return (BigInt(this.x[SP_SLOT * 2 + 1]! >>> 0) << 32n) | BigInt(this.x[SP_SLOT * 2]! >>> 0);
  }

  setSp(value: bigint): void {
    this.x[SP_SLOT * 2] = Number(value & 0xffffffffn) | 0;
    this.x[SP_SLOT * 2 + 1] = Number((value >> 32n) & 0xffffffffn) | 0;
  }

  getPc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  setPc(value: bigint): void {
    this.pcLo = Number(value & 0xffffffffn) | 0;
    this.pcHi = Number((value >> 32n) & 0xffffffffn) | 0;
    this.fetchStale = true;
  }

  /** V register n as a 128-bit bigint. */
  getV(n: number): bigint {
    let r = 0n;
    for (let i = 3; i >= 0; i--) r = (r << 32n) | BigInt(this.v[n * 4 + i]! >>> 0);
    return r;
  }

  setV(n: number, value: bigint): void {
    for (let i = 0; i < 4; i++) this.v[n * 4 + i] = Number((value >> BigInt(32 * i)) & 0xffffffffn) | 0;
  }

  /** Adds a constant to the pool and returns its index (for wide predecoded operands). */
  addConstant(...words: number[]): number {
    const at = this.constants.length;
    this.constants.push(...words);
    return at;
  }
}

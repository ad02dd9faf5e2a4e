/**
 * What the gdb stub does to the machine: registers, memory (through the
 * current translation, or physical on request), breakpoints, single step
 * and an interruptible continue. Protocol-free, so tests can drive it
 * directly; src/gdb/session.ts speaks the protocol on top of it.
 */
import type { Emulator } from '../machine/emulator.js';
import type { StopReason } from '../cpu/cpu.js';
import { Access } from '../mmu/memory-port.js';
import { RegisterFile } from './registers.js';

export type BreakpointType = 'sw' | 'hw';

export type StopEvent =
  /** Stopped with a signal: 5 SIGTRAP (step, breakpoint), 2 SIGINT (interrupt), 6 SIGABRT (the CPU cannot go on). */
  | { kind: 'stopped'; signal: number; breakpoint?: BreakpointType; message?: string }
  /** The program is gone: PSCI SYSTEM_OFF (code 0) or SYSTEM_RESET (code 1). */
  | { kind: 'exited'; code: number };

export const SIGINT = 2;
export const SIGTRAP = 5;
export const SIGABRT = 6;

export interface TargetOptions {
  /** Instructions per slice of a continue before the event loop gets a turn (adapted to ~10 ms; default start 100k). */
  sliceInsns?: number;
}

/** The address-translation probe of src/mmu/mmu.ts, used when the port's `probe` cannot see through the MMU. */
interface ProbingUnit {
  probeAddress?(vaLo: number, vaHi: number, access: Access, el: number): number;
}

const PAGE = 4096;
const TARGET_SLICE_MS = 10;

export class GdbTarget {
  readonly registers: RegisterFile;
  /** `monitor phys on`: memory packets use physical addresses instead of the current translation. */
  physical = false;
  private readonly breakpoints = { sw: new Map<bigint, () => void>(), hw: new Map<bigint, () => void>() };
  private interruptRequested = false;
  private slice: number;
  /** Why the CPU last stopped, for `?` (kept across debugger connections). */
  lastStop: StopEvent = { kind: 'stopped', signal: SIGTRAP };
  /** Set once the program has powered off; nothing runs after that. */
  exitCode: number | undefined = undefined;
  running = false;

  constructor(readonly emu: Emulator, opts: TargetOptions = {}) {
    this.registers = new RegisterFile(emu);
    this.slice = Math.max(1, opts.sliceInsns ?? 100_000);
  }

  // ---- memory -------------------------------------------------------------------------

  /** VA (or PA in physical mode) → PA for a debugger access; -1 when nothing is mapped there. */
  private translate(addr: bigint): number {
    if (addr < 0n || addr > 0xffff_ffff_ffff_ffffn) return -1;
    const cpu = this.emu.cpu;
    if (this.physical) return addr < BigInt(2 ** cpu.model.paBits) ? Number(addr) : -1;
    const lo = Number(addr & 0xffffffffn) | 0, hi = Number(addr >> 32n) | 0;
    const port = cpu.port;
    // Debugger accesses ignore write/execute permission: any readable (or fetchable) mapping will do.
    for (const access of [Access.Read, Access.Fetch]) {
      let pa = port.probe(lo, hi, access);
      if (pa < 0 && port.translationOn()) {
        const unit = port.mmu as ProbingUnit | undefined;
        if (unit && typeof unit.probeAddress === 'function') pa = unit.probeAddress(lo, hi, access, cpu.el);
      }
      if (pa >= 0) return pa;
    }
    return -1;
  }

  /**
   * Reads up to `length` bytes at `addr`, page by page; stops at the first
   * unmapped page or non-RAM address (devices are not read: reads may have
   * side effects). May return fewer bytes, as the `m` packet allows.
   */
  readMemory(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = addr + BigInt(done);
      const pa = this.translate(a);
      if (pa < 0) break;
      const n = Math.min(length - done, PAGE - Number(a & 0xfffn));
      const bytes = this.emu.board.memory.readBytes(pa, n);
      if (!bytes) break;
      out.set(bytes, done);
      done += n;
    }
    return out.subarray(0, done);
  }

  /** Writes all of `bytes` at `addr` or reports false (possibly after writing a prefix). */
  writeMemory(addr: bigint, bytes: Uint8Array): boolean {
    let done = 0;
    while (done < bytes.length) {
      const a = addr + BigInt(done);
      const pa = this.translate(a);
      if (pa < 0) return false;
      const n = Math.min(bytes.length - done, PAGE - Number(a & 0xfffn));
      if (!this.emu.board.memory.writeBytes(pa, bytes.subarray(done, done + n))) return false;
      done += n;
    }
    return true;
  }

  // ---- breakpoints ----------------------------------------------------------------------

  /** Inserting the same breakpoint twice is harmless (the protocol requires idempotence). */
  insertBreakpoint(type: BreakpointType, addr: bigint): void {
    const map = this.breakpoints[type];
    if (map.has(addr)) return;
    map.set(addr, this.emu.addBreakpoint(addr));
  }

  removeBreakpoint(type: BreakpointType, addr: bigint): void {
    const remove = this.breakpoints[type].get(addr);
    if (!remove) return;
    remove();
    this.breakpoints[type].delete(addr);
  }

  removeAllBreakpoints(): void {
    for (const type of ['sw', 'hw'] as const) for (const addr of [...this.breakpoints[type].keys()]) this.removeBreakpoint(type, addr);
  }

  hasBreakpoint(type: BreakpointType, addr: bigint): boolean {
    return this.breakpoints[type].has(addr);
  }

  // ---- execution --------------------------------------------------------------------------

  /**
   * Asks a running `resume` to stop at the end of its current slice; when
   * not running, the next `resume` stops at once (the interrupt byte can
   * overtake the continue packet it follows) until clearPendingInterrupt.
   */
  interrupt(): void {
    if (this.running) this.interruptRequested = true;
    else this.interruptPending = true;
  }

  clearPendingInterrupt(): void {
    this.interruptPending = false;
  }

  private interruptPending = false;

  /** Executes one instruction (or takes one exception), stepping over a breakpoint at the PC. */
  step(): StopEvent {
    if (this.exitCode !== undefined) return { kind: 'exited', code: this.exitCode };
    const r = this.stepOverBreakpoint();
    return (this.lastStop = this.stopEvent(r.reason, r.insns, true));
  }

  /**
   * Continues until a breakpoint, an interrupt, power-off or a state the CPU
   * cannot continue from. Runs in slices and yields to the event loop between
   * them (setImmediate), so that an interrupt byte from the debugger is read.
   */
  async resume(): Promise<StopEvent> {
    if (this.exitCode !== undefined) return { kind: 'exited', code: this.exitCode };
    if (this.running) throw new Error('already running');
    return (this.lastStop = await this.runSlices());
  }

  private async runSlices(): Promise<StopEvent> {
    this.running = true;
    this.interruptRequested = this.interruptPending;
    this.interruptPending = false;
    try {
      // The instruction under a breakpoint at the PC runs first (else the breakpoint would fire at once).
      const first = this.stepOverBreakpoint();
      if (first.reason.kind !== 'budget' || first.insns === 0) return this.stopEvent(first.reason, first.insns, false);
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.interruptRequested) return { kind: 'stopped', signal: SIGINT };
        const started = performance.now();
        const r = this.emu.run({ maxInsns: this.slice });
        this.adaptSlice(performance.now() - started, r.insns);
        if (r.reason.kind !== 'budget' || r.insns === 0) return this.stopEvent(r.reason, r.insns, false);
      }
    } finally {
      this.running = false;
      this.interruptRequested = false;
    }
  }

  /** Keeps a slice near TARGET_SLICE_MS so interrupts are answered promptly whatever the speed. */
  private adaptSlice(ms: number, insns: number): void {
    if (insns < this.slice) return;
    if (ms < TARGET_SLICE_MS / 2 && this.slice < 20_000_000) this.slice *= 2;
    else if (ms > TARGET_SLICE_MS * 2 && this.slice > 1000) this.slice = Math.floor(this.slice / 2);
  }

  /** One instruction with our breakpoint at the PC (if any) lifted for it. */
  private stepOverBreakpoint(): { reason: StopReason; insns: number } {
    const pc = this.emu.cpu.getPc();
    const lifted: BreakpointType[] = [];
    for (const type of ['sw', 'hw'] as const) {
      const remove = this.breakpoints[type].get(pc);
      if (remove) { remove(); lifted.push(type); }
    }
    try {
      return this.emu.step();
    } finally {
      for (const type of lifted) this.breakpoints[type].set(pc, this.emu.addBreakpoint(pc));
    }
  }

  private stopEvent(reason: StopReason, insns: number, stepping: boolean): StopEvent {
    switch (reason.kind) {
      case 'psci-off': this.exitCode = 0; return { kind: 'exited', code: 0 };
      case 'psci-reset': this.exitCode = 1; return { kind: 'exited', code: 1 };
      case 'breakpoint': {
        const pc = this.emu.cpu.getPc();
        const which = this.breakpoints.sw.has(pc) ? 'sw' : this.breakpoints.hw.has(pc) ? 'hw' : undefined;
        return which ? { kind: 'stopped', signal: SIGTRAP, breakpoint: which } : { kind: 'stopped', signal: SIGTRAP };
      }
      case 'budget':
        if (insns === 0 && !stepping) return { kind: 'stopped', signal: SIGABRT, message: 'the CPU made no progress' };
        return { kind: 'stopped', signal: SIGTRAP };
      case 'wfi': return { kind: 'stopped', signal: SIGTRAP, message: 'WFI with nothing to wake the CPU' };
      case 'stopped': return { kind: 'stopped', signal: SIGTRAP, message: reason.why };
      case 'fatal': return { kind: 'stopped', signal: SIGABRT, message: reason.why };
    }
  }
}

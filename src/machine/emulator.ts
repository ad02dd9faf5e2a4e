/**
 * The library API, in the spirit of Unicorn's: create a machine, load an
 * image, read and write registers (bigint at this edge), add hooks (code
 * address, host function, exception, UNDEFINED), run, step, stop.
 *
 *   const emu = new Emulator({ cpu: 'cortex-a57', ramSize: 128 * 2 ** 20 });
 *   const image = emu.load(bytes);            // ELF executable, ELF object (at base) or flat
 *   emu.hostFunction('kvm_hyp_reserve', (args) => 0n);
 *   const result = emu.run({ maxInsns: 1_000_000 });
 */
import { Cpu, type StopReason } from '../cpu/cpu.js';
import { CPU_MODELS } from '../cpu/cpu-model.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import type { ExceptionEvent } from '../cpu/exceptions.js';
import { sysregId, sysregIdByEncoding } from '../cpu/sysregs/system-registers.js';
import { lookupSysreg } from '../isa/sysreg-names.js';
import { createVirtMachine, type VirtMachine } from './virt.js';
import { loadImage, loadFlatBinary, loadElfObject, LoadError, type LoadedImage } from './loader.js';
import { SymbolTable } from './symbol-table.js';
import { readElf } from '../elf/read.js';
import { SP_SLOT } from '../cpu/registers.js';

export interface EmulatorOptions {
  /** CPU preset: 'cortex-a57' (default, ARMv8.0 with EL2, as QEMU's) or 'cortex-a76'. */
  cpu?: string;
  /** RAM size in bytes (default 128 MiB), at 0x4000_0000 as on QEMU's virt. */
  ramSize?: number;
  /** UART output: a byte sink; default writes to stdout. */
  uartSink?: (byte: number) => void;
}

export interface RunOptions {
  /** Stop after this many instructions (default: 100 million). */
  maxInsns?: number;
}

export interface RunResult {
  reason: StopReason;
  /** Instructions retired by this call. */
  insns: number;
}

/** A modelled C function: gets x0..x7, returns x0 (undefined leaves x0 unchanged). */
export type HostFunction = (args: bigint[], emu: Emulator) => bigint | void;

export class EmulatorError extends Error {}

/** A host function call, reported to onHostCall observers (traces) after the function ran. */
export interface HostCallEvent {
  /** The symbol the function was installed at (or its address in hex). */
  name: string;
  address: bigint;
  /** x0..x7 at the call. */
  args: bigint[];
  /** What went to x0, or undefined when the function left x0 alone. */
  result: bigint | undefined;
}

const PSCI_FUNCTION_RANGE = [0x84000000, 0x8400001f, 0xc4000000, 0xc400001f] as const;

export class Emulator {
  readonly board: VirtMachine;
  readonly cpu: Cpu;
  readonly symbols = new SymbolTable();
  private readonly exceptionListeners: ((e: ExceptionEvent) => void)[] = [];
  private readonly undefinedListeners: ((word: number, name: string) => void)[] = [];
  private readonly hostCallListeners: ((e: HostCallEvent) => void)[] = [];
  private readonly scratch = new Int32Array(2);

  constructor(opts: EmulatorOptions = {}) {
    const model = CPU_MODELS[opts.cpu ?? 'cortex-a57'];
    if (!model) throw new EmulatorError(`unknown CPU '${opts.cpu}' (known: ${Object.keys(CPU_MODELS).join(', ')})`);
    this.board = createVirtMachine({ ramSize: opts.ramSize, uartSink: opts.uartSink });
    this.cpu = new Cpu(this.board.memory, model);
    this.cpu.onException = (e) => { for (const l of this.exceptionListeners) l(e); };
    this.cpu.onUndefined = (w, n) => { for (const l of this.undefinedListeners) l(w, n); };
    // PSCI through SMC/HVC is handled by the machine's firmware, as QEMU's virt does.
    this.cpu.firmwareCall = () => this.psciCall();
  }

  // ---- images ---------------------------------------------------------------

  /**
   * Loads an image: an ELF executable (at its physical addresses), an ELF
   * relocatable object (placed at `base`, default 0x4008_0000) or a flat binary
   * (at `address`, default 0x4008_0000). Sets the PC to the entry point.
   */
  load(bytes: Uint8Array, opts: { address?: bigint; base?: bigint; entry?: bigint | string } = {}): LoadedImage {
    let image: LoadedImage;
    const isElf = bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
    const base = Number(opts.base ?? opts.address ?? 0x40080000n);
    if (isElf) {
      let type = 0;
      try { type = readElf(bytes).type; } catch (err) { throw new LoadError((err as Error).message); }
      image = type === 1 ? loadElfObject(this.board.memory, bytes, base) : loadImage(this.board.memory, bytes);
    } else {
      image = loadFlatBinary(this.board.memory, bytes, base);
    }
    for (const [name, value] of image.symbols) this.symbols.define(name, value, true);
    const entry = opts.entry === undefined ? BigInt(image.entry) : this.resolve(opts.entry);
    if (!this.board.memory.isRam(Number(entry), 4)) {
      throw new LoadError(`entry point 0x${entry.toString(16)} is not in RAM`);
    }
    this.cpu.setPc(entry);
    return image;
  }

  /** An address or a symbol name. */
  resolve(where: bigint | number | string): bigint {
    if (typeof where !== 'string') return BigInt(where);
    if (/^(0x[0-9a-f_]+|[0-9]+)$/i.test(where)) return BigInt(where.replace(/_/g, ''));
    const v = this.symbols.get(where);
    if (v === undefined) throw new EmulatorError(`unknown symbol '${where}'`);
    return BigInt(v);
  }

  // ---- registers ------------------------------------------------------------

  /** x0..x30, w0..w30, sp, pc, nzcv, el, or a system register name (read as MRS would, without access checks). */
  reg(name: string): bigint {
    const n = name.toLowerCase();
    const m = /^([xw])([0-9]+)$/.exec(n);
    if (m && Number(m[2]) <= 30) {
      const v = this.cpu.getX(Number(m[2]));
      return m[1] === 'w' ? v & 0xffffffffn : v;
    }
    switch (n) {
      case 'xzr': case 'wzr': return 0n;
      case 'lr': return this.cpu.getX(30);
      case 'fp': return this.cpu.getX(29);
      case 'sp': return this.cpu.getSp();
      case 'pc': return this.cpu.getPc();
      case 'nzcv': return BigInt(this.cpu.nzcv);
      case 'el': return BigInt(this.cpu.el);
      case 'cpsr': case 'pstate': return BigInt(this.cpu.spsrValue());
    }
    const id = this.sysregIdFor(n);
    this.cpu.sys.read(id, this.scratch, 0);
    return (BigInt(this.scratch[1]! >>> 0) << 32n) | BigInt(this.scratch[0]! >>> 0);
  }

  setReg(name: string, value: bigint): void {
    const n = name.toLowerCase();
    const m = /^x([0-9]+)$/.exec(n);
    if (m && Number(m[1]) <= 30) { this.cpu.setX(Number(m[1]), BigInt.asUintN(64, value)); return; }
    switch (n) {
      case 'lr': this.cpu.setX(30, BigInt.asUintN(64, value)); return;
      case 'fp': this.cpu.setX(29, BigInt.asUintN(64, value)); return;
      case 'sp': this.cpu.setSp(BigInt.asUintN(64, value)); return;
      case 'pc': this.cpu.setPc(BigInt.asUintN(64, value)); return;
      case 'nzcv': this.cpu.nzcv = Number(value & 0xfn); return;
      case 'el': {
        const el = Number(value);
        if (el < 0 || el > 2 || (el === 2 && !this.cpu.model.hasEl2)) throw new EmulatorError(`EL${el} is not implemented`);
        this.cpu.el = el;
        this.cpu.syncStackPointer();
        this.cpu.fetchStale = true;
        return;
      }
    }
    const id = this.sysregIdFor(n);
    this.cpu.sys.write(id, Number(value & 0xffffffffn) | 0, Number((value >> 32n) & 0xffffffffn) | 0);
  }

  private sysregIdFor(name: string): number {
    const enc = lookupSysreg(name);
    const id = enc === undefined ? -1 : sysregIdByEncoding(enc);
    if (id < 0) throw new EmulatorError(`unknown register '${name}'`);
    return id;
  }

  // ---- memory ---------------------------------------------------------------

  readMemory(pa: bigint | number, length: number): Uint8Array {
    const bytes = this.board.memory.readBytes(Number(pa), length);
    if (!bytes) throw new EmulatorError(`cannot read ${length} bytes at physical 0x${BigInt(pa).toString(16)}: not RAM`);
    return bytes;
  }

  writeMemory(pa: bigint | number, bytes: Uint8Array): void {
    if (!this.board.memory.writeBytes(Number(pa), bytes)) {
      throw new EmulatorError(`cannot write ${bytes.length} bytes at physical 0x${BigInt(pa).toString(16)}: not RAM`);
    }
  }

  // ---- hooks ----------------------------------------------------------------

  /** Runs `fn` whenever execution reaches `where` (address or symbol). Returns a remover. */
  addCodeHook(where: bigint | number | string, fn: (emu: Emulator) => void): () => void {
    const addr = this.resolve(where);
    return this.cpu.hooks.add(Number(addr & 0xffffffffn) | 0, Number(addr >> 32n) | 0, () => fn(this));
  }

  /** Stops the run (reason 'breakpoint') when execution reaches `where`, before the instruction runs. */
  addBreakpoint(where: bigint | number | string): () => void {
    return this.cpu.hooks.add(...this.halves(this.resolve(where)), (cpu) => {
      cpu.stopRequest = { kind: 'breakpoint', pcLo: cpu.pcLo, pcHi: cpu.pcHi };
    });
  }

  /**
   * Models a C function: when execution reaches `where` (typically via BL),
   * `fn` runs with the AAPCS64 arguments x0..x7; its result goes to x0 and
   * execution returns to x30, as if the function had run and returned.
   */
  hostFunction(where: bigint | number | string, fn: HostFunction): () => void {
    const address = this.resolve(where);
    const name = typeof where === 'string' && !/^(0x[0-9a-f_]+|[0-9]+)$/i.test(where) ? where : `0x${address.toString(16)}`;
    return this.cpu.hooks.add(...this.halves(address), (cpu) => {
      const args: bigint[] = [];
      for (let r = 0; r < 8; r++) args.push(cpu.getX(r));
      const result = fn(args, this);
      if (this.hostCallListeners.length > 0) {
        const e: HostCallEvent = { name, address, args, result: typeof result === 'bigint' ? BigInt.asUintN(64, result) : undefined };
        for (const l of this.hostCallListeners) l(e);
      }
      if (cpu.stopRequest) return;
      if (typeof result === 'bigint') cpu.setX(0, BigInt.asUintN(64, result));
      cpu.pcLo = cpu.x[60]!;
      cpu.pcHi = cpu.x[61]!;
      cpu.branched = true;
    });
  }

  onException(fn: (e: ExceptionEvent) => void): () => void {
    this.exceptionListeners.push(fn);
    return () => { const i = this.exceptionListeners.indexOf(fn); if (i >= 0) this.exceptionListeners.splice(i, 1); };
  }

  /** Observes host function calls (for traces): called after each modelled function returns. */
  onHostCall(fn: (e: HostCallEvent) => void): () => void {
    this.hostCallListeners.push(fn);
    return () => { const i = this.hostCallListeners.indexOf(fn); if (i >= 0) this.hostCallListeners.splice(i, 1); };
  }

  onUndefined(fn: (word: number, name: string) => void): () => void {
    this.undefinedListeners.push(fn);
    return () => { const i = this.undefinedListeners.indexOf(fn); if (i >= 0) this.undefinedListeners.splice(i, 1); };
  }

  private halves(v: bigint): [number, number] {
    return [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
  }

  // ---- running --------------------------------------------------------------

  run(opts: RunOptions = {}): RunResult {
    const budget = opts.maxInsns ?? 100_000_000;
    const start = this.cpu.retired;
    let reason: StopReason = { kind: 'budget' };
    let left = budget;
    // Run in slices so a stop requested from outside (a hook, a device) is seen promptly.
    while (left > 0) {
      const slice = Math.min(left, 1_000_000);
      const before = this.cpu.retired;
      reason = runInterpreter(this.cpu, slice);
      left -= this.cpu.retired - before;
      if (reason.kind !== 'budget') break;
      if (this.cpu.retired === before) break;
    }
    this.board.uart.flush?.();
    return { reason, insns: this.cpu.retired - start };
  }

  /** Executes one instruction (or takes one exception). */
  step(): RunResult {
    return this.run({ maxInsns: 1 });
  }

  /** Asks a running `run` to stop at the next opportunity (from a hook or another callback). */
  stop(why = 'stopped by the host'): void {
    this.cpu.stopRequest = { kind: 'stopped', why };
  }

  /** PSCI through SMC/HVC: true when x0 named a PSCI function and the firmware handled it. */
  private psciCall(): boolean {
    const fn = this.cpu.x[0]! >>> 0;
    const inRange = (fn >= PSCI_FUNCTION_RANGE[0] && fn <= PSCI_FUNCTION_RANGE[1]) || (fn >= PSCI_FUNCTION_RANGE[2] && fn <= PSCI_FUNCTION_RANGE[3]);
    if (!inRange) return false;
    const regs = new Int32Array(8);
    regs.set(this.cpu.x.subarray(0, 8));
    const outcome = this.board.psciCall(regs);
    this.cpu.x[0] = outcome.x0Lo | 0;
    this.cpu.x[1] = outcome.x0Hi | 0;
    if (outcome.action.kind === 'stop') {
      this.cpu.stopRequest = outcome.action.reason === 'psci-system-reset' ? { kind: 'psci-reset' } : { kind: 'psci-off' };
    }
    return true;
  }

  /** The stack pointer currently in use, by slot (for tools that read the register file directly). */
  static readonly SP_SLOT = SP_SLOT;
}

export { sysregId };

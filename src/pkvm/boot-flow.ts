/**
 * The end-to-end pKVM boot flow (issue 5): the documents' five stages — early boot,
 * memory reservation, preparing init, pKVM init, host deprivileged — on the built-in
 * machine, with the assembly running instruction by instruction on the interpreter and
 * the kernel's C modelled in TypeScript at the addresses where the kernel calls it.
 *
 * Design decisions
 * ----------------
 * Machine.  QEMU's `virt` (the board of src/machine/virt.ts): RAM at 0x4000_0000, by
 *   default 1 GiB (the size the documents' device class has at least, and the middle of
 *   the 512 MiB … 8 GiB range the reservation is checked over), `--mem` 512M … 8G;
 *   cortex-a57 CPUs (ARMv8.0 with EL2, QEMU's default for virt), `--cpus` 1 … 8 (the
 *   GICv2 limit of virt). Every CPU is one interpreter `Cpu` on the same physical
 *   memory; they run in turn, switching when a CPU executes WFI (waiting for another).
 *   PSCI is the machine's (QEMU-style) firmware: CPU_ON starts a secondary CPU at EL2.
 *
 * Kernel image.  asm/*.S, each assembled by our assembler, linked by
 *   src/pkvm/kernel-image.ts like vmlinux (the hyp sections page-aligned, the hyp idmap
 *   text in one page) and loaded flat at 0x4008_0000 as QEMU loads an arm64 Image with
 *   text_offset 0x80000. The CPU enters `primary_entry` at EL2h with the MMU off, as
 *   QEMU enters a kernel. The image is built per kernel profile (asm/hyp-init.S has
 *   both kernels' versions of what differs).
 *
 * Kernel virtual layout (src/pkvm/layout.ts).  The host kernel runs at EL1 with its
 *   stage-1 MMU off: its addresses are physical, and once pKVM is up they are IPAs that
 *   go through the host stage-2 — the translation pKVM controls, which is what the
 *   documents study. The kernel's VA layout still exists for the arithmetic that
 *   derives hyp VAs: PAGE_OFFSET 0xffff_0000_0000_0000 (VA_BITS 48), memstart_addr
 *   0x4000_0000, kimage_voffset 0 (the image is linked at its load PA).
 *
 * Hyp VA layout (pkvm-facts §5.7).  hyp_va_bits 48 (TTBR0_EL2, 4 levels); the linear
 *   alias in the upper half (tag BIT(47), no random bits, so runs are reproducible);
 *   the idmap at VA == PA; after __pkvm_init the private range from __io_map_base
 *   (0x4000_0000_0000) and the vmemmap at 0x6000_0000_0000.
 *
 * Kernel profile.  `android` (the documents' tree, default) or `linux-6.1`
 *   (src/pkvm/profile.ts); the report says which one each step followed.
 *
 * C models.  At each symbol of asm/modelled-c.S a code hook runs the TypeScript model
 *   with the AAPCS64 arguments and returns to x30 — Emulator.hostFunction on CPU 0 for
 *   the host's functions; the same mechanism on the other CPUs, and for the
 *   hypervisor's functions also "tail calls" (C that ends by jumping into assembly:
 *   __pkvm_init → __pkvm_init_switch_pgd, __pkvm_init_finalise → __host_enter,
 *   hyp_panic → __hyp_do_panic, the SMC forwarder), which hostFunction cannot express.
 *   EL2 functions are hooked at their hyp VAs, where the EL2 code calls them.
 *
 * Running.  createBoot sets the machine up; run() runs the CPUs in turn to the end (a
 *   power-off, or in 6.1 the host's panic), result() gathers the report data. `observe`
 *   lets a test or tool tap the machine before it runs; `boot --gdb` hands CPU 0 to gdb
 *   first (src/gdb). `--trace` records every CPU with the JSON-lines recorder.
 *
 * Stages and counts.  Stage 1 runs from reset to the call of kvm_hyp_reserve on CPU 0
 *   (and, on each secondary CPU, from CPU_ON to its idle loop); stage 2 is that call;
 *   stage 3 runs until CPU 0 traps with the __pkvm_init hypercall; stage 4 until CPU 0
 *   enters the host experiments (every CPU's __kvm_hyp_init and __pkvm_prot_finalize
 *   included); stage 5 to the end. Instructions are counted per CPU and stage; a C
 *   model counts as the one instruction its hook replaces.
 */
import type { Cpu, StopReason } from '../cpu/cpu.js';
import { CPU_MODELS } from '../cpu/cpu-model.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import type { ExceptionEvent } from '../cpu/exceptions.js';
import { Cpu as CpuClass } from '../cpu/cpu.js';
import { disassemble } from '../isa/disasm.js';
import type { Mmu } from '../mmu/mmu.js';
import { Emulator } from '../machine/emulator.js';
import { Psci, PSCI_FN } from '../machine/devices/psci.js';
import { JsonlRecorder } from '../trace/jsonl-recorder.js';
import { buildKernelImage, symbolize, type KernelImage } from './kernel-image.js';
import { applyAlternatives, applyHypRelocations, detectCaps, readCpucaps, type PatchRecord } from './alternatives.js';
import { cpuView, type CpuView } from './cpu-view.js';
import { HostKvm, HostPageAllocator, kvm_arm_vmid_alloc_init, NVHE_INIT, type VmidAllocator } from './init-hyp-mode.js';
import { physMemOf, hex, PAGE_SIZE, type PhysMem } from './hyp-memory.js';
import {
  kvmComputeLayout, kernelVaLayout, hypVa, hypPa, kernHypVa, kernVa, isHypLinearVa,
  type HypVaLayout, type KernelVaLayout,
} from './layout.js';
import { getKernelProfile, type KernelProfile, type KernelProfileName } from './profile.js';
import { kvmHypReserveOnVirt, ReservationError, type VirtReservation } from './reservation.js';
import { EarlyBootMemoryError } from './early-memblock.js';
import { Hypervisor, __pkvm_init_finalise, type TailCall } from './setup.js';
import {
  handle_trap, hyp_panic, hostSmcccFunc, newTrapLog, HOST_HCALLS, KVM_HOST_SMCCC_BASE, SMCCC_RET_SUCCESS,
  type HostTrapEvent, type TrapLog,
} from './hyp-main.js';
import { hostPageState, hypPageState, pageStateName } from './mem-protect.js';
import { summarizeHypStage1, summarizeStage2, type TableSummary } from './table-summary.js';

export const DEFAULT_MEM = 1024 * 1024 * 1024;
export const MIN_MEM = 512 * 1024 * 1024;
export const MAX_MEM = 8 * 1024 * 1024 * 1024;
export const MAX_CPUS = 8;
const RAM_BASE = 0x4000_0000n;
const UART_BASE = 0x0900_0000n;

export interface BootOptions {
  /** RAM in bytes (default 1 GiB). */
  mem?: number;
  /** CPUs (default 1). */
  cpus?: number;
  profile?: KernelProfileName;
  /** CPU model (default cortex-a57). */
  cpuModel?: string;
  /** Project root (for asm/). */
  root: string;
  /** Experiment (a) touches this address instead of a fresh page from the page allocator. */
  hostAccess?: bigint;
  /** JSON-lines trace sink: every instruction of every CPU (each line carries "cpu"). */
  trace?: (line: string) => void;
  /** Instruction budget over all CPUs (default 20 million). */
  maxInsns?: number;
  /**
   * Called once the machine is set up, before it runs: tools and tests can add code
   * hooks or breakpoints (e.g. to snapshot a CPU at some instruction).
   */
  observe?: (machine: { emulator: Emulator; cpus: readonly Cpu[]; image: KernelImage }) => void;
}

/** Bad input: a clear message naming the cause, never a stack trace. */
export class BootError extends Error {
  override name = 'BootError';
}

export const STAGES = [
  { id: 1, key: 'early-boot', title: 'Early boot' },
  { id: 2, key: 'memory-reservation', title: 'Memory reservation (kvm_hyp_reserve)' },
  { id: 3, key: 'preparing-init', title: 'Preparing init (kvm_arm_init → init_hyp_mode)' },
  { id: 4, key: 'pkvm-init', title: 'pKVM init (__pkvm_init, __pkvm_init_finalise, __pkvm_prot_finalize)' },
  { id: 5, key: 'host-deprivileged', title: 'Host deprivileged' },
] as const;
export type StageId = 1 | 2 | 3 | 4 | 5;

export const KEY_REGISTERS = ['hcr_el2', 'sctlr_el2', 'ttbr0_el2', 'vttbr_el2', 'vtcr_el2', 'tcr_el2', 'vbar_el2'] as const;

export interface RegSnapshot {
  readonly cpu: number;
  readonly el: number;
  readonly pc: bigint;
  readonly pcSymbol?: string;
  readonly regs: Record<(typeof KEY_REGISTERS)[number], bigint>;
}

export interface Transition {
  readonly seq: number;
  readonly cpu: number;
  readonly stage: StageId;
  readonly kind: 'exception' | 'eret' | 'illegal-eret' | 'firmware';
  readonly fromEl: number;
  readonly toEl: number;
  /** The instruction that caused it: address, symbol, disassembly. */
  readonly at?: bigint;
  readonly atSymbol?: string;
  readonly insn?: string;
  readonly ec?: number;
  readonly why: string;
  /** Where execution continued. */
  readonly target: bigint;
  readonly targetSymbol?: string;
}

export interface Experiment {
  readonly key: string;
  readonly title: string;
  readonly ran: boolean;
  readonly outcome: string;
  readonly ok: boolean;
  readonly details: string[];
  readonly traps: HostTrapEvent[];
}

export interface BootResult {
  readonly profile: KernelProfile;
  readonly machine: { ramBase: bigint; ramSize: number; cpus: number; cpuModel: string };
  readonly image: KernelImage;
  readonly kernelLayout: KernelVaLayout;
  readonly hypLayout?: HypVaLayout;
  readonly reservation: VirtReservation;
  readonly stages: { id: StageId; title: string; insns: number[]; regsAfter: RegSnapshot[]; reached: boolean }[];
  readonly transitions: Transition[];
  readonly kernelLog: string[];
  readonly uart: string;
  readonly alternatives: PatchRecord[];
  readonly hypRelocs: number;
  readonly caps: string[];
  readonly host?: HostKvm;
  readonly hyp?: Hypervisor;
  readonly vmid?: VmidAllocator;
  readonly trapLog: TrapLog;
  readonly experiments: Experiment[];
  readonly tables: { hostBuiltHypStage1?: TableSummary; hostStage2AtFinalise?: TableSummary; hypStage1?: TableSummary; hostStage2?: TableSummary };
  readonly end: { reason: string; ok: boolean; error?: string };
  readonly totalInsns: number;
  /** Models or pieces the run could not use (the report lists them). */
  readonly missing: string[];
  /** The machine as the run left it (for tests and tools): CPU 0's emulator and every CPU. */
  readonly emulator: Emulator;
  readonly cpus: readonly Cpu[];
}

// ---------------------------------------------------------------------------------------------

const imageCache = new Map<string, KernelImage>();

function kernelImageFor(root: string, profile: KernelProfileName): KernelImage {
  const key = `${root}\0${profile}`;
  let img = imageCache.get(key);
  if (!img) {
    img = buildKernelImage({ root, profile });
    imageCache.set(key, img);
  }
  return img;
}

/** Validates the options (bad input → BootError with the cause). */
export function validateBootOptions(opts: BootOptions): { mem: number; cpus: number; profile: KernelProfile; reservation: VirtReservation } {
  const mem = opts.mem ?? DEFAULT_MEM;
  const cpus = opts.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw new BootError(`impossible CPU count ${cpus}: QEMU's virt machine (GICv2) has 1 to ${MAX_CPUS} CPUs`);
  }
  if (!Number.isSafeInteger(mem) || mem <= 0 || mem % (1024 * 1024) !== 0) {
    throw new BootError(`--mem must be a whole number of MiB (got ${mem} bytes)`);
  }
  if (mem > MAX_MEM) throw new BootError(`--mem ${mem / 2 ** 30} GiB: the model runs 512 MiB to 8 GiB of RAM`);
  let profile: KernelProfile;
  try {
    profile = getKernelProfile(opts.profile);
  } catch (err) {
    throw new BootError((err as Error).message);
  }
  if (opts.cpuModel !== undefined && !CPU_MODELS[opts.cpuModel]) {
    throw new BootError(`unknown CPU '${opts.cpuModel}' (known: ${Object.keys(CPU_MODELS).join(', ')})`);
  }
  let reservation: VirtReservation;
  try {
    reservation = kvmHypReserveOnVirt({ ramSize: mem, cpus, profile });
  } catch (err) {
    if (err instanceof EarlyBootMemoryError) throw new BootError(`--mem ${fmtSize(mem)} is too small: ${err.message}`);
    if (err instanceof ReservationError) throw new BootError(`--mem ${fmtSize(mem)} is too small for the hypervisor's reservation: ${err.message} (the kernel prints "${err.kernelMessage}")`);
    throw err;
  }
  if (mem < MIN_MEM) {
    // Still bootable: say nothing. The reservation succeeded, which is what matters.
  }
  if (opts.hostAccess !== undefined) {
    const a = opts.hostAccess;
    const end = RAM_BASE + BigInt(mem);
    if (a < RAM_BASE || a + 8n > end) {
      throw new BootError(`host access outside RAM: ${hex(a)} is not in RAM (${hex(RAM_BASE)}..${hex(end)})`);
    }
    if (a % 8n !== 0n) throw new BootError(`host access at ${hex(a)} must be 8-byte aligned (the host reads and writes a 64-bit word)`);
  }
  return { mem, cpus, profile, reservation };
}

function fmtSize(bytes: number): string {
  return bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30}G` : `${bytes / 2 ** 20}M`;
}

/** A modelled C function's view of its call. */
interface CCall {
  readonly cpu: CpuView;
  readonly args: bigint[];
  /** Set x1.. (x0 is the return value). */
  setX(n: number, v: bigint): void;
}
type CResult = bigint | void | { tail: TailCall };

// ---------------------------------------------------------------------------------------------

/** A machine set up for the boot flow, not yet run. */
export interface BootMachine {
  readonly emulator: Emulator;
  readonly cpus: readonly Cpu[];
  readonly image: KernelImage;
  /** Runs the CPUs in turn until the machine stops. */
  run(): void;
  /** The report data, as the machine stands. */
  result(): BootResult;
  readonly stopped: boolean;
}

/** Sets up the machine, runs the whole flow and returns what happened. */
export function runBoot(opts: BootOptions): BootResult {
  const machine = createBoot(opts);
  machine.run();
  return machine.result();
}

/**
 * Sets up the machine for the boot flow (image loaded, models installed) without running
 * it: `run()` then `result()`, or hand `emulator` to a debugger first (single CPU).
 */
export function createBoot(opts: BootOptions): BootMachine {
  const { mem: ramSize, cpus: nrCpus, profile, reservation } = validateBootOptions(opts);
  const cpuModel = opts.cpuModel ?? 'cortex-a57';
  const image = kernelImageFor(opts.root, profile.name);
  const uartBytes: number[] = [];
  const emu = new Emulator({ cpu: cpuModel, ramSize, uartSink: (b) => uartBytes.push(b) });
  const memory = emu.board.memory;
  const mem: PhysMem = physMemOf(memory);
  emu.load(image.bytes, { address: image.base, entry: image.entry });
  for (const [name, v] of image.allSymbols) emu.symbols.define(name, v, image.symbols.has(name));
  const sym = (name: string): bigint => {
    const v = image.allSymbols.get(name);
    if (v === undefined) throw new Error(`image has no symbol ${name}`);
    return v;
  };
  // The device tree's /cpus and the command-line experiment address.
  mem.write64(sym('nr_cpu_ids') & ~7n, (mem.read64(sym('nr_cpu_ids') & ~7n) & ~0xffff_ffffn) | BigInt(nrCpus));

  const kernelLog: string[] = [];
  // What the kernel does at these points and the model leaves out (said in the report).
  const missing: string[] = [
    'Spectre vector hardening: the hyp vector slot is HYP_VECTOR_DIRECT (no __bp_harden_hyp_vecs, hyp_map_vectors maps nothing)',
    'the PSCI relay forwards SYSTEM_OFF/SYSTEM_RESET/PSCI_VERSION/PSCI_FEATURES only (CPU_ON/SUSPEND after pKVM init need kvm_hyp_cpu_entry)',
    'kvm_nvhe_init_params and the per-CPU regions are "cleaned to PoC" with no cache model: memory is always coherent',
    'kvm_init_host_cpu_context (host MPIDR in the host context) and the vgic/timer subsystems of init_subsystems',
  ];
  if (profile.name === 'android') {
    missing.push(
      'init_pkvm_host_fp_state (per-CPU FP/SVE save areas) and hyp trace events: no FP/SVE state is switched',
      "shares keep the host's page state in the stage-2 PTE's software bits (6.1's way), not in hyp_page.host_state",
      'the hcall numbers past __pkvm_prot_finalize follow an Android common kernel (aosp kernel_common), not necessarily android15-6.6',
    );
  }
  const kernelLayout = kernelVaLayout(RAM_BASE, RAM_BASE + BigInt(ramSize));

  // ---- CPUs ---------------------------------------------------------------------------------
  const cpus: Cpu[] = [emu.cpu];
  for (let i = 1; i < nrCpus; i++) cpus.push(new CpuClass(memory, emu.cpu.model));
  const views = cpus.map((c, i) => cpuView(c, i));
  for (let i = 0; i < nrCpus; i++) {
    // MPIDR_EL1: U = 0, MT = 0, Aff0 = CPU number (bit 31 is RES1).
    views[i]!.setReg('mpidr_el1', 0x8000_0000n | BigInt(i));
  }
  // Every CPU drops what it decoded from a page that is written (code patching).
  memory.onCodeWrite = (pa) => {
    for (const c of cpus) {
      c.decodeCache.invalidatePage(Math.floor(pa / 4096));
      c.fetchStale = true;
    }
    memory.unmarkCodePage(pa);
  };
  const power: ('on' | 'off')[] = cpus.map((_, i) => (i === 0 ? 'on' : 'off'));
  const online: boolean[] = cpus.map((_, i) => i === 0);

  // ---- stages and accounting ----------------------------------------------------------------
  let stage: StageId = 1;
  const insns: number[][] = STAGES.map(() => new Array<number>(nrCpus).fill(0));
  const lastRetired = cpus.map(() => 0);
  const regsAfter = new Map<StageId, RegSnapshot[]>();
  const reached = new Set<StageId>([1]);
  const stageOf = (i: number): StageId => (i === 0 || online[i] ? stage : 1);
  const account = (i: number): void => {
    const c = cpus[i]!;
    insns[stageOf(i) - 1]![i]! += c.retired - lastRetired[i]!;
    lastRetired[i] = c.retired;
  };
  const snapshot = (i: number): RegSnapshot => {
    const v = views[i]!;
    const regs = {} as Record<(typeof KEY_REGISTERS)[number], bigint>;
    for (const r of KEY_REGISTERS) regs[r] = v.reg(r);
    const pc = v.reg('pc');
    return { cpu: i, el: cpus[i]!.el, pc, pcSymbol: symbolAt(pc, cpus[i]!.el), regs };
  };
  const setStage = (next: StageId): void => {
    if (next <= stage) return;
    for (let i = 0; i < nrCpus; i++) account(i);
    for (let s = stage; s < next; s++) regsAfter.set(s as StageId, cpus.map((_, i) => snapshot(i)));
    stage = next;
    reached.add(next);
  };

  // ---- symbols and instructions for the report ------------------------------------------------
  let hypLayout: HypVaLayout | undefined;
  const vaToPa = (va: bigint, el: number): bigint => (el === 2 && hypLayout && isHypLinearVa(hypLayout, va) ? hypPa(hypLayout, va) : va);
  function symbolAt(va: bigint, el: number): string | undefined {
    return symbolize(image, vaToPa(va, el));
  }
  const insnAt = (va: bigint, el: number): string | undefined => {
    const pa = vaToPa(va, el);
    if (!memory.isRam(Number(pa), 4)) return undefined;
    const word = Number(mem.read64(pa & ~7n) >> ((pa & 4n) * 8n) & 0xffff_ffffn);
    return disassemble(word, { address: va }).text.replace(/\t/g, ' ');
  };

  // ---- EL transitions -------------------------------------------------------------------------
  const transitions: Transition[] = [];
  const lastEret = cpus.map(() => ({ pc: 0n, el: 0 }));
  // Every ERET in the image gets a tap, at each address it can run at (PA, and hyp VA
  // for the hypervisor's text), so the transition knows its instruction.
  const eretSites: bigint[] = [];
  for (const s of image.sections) {
    if (!/text/.test(s.name)) continue;
    for (let a = s.start; a < s.end; a += 4n) {
      const off = Number(a - image.base);
      const w = (image.bytes[off]! | (image.bytes[off + 1]! << 8) | (image.bytes[off + 2]! << 16) | (image.bytes[off + 3]! << 24)) >>> 0;
      if (w === 0xd69f03e0) eretSites.push(a);
    }
  }
  const tapErets = (): void => {
    for (let i = 0; i < nrCpus; i++) {
      const c = cpus[i]!;
      for (const pa of eretSites) {
        const vas = [pa];
        if (hypLayout && pa >= sym('__hyp_text_start') && pa < sym('__hyp_text_end')) vas.push(hypVa(hypLayout, pa));
        for (const va of vas) c.hooks.add(Number(va & 0xffff_ffffn) | 0, Number(va >> 32n) | 0, (cc) => { lastEret[i] = { pc: cc.getPc(), el: cc.el }; });
      }
    }
  };
  tapErets();

  const onException = (i: number, e: ExceptionEvent): void => {
    const v = views[i]!;
    const target = v.reg('pc');
    if (e.kind === 'exception') {
      // The stage-4 boundary: CPU 0 traps with the __pkvm_init hypercall.
      if (i === 0 && stage === 3 && e.ec === 0x16 && v.reg('x0') === hostSmcccFunc(profile.name, '__pkvm_init')) setStage(4);
      const elr = v.reg(e.toEl === 2 ? 'elr_el2' : 'elr_el1');
      const trappedSmc = e.ec === 0x17 && e.fromEl < e.toEl;
      const at = e.ec === 0x16 || e.ec === 0x15 || (e.ec === 0x17 && !trappedSmc) ? elr - 4n : elr;
      transitions.push({
        seq: transitions.length, cpu: i, stage: stageOf(i), kind: 'exception', fromEl: e.fromEl, toEl: e.toEl,
        at, atSymbol: symbolAt(at, e.fromEl), insn: insnAt(at, e.fromEl), ec: e.ec, why: describeEc(e.ec, v),
        target, targetSymbol: symbolAt(target, e.toEl),
      });
    } else {
      const src = lastEret[i]!;
      transitions.push({
        seq: transitions.length, cpu: i, stage: stageOf(i), kind: e.kind, fromEl: e.fromEl, toEl: e.toEl,
        at: src.pc, atSymbol: symbolAt(src.pc, src.el), insn: insnAt(src.pc, src.el), why: e.kind === 'eret' ? 'exception return' : 'illegal exception return',
        target, targetSymbol: symbolAt(target, e.toEl),
      });
    }
  };
  emu.onException((e) => onException(0, e));
  for (let i = 1; i < nrCpus; i++) cpus[i]!.onException = (e) => onException(i, e);

  // ---- firmware (PSCI), one instance for the machine ----------------------------------------------
  const psci = new Psci({ cpus: nrCpus });
  const pendingOn: { cpu: number; entry: bigint; context: bigint }[] = [];
  psci.onCpuOn = (req) => {
    pendingOn.push({ cpu: req.cpu, entry: req.entryPoint, context: req.contextId });
    return 0;
  };
  let machineStop: { reason: string; ok: boolean; error?: string } | undefined;
  for (let i = 0; i < nrCpus; i++) {
    const c = cpus[i]!;
    c.firmwareCall = () => {
      const x = (n: number): bigint => c.getX(n);
      const fn = Number(x(0) & 0xffff_ffffn);
      const isPsci = (fn >= 0x8400_0000 && fn <= 0x8400_001f) || (fn >= 0xc400_0000 && fn <= 0xc400_001f);
      if (!isPsci) return false;
      const out = psci.call(x(0), x(1), x(2), x(3), i);
      c.setX(0, out.x0);
      transitions.push({
        seq: transitions.length, cpu: i, stage: stageOf(i), kind: 'firmware', fromEl: c.el, toEl: c.el,
        at: c.getPc(), atSymbol: symbolAt(c.getPc(), c.el), insn: insnAt(c.getPc(), c.el), why: `PSCI ${psciName(fn)} handled by the machine's firmware (EL3 is not modelled)`,
        target: c.getPc() + 4n, targetSymbol: symbolAt(c.getPc() + 4n, c.el),
      });
      if (out.action.kind === 'stop') {
        c.stopRequest = out.action.reason === 'psci-system-reset' ? { kind: 'psci-reset' } : { kind: 'psci-off' };
        machineStop = { reason: out.action.reason === 'psci-system-off' ? 'PSCI SYSTEM_OFF' : 'PSCI SYSTEM_RESET', ok: true };
        kernelLog.push('reboot: Power down');
      }
      return true;
    };
  }
  const powerOn = (req: { cpu: number; entry: bigint; context: bigint }): void => {
    const c = cpus[req.cpu]!;
    c.reset();
    views[req.cpu]!.setReg('mpidr_el1', 0x8000_0000n | BigInt(req.cpu));
    c.setPc(req.entry);
    c.setX(0, req.context);
    lastRetired[req.cpu] = c.retired;
    power[req.cpu] = 'on';
    psci.markCpuRunning(req.cpu);
  };

  // ---- TLB maintenance broadcast ----------------------------------------------------------------
  const tlbiAll = (op: string, xt: bigint): void => {
    for (const v of views) v.tlbi(op, xt);
  };

  // ---- C function hooks ---------------------------------------------------------------------------
  const fail = (i: number, why: string): void => {
    cpus[i]!.stopRequest = { kind: 'fatal', why };
    if (!machineStop) machineStop = { reason: 'model error', ok: false, error: why };
  };
  const installC = (where: string | bigint, fn: (call: CCall) => CResult, opts: { hyp?: boolean } = {}): void => {
    const addr = typeof where === 'string' ? sym(where) : where;
    const name = typeof where === 'string' ? where : hex(where);
    for (let i = 0; i < nrCpus; i++) {
      const c = cpus[i]!;
      const view = views[i]!;
      const call = (): CResult => fn({ cpu: view, args: [0, 1, 2, 3, 4, 5, 6, 7].map((r) => c.getX(r)), setX: (n, v) => c.setX(n, BigInt.asUintN(64, v)) });
      if (i === 0 && !opts.hyp) {
        // The host's C on CPU 0: Emulator.hostFunction (AAPCS64 in, x0 out, back to x30).
        emu.hostFunction(addr, () => {
          try {
            const r = call();
            if (r !== undefined && typeof r === 'object') throw new Error(`${name}: a host function cannot tail-call`);
            return r;
          } catch (err) {
            fail(0, `${name}: ${(err as Error).message}`);
            return undefined;
          }
        });
        continue;
      }
      c.hooks.add(Number(addr & 0xffff_ffffn) | 0, Number(addr >> 32n) | 0, (cc) => {
        let r: CResult;
        try {
          r = call();
        } catch (err) {
          fail(i, `${name}: ${(err as Error).message}`);
          return;
        }
        if (cc.stopRequest) return;
        if (r !== undefined && typeof r === 'object') {
          // A tail call: the callee gets the arguments and our caller's return address.
          r.tail.args.forEach((v, n) => cc.setX(n, BigInt.asUintN(64, v)));
          cc.setPc(r.tail.pc);
        } else {
          if (typeof r === 'bigint') cc.setX(0, BigInt.asUintN(64, r));
          cc.setPc(cc.getX(30));
        }
        cc.branched = true;
      });
    }
  };

  // ---- the host's C (EL1) -------------------------------------------------------------------------
  const res = reservation.reservation;
  const memblock = reservation.early.memblock;
  memblock.reserve(Number(image.base), image.bytes.length, 'kernel image (asm/*.S)');
  const pages = new HostPageAllocator(memblock, mem);
  let host: HostKvm | undefined;
  let hv: Hypervisor | undefined;
  let vmid: VmidAllocator | undefined;
  let alternatives: PatchRecord[] = [];
  let hypRelocs = 0;
  let caps: Set<string> = new Set();
  const trapLog = newTrapLog();
  const tables: { -readonly [K in keyof BootResult['tables']]: BootResult['tables'][K] } = {};
  const hcall = (name: string): bigint => hostSmcccFunc(profile.name, name);
  const errorOf = (ret: bigint): bigint => BigInt.asIntN(64, ret);

  installC('kvm_hyp_reserve', () => {
    setStage(2);
    // register_memblock_regions → kvm_nvhe_sym(hyp_memory)[], hyp_memblock_nr.
    res.hypMemory.forEach((r, n) => {
      const at = sym('hyp_memory') + BigInt(n * 24);
      mem.write64(at, BigInt(r.base));
      mem.write64(at + 8n, BigInt(r.size));
      mem.write64(at + 16n, r.nomap ? 4n : 0n); // MEMBLOCK_NOMAP
    });
    mem.write64(sym('hyp_memblock_nr'), BigInt(res.hypMemory.length));
    mem.write64(sym('hyp_mem_base'), BigInt(res.hypMemBase));
    mem.write64(sym('hyp_mem_size'), BigInt(res.hypMemSize));
    kernelLog.push(res.log);
    // The call (the one instruction its hook replaces) counts in stage 2; stage 3 starts when it returns.
    setStage(3);
    insns[1]![0]! += 1;
    lastRetired[0]! += 1;
    return 0n;
  });

  installC('smp_cpus_done', (call) => {
    const modes = [mem.read64(sym('__boot_cpu_mode')) & 0xffff_ffffn, mem.read64(sym('__boot_cpu_mode')) >> 32n];
    const allEl2 = modes[0] === 0xe12n && modes[1] === 0xe12n;
    kernelLog.push(`SMP: Total of ${online.filter(Boolean).length} processors activated.`);
    kernelLog.push(allEl2 ? 'CPU: All CPU(s) started at EL2' : 'CPU: CPUs started in inconsistent modes');
    // hyp_mode_check → kvm_compute_layout, kvm_apply_hyp_relocations.
    hypLayout = kvmComputeLayout(kernelLayout, RAM_BASE, sym('__hyp_idmap_text_start'));
    mem.write64(sym('hyp_physvirt_offset'), BigInt.asUintN(64, hypLayout.hypPhysvirtOffset));
    hypRelocs = applyHypRelocations(image, mem, (kimg) => hypVa(hypLayout!, kimg - kernelLayout.kimageVoffset)).length;
    // setup_system_features → apply_alternatives_all.
    caps = detectCaps({ isar1: call.cpu.reg('id_aa64isar1_el1'), mmfr2: call.cpu.reg('id_aa64mmfr2_el1'), pfr1: call.cpu.reg('id_aa64pfr1_el1') });
    alternatives = applyAlternatives({
      image, mem, capNames: readCpucaps(opts.root), caps,
      callbackValues: { kvm_get_kimage_voffset: kernelLayout.kimageVoffset },
    });
    tapErets();
    hv = new Hypervisor({
      profile, mem, symbols: image.allSymbols, kernHypVa: (va) => kernHypVa(hypLayout!, va), caps, tlbi: tlbiAll,
      firmwareSmc: (x0) => psci.call(x0, 0n, 0n, 0n, 0).x0,
      protectedModeInitialized: () => host?.protectedModeInitialized ?? false,
    });
    installHyp();
    return undefined;
  });

  installC('kvm_arm_vmid_alloc_init', (call) => {
    vmid = kvm_arm_vmid_alloc_init(call.cpu.reg('id_aa64mmfr1_el1'), nrCpus);
    kernelLog.push(`kvm [1]: VMID allocator: ${vmid.bits}-bit VMIDs, ${vmid.numUserVmids} entries, generation ${hex(vmid.generation)}`);
    return 0n;
  });

  installC('init_hyp_mode', (call) => {
    host = new HostKvm(profile, mem, pages, image, kernelLayout, hypLayout!, nrCpus);
    const r = host.init_hyp_mode({
      hypMemBase: BigInt(res.hypMemBase), hypMemSize: BigInt(res.hypMemSize),
      tcrEl1: call.cpu.reg('tcr_el1'), mairEl1: call.cpu.reg('mair_el1'),
      mmfr0: call.cpu.reg('id_aa64mmfr0_el1'), mmfr1: call.cpu.reg('id_aa64mmfr1_el1'),
      mpidrs: views.map((v) => v.reg('mpidr_el1') & 0xff_00ff_ffffn),
    });
    for (const l of host.log) kernelLog.push(`kvm [1]: ${l}`);
    if (r.ret) {
      kernelLog.push(`kvm [1]: error initializing Hyp mode: ${r.ret}`);
      return BigInt.asUintN(64, BigInt(r.ret));
    }
    tables.hostBuiltHypStage1 = summarizeHypStage1(host.hypPgtable, 'hyp stage-1 built by the host (init_hyp_mode)');
    return 0n;
  });

  installC('kvm_hyp_init_protection_done', () => {
    host!.free_hyp_pgds();
    return 0n;
  });

  installC('cpu_hyp_init_context', () => host!.hypIdmapVector);
  installC('cpu_init_hyp_mode_args', (call) => {
    call.setX(1, host!.cpus[call.cpu.index]!.paramsPa);
    return hcall('__kvm_hyp_init');
  });
  installC('cpu_init_hyp_mode_done', (call) => {
    if (call.args[0] !== SMCCC_RET_SUCCESS) {
      kernelLog.push(`kvm [1]: CPU${call.cpu.index}: __kvm_hyp_init failed (${hex(call.args[0]!)})`);
      return BigInt.asUintN(64, -22n);
    }
    return 0n;
  });
  installC('cpu_set_hyp_vector_args', (call) => {
    call.setX(1, 0n); // HYP_VECTOR_DIRECT: no Spectre vector hardening modelled
    return hcall('__pkvm_cpu_set_vector');
  });
  installC('cpu_set_hyp_vector_done', (call) => (call.args[0] === SMCCC_RET_SUCCESS ? call.args[1]! : BigInt.asUintN(64, -22n)));
  installC('pkvm_init_args', (call) => {
    call.setX(1, BigInt(res.hypMemBase));
    call.setX(2, BigInt(res.hypMemSize));
    call.setX(3, BigInt(nrCpus));
    call.setX(4, hypVa(hypLayout!, sym('kvm_arm_hyp_percpu_base')));
    call.setX(5, BigInt(host!.hypVaBits));
    return hcall('__pkvm_init');
  });
  installC('pkvm_init_done', (call) => {
    if (call.args[0] !== SMCCC_RET_SUCCESS) return BigInt.asUintN(64, -22n);
    const ret = errorOf(call.args[1]!);
    if (ret !== 0n) kernelLog.push(`kvm [1]: Failed to init hyp memory protection (${ret})`);
    return call.args[1]!;
  });
  installC('pkvm_drop_host_privileges', () => {
    host!.protectedModeInitialized = true;
    return 0n;
  });
  installC('pkvm_prot_finalize_args', () => hcall('__pkvm_prot_finalize'));
  installC('pkvm_prot_finalize_done', (call) => {
    if (call.args[0] !== SMCCC_RET_SUCCESS) return BigInt.asUintN(64, -22n);
    if (call.cpu.index === nrCpus - 1 && errorOf(call.args[1]!) === 0n) kernelLog.push('kvm [1]: Protected nVHE mode initialized successfully');
    return call.args[1]!;
  });

  // Stage 5: the experiments' hypercalls, and what the hypervisor's MMU says around them.
  const hypTranslation = (va: bigint): string => {
    const t = (cpus[0]!.port.mmu as Mmu).describe(va, { el: 2 });
    return 'pa' in t ? `EL2 stage-1 maps ${hex(va)} → PA ${hex(t.pa)}` : `EL2 stage-1: ${t.fault} fault at level ${t.level}`;
  };
  const hostTranslation = (ipa: bigint): string => {
    const t = (cpus[0]!.port.mmu as Mmu).describe(ipa, { el: 1 });
    return 'pa' in t ? `host stage-2 maps IPA ${hex(ipa)} → PA ${hex(t.pa)}` : `host stage-2: ${t.fault} fault at level ${t.level}`;
  };
  const shareNotes: string[] = [];
  installC('host_share_hyp_args', (call) => {
    const page = call.args[0]!;
    shareNotes.push(`before: ${hypTranslation(hypVa(hypLayout!, page))}`);
    call.setX(1, page >> 12n);
    return hcall('__pkvm_host_share_hyp');
  });
  installC('host_share_hyp_done', (call) => (call.args[0] === SMCCC_RET_SUCCESS ? call.args[1]! : call.args[0]!));
  installC('host_unshare_hyp_args', (call) => {
    call.setX(1, call.args[0]! >> 12n);
    return hcall('__pkvm_host_unshare_hyp');
  });
  installC('host_unshare_hyp_done', (call) => (call.args[0] === SMCCC_RET_SUCCESS ? call.args[1]! : call.args[0]!));
  const unknownId = KVM_HOST_SMCCC_BASE + BigInt(HOST_HCALLS[profile.name].length);
  installC('unknown_hcall_args', () => unknownId);
  installC('unknown_hcall_done', (call) => call.args[0]!);

  installC('__get_free_page', () => {
    const pa = pages.allocPages(0, 'host page (__get_free_page)');
    if (pa === null) throw new Error('__get_free_page: out of memory');
    return pa;
  });

  const injected: { esr: bigint; far: bigint; elr: bigint; fixup: bigint }[] = [];
  installC('do_mem_abort', (call) => {
    const [esr, far, elr] = call.args as [bigint, bigint, bigint];
    // search_exception_tables: __ex_table entries are (insn − ., fixup − .) pairs.
    const start = sym('__start___ex_table');
    const stop = sym('__stop___ex_table');
    for (let e = start; e < stop; e += 8n) {
      const pair = mem.read64(e);
      const insn = e + BigInt(Number(BigInt.asIntN(32, pair & 0xffff_ffffn)));
      const fixup = e + 4n + BigInt(Number(BigInt.asIntN(32, pair >> 32n)));
      if (insn === elr) {
        injected.push({ esr, far, elr, fixup });
        kernelLog.push(`Unable to handle kernel access at ${hex(far)} (ESR ${hex(esr)}): fixed up at ${symbolAt(fixup, 1) ?? hex(fixup)}`);
        return fixup;
      }
    }
    return 0n;
  });
  installC('die', (call) => {
    const [esr, far, elr] = call.args as [bigint, bigint, bigint];
    kernelLog.push(`Internal error: Oops: ${hex(esr)} at ${symbolAt(elr, 1) ?? hex(elr)}, FAR ${hex(far)}`);
    machineStop = { reason: 'host kernel died (unexpected exception at EL1)', ok: false };
    call.cpu.cpu.stopRequest = { kind: 'stopped', why: 'die()' };
  });
  let hypPanic: { esr: bigint; elr: bigint; far: bigint; hpfar: bigint } | undefined;
  installC('nvhe_hyp_panic_handler', (call) => {
    const [esr, spsr, elrVirt, elrPhys, par, , far, hpfar] = call.args as bigint[];
    hypPanic = { esr: esr!, elr: elrVirt!, far: far!, hpfar: hpfar! };
    kernelLog.push('kvm [1]: nVHE hyp panic at: ' + (symbolAt(elrVirt!, 2) ?? hex(elrVirt!)));
    kernelLog.push(`kvm [1]: HYP panic: PS:${hex(spsr!)} PC:${hex(elrVirt!)} (PA ${hex(elrPhys!)}) ESR:${hex(esr!)} FAR:${hex(far!)} HPFAR:${hex(hpfar!)} PAR:${hex(par!)}`);
    kernelLog.push('Kernel panic - not syncing: HYP panic');
    machineStop = { reason: 'Kernel panic - not syncing: HYP panic', ok: true };
    call.cpu.cpu.stopRequest = { kind: 'stopped', why: 'panic()' };
  });

  // ---- the hypervisor's C (EL2, at hyp VAs) --------------------------------------------------------
  function installHyp(): void {
    const at = (name: string): bigint => hypVa(hypLayout!, sym(name));
    installC(at('handle_trap'), (call) => {
      const r = handle_trap(hv!, call.cpu, trapLog, call.args[0]!);
      return r.tail ? { tail: r.tail } : undefined;
    }, { hyp: true });
    installC(at('__pkvm_init_finalise'), (call) => ({ tail: __pkvm_init_finalise(hv!, call.cpu) }), { hyp: true });
    installC(at('hyp_panic'), (call) => ({ tail: hyp_panic(hv!, call.cpu, trapLog, 'hyp_panic() from an EL2 vector') }), { hyp: true });
    installC(at('hyp_panic_bad_stack'), (call) => ({ tail: hyp_panic(hv!, call.cpu, trapLog, 'hyp stack overflow') }), { hyp: true });
  }

  // ---- stage 5 observation points -------------------------------------------------------------------
  const expObs = new Map<string, { regs: bigint[]; traps: number }>();
  let trapsAtStage5 = 0;
  emu.addCodeHook(sym('host_experiments'), () => {
    setStage(5);
    trapsAtStage5 = trapLog.events.length;
    tables.hostStage2AtFinalise = hv?.hostMmu ? summarizeStage2(hv.hostMmu.pgt, 'host stage-2 at the end of pKVM init') : undefined;
  });
  for (const label of ['exp_ram_done', 'exp_mmio_done', 'exp_share_done', 'exp_unshare_done', 'exp_unknown_hcall_done', 'exp_hyp_read_done']) {
    emu.addCodeHook(sym(label), (e) => {
      expObs.set(label, { regs: [0, 1, 19, 20, 21, 22].map((r) => e.cpu.getX(r)), traps: trapLog.events.length });
      if (label === 'exp_share_done') {
        const page = e.cpu.getX(19);
        shareNotes.push(`after: ${hypTranslation(hypVa(hypLayout!, page))}`);
      }
      if (label === 'exp_unshare_done') {
        const page = e.cpu.getX(19);
        shareNotes.push(`after unshare: ${hypTranslation(hypVa(hypLayout!, page))}`);
      }
    });
  }
  let hypReadCheck = '';
  emu.addCodeHook(sym('host_probe_read'), (e) => {
    hypReadCheck = hostTranslation(e.cpu.getX(0));
  });
  if (opts.hostAccess !== undefined) mem.write64(sym('host_access_addr'), opts.hostAccess);

  opts.observe?.({ emulator: emu, cpus, image });

  // ---- run ----------------------------------------------------------------------------------------
  const maxInsns = opts.maxInsns ?? 20_000_000;
  const recorders = opts.trace
    ? cpus.map((c, i) => new JsonlRecorder(c, (line) => opts.trace!(line.replace(/^\{/, `{"cpu":${i},`)), {
      symbolize: (a) => { const s = symbolAt(a, c.el); return s ? `<${s}>` : undefined; },
    }))
    : undefined;
  recorders?.forEach((r, i) => { if (i === 0) r.start(); });
  const started = new Set<number>([0]);
  let lastReason: StopReason = { kind: 'budget' };
  const retiredTotal = (): number => cpus.reduce((n, c) => n + c.retired, 0);

  /** Runs the CPUs in turn until the machine stops (power-off, a panic, an error or the budget). */
  const run = (): void => {
    let cur = 0;
    let idleSlices = 0;
    const SLICE = 200_000;
    while (!machineStop) {
      const c = cpus[cur]!;
      const before = c.retired;
      let reason: StopReason;
      try {
        if (recorders) {
          if (!started.has(cur)) { recorders[cur]!.start(); started.add(cur); }
          reason = { kind: 'budget' };
          for (let n = 0; n < SLICE; n++) {
            reason = recorders[cur]!.step();
            if (reason.kind !== 'budget') break;
          }
        } else {
          reason = cur === 0 ? emu.run({ maxInsns: SLICE }).reason : runInterpreter(c, SLICE);
        }
      } catch (err) {
        machineStop ??= { reason: 'model error', ok: false, error: `${(err as Error).message}` };
        reason = { kind: 'fatal', why: (err as Error).message };
      }
      account(cur);
      const ran = c.retired - before;
      lastReason = reason;
      for (const req of pendingOn.splice(0)) powerOn(req);
      if (machineStop) break;
      if (reason.kind === 'fatal') { machineStop = { reason: 'the CPU cannot continue', ok: false, error: `CPU ${cur}: ${reason.why}` }; break; }
      if (reason.kind === 'breakpoint') { machineStop = { reason: 'unexpected breakpoint', ok: false }; break; }
      if (retiredTotal() > maxInsns) { machineStop = { reason: `instruction budget of ${maxInsns} exhausted`, ok: false }; break; }
      if (reason.kind === 'wfi') {
        if (cur !== 0 && !online[cur]) online[cur] = true;
        idleSlices = ran < 16 ? idleSlices + 1 : 0;
        if (idleSlices > 8 * nrCpus + 8) { machineStop = { reason: 'every CPU is waiting (WFI) with nothing to wake it', ok: false }; break; }
        // Next powered CPU, round robin.
        let next = cur;
        for (let k = 1; k <= nrCpus; k++) {
          const j = (cur + k) % nrCpus;
          if (power[j] === 'on') { next = j; break; }
        }
        if (next === cur && nrCpus === 1) { machineStop = { reason: 'CPU 0 waits (WFI) with nothing to wake it', ok: false }; break; }
        cur = next;
        continue;
      }
      if (reason.kind === 'psci-off' || reason.kind === 'psci-reset') { machineStop ??= { reason: 'PSCI', ok: true }; break; }
      if (reason.kind === 'stopped') { machineStop ??= { reason: reason.why, ok: false }; break; }
    }
  };

  /** The result as the machine stands: call after run() (or after a debugger let it run). */
  const result = (): BootResult => {
    for (let i = 0; i < nrCpus; i++) account(i);
    regsAfter.set(stage, cpus.map((_, i) => snapshot(i)));
    recorders?.forEach((r, i) => { if (started.has(i)) r.end(lastReason.kind, cpus[i]!.retired); });
    emu.board.uart.flush?.();

    // The tables at the end.
    if (hv?.initDone) tables.hypStage1 = summarizeHypStage1(hv.pkvmPgtable, "the hypervisor's stage-1 (pkvm_pgtable)");
    if (hv?.hostMmu) tables.hostStage2 = summarizeStage2(hv.hostMmu.pgt, 'host stage-2 (host_mmu.pgt)');

    const uart = String.fromCharCode(...uartBytes);
    const experiments = collectExperiments({
      profile, expObs, trapLog, trapsAtStage5, shareNotes, injected, hypPanic, hypReadCheck, uart, hv, hypLayout,
      hostAccess: opts.hostAccess, unknownId, reached5: reached.has(5), endReason: machineStop?.reason ?? lastReason.kind,
    });
    const stages = STAGES.map((s) => ({
      id: s.id as StageId, title: s.title, insns: insns[s.id - 1]!, regsAfter: regsAfter.get(s.id as StageId) ?? [], reached: reached.has(s.id as StageId),
    }));
    return {
      profile, machine: { ramBase: RAM_BASE, ramSize, cpus: nrCpus, cpuModel },
      image, kernelLayout, hypLayout, reservation, stages, transitions, kernelLog, uart,
      alternatives, hypRelocs, caps: [...caps].sort(), host, hyp: hv, vmid, trapLog, experiments, tables,
      end: machineStop ?? { reason: lastReason.kind, ok: false }, totalInsns: retiredTotal(), missing,
      emulator: emu, cpus,
    };
  };

  return {
    emulator: emu, cpus, image, run, result,
    /** The firmware saw SYSTEM_OFF/RESET, or a model stopped the machine. */
    get stopped(): boolean { return machineStop !== undefined; },
  };
}

function psciName(fn: number): string {
  for (const [k, v] of Object.entries(PSCI_FN)) if (v === fn) return k;
  return hex(fn);
}

function describeEc(ec: number, v: CpuView): string {
  switch (ec) {
    case 0x16: return `HVC (x0 = ${hex(v.reg('x0'))})`;
    case 0x17: return `SMC trapped by HCR_EL2.TSC (x0 = ${hex(v.reg('x0'))})`;
    case 0x15: return 'SVC';
    case 0x20: return `instruction abort from a lower EL (${hex(v.reg('far_el2'))})`;
    case 0x24: return `data abort from a lower EL at ${hex(v.reg('far_el2'))}, stage ${(v.reg('esr_el2') & (1n << 7n)) ? '2 (S1PTW)' : '2'}`;
    case 0x21: return 'instruction abort at the same EL';
    case 0x25: return `data abort at the same EL at ${hex(v.reg(v.cpu.el === 2 ? 'far_el2' : 'far_el1'))}`;
    case 0x01: return 'WFI/WFE trapped';
    case 0x18: return 'system register access trapped';
    default: return `exception class ${hex(ec)}`;
  }
}

// ---------------------------------------------------------------------------------------------

interface ExperimentInputs {
  profile: KernelProfile;
  expObs: Map<string, { regs: bigint[]; traps: number }>;
  trapLog: TrapLog;
  trapsAtStage5: number;
  shareNotes: string[];
  injected: { esr: bigint; far: bigint; elr: bigint; fixup: bigint }[];
  hypPanic?: { esr: bigint; elr: bigint; far: bigint; hpfar: bigint };
  hypReadCheck: string;
  uart: string;
  hv?: Hypervisor;
  hypLayout?: HypVaLayout;
  hostAccess?: bigint;
  unknownId: bigint;
  reached5: boolean;
  /** Why the machine stopped (for experiments that did not complete). */
  endReason: string;
}

function collectExperiments(x: ExperimentInputs): Experiment[] {
  const labels = ['exp_ram_done', 'exp_mmio_done', 'exp_share_done', 'exp_unshare_done', 'exp_unknown_hcall_done', 'exp_hyp_read_done'];
  let prevTraps = x.trapsAtStage5;
  const trapsFor = new Map<string, HostTrapEvent[]>();
  for (const l of labels) {
    const o = x.expObs.get(l);
    const end = o ? o.traps : x.trapLog.events.length;
    trapsFor.set(l, x.trapLog.events.slice(prevTraps, end));
    if (o) prevTraps = o.traps;
  }
  const out: Experiment[] = [];
  const reg = (l: string, n: number): bigint | undefined => {
    const o = x.expObs.get(l);
    return o?.regs[[0, 1, 19, 20, 21, 22].indexOf(n)];
  };
  const describeTraps = (t: HostTrapEvent[]): string[] => t.map((e) => {
    switch (e.kind) {
      case 'mem_abort': return `CPU ${e.cpu}: stage-2 ${e.ec === 0x20 ? 'instruction' : 'data'} abort at IPA ${hex(e.ipa)} → ${e.outcome}`;
      case 'hcall': return `CPU ${e.cpu}: hypercall ${e.name} (${hex(e.id)}) → ${e.result}${e.x1 !== undefined ? `, x1 = ${hex(e.x1)}` : ''}`;
      case 'smc': return `CPU ${e.cpu}: SMC ${hex(e.fn)} → ${e.outcome}`;
      case 'panic': return `CPU ${e.cpu}: hyp_panic: ${e.why}`;
    }
  });

  // (a) ordinary memory
  {
    const t = trapsFor.get('exp_ram_done')!;
    const addr = reg('exp_ram_done', 19);
    const wrote = reg('exp_ram_done', 20);
    const read = reg('exp_ram_done', 21);
    const ran = addr !== undefined;
    const faults = ran ? t.filter((e) => e.kind === 'mem_abort' && e.ipa >> 12n === addr! >> 12n) : [];
    const ok = ran && wrote === read;
    out.push({
      key: 'ram', title: `(a) the host touches ordinary memory${x.hostAccess !== undefined ? ` (--host-access ${hex(x.hostAccess)})` : ''}`, ran, ok,
      outcome: !ran ? `not completed: ${x.endReason}`
        : faults.length ? `stage-2 fault at ${hex(addr!)} → host_stage2_idmap → the retried access succeeded (read back ${hex(read!)})`
          : `no fault: ${x.profile.prepopulateHostStage2 ? 'prepopulate_host_stage2 had mapped all memory' : 'already mapped'}; read back ${hex(read!)}`,
      details: describeTraps(t), traps: t,
    });
  }
  // (a') MMIO
  {
    const t = trapsFor.get('exp_mmio_done')!;
    const ran = x.expObs.has('exp_mmio_done');
    const printed = x.uart.includes('pKVM');
    out.push({
      key: 'mmio', title: "(a') the host touches device memory (the UART)", ran, ok: ran && printed,
      outcome: !ran ? `not reached (${x.endReason})` : `${t.some((e) => e.kind === 'mem_abort') ? 'stage-2 fault → MMIO identity-mapped RW, XN' : 'no fault'}; the UART printed ${JSON.stringify(x.uart.trim())}`,
      details: describeTraps(t), traps: t,
    });
  }
  // (c) share / unshare
  {
    const t = trapsFor.get('exp_share_done')!;
    const ran = x.expObs.has('exp_share_done');
    const status = reg('exp_share_done', 21);
    const tag = reg('exp_share_done', 20);
    const read = reg('exp_share_done', 22);
    const share = x.trapLog.shares[0];
    const ok = ran && status === 0n && read === tag && share !== undefined && share.after.host === 'SHARED_OWNED' && share.after.hyp === 'SHARED_BORROWED';
    const details = describeTraps(t);
    if (share) details.push(`page ${hex(share.hostAddr)} (hyp VA ${hex(share.hypAddr)}): host ${share.before.host} → ${share.after.host}, hyp ${share.before.hyp} → ${share.after.hyp}`);
    details.push(...x.shareNotes.filter((n) => !n.startsWith('after unshare')));
    out.push({
      key: 'share', title: '(c) the host shares a page with the hypervisor (__pkvm_host_share_hyp)', ran, ok,
      outcome: !ran ? `not reached (${x.endReason})` : `returned ${BigInt.asIntN(64, status!)}; the host still reads its page (${hex(read!)}); the hypervisor can now read it`,
      details, traps: t,
    });
    const t2 = trapsFor.get('exp_unshare_done')!;
    const ran2 = x.expObs.has('exp_unshare_done');
    const unshare = x.trapLog.shares[1];
    const status2 = reg('exp_unshare_done', 21);
    const d2 = describeTraps(t2);
    if (unshare) d2.push(`host ${unshare.before.host} → ${unshare.after.host}, hyp ${unshare.before.hyp} → ${unshare.after.hyp}`);
    d2.push(...x.shareNotes.filter((n) => n.startsWith('after unshare')));
    out.push({
      key: 'unshare', title: "(c') … and takes it back (__pkvm_host_unshare_hyp)", ran: ran2,
      ok: ran2 && status2 === 0n && unshare?.after.host === 'OWNED' && unshare.after.hyp === 'NOPAGE',
      outcome: !ran2 ? `not reached (${x.endReason})` : `returned ${BigInt.asIntN(64, status2!)}`, details: d2, traps: t2,
    });
  }
  // (d) unknown hypercall
  {
    const t = trapsFor.get('exp_unknown_hcall_done')!;
    const ran = x.expObs.has('exp_unknown_hcall_done');
    const r = reg('exp_unknown_hcall_done', 21);
    out.push({
      key: 'unknown-hcall', title: `(d) an unknown hypercall (${hex(x.unknownId)})`, ran,
      ok: ran && r === 0xffff_ffff_ffff_ffffn,
      outcome: !ran ? `not reached (${x.endReason})` : `x0 = ${hex(r!)} (${r === 0xffff_ffff_ffff_ffffn ? 'SMCCC_RET_NOT_SUPPORTED, −1' : 'unexpected'})`,
      details: describeTraps(t), traps: t,
    });
  }
  // (b) hypervisor memory
  {
    const t = trapsFor.get('exp_hyp_read_done')!;
    const ran = x.expObs.has('exp_hyp_read_done');
    const details = describeTraps(t);
    if (x.hypReadCheck) details.unshift(`before the read: ${x.hypReadCheck}`);
    let outcome: string;
    let ok: boolean;
    if (x.profile.name === 'android') {
      const inj = x.injected[0];
      ok = ran && reg('exp_hyp_read_done', 1) === BigInt.asUintN(64, -14n) && inj !== undefined;
      outcome = !ran ? (x.hypPanic ? 'the hypervisor panicked' : `not reached (${x.endReason})`)
        : `the read faulted; pKVM refused to map it (-EPERM) and injected a synchronous abort into the host (ESR_EL1 ${inj ? hex(inj.esr) : '?'}); the host's fixup returned -EFAULT`;
    } else {
      ok = x.hypPanic !== undefined;
      outcome = x.hypPanic
        ? `the read faulted; host_stage2_idmap returned -EPERM and Linux 6.1 BUG()s: hyp_panic → the host kernel panics ("HYP panic", ESR ${hex(x.hypPanic.esr)}, FAR ${hex(x.hypPanic.far)})`
        : ran ? 'the read did not fault (unexpected)' : `not reached (${x.endReason})`;
    }
    out.push({ key: 'hyp-read', title: '(b) the host reads hypervisor memory (the reserved pool)', ran: ran || x.hypPanic !== undefined, ok, outcome, details, traps: t });
  }
  return out;
}

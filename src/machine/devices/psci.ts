/**
 * PSCI 1.0 firmware, as reached through the SMC or HVC conduit (Arm DEN 0022,
 * "Arm Power State Coordination Interface"). Like QEMU's built-in firmware it
 * handles the call itself instead of vectoring to EL3 code: the CPU passes
 * x0..x3 in, writes the returned x0 back and carries out the returned action.
 *
 * Secondary CPUs: CPU_ON is routed to `onCpuOn`, which the machine installs
 * once it can start another CPU; without it CPU_ON reports NOT_SUPPORTED.
 * Power states of all CPUs are tracked here, so AFFINITY_INFO already answers.
 */

/** PSCI function IDs (SMC32 forms 0x84..., SMC64 forms 0xc4...). */
export const PSCI_FN = {
  PSCI_VERSION: 0x8400_0000,
  CPU_SUSPEND_32: 0x8400_0001,
  CPU_SUSPEND_64: 0xc400_0001,
  CPU_OFF: 0x8400_0002,
  CPU_ON_32: 0x8400_0003,
  CPU_ON_64: 0xc400_0003,
  AFFINITY_INFO_32: 0x8400_0004,
  AFFINITY_INFO_64: 0xc400_0004,
  MIGRATE_32: 0x8400_0005,
  MIGRATE_64: 0xc400_0005,
  MIGRATE_INFO_TYPE: 0x8400_0006,
  MIGRATE_INFO_UP_CPU_32: 0x8400_0007,
  MIGRATE_INFO_UP_CPU_64: 0xc400_0007,
  SYSTEM_OFF: 0x8400_0008,
  SYSTEM_RESET: 0x8400_0009,
  PSCI_FEATURES: 0x8400_000a,
} as const;

/** PSCI return codes (signed, returned sign-extended to 64 bits in x0). */
export const PSCI_RET = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  DENIED: -3,
  ALREADY_ON: -4,
  ON_PENDING: -5,
  INTERNAL_FAILURE: -6,
  NOT_PRESENT: -7,
  DISABLED: -8,
  INVALID_ADDRESS: -9,
} as const;

/** AFFINITY_INFO results. */
export const PSCI_AFFINITY = { ON: 0, OFF: 1, ON_PENDING: 2 } as const;

/** PSCI_VERSION result for 1.0: major in bits [31:16], minor in [15:0]. */
export const PSCI_VERSION_1_0 = 0x0001_0000;

/** MIGRATE_INFO_TYPE 2: no Trusted OS, or one that needs no migration. */
const MIGRATE_INFO_TYPE_NOT_REQUIRED = 2;

/** CPU power state as tracked by the firmware. */
export type CpuPowerState = 'on' | 'off' | 'on-pending';

/** What the caller must do after writing `x0` back. */
export type PsciAction =
  /** Return to the caller (x0 holds the result). */
  | { kind: 'continue' }
  /** The whole machine stops. */
  | { kind: 'stop'; reason: 'psci-system-off' | 'psci-system-reset' }
  /** The calling CPU powers down and does not return (CPU_OFF succeeded). */
  | { kind: 'cpu-off'; cpu: number }
  /** The calling CPU waits for an interrupt, then returns SUCCESS (CPU_SUSPEND standby). */
  | { kind: 'standby' }
  /** The machine should start `cpu` at `entryPoint` (the result of `onCpuOn`). */
  | { kind: 'cpu-on'; cpu: number; entryPoint: bigint; contextId: bigint };

export interface PsciResult {
  /** New x0, as an unsigned 64-bit value (-1 is 0xffff_ffff_ffff_ffff). */
  x0: bigint;
  /** The same value as 32-bit halves, for register files kept in typed arrays. */
  x0Lo: number;
  x0Hi: number;
  action: PsciAction;
}

/** A CPU_ON request handed to the machine. */
export interface CpuOnRequest {
  cpu: number;
  mpidr: bigint;
  entryPoint: bigint;
  contextId: bigint;
}

export interface PsciOptions {
  /** Number of CPUs (default 1); CPU 0 starts on, the others off. */
  cpus?: number;
  /**
   * CPUs per Aff1 cluster when numbering MPIDRs: QEMU's virt uses 8 with a
   * GICv2 and 16 with a GICv3. Default 8.
   */
  clusterSize?: number;
}

const CONTINUE: PsciAction = { kind: 'continue' };

export class Psci {
  readonly cpuCount: number;
  readonly clusterSize: number;
  /** Power state per CPU index. */
  readonly cpuStates: CpuPowerState[];
  /**
   * Starts a secondary CPU. Returns a PSCI status: SUCCESS (the CPU is now on
   * or pending), or an error code to pass back. Unset: CPU_ON is not supported.
   */
  onCpuOn: ((request: CpuOnRequest) => number) | undefined = undefined;

  constructor(options: PsciOptions = {}) {
    this.cpuCount = options.cpus ?? 1;
    this.clusterSize = options.clusterSize ?? 8;
    if (!Number.isInteger(this.cpuCount) || this.cpuCount < 1 || this.cpuCount > 512) {
      throw new Error(`PSCI: cpu count ${this.cpuCount} must be an integer from 1 to 512`);
    }
    this.cpuStates = Array.from({ length: this.cpuCount }, (_, i) => (i === 0 ? 'on' : 'off'));
  }

  /** MPIDR affinity fields (Aff1:Aff0) of CPU `index`, as QEMU's virt numbers them. */
  mpidrOf(index: number): bigint {
    const aff0 = index % this.clusterSize;
    const aff1 = Math.floor(index / this.clusterSize);
    return BigInt((aff1 << 8) | aff0);
  }

  /** CPU index whose affinity is `mpidr` (Aff3..Aff0 fields only), or -1. */
  cpuOfMpidr(mpidr: bigint): number {
    const affinity = mpidr & 0xff_00ff_ffffn;
    for (let i = 0; i < this.cpuCount; i++) if (this.mpidrOf(i) === affinity) return i;
    return -1;
  }

  /** Handles a call whose x0..x3 are in a halves register file (`regs[2n]` lo, `regs[2n + 1]` hi). */
  callFromHalves(regs: Uint32Array | Int32Array, callingCpu = 0): PsciResult {
    const x = (n: number): bigint => (BigInt(regs[2 * n + 1]! >>> 0) << 32n) | BigInt(regs[2 * n]! >>> 0);
    return this.call(x(0), x(1), x(2), x(3), callingCpu);
  }

  /** Handles one PSCI call made by CPU `callingCpu`. */
  call(x0: bigint, x1: bigint, x2: bigint, x3: bigint, callingCpu = 0): PsciResult {
    // SMCCC: the function ID is W0; SMC32 functions see only W1..W3.
    const fn = Number(x0 & 0xffff_ffffn);
    const is64 = (fn & 0x4000_0000) !== 0;
    const arg = (x: bigint): bigint => (is64 ? x & 0xffff_ffff_ffff_ffffn : x & 0xffff_ffffn);
    switch (fn) {
      case PSCI_FN.PSCI_VERSION:
        return result(PSCI_VERSION_1_0);
      case PSCI_FN.SYSTEM_OFF:
        return result(PSCI_RET.SUCCESS, { kind: 'stop', reason: 'psci-system-off' });
      case PSCI_FN.SYSTEM_RESET:
        return result(PSCI_RET.SUCCESS, { kind: 'stop', reason: 'psci-system-reset' });
      case PSCI_FN.CPU_ON_32:
      case PSCI_FN.CPU_ON_64:
        return this.cpuOn(arg(x1), arg(x2), arg(x3));
      case PSCI_FN.CPU_OFF:
        return this.cpuOff(callingCpu);
      case PSCI_FN.CPU_SUSPEND_32:
      case PSCI_FN.CPU_SUSPEND_64:
        return this.cpuSuspend(arg(x1));
      case PSCI_FN.AFFINITY_INFO_32:
      case PSCI_FN.AFFINITY_INFO_64:
        return this.affinityInfo(arg(x1), arg(x2));
      case PSCI_FN.MIGRATE_INFO_TYPE:
        return result(MIGRATE_INFO_TYPE_NOT_REQUIRED);
      case PSCI_FN.PSCI_FEATURES:
        return result(this.isImplemented(Number(x1 & 0xffff_ffffn)) ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
      default:
        // MIGRATE and MIGRATE_INFO_UP_CPU are optional when MIGRATE_INFO_TYPE
        // is 2; anything else is not ours either.
        return result(PSCI_RET.NOT_SUPPORTED);
    }
  }

  /** True if `fn` is a function this firmware implements (the PSCI_FEATURES answer). */
  isImplemented(fn: number): boolean {
    switch (fn >>> 0) {
      case PSCI_FN.PSCI_VERSION:
      case PSCI_FN.CPU_SUSPEND_32:
      case PSCI_FN.CPU_SUSPEND_64:
      case PSCI_FN.CPU_OFF:
      case PSCI_FN.AFFINITY_INFO_32:
      case PSCI_FN.AFFINITY_INFO_64:
      case PSCI_FN.MIGRATE_INFO_TYPE:
      case PSCI_FN.SYSTEM_OFF:
      case PSCI_FN.SYSTEM_RESET:
      case PSCI_FN.PSCI_FEATURES:
        return true;
      case PSCI_FN.CPU_ON_32:
      case PSCI_FN.CPU_ON_64:
        return this.onCpuOn !== undefined;
      default:
        return false;
    }
  }

  private cpuOn(targetMpidr: bigint, entryPoint: bigint, contextId: bigint): PsciResult {
    const start = this.onCpuOn;
    if (start === undefined) return result(PSCI_RET.NOT_SUPPORTED);
    const cpu = this.cpuOfMpidr(targetMpidr);
    if (cpu < 0) return result(PSCI_RET.INVALID_PARAMETERS);
    const state = this.cpuStates[cpu]!;
    if (state === 'on') return result(PSCI_RET.ALREADY_ON);
    if (state === 'on-pending') return result(PSCI_RET.ON_PENDING);
    const status = start({ cpu, mpidr: this.mpidrOf(cpu), entryPoint, contextId });
    if (status !== PSCI_RET.SUCCESS) return result(status);
    this.cpuStates[cpu] = 'on-pending';
    return result(PSCI_RET.SUCCESS, { kind: 'cpu-on', cpu, entryPoint, contextId });
  }

  /** The machine reports that a CPU started by CPU_ON is now running. */
  markCpuRunning(cpu: number): void {
    this.cpuStates[cpu] = 'on';
  }

  private cpuOff(callingCpu: number): PsciResult {
    if (callingCpu < 0 || callingCpu >= this.cpuCount) return result(PSCI_RET.INVALID_PARAMETERS);
    this.cpuStates[callingCpu] = 'off';
    // On success CPU_OFF does not return, so x0 only matters if the machine
    // cannot power the CPU down and returns to it instead: then it says DENIED.
    return result(PSCI_RET.DENIED, { kind: 'cpu-off', cpu: callingCpu });
  }

  private cpuSuspend(powerState: bigint): PsciResult {
    // Original power_state format: StateID [15:0], StateType [16], PowerLevel
    // [25:24]. Like QEMU, only core-level states are accepted and every one,
    // power-down included, is treated as standby: a wait for interrupt
    // followed by a normal return (allowed, since a power-down request may
    // be downgraded to standby).
    if ((powerState & 0xfffe_0000n) !== 0n) return result(PSCI_RET.INVALID_PARAMETERS);
    return result(PSCI_RET.SUCCESS, { kind: 'standby' });
  }

  private affinityInfo(targetAffinity: bigint, lowestLevel: bigint): PsciResult {
    // Only level 0 (individual CPUs) is meaningful without a cluster model.
    if (lowestLevel !== 0n) return result(PSCI_RET.INVALID_PARAMETERS);
    const cpu = this.cpuOfMpidr(targetAffinity);
    if (cpu < 0) return result(PSCI_RET.INVALID_PARAMETERS);
    const state = this.cpuStates[cpu]!;
    return result(state === 'on' ? PSCI_AFFINITY.ON : state === 'off' ? PSCI_AFFINITY.OFF : PSCI_AFFINITY.ON_PENDING);
  }
}

/** Builds a result whose x0 is `value` sign-extended to 64 bits. */
function result(value: number, action: PsciAction = CONTINUE): PsciResult {
  const lo = value >>> 0;
  const hi = value < 0 ? 0xffff_ffff : 0;
  return { x0: (BigInt(hi) << 32n) | BigInt(lo), x0Lo: lo, x0Hi: hi, action };
}

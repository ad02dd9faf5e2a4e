/**
 * Firmware reached by SMC/HVC when no EL3 exists: the machine's PSCI, handled
 * without vectoring as QEMU's virt does. QEMU 7.2 with the SMC conduit
 * (virtualization=on) answers *every* SMC this way: PSCI functions do their
 * job, any other function ID (including a 64-bit x0 with upper bits set)
 * returns NOT_SUPPORTED (-1) in x0.
 */
import type { Cpu } from '../cpu.js';
import { Psci, PSCI_RET, type PsciResult } from '../../machine/devices/psci.js';

export type Conduit = 'smc' | 'hvc';

/** The conduit QEMU's virt uses: SMC when EL2 exists (virtualization=on), else HVC. */
export const defaultConduit = (cpu: Cpu): Conduit => (cpu.model.hasEl2 ? 'smc' : 'hvc');

/**
 * A `cpu.firmwareCall` implementation backed by `call` (e.g. the virt
 * machine's `psciCall`, or a `Psci` instance): handles calls on `conduit`,
 * writes x0 and stops the run loop for SYSTEM_OFF / SYSTEM_RESET / CPU_OFF.
 */
export function psciFirmware(
  cpu: Cpu,
  call: (regs: Int32Array) => PsciResult,
  conduit: Conduit = defaultConduit(cpu),
): (c: Conduit) => boolean {
  const regs = new Int32Array(8);
  return (c) => {
    if (c !== conduit) return false;
    const x = cpu.x;
    let lo: number, hi: number;
    if (x[1] !== 0) {
      // QEMU compares the whole of X0 with the function IDs.
      lo = PSCI_RET.NOT_SUPPORTED; hi = -1;
    } else {
      regs.set(x.subarray(0, 8));
      const r = call(regs);
      lo = r.x0Lo; hi = r.x0Hi;
      switch (r.action.kind) {
        case 'stop':
          cpu.stopRequest = r.action.reason === 'psci-system-reset' ? { kind: 'psci-reset' } : { kind: 'psci-off' };
          break;
        case 'cpu-off':
          cpu.stopRequest = { kind: 'psci-off' };
          break;
        default:
          break;
      }
    }
    x[0] = lo | 0;
    x[1] = hi | 0;
    return true;
  };
}

const defaults = new WeakMap<Cpu, (c: Conduit) => boolean>();

/** The firmware a CPU without a `firmwareCall` hook talks to: a private single-CPU PSCI. */
export function defaultFirmware(cpu: Cpu): (c: Conduit) => boolean {
  let f = defaults.get(cpu);
  if (!f) {
    const psci = new Psci();
    f = psciFirmware(cpu, (regs) => psci.callFromHalves(regs));
    defaults.set(cpu, f);
  }
  return f;
}

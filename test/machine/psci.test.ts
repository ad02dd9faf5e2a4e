import { describe, expect, it } from 'vitest';
import { PSCI_FN, PSCI_RET, Psci } from '../../src/machine/devices/psci.js';
import type { CpuOnRequest } from '../../src/machine/devices/psci.js';
import { createVirtMachine } from '../../src/machine/virt.js';

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

function call(psci: Psci, fn: number, x1 = 0n, x2 = 0n, x3 = 0n, cpu = 0) {
  return psci.call(BigInt(fn), x1, x2, x3, cpu);
}

describe('PSCI', () => {
  it('reports version 1.0', () => {
    const r = call(new Psci(), PSCI_FN.PSCI_VERSION);
    expect(r.x0).toBe(0x10000n);
    expect([r.x0Lo, r.x0Hi]).toEqual([0x10000, 0]);
    expect(r.action).toEqual({ kind: 'continue' });
  });

  it('stops the machine for SYSTEM_OFF and SYSTEM_RESET', () => {
    const psci = new Psci();
    expect(call(psci, PSCI_FN.SYSTEM_OFF).action).toEqual({ kind: 'stop', reason: 'psci-system-off' });
    expect(call(psci, PSCI_FN.SYSTEM_RESET).action).toEqual({ kind: 'stop', reason: 'psci-system-reset' });
  });

  it('answers unknown functions with NOT_SUPPORTED as 64-bit all-ones', () => {
    const psci = new Psci();
    for (const fn of [0x8400_00ff, 0xc400_0005, 0x8000_0000, 0]) {
      const r = call(psci, fn);
      expect(r.x0).toBe(ALL_ONES);
      expect([r.x0Lo, r.x0Hi]).toEqual([0xffff_ffff, 0xffff_ffff]);
    }
  });

  it('uses only W0 as the function ID', () => {
    const r = new Psci().call(0xdead_beef_8400_0000n, 0n, 0n, 0n);
    expect(r.x0).toBe(0x10000n);
  });

  it('does not support CPU_ON until the machine can start CPUs', () => {
    const psci = new Psci({ cpus: 2 });
    expect(call(psci, PSCI_FN.CPU_ON_64, 1n, 0x4008_0000n).x0).toBe(ALL_ONES);
    expect(call(psci, PSCI_FN.PSCI_FEATURES, BigInt(PSCI_FN.CPU_ON_64)).x0).toBe(ALL_ONES);
  });

  it('routes CPU_ON to the machine when it can start CPUs', () => {
    const psci = new Psci({ cpus: 2 });
    const requests: CpuOnRequest[] = [];
    psci.onCpuOn = (request) => {
      requests.push(request);
      return PSCI_RET.SUCCESS;
    };
    const r = call(psci, PSCI_FN.CPU_ON_64, 1n, 0x4008_1000n, 0x55n);
    expect(r.x0).toBe(0n);
    expect(r.action).toEqual({ kind: 'cpu-on', cpu: 1, entryPoint: 0x4008_1000n, contextId: 0x55n });
    expect(requests).toEqual([{ cpu: 1, mpidr: 1n, entryPoint: 0x4008_1000n, contextId: 0x55n }]);
    expect(call(psci, PSCI_FN.AFFINITY_INFO_64, 1n).x0).toBe(2n); // ON_PENDING
    expect(BigInt.asIntN(64, call(psci, PSCI_FN.CPU_ON_64, 1n, 0n).x0)).toBe(BigInt(PSCI_RET.ON_PENDING));
    psci.markCpuRunning(1);
    expect(call(psci, PSCI_FN.AFFINITY_INFO_64, 1n).x0).toBe(0n);
    expect(BigInt.asIntN(64, call(psci, PSCI_FN.CPU_ON_64, 0n, 0n).x0)).toBe(BigInt(PSCI_RET.ALREADY_ON));
    expect(BigInt.asIntN(64, call(psci, PSCI_FN.CPU_ON_64, 7n, 0n).x0)).toBe(BigInt(PSCI_RET.INVALID_PARAMETERS));
    // SMC32 CPU_ON sees only the low 32 bits of the entry point.
    psci.cpuStates[1] = 'off';
    expect(call(psci, PSCI_FN.CPU_ON_32, 1n, 0x1_4008_0000n).action).toMatchObject({ entryPoint: 0x4008_0000n });
  });

  it('tracks CPU_OFF and AFFINITY_INFO', () => {
    const psci = new Psci({ cpus: 2 });
    expect(call(psci, PSCI_FN.AFFINITY_INFO_64, 0n).x0).toBe(0n); // ON
    expect(call(psci, PSCI_FN.AFFINITY_INFO_32, 1n).x0).toBe(1n); // OFF
    expect(BigInt.asIntN(64, call(psci, PSCI_FN.AFFINITY_INFO_64, 0n, 1n).x0)).toBe(-2n); // level 1 unsupported
    expect(call(psci, PSCI_FN.CPU_OFF, 0n, 0n, 0n, 0).action).toEqual({ kind: 'cpu-off', cpu: 0 });
    expect(call(psci, PSCI_FN.AFFINITY_INFO_64, 0n).x0).toBe(1n);
  });

  it('answers MIGRATE_INFO_TYPE, CPU_SUSPEND and PSCI_FEATURES', () => {
    const psci = new Psci();
    expect(call(psci, PSCI_FN.MIGRATE_INFO_TYPE).x0).toBe(2n);
    expect(call(psci, PSCI_FN.MIGRATE_64).x0).toBe(ALL_ONES);
    expect(call(psci, PSCI_FN.CPU_SUSPEND_64, 0n).action).toEqual({ kind: 'standby' });
    expect(BigInt.asIntN(64, call(psci, PSCI_FN.CPU_SUSPEND_64, 1n << 24n).x0)).toBe(-2n);
    for (const fn of [PSCI_FN.PSCI_VERSION, PSCI_FN.SYSTEM_OFF, PSCI_FN.CPU_OFF, PSCI_FN.MIGRATE_INFO_TYPE]) {
      expect(call(psci, PSCI_FN.PSCI_FEATURES, BigInt(fn)).x0).toBe(0n);
    }
    expect(call(psci, PSCI_FN.PSCI_FEATURES, 0x8400_0012n).x0).toBe(ALL_ONES);
  });

  it('numbers MPIDRs like QEMU virt with a GICv2', () => {
    const psci = new Psci({ cpus: 10 });
    expect(psci.mpidrOf(9)).toBe(0x101n);
    expect(psci.cpuOfMpidr(0x8000_0101n)).toBe(9); // MPIDR bit 31 (RES1) is ignored
  });

  it('stops the virt machine through psciCall with halves registers', () => {
    const machine = createVirtMachine({ uartSink: () => {} });
    const regs = new Uint32Array(62);
    regs[0] = PSCI_FN.SYSTEM_OFF;
    const r = machine.psciCall(regs);
    expect(r.action.kind).toBe('stop');
    expect(machine.stopReason).toBe('psci-system-off');
    regs[0] = PSCI_FN.PSCI_VERSION;
    expect(machine.psciCall(regs).x0Lo).toBe(0x10000);
  });
});

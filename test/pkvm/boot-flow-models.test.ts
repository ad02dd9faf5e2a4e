/**
 * Unit tests for the boot flow's models: the VMID allocator (vmid.c), the hyp VA layout
 * (va_layout.c), the ownership transitions of mem_protect.c and the hypercall dispatch of
 * hyp-main.c. The ownership and dispatch tests start from a machine the boot flow has
 * brought up to the end (pKVM initialised, the host deprivileged), then drive the EL2
 * models directly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { VmidAllocator, kvm_arm_vmid_alloc_init } from '../../src/pkvm/init-hyp-mode.js';
import { kernelVaLayout, kvmComputeLayout, hypVa, hypPa, fls64 } from '../../src/pkvm/layout.js';
import { runBoot, type BootResult } from '../../src/pkvm/boot-flow.js';
import {
  __pkvm_host_share_hyp, __pkvm_host_unshare_hyp, __pkvm_host_donate_hyp, __pkvm_hyp_donate_host, host_stage2_idmap,
  hostPageState, hypPageState, pageStateName, find_mem_range,
} from '../../src/pkvm/mem-protect.js';
import {
  handle_trap, newTrapLog, HOST_HCALLS, KVM_HOST_SMCCC_BASE, SMCCC_RET_NOT_SUPPORTED, hostSmcccFunc,
} from '../../src/pkvm/hyp-main.js';
import type { CpuView } from '../../src/pkvm/cpu-view.js';
import type { Hypervisor } from '../../src/pkvm/setup.js';
import { kvm_pgtable_get_leaf } from '../../src/pkvm/pgtable.js';
import { kvm_pte_valid, kvm_invalid_pte_owner } from '../../src/pkvm/pgtable-prot.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('VMID allocator (vmid.c)', () => {
  it('sizes the VMID from ID_AA64MMFR1_EL1.VMIDBits', () => {
    expect(kvm_arm_vmid_alloc_init(0n, 1).bits).toBe(8);
    expect(kvm_arm_vmid_alloc_init(2n << 4n, 1).bits).toBe(16);
    expect(kvm_arm_vmid_alloc_init(1n << 4n, 1).bits).toBe(8); // reserved value: 8-bit
    const a = kvm_arm_vmid_alloc_init(0n, 4);
    expect(a.generation).toBe(0x100n);
    expect(a.numUserVmids).toBe(256);
    expect(a.warnings).toEqual([]);
  });

  it('never hands out VMID 0 and allocates upwards from cur_idx', () => {
    const a = new VmidAllocator(8, 2);
    expect(a.newVmid(0n)).toBe(0x101n);
    expect(a.newVmid(0n)).toBe(0x102n);
    expect(a.hwVmid(0x102n)).toBe(2);
    expect(a.map[0]).toBe(0);
  });

  it('keeps a VM its old index in a new generation when the index is still free', () => {
    const a = new VmidAllocator(8, 1);
    const v = a.newVmid(0n);
    a.generation += a.firstVersion;
    a.map.fill(0);
    expect(a.newVmid(v)).toBe(a.generation | 1n);
  });

  it('rolls the generation over when every index is taken, keeping the VMIDs live on CPUs', () => {
    const a = new VmidAllocator(8, 2);
    const vms: bigint[] = [];
    for (let i = 0; i < 255; i++) vms.push(a.newVmid(0n));
    expect(vms.at(-1)).toBe(0x1ffn);
    // CPU 1 is running VM #10.
    a.update(vms[10]!, 1);
    const next = a.newVmid(0n);
    expect(a.rollovers).toBe(1);
    expect(a.generation).toBe(0x200n);
    // Index 11 (VM #10) stays reserved for CPU 1's VM; the new VMID takes the first free one.
    expect(a.map[11]).toBe(1);
    expect(next).toBe(0x201n);
    // VM #10 keeps its index in the new generation (a hit in the reserved list).
    expect(a.update(vms[10]!, 1)).toBe(0x200n | 11n);
  });

  it('warns when there are no more VMIDs than CPUs', () => {
    expect(kvm_arm_vmid_alloc_init(0n, 255).warnings).toHaveLength(1);
  });
});

describe('hyp VA layout (kvm_compute_layout)', () => {
  it('puts the linear alias in the upper half with the kernel\'s tag arithmetic', () => {
    const k = kernelVaLayout(0x4000_0000n, 0x8000_0000n);
    const l = kvmComputeLayout(k, 0x4000_0000n, 0x4008_2000n);
    expect(l.tagLsb).toBe(30);
    expect(hypVa(l, 0x4000_0000n)).toBe(0x8000_0000_0000n);
    expect(hypVa(l, 0x7f20_0000n)).toBe(0x8000_3f20_0000n);
    expect(hypPa(l, 0x8000_3f20_0000n)).toBe(0x7f20_0000n);
    // 512 MiB (pkvm-facts §5.7: tag_lsb 29) and 8 GiB.
    expect(kvmComputeLayout(kernelVaLayout(0x4000_0000n, 0x6000_0000n), 0x4000_0000n, 0x4008_2000n).tagLsb).toBe(29);
    expect(kvmComputeLayout(kernelVaLayout(0x4000_0000n, 0x2_4000_0000n), 0x4000_0000n, 0x4008_2000n).tagLsb).toBe(33);
    expect(fls64(0n)).toBe(0);
  });
});

/** A CpuView over plain values, for driving handle_trap. */
function fakeCpu(regs: Record<string, bigint>): CpuView & { regs: Record<string, bigint>; tlbis: string[] } {
  const tlbis: string[] = [];
  return {
    index: 0, regs, tlbis, cpu: undefined as never,
    reg: (n) => regs[n.toLowerCase()] ?? 0n,
    setReg: (n, v) => { regs[n.toLowerCase()] = BigInt.asUintN(64, v); },
    tlbi: (op) => { tlbis.push(op); },
  };
}

for (const profile of ['android', 'linux-6.1'] as const) {
  describe(`EL2 models on a booted machine (${profile})`, () => {
    let r: BootResult;
    let hv: Hypervisor;
    beforeAll(() => {
      // linux-6.1 ends in the hyp panic of experiment (b); everything before it is done.
      r = runBoot({ root: ROOT, profile });
      hv = r.hyp!;
    });

    const freePage = (): bigint => {
      // A page the host owns and has never shared: high in RAM, below the early allocations.
      return 0x5000_0000n;
    };

    it('reads the hypervisor\'s ownership in the host stage-2: its pool is owner "hyp" (0x4 annotations)', () => {
      const pool = BigInt(r.reservation.reservation.hypMemBase);
      const { pte, level } = kvm_pgtable_get_leaf(hv.hostMmu!.pgt, pool);
      expect(kvm_pte_valid(pte)).toBe(false);
      expect(pte).toBe(0x4n);
      expect(kvm_invalid_pte_owner(pte)).toBe(1);
      expect(level).toBe(3);
      expect(pageStateName(hostPageState(hv, pool).state)).toBe('NOPAGE');
      // The hyp text in the kernel image is the hypervisor's too.
      const text = r.image.symbols.get('__hyp_text_start')!;
      expect(kvm_pgtable_get_leaf(hv.hostMmu!.pgt, text).pte).toBe(0x4n);
    });

    it('share: OWNED/NOPAGE → SHARED_OWNED/SHARED_BORROWED, and a second share is refused', () => {
      const page = freePage();
      const t = __pkvm_host_share_hyp(hv, page >> 12n);
      expect(t.ret).toBe(0);
      expect(t.before).toEqual({ host: 'OWNED', hyp: 'NOPAGE' });
      expect(t.after).toEqual({ host: 'SHARED_OWNED', hyp: 'SHARED_BORROWED' });
      // The host's entry is a valid page mapping with SW0; the hyp's has SW1.
      const host = hostPageState(hv, page);
      expect(host.level).toBe(3);
      expect((host.pte >> 55n) & 3n).toBe(1n);
      expect((hypPageState(hv, hv.hyp.phys_to_virt(page)).pte >> 55n) & 3n).toBe(2n);
      const again = __pkvm_host_share_hyp(hv, page >> 12n);
      expect(again.ret).toBe(-1); // -EPERM: no longer OWNED
      const back = __pkvm_host_unshare_hyp(hv, page >> 12n);
      expect(back.ret).toBe(0);
      expect(back.after).toEqual({ host: 'OWNED', hyp: 'NOPAGE' });
    });

    it('donate (Android only): OWNED → owned by hyp (PTE 0x4) / hyp OWNED, and back', () => {
      const page = freePage() + 0x10_0000n;
      if (profile === 'linux-6.1') {
        expect(() => __pkvm_host_donate_hyp(hv, page >> 12n, 2)).toThrow(/does not exist in the linux-6.1 profile/);
        return;
      }
      const t = __pkvm_host_donate_hyp(hv, page >> 12n, 2);
      expect(t.ret).toBe(0);
      expect(t.before).toEqual({ host: 'OWNED', hyp: 'NOPAGE' });
      expect(t.after).toEqual({ host: 'NOPAGE', hyp: 'OWNED' });
      expect(kvm_pgtable_get_leaf(hv.hostMmu!.pgt, page + 0x1000n).pte).toBe(0x4n);
      // A donated page can be neither shared nor donated again by the host.
      expect(__pkvm_host_share_hyp(hv, page >> 12n).ret).toBe(-1);
      expect(__pkvm_host_donate_hyp(hv, page >> 12n, 1).ret).toBe(-1);
      const back = __pkvm_hyp_donate_host(hv, page >> 12n, 2);
      expect(back.ret).toBe(0);
      expect(back.after).toEqual({ host: 'OWNED', hyp: 'NOPAGE' });
      // Giving back what the hypervisor does not own is refused.
      expect(__pkvm_hyp_donate_host(hv, page >> 12n, 1).ret).toBe(-1);
    });

    it('unshare of a page that was never shared is refused', () => {
      expect(__pkvm_host_unshare_hyp(hv, (freePage() + 0x1000n) >> 12n).ret).toBe(-1);
    });

    it('the host cannot share what it does not own: hyp pages and MMIO', () => {
      const pool = BigInt(r.reservation.reservation.hypMemBase);
      const t = __pkvm_host_share_hyp(hv, pool >> 12n);
      expect(t.ret).toBe(-1);
      expect(t.after).toEqual({ host: 'NOPAGE', hyp: 'OWNED' });
      expect(__pkvm_host_share_hyp(hv, 0x0900_0000n >> 12n).ret).toBe(-1);
    });

    it('host_stage2_idmap: -EPERM on hyp memory, -EAGAIN when already mapped, a block around a fresh address', () => {
      const pool = BigInt(r.reservation.reservation.hypMemBase);
      expect(host_stage2_idmap(hv, pool).ret).toBe(-1);
      expect(find_mem_range(hv, 0x0900_0000n)).toEqual({ start: 0n, end: 0x4000_0000n, isMemory: false });
      // The UART range was mapped by experiment (a').
      expect(host_stage2_idmap(hv, 0x0900_0000n).ret).toBe(-11);
      const fresh = host_stage2_idmap(hv, 0x6000_0000n);
      if (profile === 'android') {
        expect(fresh.ret).toBe(-11); // prepopulated
      } else {
        expect(fresh.ret).toBe(0);
        expect(fresh.isMemory).toBe(true);
        expect(fresh.end - fresh.start).toBe(0x20_0000n); // a 2 MiB block: the 1 GiB one holds hyp pages
      }
    });

    it('handle_host_hcall: an unknown id, id 0 and ids below the base are NOT_SUPPORTED', () => {
      const log = newTrapLog();
      const ctxt = hv.perCpuVa(0, 'kvm_host_data');
      const ctxtPa = hv.hyp.virt_to_phys(ctxt);
      const call = (x0: bigint, x1 = 0n): { x0: bigint; x1: bigint } => {
        hv.mem.write64(ctxtPa, x0);
        hv.mem.write64(ctxtPa + 8n, x1);
        const cpu = fakeCpu({ esr_el2: 0x16n << 26n, mdcr_el2: 0x1234n });
        const res = handle_trap(hv, cpu, log, ctxt);
        expect(res.tail).toBeUndefined();
        return { x0: hv.mem.read64(ctxtPa), x1: hv.mem.read64(ctxtPa + 8n) };
      };
      const table = HOST_HCALLS[profile];
      expect(call(KVM_HOST_SMCCC_BASE + BigInt(table.length)).x0).toBe(SMCCC_RET_NOT_SUPPORTED);
      expect(call(KVM_HOST_SMCCC_BASE + 0x1000n).x0).toBe(SMCCC_RET_NOT_SUPPORTED);
      expect(call(KVM_HOST_SMCCC_BASE).x0).toBe(SMCCC_RET_NOT_SUPPORTED); // __kvm_hyp_init: hyp-init.S only
      expect(call(0x8400_0000n).x0).toBe(SMCCC_RET_NOT_SUPPORTED); // below the vendor-hyp range: wraps
      // After finalisation the early calls are refused; __pkvm_prot_finalize answers -EPERM.
      expect(call(hostSmcccFunc(profile, '__kvm_get_mdcr_el2')).x0).toBe(SMCCC_RET_NOT_SUPPORTED);
      expect(call(hostSmcccFunc(profile, '__pkvm_init')).x0).toBe(SMCCC_RET_NOT_SUPPORTED);
      const fin = call(hostSmcccFunc(profile, '__pkvm_prot_finalize'));
      expect(fin).toEqual({ x0: 0n, x1: BigInt.asUintN(64, -1n) });
      // A share through the hypercall path: x0 = SUCCESS, x1 = the result.
      const page = freePage() + 0x2000n;
      expect(call(hostSmcccFunc(profile, '__pkvm_host_share_hyp'), page >> 12n)).toEqual({ x0: 0n, x1: 0n });
      expect(call(hostSmcccFunc(profile, '__pkvm_host_unshare_hyp'), page >> 12n)).toEqual({ x0: 0n, x1: 0n });
      expect(log.events.filter((e) => e.kind === 'hcall').map((e) => e.kind === 'hcall' && e.result)).toEqual([
        'NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED', 'SUCCESS', 'SUCCESS', 'SUCCESS',
      ]);
    });

    it('handle_trap: an unexpected exception class panics through __hyp_do_panic', () => {
      const log = newTrapLog();
      const ctxt = hv.perCpuVa(0, 'kvm_host_data');
      const res = handle_trap(hv, fakeCpu({ esr_el2: 0x07n << 26n, elr_el2: 0x1234n }), log, ctxt);
      expect(res.tail?.pc).toBe(hv.sym('__hyp_do_panic'));
      expect(res.tail?.args[0]).toBe(ctxt);
      expect(res.tail?.args[2]).toBe(0x1234n);
      expect(log.events[0]?.kind).toBe('panic');
    });

    it('handle_trap: a trapped SMC moves ELR_EL2 past it and forwards it to the firmware', () => {
      const log = newTrapLog();
      const ctxt = hv.perCpuVa(0, 'kvm_host_data');
      hv.mem.write64(hv.hyp.virt_to_phys(ctxt), 0x8400_0000n); // PSCI_VERSION
      const cpu = fakeCpu({ esr_el2: 0x17n << 26n, elr_el2: 0x4008_0000n });
      const res = handle_trap(hv, cpu, log, ctxt);
      expect(cpu.regs['elr_el2']).toBe(0x4008_0004n);
      expect(res.tail?.pc).toBe(hv.sym('__kvm_hyp_host_forward_smc'));
    });
  });
}

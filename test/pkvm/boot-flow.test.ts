/**
 * The whole pKVM boot flow, end to end (issue 5): the documents' assembly on the
 * interpreter, the C models in TypeScript, for both kernel profiles and with several
 * CPUs. Checks the state after each stage — EL, the key EL2 registers, the page tables
 * in emulated memory as the interpreter's MMU sees them, owners in the host stage-2 —
 * and the host-deprivileged experiments: the host cannot read hypervisor memory, and
 * can still read its page after sharing it (which the hypervisor then can too).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runBoot, BootError, type BootResult } from '../../src/pkvm/boot-flow.js';
import { formatReport, formatExplain, reportJson } from '../../src/pkvm/report.js';
import { hypVa } from '../../src/pkvm/layout.js';
import type { Mmu } from '../../src/mmu/mmu.js';
import { kvm_pgtable_get_leaf } from '../../src/pkvm/pgtable.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HCR_RW = 1n << 31n;
const HCR_TSC = 1n << 19n;
const HCR_VM = 1n;
const SCTLR_M = 1n;

function describeVa(r: BootResult, cpu: number, va: bigint, el: number) {
  return (r.cpus[cpu]!.port.mmu as Mmu).describe(va, { el });
}

for (const profile of ['android', 'linux-6.1'] as const) {
  describe(`boot flow, ${profile}, 1 CPU, 1 GiB`, () => {
    let r: BootResult;
    const sym = (n: string): bigint => r.image.allSymbols.get(n)!;
    beforeAll(() => { r = runBoot({ root: ROOT, profile }); });

    it('runs all five stages to the end the kernel reaches', () => {
      expect(r.stages.map((s) => s.reached)).toEqual([true, true, true, true, true]);
      if (profile === 'android') expect(r.end.reason).toBe('PSCI SYSTEM_OFF');
      else expect(r.end.reason).toBe('Kernel panic - not syncing: HYP panic');
      expect(r.end.ok).toBe(true);
      for (const s of r.stages) expect(s.insns[0]).toBeGreaterThan(0);
    });

    it('stage 1: init_kernel_el drops to EL1 with the stub vectors installed and the EL2 MMU off', () => {
      const first = r.transitions[0]!;
      expect(first).toMatchObject({ kind: 'eret', fromEl: 2, toEl: 1, insn: 'eret' });
      expect(first.atSymbol).toMatch(/^init_el2\+/);
      expect(first.targetSymbol).toBe('primary_entry+0xc');
      const after = r.stages[0]!.regsAfter[0]!;
      expect(after.el).toBe(1);
      expect(after.regs.hcr_el2 & HCR_RW).toBe(HCR_RW);
      expect(after.regs.hcr_el2 & HCR_VM).toBe(0n);
      expect(after.regs.vbar_el2).toBe(sym('__hyp_stub_vectors'));
      expect(after.regs.sctlr_el2 & SCTLR_M).toBe(0n);
      // finalise_el2: the stub refused the switch to VHE.
      const fin = r.transitions[1]!;
      expect(fin).toMatchObject({ kind: 'exception', fromEl: 1, toEl: 2, ec: 0x16 });
      expect(fin.atSymbol).toMatch(/^finalise_el2\+/);
    });

    it('stage 2: kvm_hyp_reserve prints the kernel line and registers the memory for EL2', () => {
      const res = r.reservation.reservation;
      expect(r.kernelLog).toContain(res.log);
      expect(res.log).toMatch(/^kvm \[0\]: Reserved \d+ MiB at 0x[0-9a-f]+$/);
      expect(res.hypMemBase % (2 * 1024 * 1024)).toBe(0);
      const mem = r.hyp!.mem;
      expect(mem.read64(sym('hyp_memblock_nr'))).toBe(1n);
      expect(mem.read64(sym('hyp_memory'))).toBe(0x4000_0000n);
      expect(mem.read64(sym('hyp_memory') + 8n)).toBe(1n << 30n);
      expect(r.stages[1]!.insns[0]).toBe(1);
    });

    it('stage 3: the host builds a hyp stage-1, __kvm_hyp_init turns the EL2 MMU on with it', () => {
      const host = r.host!;
      expect(host.hypVaBits).toBe(48);
      expect(host.hypIdmapVector).toBe(sym('__kvm_hyp_init'));
      const after = r.stages[2]!.regsAfter[0]!; // at the __pkvm_init trap
      expect(after.el).toBe(2);
      expect(after.regs.sctlr_el2 & SCTLR_M).toBe(SCTLR_M);
      expect(after.regs.ttbr0_el2).toBe(host.hypPgdPa);
      expect(after.regs.hcr_el2 & HCR_TSC).toBe(HCR_TSC);
      expect(after.regs.vbar_el2).toBe(hypVa(r.hypLayout!, sym('__kvm_hyp_host_vector')));
      expect(after.regs.tcr_el2 & 0x3fn).toBe(16n); // T0SZ: 48-bit hyp VAs
      expect(r.tables.hostBuiltHypStage1!.ranges.some((x) => x.start === host.hypIdmapStart && x.pa === host.hypIdmapStart)).toBe(true);
      // The hypercalls that got there: HVC_SET_VECTORS, __kvm_hyp_init, __pkvm_cpu_set_vector.
      const hvcs = r.transitions.filter((t) => t.stage === 3 && t.kind === 'exception').map((t) => t.why);
      expect(hvcs).toEqual(['HVC (x0 = 0x0)', 'HVC (x0 = 0xc6000000)', 'HVC (x0 = 0xc6000004)']);
      // The host-built table is freed after __pkvm_init (free_hyp_pgds).
      expect(host.hypPgtableFreed).toBe(true);
    });

    it('stage 4: the hypervisor runs on its own page table and turns the host stage-2 on', () => {
      const hv = r.hyp!;
      const after = r.stages[3]!.regsAfter[0]!;
      expect(after.el).toBe(1);
      expect(after.pcSymbol).toBe('host_experiments');
      expect(after.regs.ttbr0_el2).toBe(hv.pkvmPgtable.pgdPhys);
      expect(after.regs.hcr_el2 & HCR_VM).toBe(HCR_VM);
      expect(after.regs.vttbr_el2).toBe(hv.hostMmu!.mmu.pgd_phys);
      // VTCR_EL2.HA is set unconditionally by kvm_get_vtcr; without FEAT_HAFDBS (cortex-a57) it is RES0.
      expect(after.regs.vtcr_el2 | (1n << 21n)).toBe(hv.hostMmu!.mmu.vtcr);
      expect(hv.initDone).toBe(true);
      expect(hv.finaliseSteps.map((s) => s.step)).toEqual(profile === 'android'
        ? ['hyp_pool_init', 'kvm_host_prepare_stage2', 'pkvm_pgtable_mm_ops', 'fix_hyp_pgtable_refcnt', 'hyp_create_pcpu_fixmap', 'pkvm_timer_init',
          'fix_host_ownership', 'unmap_protected_regions', 'pin_host_tables', 'hyp_ffa_init', 'pkvm_hyp_vm_table_init']
        : ['hyp_pool_init', 'kvm_host_prepare_stage2', 'pkvm_pgtable_mm_ops', 'finalize_host_mappings']);
      // __pkvm_init_switch_pgd ran on the interpreter, from its idmap address.
      const pkvmInit = r.transitions.find((t) => t.why === 'HVC (x0 = 0xc6000002)')!;
      expect(pkvmInit.stage).toBe(4);
      // The division matches the reservation.
      expect(hv.division!.base).toBe(r.reservation.reservation.hypMemBase);
      expect(hv.division!.parts.map((p) => p.name)).toEqual(r.profile.poolLayout);
    });

    it('stage 4: owners in the host stage-2 as the interpreter\'s MMU sees them', () => {
      const pool = BigInt(r.reservation.reservation.hypMemBase);
      // Hyp-owned: the pool, the hyp text, the per-CPU region.
      for (const pa of [pool, pool + 0x10_0000n, r.image.symbols.get('__hyp_text_start')!, r.host!.cpus[0]!.percpuPa]) {
        expect(kvm_pgtable_get_leaf(r.hyp!.hostMmu!.pgt, pa).pte).toBe(0x4n);
        const t = describeVa(r, 0, pa, 1);
        expect(t).toMatchObject({ fault: 'translation', stage2: true });
      }
      // The hypervisor reaches its pool through its stage-1 (linear alias).
      const hypSide = describeVa(r, 0, hypVa(r.hypLayout!, pool), 2);
      expect('pa' in hypSide && hypSide.pa).toBe(pool);
    });

    it('stage 5: the host cannot read hyp memory; it can read its page after sharing it', () => {
      const byKey = Object.fromEntries(r.experiments.map((e) => [e.key, e]));
      for (const e of r.experiments) expect({ key: e.key, ok: e.ok }).toEqual({ key: e.key, ok: true });
      // (b): the read of the pool faults in the host stage-2 (−EPERM: owned by the hypervisor).
      const hypRead = byKey['hyp-read']!;
      expect(hypRead.details.join('\n')).toMatch(/-EPERM/);
      if (profile === 'android') expect(hypRead.outcome).toMatch(/injected a synchronous abort/);
      else expect(hypRead.outcome).toMatch(/hyp_panic/);
      // (c): the share.
      const share = r.trapLog.shares[0]!;
      expect(share.ret).toBe(0);
      expect(share.before).toEqual({ host: 'OWNED', hyp: 'NOPAGE' });
      expect(share.after).toEqual({ host: 'SHARED_OWNED', hyp: 'SHARED_BORROWED' });
      expect(byKey['share']!.details.join('\n')).toMatch(/before: EL2 stage-1: translation fault[\s\S]*after: EL2 stage-1 maps/);
      // (d): the kernel's error code for an unknown hypercall.
      expect(byKey['unknown-hcall']!.outcome).toMatch(/0xffffffffffffffff \(SMCCC_RET_NOT_SUPPORTED/);
      // (a'): the UART printed through the host stage-2.
      expect(r.uart).toBe('pKVM\n');
    });

    it('stage 5: host faults are identity-mapped on demand (lazily in 6.1, MMIO only in Android)', () => {
      const faults = r.trapLog.events.filter((e) => e.kind === 'mem_abort');
      const mmio = faults.find((e) => e.kind === 'mem_abort' && e.ipa === 0x0900_0000n);
      expect(mmio && mmio.kind === 'mem_abort' && mmio.mapped).toEqual({ start: 0n, end: 0x4000_0000n, isMemory: false });
      const ram = r.experiments.find((e) => e.key === 'ram')!;
      if (profile === 'android') expect(ram.traps).toEqual([]);
      else expect(ram.traps.some((t) => t.kind === 'mem_abort' && t.ret === 0)).toBe(true);
    });

    it('reports every stage, in text, JSON and --explain form', () => {
      const text = formatReport(r);
      for (let s = 1; s <= 5; s++) expect(text).toContain(`== Stage ${s}:`);
      expect(text).toContain(r.reservation.reservation.log);
      expect(text).toMatch(/host stage-2 \(host_mmu\.pgt\)/);
      const json = JSON.parse(JSON.stringify(reportJson(r)));
      expect(json.stages).toHaveLength(5);
      expect(json.stages[3].registersAfter[0].regs.hcr_el2).toMatch(/^0x[0-9a-f]+1$/);
      const explain = formatExplain(r);
      for (const q of ['Who fills stage 1 and stage 2?', 'How is the MMU enabled?', 'How does the hypervisor read EL1 page tables?', 'How do the host and a guest share memory?', 'How are VMIDs allocated?', 'multi-core']) {
        expect(explain).toContain(q);
      }
    });
  });
}

describe('boot flow with several CPUs', () => {
  let r: BootResult;
  beforeAll(() => { r = runBoot({ root: ROOT, cpus: 3 }); });

  it('every CPU boots at EL2, runs its own __kvm_hyp_init and ends with the host stage-2 on', () => {
    expect(r.end.reason).toBe('PSCI SYSTEM_OFF');
    expect(r.kernelLog).toContain('SMP: Total of 3 processors activated.');
    const host = r.host!;
    expect(new Set(host.cpus.map((c) => c.tpidrEl2)).size).toBe(3);
    for (let cpu = 0; cpu < 3; cpu++) {
      const inits = r.transitions.filter((t) => t.cpu === cpu && t.why === 'HVC (x0 = 0xc6000000)');
      expect(inits).toHaveLength(1);
      const end = r.stages[4]!.regsAfter[cpu]!;
      expect(end.regs.hcr_el2 & HCR_VM).toBe(HCR_VM);
      expect(end.regs.vttbr_el2).toBe(r.hyp!.hostMmu!.mmu.pgd_phys);
      expect(end.regs.ttbr0_el2).toBe(r.hyp!.pkvmPgtable.pgdPhys);
      // Each CPU's TPIDR_EL2 is its own per-CPU offset.
      expect(r.cpus[cpu]!.sys).toBeDefined();
    }
    // __pkvm_init ran once, on CPU 0.
    expect(r.transitions.filter((t) => t.why === 'HVC (x0 = 0xc6000002)').map((t) => t.cpu)).toEqual([0]);
    // Secondary CPUs' early boot counts in stage 1.
    expect(r.stages[0]!.insns[1]).toBeGreaterThan(100);
    // Each CPU has its own stack in the hypervisor's private range.
    expect(r.hyp!.privateRanges.filter((p) => p.what.startsWith('stack of CPU')).map((p) => p.what)).toHaveLength(3);
  });
});

describe('boot flow: bad input', () => {
  it('names the cause', () => {
    expect(() => runBoot({ root: ROOT, cpus: 9 })).toThrow(BootError);
    expect(() => runBoot({ root: ROOT, cpus: 0 })).toThrow(/impossible CPU count 0/);
    expect(() => runBoot({ root: ROOT, mem: 32 * 1024 * 1024 })).toThrow(/too small/);
    expect(() => runBoot({ root: ROOT, mem: 16 * 1024 ** 3 })).toThrow(/512 MiB to 8 GiB/);
    expect(() => runBoot({ root: ROOT, hostAccess: 0x1000n })).toThrow(/host access outside RAM: 0x1000/);
  });
});

describe('boot flow: the RAM sizes of the issue', () => {
  for (const mem of [512, 2048, 8192]) {
    it(`${mem} MiB`, () => {
      const r = runBoot({ root: ROOT, mem: mem * 1024 * 1024 });
      expect(r.end.reason).toBe('PSCI SYSTEM_OFF');
      expect(r.experiments.every((e) => e.ok)).toBe(true);
    });
  }
});

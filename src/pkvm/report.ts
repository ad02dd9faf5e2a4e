/**
 * The boot flow's report (src/pkvm/boot-flow.ts): stage by stage, the EL transitions
 * with the instruction that caused each, the key EL2 registers after each stage, the
 * reserved region and how __pkvm_init divided it, instruction counts, summaries of the
 * page tables read back from emulated memory, and the outcome of each host-deprivileged
 * experiment. `formatReport` gives text, `reportJson` a JSON-ready object (64-bit values
 * as hex strings), `formatExplain` the answers to the documents' open questions drawn
 * from what the run did.
 */
import type { BootResult, Experiment, RegSnapshot, Transition } from './boot-flow.js';
import { KEY_REGISTERS } from './boot-flow.js';
import type { TableSummary } from './table-summary.js';
import { hex } from './layout.js';
import { formatProt } from './pgtable-prot.js';

const MiB = 1024 * 1024;

function size(bytes: number | bigint): string {
  const b = Number(bytes);
  if (b >= 2 ** 30 && b % 2 ** 30 === 0) return `${b / 2 ** 30} GiB`;
  if (b >= MiB && b % MiB === 0) return `${b / MiB} MiB`;
  if (b >= 1024 && b % 1024 === 0) return `${b / 1024} KiB`;
  return `${b} bytes`;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const h16 = (v: bigint): string => `0x${v.toString(16).padStart(12, '0')}`;

function formatTransition(t: Transition): string {
  const at = t.at !== undefined ? `${hex(t.at)}${t.atSymbol ? ` <${t.atSymbol}>` : ''}` : '?';
  const insn = t.insn ? ` \`${t.insn}\`` : '';
  const arrow = t.kind === 'firmware' ? `EL${t.fromEl} → firmware` : `EL${t.fromEl} → EL${t.toEl}`;
  return `#${String(t.seq).padStart(3)} CPU${t.cpu} ${pad(arrow, 15)} ${pad(t.kind, 9)} at ${at}${insn}: ${t.why}; → ${hex(t.target)}${t.targetSymbol ? ` <${t.targetSymbol}>` : ''}`;
}

function formatRegs(s: RegSnapshot): string[] {
  const head = `CPU${s.cpu} at EL${s.el}, pc ${hex(s.pc)}${s.pcSymbol ? ` <${s.pcSymbol}>` : ''}`;
  const regs = KEY_REGISTERS.map((r) => `${r.toUpperCase()} ${hex(s.regs[r])}`);
  return [head, '  ' + regs.slice(0, 4).join('  '), '  ' + regs.slice(4).join('  ')];
}

export function formatTable(t: TableSummary, maxRanges = 40): string[] {
  const out: string[] = [];
  const levels = t.tablePages.map((n, l) => (n ? `L${l} ${n}` : '')).filter(Boolean).join(', ');
  const leaves = t.leaves.map((n, l) => (n ? `L${l} ${n}` : '')).filter(Boolean).join(', ');
  out.push(`${t.title}: pgd at PA ${hex(t.pgdPa)}, ${t.iaBits}-bit input from level ${t.startLevel}; table pages ${levels}; entries ${leaves || 'none'}`);
  const shown = t.ranges.slice(0, maxRanges);
  for (const r of shown) {
    const pa = r.pa !== undefined ? `→ PA ${h16(r.pa)}` : pad('', 21);
    const what = r.owner ? `invalid, owned by ${r.owner}` : `${r.attrs}${r.state && r.state !== 'OWNED' ? ` ${r.state}` : r.state ? ' OWNED' : ''}`;
    out.push(`  ${h16(r.start)}-${h16(r.end)} ${pa} L${r.level} ×${pad(String(r.entries), 6)} ${what}  (${size(r.end - r.start)})`);
  }
  if (t.ranges.length > shown.length) out.push(`  … ${t.ranges.length - shown.length} more range(s)`);
  return out;
}

function formatExperiment(e: Experiment): string[] {
  const mark = !e.ran ? 'NOT RUN' : e.ok ? 'ok' : 'UNEXPECTED';
  return [`${e.title}: [${mark}] ${e.outcome}`, ...e.details.map((d) => `    ${d}`)];
}

/** The stage-by-stage text report. */
export function formatReport(r: BootResult): string {
  const out: string[] = [];
  const p = r.profile;
  out.push(`pKVM boot flow — kernel profile: ${p.name} (${p.title})`);
  out.push(`Machine: QEMU virt, ${r.machine.cpus} × ${r.machine.cpuModel}, RAM ${size(r.machine.ramSize)} at ${hex(r.machine.ramBase)}; `
    + `image asm/*.S at ${hex(r.image.base)}..${hex(r.image.base + BigInt(r.image.bytes.length))}, entry primary_entry (EL2, MMU off)`);
  out.push(`Outcome: ${r.end.reason}${r.end.error ? ` — ${r.end.error}` : ''} after ${r.totalInsns} instructions`);
  out.push('(Registers "after" a stage are read as the next stage begins; instruction counts are per CPU.)');
  out.push('');
  for (const s of r.stages) {
    const total = s.insns.reduce((a, b) => a + b, 0);
    const per = s.insns.length > 1 ? ` (${s.insns.map((n, i) => `CPU${i} ${n}`).join(', ')})` : '';
    out.push(`== Stage ${s.id}: ${s.title} — ${s.reached ? `${total} instructions${per}` : 'not reached'} ==`);
    out.push(...stageDetails(r, s.id).map((l) => `  ${l}`));
    const trs = r.transitions.filter((t) => t.stage === s.id);
    if (trs.length) {
      out.push('  EL transitions:');
      for (const t of trs) out.push(`    ${formatTransition(t)}`);
    }
    if (s.regsAfter.length) {
      out.push('  Registers after the stage:');
      for (const snap of s.regsAfter) out.push(...formatRegs(snap).map((l) => `    ${l}`));
    }
    out.push('');
  }
  out.push('== Kernel log ==');
  for (const l of r.kernelLog) out.push(`  ${l}`);
  if (r.uart) out.push(`== UART (PL011) ==`, ...r.uart.trimEnd().split('\n').map((l) => `  ${l}`));
  if (r.missing.length) out.push('== Not modelled ==', ...r.missing.map((m) => `  ${m}`));
  return out.join('\n') + '\n';
}

function stageDetails(r: BootResult, id: number): string[] {
  const out: string[] = [];
  const res = r.reservation.reservation;
  switch (id) {
    case 1:
      out.push('init_kernel_el at EL2 with the MMU off (asm/head-init-kernel-el.S): HCR_EL2 = HCR_HOST_NVHE_FLAGS, init_el2_state, VBAR_EL2 = __hyp_stub_vectors, ERET to EL1 with w0 = BOOT_CPU_MODE_EL2;');
      out.push('then __cpu_setup (MAIR_EL1/TCR_EL1) and finalise_el2 (the stub refuses HVC_FINALISE_EL2: nVHE stays). Secondary CPUs do the same from PSCI CPU_ON (during smp_init).');
      break;
    case 2: {
      const b = res.breakdown;
      out.push(`${res.log}`);
      out.push(`hyp_mem_pages = s1 ${b.hypS1PgtablePages} + s2 ${b.hostS2PgtablePages} + vm_table ${b.hypVmTablePages} + vmemmap ${b.hypVmemmapPages} + ffa ${b.hypFfaProxyPages} = ${res.hypMemPages} pages`
        + ` → ${size(res.hypMemSize)} (${res.alignment === 2 * MiB ? 'PMD-aligned' : 'page-aligned fallback'}), ${res.slackPages} pages of slack`);
      out.push(`hyp_memory[]: ${res.hypMemory.map((m) => `${hex(m.base)}+${size(m.size)}${m.nomap ? ' nomap' : ''}`).join(', ')}`);
      out.push(`memblock before it (top-down early allocations of the ${r.reservation.early.kernel.name} boot): ${r.reservation.early.earlyAllocations.map((a) => `${a.label} ${hex(a.base)}+${a.size}`).join('; ')}`);
      out.push('(kvm_hyp_reserve is C: the model ran in TypeScript; the count is the one instruction its hook replaces)');
      break;
    }
    case 3: {
      out.push(`smp_cpus_done: kvm_compute_layout (hyp VA = linear VA & ${hex(r.hypLayout?.vaMask ?? 0n)} | ${hex((r.hypLayout?.tagVal ?? 0n) << BigInt(r.hypLayout?.tagLsb ?? 0))}, hyp_physvirt_offset ${hex(BigInt.asUintN(64, r.hypLayout?.hypPhysvirtOffset ?? 0n))}), ${r.hypRelocs} hyp relocation(s) applied`);
      const applied = r.alternatives.filter((a) => a.applied);
      out.push(`apply_alternatives_all: caps ${r.caps.join(', ')}; ${applied.length} of ${r.alternatives.length} site(s) patched (${[...new Set(applied.map((a) => a.callback ? `${a.cap} via ${a.callback}` : a.cap))].join(', ')})`);
      if (r.vmid) out.push(`kvm_arm_vmid_alloc_init: ${r.vmid.bits}-bit VMIDs, generation ${hex(r.vmid.generation)}, ${r.vmid.numUserVmids}-entry bitmap (VMID 0 is never handed out: the host stage-2 uses it)`);
      const host = r.host;
      if (host) {
        out.push(`kvm_mmu_init: hyp_va_bits ${host.hypVaBits}; idmap ${hex(host.hypIdmapStart)}..${hex(host.hypIdmapEnd)}; __kvm_hyp_init at PA ${hex(host.hypIdmapVector)}`);
        out.push('create_hyp_mappings (the host builds the first hyp stage-1):');
        for (const m of host.mappings) out.push(`  ${pad(m.what, 44)} hyp VA ${h16(m.hypVa)} → PA ${h16(m.pa)} ${pad(size(m.size), 8)} ${formatProt(m.prot)}`);
        for (const c of host.cpus) {
          out.push(`CPU${c.cpu}: stack page PA ${hex(c.stackPa)}, per-CPU region PA ${hex(c.percpuPa)} (${c.percpuPages} page), kvm_nvhe_init_params at PA ${hex(c.paramsPa)}: `
            + `tpidr_el2 ${hex(BigInt.asUintN(64, c.tpidrEl2))}, stack_hyp_va ${hex(c.stackHypVa)}`);
        }
        host.paramsAtInit.forEach((p, cpu) => {
          out.push(`CPU${cpu} kvm_nvhe_init_params (cpu_prepare_hyp_mode): ${Object.entries(p).map(([k, v]) => `${k.toLowerCase()} ${hex(v)}`).join(', ')}`);
        });
      }
      if (r.tables.hostBuiltHypStage1) out.push(...formatTable(r.tables.hostBuiltHypStage1, 24));
      out.push('The hypercalls: stub HVC_SET_VECTORS (VBAR_EL2 = __kvm_hyp_init), __kvm_hyp_init (MMU on with this table), __pkvm_cpu_set_vector, then __pkvm_init.');
      break;
    }
    case 4: {
      const hv = r.hyp;
      if (!hv) { out.push('the hypervisor did not start'); break; }
      if (hv.division) {
        out.push(`divide_memory_pool over ${hex(BigInt(hv.division.base))}+${size(hv.division.size)}:`);
        for (const part of hv.division.parts) out.push(`  ${pad(part.name, 16)} PA ${hex(BigInt(part.base))}..${hex(BigInt(part.base + part.pages * 4096))} ${part.pages} page(s)`);
        out.push(`  ${pad('(unused)', 16)} PA ${hex(BigInt(hv.division.slack.base))} ${hv.division.slack.pages} page(s)`);
      }
      for (const n of hv.notes) out.push(`${n.step}: ${n.detail}`);
      out.push(`__pkvm_init_switch_pgd (asm, from the idmap): MMU off, tlbi alle2, TTBR0_EL2 = the new pgd, SP = the new stack, MMU on, ret to __pkvm_init_finalise (hyp VA ${hex(hv.sym('__pkvm_init_finalise'))})`);
      out.push('__pkvm_init_finalise:');
      for (const s of hv.finaliseSteps) out.push(`  ${pad(s.step, 26)} ${s.ret ? `FAILED (${s.ret}) ` : ''}${s.detail}`);
      out.push(`  __host_enter (asm): restores the host context and ERETs to EL1 with x1 = ${hv.initDone ? '0' : 'the error'}`);
      out.push('Then init_subsystems (__kvm_hyp_init on the other CPUs, now with the new pgd and stacks) and finalize_pkvm: __pkvm_prot_finalize on every CPU sets HCR_EL2.VM and loads VTTBR_EL2/VTCR_EL2.');
      if (r.tables.hypStage1) out.push(...formatTable(r.tables.hypStage1, 40));
      if (r.tables.hostStage2AtFinalise) out.push(...formatTable(r.tables.hostStage2AtFinalise, 24));
      break;
    }
    case 5: {
      for (const e of r.experiments) out.push(...formatExperiment(e));
      if (r.tables.hostStage2) out.push(...formatTable(r.tables.hostStage2, 40));
      break;
    }
  }
  return out;
}

// ---- JSON ---------------------------------------------------------------------------------------------

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return hex(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonValue(x)]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

/** A JSON-ready report: 64-bit values as hex strings. */
export function reportJson(r: BootResult): unknown {
  const res = r.reservation.reservation;
  const hv = r.hyp;
  return jsonValue({
    profile: { name: r.profile.name, title: r.profile.title, sources: r.profile.sources },
    machine: { ...r.machine, image: { base: r.image.base, end: r.image.base + BigInt(r.image.bytes.length), entry: r.image.entry, sections: r.image.sections } },
    outcome: { ...r.end, instructions: r.totalInsns },
    layout: {
      pageOffset: r.kernelLayout.pageOffset, memstartAddr: r.kernelLayout.memstartAddr, kimageVoffset: r.kernelLayout.kimageVoffset,
      hyp: r.hypLayout ? { vaBits: r.hypLayout.vaBits, tagLsb: r.hypLayout.tagLsb, vaMask: r.hypLayout.vaMask, tag: r.hypLayout.tagVal << BigInt(r.hypLayout.tagLsb), hypPhysvirtOffset: BigInt.asUintN(64, r.hypLayout.hypPhysvirtOffset) } : null,
      hypPrivate: hv ? { ioMapBase: hv.ioMapBase, vmemmap: hv.hypVmemmapBase, ranges: hv.privateRanges } : null,
    },
    stages: r.stages.map((s) => ({
      id: s.id, title: s.title, reached: s.reached, instructions: s.insns, total: s.insns.reduce((a, b) => a + b, 0),
      registersAfter: s.regsAfter,
      transitions: r.transitions.filter((t) => t.stage === s.id),
    })),
    reservation: {
      log: res.log, base: res.hypMemBase, size: res.hypMemSize, pages: res.hypMemPages, alignment: res.alignment, slackPages: res.slackPages,
      breakdown: res.breakdown, hypMemory: res.hypMemory, earlyAllocations: r.reservation.early.earlyAllocations,
    },
    division: hv?.division ?? null,
    alternatives: { caps: r.caps, sites: r.alternatives, hypRelocations: r.hypRelocs },
    vmid: r.vmid ? { bits: r.vmid.bits, generation: r.vmid.generation, entries: r.vmid.numUserVmids } : null,
    host: r.host ? {
      hypVaBits: r.host.hypVaBits, idmap: [r.host.hypIdmapStart, r.host.hypIdmapEnd], mappings: r.host.mappings,
      cpus: r.host.cpus, hostBuiltTableFreed: r.host.hypPgtableFreed,
    } : null,
    hypervisor: hv ? { notes: hv.notes, finalise: hv.finaliseSteps, privateRanges: hv.privateRanges, fixmap: hv.fixmapSlots } : null,
    traps: r.trapLog.events,
    shares: r.trapLog.shares,
    tables: r.tables,
    experiments: r.experiments.map((e) => ({ key: e.key, title: e.title, ran: e.ran, ok: e.ok, outcome: e.outcome, details: e.details })),
    kernelLog: r.kernelLog,
    uart: r.uart,
    missing: r.missing,
  });
}

// ---- --explain ----------------------------------------------------------------------------------------

/** The documents' open questions, answered from what this run did. */
export function formatExplain(r: BootResult): string {
  const out: string[] = [];
  const hv = r.hyp;
  const host = r.host;
  const snap = (stage: number, cpu = 0): RegSnapshot | undefined => r.stages[stage - 1]?.regsAfter[cpu];
  const q = (title: string, lines: string[]): void => {
    out.push(`Q: ${title}`);
    for (const l of lines) out.push(`   ${l}`);
    out.push('');
  };
  const faults = r.trapLog.events.filter((e) => e.kind === 'mem_abort');

  q('Who fills stage 1 and stage 2?', [
    host ? `The host kernel (EL1, init_hyp_mode) built the first hyp stage-1: ${host.mappings.length} create_hyp_mappings calls into pages from its own allocator (pgd at PA ${hex(host.hypPgdPa)}); it ${host.hypPgtableFreed ? 'freed' : 'was to free'} that table (free_hyp_pgds) once pKVM ran on its own.` : 'The host never built a hyp stage-1 (init_hyp_mode did not run).',
    hv?.pkvmPgtable.pgd ? `The hypervisor (EL2, __pkvm_init → recreate_hyp_mappings) rebuilt its stage-1 from scratch in its reserved pool (pgd at PA ${hex(hv.pkvmPgtable.pgdPhys)}), with the early allocator, then handed the table to its buddy allocator (hpool).` : '',
    hv?.hostMmu ? `Only the hypervisor writes the host's stage-2 (pgd at PA ${hex(hv.hostMmu.mmu.pgd_phys)}): kvm_host_prepare_stage2${r.profile.prepopulateHostStage2 ? ' identity-mapped all memory up front (prepopulate_host_stage2)' : ' left it empty'}, ${r.profile.name === 'linux-6.1' ? 'finalize_host_mappings' : 'fix_host_ownership'} marked the hypervisor's pages as owned by it, and ${faults.length} host fault(s) were identity-mapped on demand (host_stage2_idmap).` : '',
    "The host's own stage-1 (TTBR0/1_EL1) is the host kernel's business; pKVM never touches it (in this model the host runs with it off).",
  ].filter(Boolean));

  const s3 = snap(3);
  const s4 = snap(4);
  q('How is the MMU enabled?', [
    `EL2: ___kvm_hyp_init (asm, idmap page) loads TTBR0_EL2 with the host-built pgd, TCR_EL2 (PS from PARange), MAIR_EL2, HCR_EL2 from this CPU's kvm_nvhe_init_params, invalidates the TLBs and writes SCTLR_EL2 = INIT_SCTLR_EL2_MMU_ON${s3 ? ` (after stage 3: SCTLR_EL2 ${hex(s3.regs.sctlr_el2)}, TTBR0_EL2 ${hex(s3.regs.ttbr0_el2)}, TCR_EL2 ${hex(s3.regs.tcr_el2)})` : ''}.`,
    '__pkvm_init_switch_pgd (asm, idmap page) later turns the MMU off, invalidates the EL2 TLB, installs the pgd the hypervisor built, switches SP to the new private stack, and turns the MMU on again.',
    s4 ? `The host's stage 2: __pkvm_prot_finalize on each CPU sets HCR_EL2.VM and loads VTCR_EL2 then VTTBR_EL2 (after stage 4: HCR_EL2 ${hex(s4.regs.hcr_el2)}, VTTBR_EL2 ${hex(s4.regs.vttbr_el2)}, VTCR_EL2 ${hex(s4.regs.vtcr_el2)}).` : '',
  ].filter(Boolean));

  q('How does the hypervisor read EL1 page tables?', [
    'It does not walk them. A host access that misses its stage-2 traps to EL2 with the faulting IPA already in HPFAR_EL2 (and the VA in FAR_EL2); handle_host_mem_abort maps that IPA. The host\'s registers are read from the context __host_exit saved (x0..x30 in kvm_host_data.host_ctxt), not from EL1 memory.',
    `This run: ${faults.length} stage-2 fault(s), all resolved from HPFAR_EL2: ${faults.map((f) => hex(f.ipa)).join(', ') || 'none'}. (The kernel falls back to AT S1E1R only when HPFAR_EL2 is not valid, e.g. faults on a stage-1 walk; with the host's MMU off none occurred.)`,
  ]);

  const sh = r.trapLog.shares;
  q('How do the host and a guest share memory?', [
    'Through the same ownership state machine the run exercised between the host and the hypervisor: the owner marks its stage-2 entry SHARED_OWNED, the borrower maps the page SHARED_BORROWED; unsharing reverses both. Exclusive transfers (donations) change the owner id in the host stage-2 instead.',
    ...sh.map((t) => `This run: page ${hex(t.hostAddr)}: host ${t.before.host} → ${t.after.host}, hypervisor ${t.before.hyp} → ${t.after.hyp} (returned ${t.ret}).`),
    'No guest was created here, so no page went to a guest stage-2 (__pkvm_host_share_guest / donate); a guest would get its own stage-2 and VMID.',
  ]);

  const v = r.vmid;
  if (v) {
    const dry = v.clone();
    const first = dry.newVmid(0n);
    const second = dry.newVmid(0n);
    q('How are VMIDs allocated?', [
      `kvm_arm_vmid_alloc_init read ID_AA64MMFR1_EL1.VMIDBits: ${v.bits}-bit VMIDs, a ${v.numUserVmids}-bit bitmap, generation ${hex(v.generation)}.`,
      `VMID 0 is never handed out (the search starts at 1): the host stage-2 runs with VMID 0 (VTTBR_EL2 ${s4 ? hex(s4.regs.vttbr_el2) : '?'}, VMID field ${s4 ? hex(s4.regs.vttbr_el2 >> 48n) : '?'}).`,
      `No VM was created in this run; the first two would get ${hex(first)} and ${hex(second)} (generation | index); when the bitmap is full the generation grows by ${hex(v.firstVersion)} and every CPU's TLB is flushed (flush_context).`,
    ]);
  }

  if (host) {
    q('What about multi-core?', [
      `${r.machine.cpus} CPU(s). __pkvm_init ran once, on CPU 0; every CPU ran its own EL2 initialisation (__kvm_hyp_init) with its own kvm_nvhe_init_params, stack and per-CPU region:`,
      ...host.cpus.map((c) => `CPU${c.cpu}: params at PA ${hex(c.paramsPa)}, TPIDR_EL2 ${hex(BigInt.asUintN(64, c.tpidrEl2))}, stack ${hv && hv.privateRanges.find((p) => p.what.startsWith(`stack of CPU ${c.cpu}`)) ? `at hyp VA ${hex(hv.privateRanges.find((p) => p.what.startsWith(`stack of CPU ${c.cpu}`))!.end)}` : `hyp VA ${hex(c.stackHypVa)}`}`),
      'The hypervisor\'s stage-1 and the host stage-2 are shared by all CPUs; __pkvm_prot_finalize ran on each CPU (HCR_EL2.VM and VTTBR_EL2 are per CPU), after which each CPU\'s host context lives in its own kvm_host_data.',
      ...r.stages.slice(-1).flatMap((s) => s.regsAfter.map((x) => `CPU${x.cpu} at the end: HCR_EL2 ${hex(x.regs.hcr_el2)}, VTTBR_EL2 ${hex(x.regs.vttbr_el2)}, TTBR0_EL2 ${hex(x.regs.ttbr0_el2)}`)),
    ]);
  }
  return out.join('\n');
}

/**
 * The end-to-end boot flow's trace against QEMU 7.2 (issue 5, verification): the parts
 * of the `--trace` output where assembly runs must match what QEMU does with the same
 * image from the same state, instruction by instruction (PC, X0–X30, SP, NZCV, EL, and
 * the exception entries and returns), QEMU's documented deviations tolerated by name
 * (src/trace/compare-states.ts).
 *
 *   1. Early boot: the boot flow's image, entered at primary_entry at EL2 as QEMU enters
 *      an ELF kernel, up to the call of kvm_hyp_reserve (the first C function; for QEMU
 *      its slot holds a PSCI SYSTEM_OFF instead of the model).
 *   2. An EL2 routine: CPU 0's __kvm_hyp_init hypercall — the HVC into the
 *      __kvm_hyp_init vectors, __do_hyp_init, ___kvm_hyp_init turning the EL2 MMU on
 *      with the page table the host model built, and the ERET back to EL1. QEMU starts
 *      from a snapshot of the machine taken by the boot flow just before the HVC: the
 *      RAM the flow had written (image with alternatives and hyp relocations applied,
 *      the host's page tables, the init parameters) and the CPU's registers, restored by
 *      a small EL2 prologue that ERETs to the HVC.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runBoot } from '../../src/pkvm/boot-flow.js';
import type { KernelImage } from '../../src/pkvm/kernel-image.js';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { disassemble } from '../../src/isa/disasm.js';
import { sysregIdByEncoding } from '../../src/cpu/sysregs/system-registers.js';
import { cpuView } from '../../src/pkvm/cpu-view.js';
import type { Cpu } from '../../src/cpu/cpu.js';
import type { PhysicalMemory } from '../../src/machine/physical-memory.js';
import {
  compareTraces, qemuTraceItems, type ExceptionEntry, type TraceItem,
} from '../../src/trace/compare-states.js';
import { PSCI_SYSTEM_OFF_WORDS, qemuAvailable, runQemu } from '../helpers/qemu.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FAR_VALID_EC = new Set([0x20, 0x21, 0x22, 0x24, 0x25, 0x34, 0x35]);

/** CPU `cpu`'s items (state before each instruction, exception entries, returns) from the boot flow's JSON-lines trace. */
function itemsFromTrace(lines: string[], cpu: number): TraceItem[] {
  const items: TraceItem[] = [];
  const x: bigint[] = new Array<bigint>(31).fill(0n);
  let sp = 0n;
  let nzcv = 0;
  const apply = (regs: Record<string, string> | undefined): void => {
    for (const [k, v] of Object.entries(regs ?? {})) {
      const m = /^x(\d+)$/.exec(k);
      if (m) x[Number(m[1])] = BigInt(v);
      else if (k === 'sp') sp = BigInt(v);
      else if (k === 'nzcv') nzcv = Number(v);
    }
  };
  for (const line of lines) {
    const r = JSON.parse(line) as Record<string, unknown>;
    if (r['cpu'] !== cpu) continue;
    if (r['event'] === 'start') { apply(r['regs'] as Record<string, string>); continue; }
    if (r['i'] !== undefined && r['event'] === undefined) {
      // The model's host functions are C, not assembly: they run only on our side.
      items.push({ kind: 'state', state: { pc: BigInt(r['pc'] as string), el: r['el'] as number, spsel: 'h', nzcv, x: [...x], sp } });
      apply(r['regs'] as Record<string, string>);
      continue;
    }
    if (r['event'] === 'exception') {
      const esr = Number(BigInt(r['esr'] as string));
      const ec = esr >>> 26;
      const entry: ExceptionEntry = { fromEl: r['from_el'] as number, toEl: r['to_el'] as number, ec, esr, elr: BigInt(r['elr'] as string), vector: BigInt(r['pc'] as string) };
      if (FAR_VALID_EC.has(ec)) entry.far = BigInt(r['far'] as string);
      items.push({ kind: 'exception', entry });
      apply(r['regs'] as Record<string, string>);
    } else if (r['event'] === 'eret') {
      items.push({ kind: 'eret', ret: { fromEl: r['from_el'] as number, toEl: r['to_el'] as number, pc: BigInt(r['pc'] as string) } });
      apply(r['regs'] as Record<string, string>);
    }
  }
  return items;
}

/** The items from the first state at `pc` (and EL `el`) on. */
function from(items: TraceItem[], pc: bigint, el: number): TraceItem[] {
  const i = items.findIndex((it) => it.kind === 'state' && it.state.pc === pc && it.state.el === el);
  expect(i, `no state at ${pc.toString(16)} EL${el}`).toBeGreaterThanOrEqual(0);
  return items.slice(i);
}

function until(items: TraceItem[], pc: bigint): TraceItem[] {
  const i = items.findIndex((it) => it.kind === 'state' && it.state.pc === pc);
  expect(i).toBeGreaterThan(0);
  return items.slice(0, i);
}

function reservedBitsOf(cpu: Cpu) {
  return (encoding: number): bigint | undefined => {
    const id = sysregIdByEncoding(encoding);
    if (id < 0) return undefined;
    const k = id * 2;
    const s = cpu.sys;
    return (BigInt((s.res0[k + 1]! | s.res1[k + 1]!) >>> 0) << 32n) | BigInt((s.res0[k]! | s.res1[k]!) >>> 0);
  };
}

function wordAt(memory: PhysicalMemory, pa: bigint): number | undefined {
  const b = memory.readBytes(Number(pa), 4);
  return b ? (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0 : undefined;
}

describe.runIf(qemuAvailable())('the boot flow\'s trace against QEMU 7.2', () => {
  it('early boot: primary_entry → init_kernel_el → EL1 → finalise_el2, up to kvm_hyp_reserve', () => {
    const lines: string[] = [];
    let image!: KernelImage;
    const r = runBoot({ root: ROOT, trace: (l) => lines.push(l), observe: (m) => { image = m.image; } });
    expect(r.end.ok).toBe(true);
    const stop = image.symbols.get('kvm_hyp_reserve')!;
    const ours = until(itemsFromTrace(lines, 0), stop);

    // The same image for QEMU, with the first C function's slot powering off instead.
    const bytes = image.bytes.slice();
    const view = new DataView(bytes.buffer);
    PSCI_SYSTEM_OFF_WORDS.forEach((w, i) => view.setUint32(Number(stop - image.base) + 4 * i, w, true));
    const elf = writeExecutable({ entry: image.entry, segments: [{ vaddr: image.base, data: bytes, memsz: BigInt(bytes.length), flags: 'rwx' }] });
    const q = runQemu(elf, { memory: '1G', maxInsns: 5000 });
    expect(q.stopReason).toBe('system-off');
    const theirs = until(qemuTraceItems(q.records), stop);

    const c = compareTraces(theirs, ours, {
      describeInsn: (pc) => disassemble(wordAt(r.emulator.board.memory, pc) ?? 0, { address: pc }).text,
      insnAt: (pc) => wordAt(r.emulator.board.memory, pc),
      reservedBits: reservedBitsOf(r.cpus[0]!),
    });
    expect(c.mismatches.map((m) => m.text).join('\n')).toBe('');
    expect(c.states).toBe(ours.filter((i) => i.kind === 'state').length);
    expect(c.states).toBeGreaterThan(100);
    expect(c.erets).toBe(2); // init_kernel_el, and the stub's answer to HVC_FINALISE_EL2
    expect(c.exceptions).toBe(1);
    console.log(`early boot: ${c.states} instructions match QEMU; tolerated ${JSON.stringify(c.tolerated)}`);
  });

  it('EL2: the __kvm_hyp_init hypercall — ___kvm_hyp_init turns the MMU on with the host-built table', () => {
    const lines: string[] = [];
    let snap: { x: bigint[]; sp: bigint; nzcv: number; pc: bigint; sys: Record<string, bigint>; pages: { pa: bigint; data: Uint8Array }[] } | undefined;
    let hvcAt = 0n;
    const SYSREGS = [
      'hcr_el2', 'sctlr_el2', 'vbar_el2', 'cptr_el2', 'cnthctl_el2', 'cntvoff_el2', 'mdcr_el2', 'hstr_el2', 'vttbr_el2', 'vtcr_el2',
      'vpidr_el2', 'vmpidr_el2', 'ttbr0_el2', 'tcr_el2', 'mair_el2', 'tpidr_el2',
      'sctlr_el1', 'tcr_el1', 'mair_el1', 'vbar_el1', 'ttbr0_el1', 'ttbr1_el1', 'tpidr_el1',
    ];
    const r = runBoot({
      root: ROOT, mem: 512 * 1024 * 1024, trace: (l) => lines.push(l),
      observe: ({ emulator, cpus, image }) => {
        // The HVC of kvm_call_hyp_from_c in cpu_hyp_init: the first "hvc #0" after the symbol.
        const start = image.allSymbols.get('cpu_hyp_init')!;
        for (let a = start; ; a += 4n) {
          if (new DataView(image.bytes.buffer).getUint32(Number(a - image.base), true) === 0xd4000002) { hvcAt = a; break; }
        }
        const cpu0 = cpus[0]!;
        const remove = emulator.addCodeHook(hvcAt, () => {
          remove();
          const v = cpuView(cpu0, 0);
          const sys: Record<string, bigint> = {};
          for (const n of SYSREGS) sys[n] = v.reg(n);
          // SP_EL2, as it is while EL1 runs (the banked value).
          sys['sp_el2'] = (BigInt(cpu0.spBank[5]! >>> 0) << 32n) | BigInt(cpu0.spBank[4]! >>> 0);
          // Every page the flow has written: the image and the host's allocations at the top of RAM.
          const pages: { pa: bigint; data: Uint8Array }[] = [];
          const mem = emulator.board.memory;
          const ranges: [bigint, bigint][] = [[image.base, image.base + BigInt(image.bytes.length)], [0x5f00_0000n, 0x6000_0000n]];
          for (const [lo, hi] of ranges) {
            for (let pa = lo; pa < hi; pa += 4096n) {
              const data = mem.readBytes(Number(pa), 4096)!;
              if (data.some((b) => b !== 0)) pages.push({ pa, data });
            }
          }
          snap = { x: [...Array(31).keys()].map((n) => cpu0.getX(n)), sp: cpu0.getSp(), nzcv: cpu0.nzcv, pc: cpu0.getPc(), sys, pages };
        });
      },
    });
    expect(r.end.ok).toBe(true);
    expect(snap).toBeDefined();
    const s = snap!;

    // An EL2 prologue that restores the snapshot and ERETs to the HVC at EL1.
    const PROLOGUE = 0x4007_0000n;
    const loads = Object.entries(s.sys).map(([n, v]) => n === 'sp_el2'
      ? `ldr x0, =0x${v.toString(16)}\n mov sp, x0`
      : `ldr x0, =0x${v.toString(16)}\n msr ${n}, x0`).join('\n ');
    const src = `
	.text
	.globl _start
_start:
	${loads}
	ldr x0, =0x${s.sp.toString(16)}
	msr sp_el1, x0
	ldr x0, =0x${(0x3c5 | (s.nzcv << 28)).toString(16)}	// EL1h, DAIF masked, the snapshot's NZCV
	msr spsr_el2, x0
	ldr x0, =0x${s.pc.toString(16)}
	msr elr_el2, x0
	isb
	tlbi alle2
	tlbi alle1
	dsb sy
	adr x30, regs
	${[...Array(15).keys()].map((i) => `ldp x${2 * i}, x${2 * i + 1}, [x30, #${16 * i}]`).join('\n\t')}
	ldr x30, [x30, #240]
	eret
	.ltorg
	.balign 8
regs:
	${s.x.map((v) => `.quad 0x${v.toString(16)}`).join('\n\t')}
`;
    const asm = assemble(src, { file: 'prologue.s' });
    const errors = asm.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map(formatDiagnostic)).toEqual([]);
    const prologue = linkFlat(asm, PROLOGUE);
    // Coalesce the snapshot pages into segments.
    const segments: { vaddr: bigint; data: Uint8Array; memsz: bigint; flags: 'rwx' }[] = [{ vaddr: PROLOGUE, data: prologue.bytes, memsz: BigInt(prologue.bytes.length), flags: 'rwx' }];
    let run: { pa: bigint; chunks: Uint8Array[] } | undefined;
    const flush = (): void => {
      if (!run) return;
      const data = new Uint8Array(run.chunks.length * 4096);
      run.chunks.forEach((c, i) => data.set(c, i * 4096));
      segments.push({ vaddr: run.pa, data, memsz: BigInt(data.length), flags: 'rwx' });
      run = undefined;
    };
    for (const p of s.pages) {
      if (run && run.pa + BigInt(run.chunks.length * 4096) === p.pa) run.chunks.push(p.data);
      else { flush(); run = { pa: p.pa, chunks: [p.data] }; }
    }
    flush();
    const elf = writeExecutable({ entry: PROLOGUE, segments });
    const q = runQemu(elf, { memory: '512M', maxInsns: 400 });

    const theirsAll = from(qemuTraceItems(q.records), hvcAt, 1);
    const oursAll = from(itemsFromTrace(lines, 0), hvcAt, 1);
    // Up to and including the first state back at EL1 after the ERET.
    const end = oursAll.findIndex((it, i) => i > 0 && it.kind === 'state' && it.state.el === 1);
    expect(end).toBeGreaterThan(20);
    const ours = oursAll.slice(0, end + 1);
    const theirs = theirsAll.slice(0, end + 1);
    const mem = r.emulator.board.memory;
    const c = compareTraces(theirs, ours, {
      describeInsn: (pc) => disassemble(wordAt(mem, pc) ?? 0, { address: pc }).text,
      insnAt: (pc) => wordAt(mem, pc),
      reservedBits: reservedBitsOf(r.cpus[0]!),
    });
    expect(c.mismatches.map((m) => m.text).join('\n')).toBe('');
    expect(c.exceptions).toBe(1);
    expect(c.erets).toBe(1);
    // The MMU went on in between: the state after the ERET is back at the instruction after the HVC.
    const last = ours.at(-1)!;
    expect(last.kind === 'state' && last.state.pc).toBe(hvcAt + 4n);
    console.log(`__kvm_hyp_init: ${c.states} instructions match QEMU; tolerated ${JSON.stringify(c.tolerated)}`);
  });
});

/**
 * The boot flow's "kernel image": the project's asm/*.S files, each
 * assembled by our assembler as its own object (as the kernel builds
 * head.o, hyp-stub.o, the nVHE objects, ...), then linked into one flat
 * image the way vmlinux.lds.S arranges the kernel: text with the idmap text
 * and the hypervisor's sections (page-aligned, delimited by the
 * __hyp_*_start/end symbols the KVM code uses), read-only data, the
 * alternatives table, data with the hypervisor's per-CPU template, bss.
 *
 * It also collects what the kernel's build and early boot need from the
 * link: the list of 64-bit absolute words inside the hypervisor's sections
 * (what the kernel's gen-hyprel tool records in .hyp.reloc, for
 * kvm_apply_hyp_relocations to turn kernel addresses into hyp VAs), and the
 * .altinstructions range for the alternatives patcher.
 *
 * The image is built per kernel profile: `linux-6.1` assembles with
 * PKVM_LAB_PROFILE_LINUX_6_1 defined (asm/hyp-init.S has both kernels'
 * versions of the routines that differ).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, type AssembleResult } from '../asm/assembler.js';
import type { Section } from '../asm/sections.js';
import { applyFixup, RELOC, type FixupKind } from '../isa/fixups.js';
import { formatDiagnostic } from '../common/diagnostics.js';
import type { KernelProfileName } from './profile.js';

/** Where QEMU's -kernel puts an arm64 Image with text_offset 0x80000 (and where our image is linked). */
export const KERNEL_IMAGE_BASE = 0x4008_0000n;
const PAGE = 4096n;

/** The objects of the image, in link order (the order only matters within an output section). */
export const KERNEL_IMAGE_SOURCES = [
  'host-workload.S',
  'head-init-kernel-el.S',
  'hyp-stub.S',
  'cache.S',
  'modelled-c.S',
  'hyp-init.S',
  'host.S',
  'host-vectors.S',
  'hyp-data.S',
] as const;

/**
 * Output sections: which input sections go in, in order, with the symbols
 * the linker script defines around them.  `align` is applied before the
 * output section (and before each `startSymbol`).
 */
interface OutputRule {
  readonly inputs: readonly string[];
  readonly startSymbol?: string;
  readonly endSymbol?: string;
  readonly align?: bigint;
  /** Round the end up to this (e.g. so the next rule starts on a fresh page). */
  readonly endAlign?: bigint;
}

const LAYOUT: readonly OutputRule[] = [
  { inputs: ['.head.text'], startSymbol: '_text' },
  { inputs: ['.text'], startSymbol: '_stext' },
  { inputs: ['.idmap.text'], startSymbol: '__idmap_text_start', endSymbol: '__idmap_text_end' },
  // HYPERVISOR_TEXT: the idmap page first, then the rest of the hyp text, each page-aligned.
  { inputs: ['.hyp.idmap.text'], startSymbol: '__hyp_idmap_text_start', endSymbol: '__hyp_idmap_text_end', align: PAGE, endAlign: PAGE },
  { inputs: ['.hyp.text'], startSymbol: '__hyp_text_start', endSymbol: '__hyp_text_end', align: PAGE, endAlign: PAGE },
  { inputs: [], endSymbol: '_etext' },
  { inputs: ['.rodata'], startSymbol: '__start_rodata', align: PAGE },
  { inputs: ['.hyp.rodata'], startSymbol: '__hyp_rodata_start', endSymbol: '__hyp_rodata_end', align: PAGE, endAlign: PAGE },
  { inputs: ['__ex_table'], startSymbol: '__start___ex_table', endSymbol: '__stop___ex_table', align: 8n },
  { inputs: ['.altinstructions'], startSymbol: '__alt_instructions', endSymbol: '__alt_instructions_end', align: 4n },
  { inputs: [], endSymbol: '__end_rodata', align: PAGE },
  { inputs: ['.data'], startSymbol: '_sdata', align: PAGE },
  { inputs: ['.hyp.data'], startSymbol: '__hyp_data_start', endSymbol: '__hyp_data_end', align: PAGE, endAlign: PAGE },
  // The nVHE per-CPU template (kvm_nvhe_sym(__per_cpu_start/end)): copied per CPU, never used in place.
  { inputs: ['.hyp.data..percpu'], startSymbol: '__per_cpu_start', endSymbol: '__per_cpu_end', align: PAGE, endAlign: PAGE },
  { inputs: [], endSymbol: '_edata' },
  { inputs: ['.hyp.bss'], startSymbol: '__hyp_bss_start', endSymbol: '__hyp_bss_end', align: PAGE, endAlign: PAGE },
  { inputs: ['.bss'], startSymbol: '__bss_start', endSymbol: '__bss_stop', align: PAGE, endAlign: PAGE },
  { inputs: [], endSymbol: '_end' },
];

export interface ImageSection {
  readonly name: string;
  readonly start: bigint;
  readonly end: bigint;
}

export interface KernelImage {
  readonly profile: KernelProfileName;
  readonly base: bigint;
  /** The bytes from `base` to `_end` (bss included, as zeros). */
  readonly bytes: Uint8Array;
  readonly entry: bigint;
  /** Global symbols (and the linker-script symbols); local ones are not exported. */
  readonly symbols: Map<string, bigint>;
  /** Local symbols too, for traces and reports: name → address (first definition wins). */
  readonly allSymbols: Map<string, bigint>;
  /** Output sections, in address order. */
  readonly sections: readonly ImageSection[];
  /** Addresses of 64-bit absolute words in .hyp.* sections (gen-hyprel's .hyp.reloc). */
  readonly hypRelocs: readonly bigint[];
  /** Sources that went in, with the defines used. */
  readonly objects: readonly { file: string; defines: Record<string, string> }[];
}

export class KernelImageError extends Error {
  override name = 'KernelImageError';
}

export function asmDirectory(root: string): string {
  return join(root, 'asm');
}

const KIND_BY_RELOC = new Map<number, FixupKind>(Object.entries(RELOC).map(([k, v]) => [v, k as FixupKind]));

function isPcRel(kind: FixupKind): boolean {
  return ['branch26', 'call26', 'condbr19', 'tstbr14', 'ld_prel19', 'adr21'].includes(kind) || kind.startsWith('movw_prel');
}

const alignUp = (v: bigint, a: bigint): bigint => (v + a - 1n) / a * a;

/** Assembles the image's sources and links them at `base` (default KERNEL_IMAGE_BASE). */
export function buildKernelImage(opts: { root: string; profile: KernelProfileName; base?: bigint }): KernelImage {
  const base = opts.base ?? KERNEL_IMAGE_BASE;
  const asmDir = asmDirectory(opts.root);
  const defines: Record<string, string> = opts.profile === 'linux-6.1' ? { PKVM_LAB_PROFILE_LINUX_6_1: '1' } : {};
  const objects: { file: string; result: AssembleResult }[] = [];
  for (const f of KERNEL_IMAGE_SOURCES) {
    const path = join(asmDir, f);
    const result = assemble(readFileSync(path, 'utf8'), { file: path, includeDirs: [asmDir, join(asmDir, 'include')], defines });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new KernelImageError(`asm/${f} does not assemble:\n${errors.map(formatDiagnostic).join('\n')}`);
    objects.push({ file: f, result });
  }
  return link(objects, base, opts.profile, defines);
}

function link(objects: { file: string; result: AssembleResult }[], base: bigint, profile: KernelProfileName, defines: Record<string, string>): KernelImage {
  const placed = new Map<Section, bigint>();
  const symbols = new Map<string, bigint>();
  const outSections: ImageSection[] = [];
  const known = new Set(LAYOUT.flatMap((r) => r.inputs));
  for (const { file, result } of objects) {
    for (const s of result.sections) {
      if (s.flags.alloc && s.size > 0 && !known.has(s.name)) throw new KernelImageError(`asm/${file}: section ${s.name} has no place in the image layout`);
    }
  }
  let cursor = base;
  for (const rule of LAYOUT) {
    if (rule.align) cursor = alignUp(cursor, rule.align);
    if (rule.startSymbol) symbols.set(rule.startSymbol, cursor);
    const start = cursor;
    for (const name of rule.inputs) {
      for (const { result } of objects) {
        for (const s of result.sections) {
          if (s.name !== name || !s.flags.alloc) continue;
          cursor = alignUp(cursor, BigInt(s.align || 1));
          placed.set(s, cursor);
          cursor += BigInt(s.size);
        }
      }
    }
    if (rule.endAlign) cursor = alignUp(cursor, rule.endAlign);
    if (rule.endSymbol) symbols.set(rule.endSymbol, cursor);
    if (rule.inputs.length) outSections.push({ name: rule.inputs.join('+'), start, end: cursor });
  }
  const end = cursor;
  const bytes = new Uint8Array(Number(end - base));
  for (const [s, a] of placed) if (!s.isNobits) bytes.set(s.contents(), Number(a - base));

  // Symbols: globals across objects; locals per object.
  const allSymbols = new Map<string, bigint>();
  const localsOf = new Map<AssembleResult, Map<string, bigint>>();
  for (const { file, result } of objects) {
    const locals = new Map<string, bigint>();
    for (const sym of result.symbols) {
      if (!sym.defined || sym.internal) continue;
      let value: bigint;
      if (sym.section) {
        const a = placed.get(sym.section);
        if (a === undefined) continue;
        value = a + sym.value;
      } else {
        value = sym.value;
      }
      locals.set(sym.name, value);
      if (!allSymbols.has(sym.name)) allSymbols.set(sym.name, value);
      if (sym.binding !== 'local') {
        if (symbols.has(sym.name)) throw new KernelImageError(`asm/${file}: symbol '${sym.name}' is defined twice`);
        symbols.set(sym.name, value);
      }
    }
    localsOf.set(result, locals);
  }
  for (const [k, v] of symbols) if (!allSymbols.has(k)) allSymbols.set(k, v);

  const view = new DataView(bytes.buffer);
  const hypRelocs: bigint[] = [];
  for (const { file, result } of objects) {
    const locals = localsOf.get(result)!;
    for (const r of result.relocations) {
      const sa = placed.get(r.section);
      if (sa === undefined) continue;
      let target: bigint | undefined;
      if ('name' in r.symbol) {
        target = (r.symbol.binding === 'local' ? locals.get(r.symbol.name) : undefined) ?? symbols.get(r.symbol.name) ?? locals.get(r.symbol.name);
        if (target === undefined) throw new KernelImageError(`asm/${file}: undefined symbol '${r.symbol.name}'`);
      } else {
        target = placed.get(r.symbol.section);
        if (target === undefined) throw new KernelImageError(`asm/${file}: relocation against non-allocated section ${r.symbol.section.name}`);
      }
      const S_A = target + r.addend;
      const P = sa + BigInt(r.offset);
      const off = Number(P - base);
      const kind = KIND_BY_RELOC.get(r.type);
      if (!kind) throw new KernelImageError(`asm/${file}: unsupported relocation type ${r.type}`);
      switch (kind) {
        case 'data64':
          view.setBigUint64(off, BigInt.asUintN(64, S_A), true);
          // gen-hyprel: absolute addresses inside the hypervisor get rewritten to hyp VAs at boot.
          if (r.section.name.startsWith('.hyp.')) hypRelocs.push(P);
          continue;
        case 'data32': view.setUint32(off, Number(BigInt.asUintN(32, S_A)), true); continue;
        case 'data16': view.setUint16(off, Number(BigInt.asUintN(16, S_A)), true); continue;
        case 'prel64': view.setBigUint64(off, BigInt.asUintN(64, S_A - P), true); continue;
        case 'prel32': view.setUint32(off, Number(BigInt.asUintN(32, S_A - P)), true); continue;
        case 'prel16': view.setUint16(off, Number(BigInt.asUintN(16, S_A - P)), true); continue;
      }
      const value = kind === 'adrp21' || kind === 'adrp21_nc' ? (S_A & ~0xfffn) - (P & ~0xfffn) : isPcRel(kind) ? S_A - P : S_A;
      const patched = applyFixup(kind, view.getUint32(off, true), value);
      if (typeof patched === 'string') throw new KernelImageError(`asm/${file}: ${patched} (relocation at 0x${P.toString(16)})`);
      view.setUint32(off, patched, true);
    }
  }
  const idmapStart = symbols.get('__hyp_idmap_text_start')!;
  const idmapEnd = symbols.get('__hyp_idmap_text_end')!;
  // kvm_mmu_init: BUG_ON the idmap spanning more than one page.
  if ((idmapStart & ~(PAGE - 1n)) !== ((idmapEnd - 1n) & ~(PAGE - 1n))) {
    throw new KernelImageError(`the hyp idmap text [0x${idmapStart.toString(16)}, 0x${idmapEnd.toString(16)}) spans more than one page`);
  }
  const entry = symbols.get('primary_entry');
  if (entry === undefined) throw new KernelImageError('no primary_entry in the image');
  return {
    profile, base, bytes, entry, symbols, allSymbols,
    sections: outSections.filter((s) => s.end > s.start),
    hypRelocs,
    objects: objects.map((o) => ({ file: o.file, defines })),
  };
}

const LINKER_SYMBOLS = new Set(LAYOUT.flatMap((r) => [r.startSymbol, r.endSymbol]).filter((n): n is string => n !== undefined));

const sortedSymbols = new WeakMap<KernelImage, { addr: bigint; name: string }[]>();

/** The symbol at or before `addr` (for traces and reports), as `name+0xoff`; assembler-local .L names are skipped. */
export function symbolize(image: KernelImage, addr: bigint): string | undefined {
  let list = sortedSymbols.get(image);
  if (!list) {
    const byAddr = new Map<bigint, string>();
    for (const [name, v] of image.allSymbols) {
      if (name.startsWith('.L') || name.startsWith('$')) continue;
      const prev = byAddr.get(v);
      // At one address: a name from the code beats a linker-script boundary, a global beats
      // a local, and otherwise the later label wins (the code that starts there, rather than
      // a label that ends what came before).
      const rank = (n: string): number => (LINKER_SYMBOLS.has(n) ? 0 : image.symbols.has(n) ? 2 : 1);
      if (prev === undefined || rank(name) >= rank(prev)) byAddr.set(v, name);
    }
    list = [...byAddr].map(([a, name]) => ({ addr: a, name })).sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : 0));
    sortedSymbols.set(image, list);
  }
  let lo = 0;
  let hi = list.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.addr <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  const b = list[best]!;
  const end = image.base + BigInt(image.bytes.length);
  if (addr >= end || addr - b.addr > 0x10000n) return undefined;
  return addr === b.addr ? b.name : `${b.name}+0x${(addr - b.addr).toString(16)}`;
}

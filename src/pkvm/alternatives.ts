/**
 * Boot-time code patching as the kernel does it before KVM starts (pkvm-facts §4.5):
 *
 * - `apply_alternatives_all` (arch/arm64/kernel/alternative.c): for every
 *   .altinstructions record whose capability the system has, copy the replacement over
 *   the original sequence, fixing up PC-relative branches and ADRPs that point outside
 *   the replacement (get_alt_insn); callback records (bit 15 of the capability) call a
 *   kernel function that writes the instructions itself (kvm_get_kimage_voffset here).
 * - `kvm_apply_hyp_relocations` (arch/arm64/kvm/va_layout.c): every 64-bit absolute
 *   address inside the hypervisor (gen-hyprel's list) becomes the hyp VA of what it
 *   points to.
 *
 * Both write the image in emulated memory: the CPUs drop what they decoded from the
 * pages that change.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PhysMem } from './hyp-memory.js';
import type { KernelImage } from './kernel-image.js';
import { hex } from './layout.js';

export const ARM64_CB_BIT = 1 << 15;

/** Capability numbers by name, from asm/include/asm/cpucaps.h (the numbers the objects carry). */
export function readCpucaps(root: string): Map<number, string> {
  const text = readFileSync(join(root, 'asm', 'include', 'asm', 'cpucaps.h'), 'utf8');
  const out = new Map<number, string>();
  for (const m of text.matchAll(/^#define\s+(ARM64_\w+)\s+(\d+)\s*$/gm)) {
    if (m[1] !== 'ARM64_NCAPS') out.set(Number(m[2]), m[1]!);
  }
  return out;
}

/**
 * The capabilities the model's system has: from the CPU's ID registers where the
 * kernel reads them there, plus what the boot configuration implies
 * (kvm-arm.mode=protected, nVHE).
 */
export function detectCaps(idRegs: { isar1: bigint; mmfr2: bigint; pfr1: bigint }): Set<string> {
  const caps = new Set<string>(['ARM64_ALWAYS_BOOT', 'ARM64_ALWAYS_SYSTEM', 'ARM64_KVM_PROTECTED_MODE']);
  if ((idRegs.mmfr2 & 0xfn) !== 0n) caps.add('ARM64_HAS_CNP');
  if (((idRegs.isar1 >> 4n) & 0xfn) !== 0n || ((idRegs.isar1 >> 8n) & 0xfn) !== 0n) caps.add('ARM64_HAS_ADDRESS_AUTH');
  if (((idRegs.isar1 >> 36n) & 0xfn) !== 0n) caps.add('ARM64_HAS_SB');
  if ((idRegs.pfr1 & 0xfn) !== 0n) caps.add('ARM64_BTI');
  return caps;
}

export interface PatchRecord {
  readonly site: bigint;
  readonly cap: string;
  readonly callback?: string;
  readonly applied: boolean;
  readonly bytes: number;
}

const signExtend = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/**
 * get_alt_insn: an instruction of a replacement, moved from `from` to `to`; PC-relative
 * branches and ADRP aimed outside [altStart, altEnd) keep their target.
 */
function relocateInsn(insn: number, from: bigint, to: bigint, altStart: bigint, altEnd: bigint): number {
  const w = insn >>> 0;
  const fix = (target: bigint, encode: (delta: bigint) => number): number =>
    target >= altStart && target < altEnd ? w : encode(target - to) >>> 0;
  // B / BL: imm26
  if ((w & 0x7c00_0000) === 0x1400_0000) {
    const target = from + BigInt(signExtend(w & 0x03ff_ffff, 26) * 4);
    return fix(target, (d) => (w & 0xfc00_0000) | (Number((d >> 2n) & 0x03ff_ffffn)));
  }
  // B.cond, CBZ/CBNZ: imm19 at [23:5]
  if ((w & 0xff00_0010) === 0x5400_0000 || (w & 0x7e00_0000) === 0x3400_0000) {
    const target = from + BigInt(signExtend((w >>> 5) & 0x7ffff, 19) * 4);
    return fix(target, (d) => (w & ~(0x7ffff << 5)) | (Number((d >> 2n) & 0x7ffffn) << 5));
  }
  // TBZ/TBNZ: imm14 at [18:5]
  if ((w & 0x7e00_0000) === 0x3600_0000) {
    const target = from + BigInt(signExtend((w >>> 5) & 0x3fff, 14) * 4);
    return fix(target, (d) => (w & ~(0x3fff << 5)) | (Number((d >> 2n) & 0x3fffn) << 5));
  }
  // ADRP: the page offset is relative to the instruction's own page.
  if ((w & 0x9f00_0000) === 0x9000_0000) {
    const imm = signExtend((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3), 21);
    const targetPage = (from & ~0xfffn) + (BigInt(imm) << 12n);
    if (targetPage >= (altStart & ~0xfffn) && targetPage < altEnd) return w;
    const delta = (targetPage - (to & ~0xfffn)) >> 12n;
    const v = Number(delta & 0x1fffffn);
    return ((w & 0x9f00_001f) | ((v & 3) << 29) | (((v >>> 2) & 0x7ffff) << 5)) >>> 0;
  }
  return w;
}

/** generate_mov_q: MOVZ/MOVK of `value` into the register of the original first instruction. */
function generateMovQ(value: bigint, origFirst: number, nrInst: number): number[] {
  const rd = origFirst & 0x1f;
  const out: number[] = [];
  for (let i = 0; i < nrInst; i++) {
    const imm16 = Number((value >> BigInt(16 * i)) & 0xffffn);
    const base = i === 0 ? 0xd280_0000 : 0xf280_0000;
    out.push((base | (i << 21) | (imm16 << 5) | rd) >>> 0);
  }
  return out;
}

export interface AlternativesEnv {
  readonly image: KernelImage;
  readonly mem: PhysMem;
  readonly capNames: Map<number, string>;
  readonly caps: ReadonlySet<string>;
  /** Values the callbacks patch in, by callback name. */
  readonly callbackValues: Record<string, bigint>;
}

/** apply_alternatives_all: patch the image in memory; returns what was done, record by record. */
export function applyAlternatives(env: AlternativesEnv): PatchRecord[] {
  const { image, mem } = env;
  const start = image.symbols.get('__alt_instructions')!;
  const end = image.symbols.get('__alt_instructions_end')!;
  const byAddr = new Map<bigint, string>();
  for (const [name, v] of image.symbols) byAddr.set(v, name);
  const records: PatchRecord[] = [];
  const read32 = (a: bigint): number => Number(mem.read64(a & ~7n) >> ((a & 4n) * 8n) & 0xffff_ffffn);
  const write32 = (a: bigint, v: number): void => {
    const q = mem.read64(a & ~7n);
    const shift = (a & 4n) * 8n;
    mem.write64(a & ~7n, (q & ~(0xffff_ffffn << shift)) | (BigInt(v >>> 0) << shift));
  };
  for (let rec = start; rec + 12n <= end; rec += 12n) {
    const w0 = read32(rec);
    const w1 = read32(rec + 4n);
    const w2 = read32(rec + 8n);
    const orig = rec + BigInt(w0 | 0);
    const alt = rec + 4n + BigInt(w1 | 0);
    const capField = w2 & 0xffff;
    const origLen = (w2 >>> 16) & 0xff;
    const altLen = (w2 >>> 24) & 0xff;
    const isCb = (capField & ARM64_CB_BIT) !== 0;
    const capNo = capField & ~ARM64_CB_BIT;
    const cap = env.capNames.get(capNo) ?? `cap ${capNo}`;
    if (!env.caps.has(cap)) {
      records.push({ site: orig, cap, applied: false, bytes: origLen, callback: isCb ? byAddr.get(alt) : undefined });
      continue;
    }
    if (isCb) {
      const name = byAddr.get(alt) ?? hex(alt);
      const value = env.callbackValues[name];
      if (value === undefined) throw new Error(`alternatives: no model for the callback ${name} (site ${hex(orig)})`);
      const insns = generateMovQ(value, read32(orig), origLen / 4);
      insns.forEach((w, i) => write32(orig + BigInt(4 * i), w));
      records.push({ site: orig, cap, callback: name, applied: true, bytes: origLen });
      continue;
    }
    if (altLen !== origLen) throw new Error(`alternatives: record at ${hex(rec)} has lengths ${origLen} and ${altLen}`);
    const altEnd = alt + BigInt(altLen);
    for (let i = 0n; i < BigInt(altLen); i += 4n) {
      write32(orig + i, relocateInsn(read32(alt + i), alt + i, orig + i, alt, altEnd));
    }
    records.push({ site: orig, cap, applied: true, bytes: origLen });
  }
  return records;
}

/** kvm_apply_hyp_relocations: every absolute address inside the hypervisor becomes a hyp VA. */
export function applyHypRelocations(image: KernelImage, mem: PhysMem, toHypVa: (kimgVa: bigint) => bigint): { at: bigint; from: bigint; to: bigint }[] {
  const out: { at: bigint; from: bigint; to: bigint }[] = [];
  for (const at of image.hypRelocs) {
    const from = mem.read64(at);
    const to = toHypVa(from);
    mem.write64(at, to);
    out.push({ at, from, to });
  }
  return out;
}

/**
 * Links one assembled object into a flat image at a base address: allocatable
 * sections laid out in order with their alignment, relocations applied.
 * Undefined symbols are an error (there is nothing else to link against).
 */
import { applyFixup } from '../isa/fixups.js';
import type { FixupKind } from '../isa/fixups.js';
import { RELOC } from '../isa/fixups.js';
import type { AssembleResult } from './assembler.js';
import type { Section } from './sections.js';

export interface FlatImage {
  base: bigint;
  bytes: Uint8Array;
  /** Address of each allocatable section. */
  sectionAddress: Map<string, bigint>;
  /** Every named symbol's address (labels and equates). */
  symbols: Map<string, bigint>;
}

export class LinkError extends Error {}

const KIND_BY_RELOC = new Map<number, FixupKind>(Object.entries(RELOC).map(([k, v]) => [v, k as FixupKind]));

export function linkFlat(result: AssembleResult, base: bigint): FlatImage {
  const addr = new Map<Section, bigint>();
  let cursor = base;
  let end = base;
  for (const s of result.sections) {
    if (!s.flags.alloc) continue;
    const a = BigInt(s.align || 1);
    cursor = (cursor + a - 1n) / a * a;
    addr.set(s, cursor);
    cursor += BigInt(s.size);
    end = cursor;
  }
  const bytes = new Uint8Array(Number(end - base));
  for (const [s, a] of addr) if (!s.isNobits) bytes.set(s.contents(), Number(a - base));
  const symbols = new Map<string, bigint>();
  for (const sym of result.symbols) {
    if (!sym.defined || sym.internal) continue;
    const sa = sym.section ? addr.get(sym.section) : 0n;
    if (sym.section && sa === undefined) continue;
    symbols.set(sym.name, (sa ?? 0n) + sym.value);
  }
  const sectionAddress = new Map<string, bigint>([...addr].map(([s, a]) => [s.name, a]));
  for (const r of result.relocations) {
    const sa = addr.get(r.section);
    if (sa === undefined) continue; // relocations in non-allocated sections do not reach the image
    let target: bigint;
    if ('name' in r.symbol) {
      const v = symbols.get(r.symbol.name);
      if (v === undefined) throw new LinkError(`undefined symbol '${r.symbol.name}'`);
      target = v;
    } else {
      const t = addr.get(r.symbol.section);
      if (t === undefined) throw new LinkError(`relocation against non-allocated section ${r.symbol.section.name}`);
      target = t;
    }
    const S_A = target + r.addend;
    const P = sa + BigInt(r.offset);
    const off = Number(P - base);
    const kind = KIND_BY_RELOC.get(r.type);
    if (!kind) throw new LinkError(`unsupported relocation type ${r.type}`);
    const view = new DataView(bytes.buffer);
    switch (kind) {
      case 'data64': view.setBigUint64(off, BigInt.asUintN(64, S_A), true); continue;
      case 'data32': view.setUint32(off, Number(BigInt.asUintN(32, S_A)), true); continue;
      case 'data16': view.setUint16(off, Number(BigInt.asUintN(16, S_A)), true); continue;
      case 'prel64': view.setBigUint64(off, BigInt.asUintN(64, S_A - P), true); continue;
      case 'prel32': view.setUint32(off, Number(BigInt.asUintN(32, S_A - P)), true); continue;
      case 'prel16': view.setUint16(off, Number(BigInt.asUintN(16, S_A - P)), true); continue;
    }
    const value = kind === 'adrp21' || kind === 'adrp21_nc' ? (S_A & ~0xfffn) - (P & ~0xfffn)
      : isPcRel(kind) ? S_A - P : S_A;
    const patched = applyFixup(kind, view.getUint32(off, true), value);
    if (typeof patched === 'string') throw new LinkError(`${patched} (relocation at 0x${P.toString(16)})`);
    view.setUint32(off, patched, true);
  }
  return { base, bytes, sectionAddress, symbols };
}

function isPcRel(kind: FixupKind): boolean {
  return ['branch26', 'call26', 'condbr19', 'tstbr14', 'ld_prel19', 'adr21'].includes(kind) || kind.startsWith('movw_prel');
}

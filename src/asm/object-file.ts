/**
 * Turns an assembly result into the ELF object model (src/elf/model.ts) with
 * the symbol-table contents GNU as produces: labels except `.L` ones,
 * referenced or `.globl` undefined symbols, equates, and $x/$d mapping symbols.
 */
import type { ObjectModel, ObjReloc, ObjSymbol } from '../elf/model.js';
import type { AssembleResult } from './assembler.js';
import type { AsmSymbol } from './sections.js';

export function toObjectModel(result: AssembleResult): ObjectModel {
  const symbols: ObjSymbol[] = [];
  for (const s of result.sections) {
    for (const m of s.finalMappingSymbols()) {
      symbols.push({ name: m.name, value: BigInt(m.offset), size: 0n, section: s.name, binding: 'local', type: 'notype', visibility: 'default' });
    }
  }
  for (const sym of result.symbols) {
    if (!includeInSymbolTable(sym)) continue;
    const size = sym.size && sym.size.t === 'num' ? sym.size.v : 0n;
    symbols.push({
      name: sym.name,
      value: sym.defined ? sym.value : 0n,
      size,
      section: !sym.defined ? 'UND' : sym.section ? sym.section.name : 'ABS',
      binding: !sym.defined && sym.binding === 'local' ? 'global' : sym.binding,
      type: sym.type === 'tls' ? 'tls' : sym.type,
      visibility: sym.visibility,
    });
  }
  const sections = result.sections.map((s) => {
    const relocs: ObjReloc[] = result.relocations
      .filter((r) => r.section === s)
      .map((r) => ({
        offset: r.offset,
        type: r.type,
        symbol: 'name' in r.symbol ? r.symbol.name : { section: r.symbol.section.name },
        addend: r.addend,
      }));
    return {
      name: s.name,
      type: s.type,
      flags: s.flags,
      align: s.align,
      entsize: s.entsize || undefined,
      data: s.contents(),
      size: s.size,
      relocs,
    };
  });
  return { sections, symbols };
}

function includeInSymbolTable(sym: AsmSymbol): boolean {
  if (sym.internal || sym.name.startsWith('.L')) return false;
  if (sym.defined) return true;
  if (sym.equated) return false;
  // Undefined: kept when referenced, or declared global (not weak: gas drops an unused weak reference).
  return sym.referenced || (sym.binding === 'global' && sym.explicitBinding);
}

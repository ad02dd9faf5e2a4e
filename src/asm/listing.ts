/**
 * A listing of an assembly: section, offset, encoded bytes and the source
 * line that produced them, in address order per section.
 */
import type { AssembleResult } from './assembler.js';
import { disassemble } from '../isa/disasm.js';

/**
 * With `image` (a flat link), encodings are read from the linked bytes, so
 * relocated instructions show their final form.
 */
export function formatListing(result: AssembleResult, opts: { base?: Map<string, bigint>; image?: { base: bigint; bytes: Uint8Array } } = {}): string {
  const out: string[] = [];
  for (const s of result.sections) {
    if (s.listing.length === 0) continue;
    out.push(`\nsection ${s.name}:`);
    const base = opts.base?.get(s.name) ?? 0n;
    for (const entry of [...s.listing].sort((a, b) => a.offset - b.offset)) {
      const addr = (base + BigInt(entry.offset)).toString(16).padStart(base ? 16 : 8, '0');
      const at = opts.image ? Number(base + BigInt(entry.offset) - opts.image.base) : -1;
      const b = opts.image?.bytes;
      const word = b && at >= 0 ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0 : s.readWord(entry.offset);
      const hex = word.toString(16).padStart(8, '0');
      const src = `${entry.loc.file}:${entry.loc.line}`;
      const text = (entry.loc.text ?? '').trim().replace(/\s+/g, ' ');
      const dis = disassemble(word, { address: base + BigInt(entry.offset) }).text.replace(/\t/, ' ');
      out.push(`  ${addr}  ${hex}  ${dis.padEnd(36)}  ${src.padEnd(28)} ${text}`);
    }
  }
  return out.join('\n').trimStart() + '\n';
}

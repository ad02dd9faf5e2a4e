/**
 * The disassembler: prints a word in GNU objdump's syntax using the
 * instruction table's operand kinds.
 */
import { decodeForDisassembly } from './decode.js';
import type { FormatEnv } from './operand-kinds.js';

export interface DisasmOptions {
  /** Address of the instruction (for branch targets). */
  address?: bigint;
  /** Symbolizer for targets: returns e.g. '<main+0x8>' or undefined. */
  symbolize?: (addr: bigint) => string | undefined;
}

export interface Disassembly {
  text: string;
  mnemonic: string;
  operands: string[];
  /** The table entry's id, or undefined for an unallocated/undefined encoding. */
  id?: string;
  exec?: string;
}

export function disassemble(word: number, opts: DisasmOptions = {}): Disassembly {
  const decoded = decodeForDisassembly(word >>> 0);
  if (!decoded) {
    const hex = (word >>> 0).toString(16).padStart(8, '0');
    return { text: `.inst\t0x${hex} ; undefined`, mnemonic: '.inst', operands: [`0x${hex}`] };
  }
  const { def, fields } = decoded;
  const address = opts.address ?? 0n;
  const env: FormatEnv = {
    address,
    target: (raw) => {
      const addr = BigInt.asUintN(64, raw);
      const sym = opts.symbolize?.(addr);
      return sym ? `${addr.toString(16)} ${sym}` : `0x${addr.toString(16)}`;
    },
  };
  const operands: string[] = [];
  for (const op of def.operands) {
    const text = op.kind.format(fields, env, def);
    if (text !== undefined) operands.push(text);
  }
  const text = operands.length ? `${def.mnemonic}\t${operands.join(', ')}` : def.mnemonic;
  return { text, mnemonic: def.mnemonic, operands, id: def.id, exec: def.exec };
}

/**
 * Helpers that build instruction-table entries from compact declarations.
 * `sized` declares an integer instruction once and expands it into its 32-bit
 * (sf=0, W registers) and 64-bit (sf=1, X registers) forms.
 */
import type { Feature, Fields, InsnDef, OperandSpec } from './insn-def.js';
import { parsePattern } from './pattern.js';
import { resolveKind } from './operand-kinds.js';

export interface DefOptions {
  exec: string;
  id?: string;
  datasize?: number;
  /** Disassembler alias: preferred when the predicate holds (true = always when the pattern matches). */
  alias?: true | ((f: Fields, d: InsnDef) => boolean);
  asmOnly?: boolean;
  feature?: Feature;
  params?: Record<string, number | string>;
}

let currentGroup = 'base';
export function group(name: string): void { currentGroup = name; }

const usedIds = new Set<string>();

export function splitTemplate(template: string): string[] {
  return template.trim() === '' ? [] : template.split(/\s*,\s*/);
}

export function def(mnemonic: string, template: string, pattern: string, opts: DefOptions): InsnDef {
  const parsed = parsePattern(pattern);
  const operands: OperandSpec[] = splitTemplate(template).map((token) => ({
    token,
    kind: resolveKind(token),
    optional: token.endsWith('?'),
  }));
  const fieldNames = new Set(parsed.fields.map((f) => f.name));
  for (const op of operands) {
    for (const name of op.kind.fields) {
      if (!fieldNames.has(name)) {
        throw new Error(`${mnemonic} '${template}': operand ${op.token} needs field ${name} missing from pattern '${pattern}'`);
      }
    }
  }
  let id = opts.id ?? `${mnemonic.toUpperCase()}_${template.replace(/[^A-Za-z0-9]+/g, '_')}`;
  while (usedIds.has(id)) id += "'";
  usedIds.add(id);
  const alias = opts.alias !== undefined;
  return {
    id,
    mnemonic,
    operands,
    pattern,
    mask: parsed.mask,
    value: parsed.value,
    fields: parsed.fields,
    exec: opts.exec,
    datasize: opts.datasize ?? 0,
    alias,
    preferred: opts.alias === true ? () => true : opts.alias,
    asmOnly: opts.asmOnly ?? false,
    feature: opts.feature,
    params: opts.params ?? {},
    group: currentGroup,
  };
}

/**
 * Declares a 32/64-bit pair. In the template, register tokens written with 'R'
 * (Rd, Rn|sp, Rm, Ra, Rt, Rt2, Rs) become W or X; '#immr'/'#imms' narrow for W.
 * In the pattern, 'sf' (and 'Nsf' for N=sf) become the fixed bit.
 */
export function sized(mnemonic: string, template: string, pattern: string, opts: DefOptions & { only?: 32 | 64 }): InsnDef[] {
  const out: InsnDef[] = [];
  for (const size of [32, 64] as const) {
    if (opts.only && opts.only !== size) continue;
    const sf = size === 64 ? '1' : '0';
    const t = splitTemplate(template)
      .map((tok) => tok.replace(/^R(d|n|m|a|t2|t|s)(\|sp)?$/, (_m, r: string, sp?: string) => `${size === 64 ? 'X' : 'W'}${r}${sp ?? ''}`))
      .map((tok) => (size === 32 && (tok === '#immr' || tok === '#imms') ? `${tok}32` : tok))
      .join(', ');
    // 'N' of a logical immediate must be 0 in the 32-bit form; 'Nsf' is N=sf (bitfield, extract).
    const p = pattern.replace(/\bsf\b/g, sf).replace(/\bNsf\b/g, sf).replace(/\bN\b/g, size === 32 ? 'N=0' : 'N');
    out.push(def(mnemonic, t, p, { ...opts, datasize: opts.datasize ?? size, id: opts.id ? `${opts.id}_${size}` : undefined }));
  }
  return out;
}

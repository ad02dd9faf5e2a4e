/**
 * Instruction encoding: finds the table entry whose operand kinds accept the
 * parsed operands, and builds the 32-bit word from its pattern and fields.
 */
import type { Operand } from '../isa/operand-ir.js';
import type { Fields, InsnDef, Feature } from '../isa/insn-def.js';
import type { EncodeEnv } from '../isa/operand-kinds.js';
import type { FixupKind } from '../isa/fixups.js';
import type { Expr } from '../isa/operand-ir.js';
import { entriesForMnemonic } from '../isa/table.js';
import { insertField } from '../isa/pattern.js';

export interface EncodeSuccess {
  ok: true;
  word: number;
  def: InsnDef;
  fixups: { kind: FixupKind; expr: Expr }[];
  literal?: { expr: Expr; size: 4 | 8 | 16 };
}

export interface EncodeFailure {
  ok: false;
  message: string;
  /** Index of the operand the message is about, or -1. */
  operand: number;
}

export type EncodeResult = EncodeSuccess | EncodeFailure;

export interface EncoderContext {
  constant: EncodeEnv['constant'];
  hasFeature(f: Feature): boolean;
}

/** How many parsed operands an entry can take, from its kinds' declared arities (cached on the entry). */
function operandCountRange(def: InsnDef): readonly [number, number] {
  const cached = (def as InsnDef & { operandCount?: readonly [number, number] }).operandCount;
  if (cached) return cached;
  let min = 0, max = 0;
  for (const op of def.operands) {
    const [lo, hi] = op.kind.consumes ?? [0, 2];
    min += lo; max += hi;
  }
  const r = [min, max] as const;
  (def as InsnDef & { operandCount?: readonly [number, number] }).operandCount = r;
  return r;
}

const FEATURE_NAMES: Partial<Record<Feature, string>> = { lse: 'lse', crc: 'crc', pauth: 'pauth' };

/**
 * The register class an entry's first operand requires, from its table token
 * ('Xd|sp' → x, 'Wt' → w, 'Qt' → q, 'Vd.16b' → v), or '*' for any other kind.
 * Lets the encoder skip, say, every FP form of `ldr` for `ldr x0, …`.
 */
function firstOperandClass(def: InsnDef): string {
  const t = def.operands[0]?.token ?? '';
  const m = /^([WXBHSDQV])(?:d|n|m|a|t|t2|s)(?:\||\.|$)/.exec(t);
  return m ? m[1]!.toLowerCase() : '*';
}

function operandClass(op: Operand | undefined): string {
  if (!op || op.k !== 'reg') return '';
  switch (op.reg.cls) {
    case 'x': case 'xzr': case 'sp': return 'x';
    case 'w': case 'wzr': case 'wsp': return 'w';
    default: return op.reg.cls;
  }
}

const candidatesByClass = new Map<string, Map<string, InsnDef[]>>();

function candidatesFor(mnemonic: string, first: Operand | undefined): readonly InsnDef[] | undefined {
  let byClass = candidatesByClass.get(mnemonic);
  if (!byClass) {
    if (!entriesForMnemonic(mnemonic)) return undefined;
    byClass = new Map();
    candidatesByClass.set(mnemonic, byClass);
  }
  const cls = operandClass(first);
  let list = byClass.get(cls);
  if (!list) {
    const all = entriesForMnemonic(mnemonic)!;
    list = all.filter((d) => {
      const want = firstOperandClass(d);
      return want === '*' || cls === '' || want === cls;
    });
    // Keep at least one candidate so the error message speaks about the operand.
    if (list.length === 0) list = [...all];
    byClass.set(cls, list);
  }
  return list;
}

const NO_FIXUPS: { kind: FixupKind; expr: Expr }[] = [];

/**
 * One Fields object per entry, reset before each attempt: trying candidates
 * allocates nothing, and each entry's object keeps one shape. The object is
 * only read until the next attempt with the same entry.
 */
const fieldsByDef = new WeakMap<InsnDef, { fields: Fields; keys: string[] }>();
function freshFields(def: InsnDef): Fields {
  let slot = fieldsByDef.get(def);
  if (!slot) {
    slot = { fields: {}, keys: def.fields.map((f) => f.name) };
    fieldsByDef.set(def, slot);
  }
  const f = slot.fields;
  // Keys a kind added beyond the pattern's fields (scratch values) are reset too.
  for (const k in f) f[k] = undefined as unknown as number;
  for (const spec of def.fields) if (spec.fixed !== undefined) f[spec.name] = spec.fixed;
  return f;
}

/** Reused across candidates and calls: fixups and the literal requested by the entry being tried. */
const attempt = {
  fixups: [] as { kind: FixupKind; expr: Expr }[],
  literal: undefined as EncodeSuccess['literal'],
};
const env: EncodeEnv = {
  constant: () => undefined,
  fixup: (kind, expr) => { attempt.fixups.push({ kind, expr }); },
  literal: (expr, size) => { attempt.literal = { expr, size }; },
};

export function encodeInstruction(mnemonic: string, operands: readonly Operand[], ctx: EncoderContext): EncodeResult {
  const lower = mnemonic.toLowerCase();
  const candidates = candidatesFor(lower, operands[0]);
  if (!candidates) return { ok: false, message: `unknown mnemonic '${mnemonic}'`, operand: -1 };
  // The best failure so far, kept as plain values: failing candidates allocate nothing.
  let bestMessage = '';
  let bestOperand = -1;
  let bestScore = -1;
  let missingFeature: Feature | undefined;
  const n = operands.length;
  env.constant = ctx.constant;
  for (const def of candidates) {
    const [minOps, maxOps] = operandCountRange(def);
    if (n < minOps || n > maxOps) {
      if (bestScore < 0) { bestMessage = n < minOps ? 'missing operands' : 'too many operands'; bestOperand = -1; bestScore = 0; }
      continue;
    }
    attempt.fixups.length = 0;
    attempt.literal = undefined;
    const fields = freshFields(def);
    let i = 0;
    let failed: string | undefined;
    let failedAt = -1;
    let matchedOperands = 0;
    for (let k = 0; k < def.operands.length; k++) {
      const used = def.operands[k]!.kind.encode(operands, i, fields, env, def);
      if (typeof used === 'string') { failed = used; failedAt = i; break; }
      i += used;
      matchedOperands++;
    }
    if (failed === undefined && i < operands.length) { failed = 'too many operands'; failedAt = i; }
    if (failed !== undefined) {
      // Prefer the candidate that got furthest: its message is about the operand the user got wrong.
      const score = matchedOperands * 2 + (failed.startsWith('expected') ? 0 : 1);
      if (score > bestScore) { bestMessage = failed; bestOperand = failedAt; bestScore = score; }
      continue;
    }
    if (def.params['copyRnToRm']) fields['Rm'] = fields['Rn']!;
    if (def.alias && def.preferred && !def.preferred(fields, def)) {
      const score = matchedOperands * 2 + 1;
      if (score > bestScore) { bestMessage = 'operand combination not allowed for this instruction'; bestOperand = -1; bestScore = score; }
      continue;
    }
    if (def.feature && !ctx.hasFeature(def.feature)) {
      missingFeature ??= def.feature;
      continue;
    }
    let word = def.value;
    for (const spec of def.fields) {
      const v = fields[spec.name];
      if (v !== undefined) word = insertField(word, spec, v);
    }
    return { ok: true, word: word >>> 0, def, fixups: attempt.fixups.length ? attempt.fixups.slice() : NO_FIXUPS, literal: attempt.literal };
  }
  if (missingFeature) {
    return { ok: false, message: `selected processor does not support \`${mnemonic}' (needs +${FEATURE_NAMES[missingFeature] ?? missingFeature})`, operand: -1 };
  }
  return bestScore >= 0 ? { ok: false, message: bestMessage, operand: bestOperand } : { ok: false, message: 'invalid operands', operand: -1 };
}

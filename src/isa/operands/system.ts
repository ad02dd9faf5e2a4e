/**
 * Operand kinds of the branch, exception-generation and system-instruction
 * table (src/isa/tables/branch-system.ts).
 *
 * Feature gating of names: GNU as 2.40 checks, for each system register and
 * each TLBI/DC/IC/AT operation name, that the selected architecture has the
 * feature that introduced it (`mrs x0, ttbr1_el2` needs armv8.1-a, `dc cvap`
 * armv8.2-a). The assembler gates whole entries by feature, so the table
 * declares one assembler-only entry per feature and these kinds accept a name
 * only in the entry whose `params.nameFeature` matches the name's requirement
 * ('' = baseline). Names whose feature the project does not model at all
 * (SVE, SME, SPE, FEAT_FGT, …) are rejected everywhere, which is what GNU
 * does under both the default arch and the all-features test preamble.
 */
import type { Feature, InsnDef } from '../insn-def.js';
import type { Operand } from '../operand-ir.js';
import { kindHelpers, registerKinds, type OperandKind } from '../operand-kinds.js';
import { lookupSysreg, sysregName } from '../sysreg-names.js';
import { lookupSysOp, sysOpName, type SysOpClass } from '../sysop-names.js';

const { imm, dec, immOperand, constantOf, inRange, matchGpr, regText } = kindHelpers;

/** A requirement the project models (an entry feature) or one it never enables. */
type NameRequirement = Feature | 'unmodelled';

// ---------------------------------------------------------------------------
// feature requirements of names, as GNU as 2.40 checks them

const SYSREG_REQUIREMENTS: [NameRequirement, string[]][] = [
  // VHE registers and the other armv8.1-a additions (the *_el12/*_el02 names are matched by suffix below).
  ['v8.1', ['ttbr1_el2', 'contextidr_el2', 'cnthv_tval_el2', 'cnthv_ctl_el2', 'cnthv_cval_el2']],
  ['lor', ['lorsa_el1', 'lorea_el1', 'lorn_el1', 'lorc_el1', 'lorid_el1']],
  ['pan', ['pan']],
  ['uao', ['uao']],
  ['v8.3', ['apiakeylo_el1', 'apiakeyhi_el1', 'apibkeylo_el1', 'apibkeyhi_el1', 'apdakeylo_el1', 'apdakeyhi_el1',
    'apdbkeylo_el1', 'apdbkeyhi_el1', 'apgakeylo_el1', 'apgakeyhi_el1', 'ccsidr2_el1']],
  ['v8.4', ['amcr_el0', 'amcfgr_el0', 'amcgcr_el0', 'amuserenr_el0', 'amcntenclr0_el0', 'amcntenset0_el0',
    'pmmir_el1', 'sder32_el2', 'trfcr_el1', 'trfcr_el2', 'vncr_el2', 'vsttbr_el2', 'vstcr_el2']],
  ['dit', ['dit']],
  ['v8.5', ['id_pfr2_el1', 'scxtnum_el0', 'scxtnum_el1', 'scxtnum_el2']],
  ['ssbs', ['ssbs']],
  ['memtag', ['tco', 'gcr_el1', 'rgsr_el1', 'tfsr_el1', 'tfsr_el2', 'tfsre0_el1']],
  // SVE, SME, SPE, FEAT_FGT/ECV (armv8.6-a) and FEAT_HCX (armv8.7-a): GNU needs extensions the project does not model.
  ['unmodelled', ['id_aa64zfr0_el1', 'zcr_el1', 'zcr_el2', 'id_aa64smfr0_el1', 'smcr_el1', 'smcr_el2', 'smpri_el1',
    'smprimap_el2', 'svcr', 'pmscr_el1', 'pmsicr_el1', 'pmsirr_el1', 'pmsfcr_el1', 'pmsevfr_el1', 'pmslatfr_el1',
    'pmsidr_el1', 'pmscr_el2', 'pmblimitr_el1', 'pmbptr_el1', 'pmbsr_el1', 'pmbidr_el1', 'cntpctss_el0',
    'cntvctss_el0', 'hfgrtr_el2', 'hfgwtr_el2', 'hfgitr_el2', 'hcrx_el2']],
];

const sysregRequirement = new Map<string, NameRequirement>();
for (const [req, names] of SYSREG_REQUIREMENTS) for (const n of names) sysregRequirement.set(n, req);

/** What a system register name needs ('' = baseline armv8-a). Generic s<op0>_<op1>_c<n>_c<m>_<op2> names need nothing. */
export function sysregNameRequirement(name: string): NameRequirement | '' {
  const lower = name.toLowerCase();
  const known = sysregRequirement.get(lower);
  if (known) return known;
  if (/_el(12|02)$/.test(lower)) return 'v8.1';
  return '';
}

/** TLBI operations that take no register (Rt is 31); the rest require one. */
const TLBI_WITHOUT_REGISTER = new Set([
  'vmalle1', 'vmalle1is', 'vmalle1os', 'alle1', 'alle1is', 'alle1os', 'alle2', 'alle2is', 'alle2os',
  'alle3', 'alle3is', 'alle3os', 'vmalls12e1', 'vmalls12e1is', 'vmalls12e1os', 'paall', 'paallos',
]);

/** The RME operations GNU 2.40 accepts under any architecture. */
const RME_OPERATIONS = new Set(['tlbi:paall', 'tlbi:paallos', 'tlbi:rpaos', 'tlbi:rpalos', 'dc:cipapa', 'dc:cigdpapa']);

/** What a TLBI/DC/IC/AT operation name needs ('' = baseline armv8-a). */
export function sysOpNameRequirement(cls: SysOpClass, name: string): NameRequirement | '' {
  const lower = name.toLowerCase();
  if (RME_OPERATIONS.has(`${cls}:${lower}`)) return '';
  switch (cls) {
    case 'tlbi':
      // Outer-shareable and range invalidations are armv8.4-a (FEAT_TLBIOS, FEAT_TLBIRANGE).
      return lower.endsWith('os') || lower.startsWith('r') ? 'v8.4' : '';
    case 'dc':
      if (lower === 'cvap') return 'v8.2';
      if (lower === 'cvadp') return 'v8.5';
      // Allocation-tag maintenance (igvac, cgdvap, gzva, …).
      return /g/.test(lower) ? 'memtag' : '';
    case 'at':
      return lower === 's1e1rp' || lower === 's1e1wp' ? 'v8.2' : '';
    case 'ic':
      return '';
  }
}

export function sysOpTakesRegister(cls: SysOpClass, name: string | undefined): boolean {
  if (name === undefined) return true;
  if (cls === 'tlbi') return !TLBI_WITHOUT_REGISTER.has(name);
  if (cls === 'ic') return name !== 'iallu' && name !== 'ialluis';
  return true;
}

/** Checks a name's requirement against the entry's `params.nameFeature`; returns an error or undefined. */
function checkRequirement(req: NameRequirement | '', def: InsnDef, what: string, name: string): string | undefined {
  if (req === 'unmodelled') return `selected processor does not support ${what} '${name}'`;
  const entryFeature = String(def.params['nameFeature'] ?? '');
  if (req !== entryFeature) return `${what} '${name}' needs a different architecture feature`;
  return undefined;
}

// ---------------------------------------------------------------------------
// kinds

function symbolName(op: Operand | undefined): string | undefined {
  const e = immOperand(op);
  return e && e.t === 'sym' ? e.name : undefined;
}

/**
 * MRS/MSR system register in a 16-bit field op0:op1:CRn:CRm:op2 (bits 20..5).
 * `forWrite` picks the name objdump prints for MSR where one encoding has a
 * read and a write name (dbgdtrrx_el0 / dbgdtrtx_el0).
 */
function systemRegister(forWrite: boolean): OperandKind {
  return {
    fields: ['sysreg'],
    consumes: [1, 1],
    encode(ops, i, f, _env, def) {
      const name = symbolName(ops[i]);
      if (name === undefined) return 'unknown or missing system register name';
      const enc = lookupSysreg(name);
      if (enc === undefined) return `unknown or missing system register name '${name}'`;
      const err = checkRequirement(sysregNameRequirement(name), def, 'system register name', name);
      if (err) return err;
      f['sysreg'] = enc;
      return 1;
    },
    format(f) {
      const enc = f['sysreg']!;
      if (forWrite && sysregName(enc) === 'dbgdtrrx_el0') return 'dbgdtrtx_el0';
      return sysregName(enc);
    },
  };
}

/** TLBI / DC / IC / AT operation name: op1, CRm and op2 (CRn is fixed by the pattern). */
function sysOperation(cls: SysOpClass): OperandKind {
  return {
    fields: ['op1', 'CRm', 'op2'],
    consumes: [1, 1],
    encode(ops, i, f, _env, def) {
      const name = symbolName(ops[i]);
      if (name === undefined) return `expected a ${cls} operation name`;
      const enc = lookupSysOp(cls, name);
      if (!enc) return `unknown ${cls} operation '${name}'`;
      const err = checkRequirement(sysOpNameRequirement(cls, name), def, `${cls} operation`, name);
      if (err) return err;
      f['op1'] = enc.op1; f['CRm'] = enc.crm; f['op2'] = enc.op2;
      return 1;
    },
    format: (f) => sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!) ?? `#${f['op1']}, C${f['CRm']}, #${f['op2']}`,
  };
}

function sysOpClassOf(def: InsnDef): SysOpClass {
  return def.mnemonic as SysOpClass;
}

/**
 * The Xt of a TLBI/DC/IC/AT alias. Operations without a register must be
 * written without one (Rt = 31) and print without one whatever Rt holds, as
 * objdump does.
 */
const sysOperationRegister: OperandKind = {
  fields: ['Rt'],
  consumes: [0, 1],
  encode(ops, i, f, _env, def) {
    const cls = sysOpClassOf(def);
    const takes = sysOpTakesRegister(cls, sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!));
    if (i >= ops.length) {
      if (takes) return 'missing register operand';
      f['Rt'] = 31;
      return 0;
    }
    if (!takes) return 'extraneous register';
    const n = matchGpr(ops[i], 'x', false);
    if (typeof n === 'string') return n;
    f['Rt'] = n;
    return 1;
  },
  format(f, _env, def) {
    const cls = sysOpClassOf(def);
    if (!sysOpTakesRegister(cls, sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!))) return undefined;
    return regText('x', f['Rt']!, false);
  },
};

/** An optional X register whose absence means 31 (xzr) and which prints only when not 31: SYS's Xt. */
function optionalRegister(field: string, omitted: number): OperandKind {
  return {
    fields: [field],
    consumes: [0, 1],
    encode(ops, i, f) {
      if (i >= ops.length) { f[field] = omitted; return 0; }
      const n = matchGpr(ops[i], 'x', false);
      if (typeof n === 'string') return n;
      f[field] = n;
      return 1;
    },
    format: (f) => (f[field] === omitted ? undefined : regText('x', f[field]!, false)),
  };
}

/** A fixed keyword operand (`csync` of psb/tsb, `rctx` of cfp/dvp/cpp). */
function keyword(word: string): OperandKind {
  return {
    fields: [],
    consumes: [1, 1],
    encode(ops, i) {
      const name = symbolName(ops[i]);
      return name !== undefined && name.toLowerCase() === word ? 1 : `expected '${word}'`;
    },
    format: () => word,
  };
}

const BTI_TARGETS = ['', 'c', 'j', 'jc'];

/** BTI's optional target: op2<2:1> of the hint (none, c, j, jc). */
const btiTarget: OperandKind = {
  fields: ['btitarget'],
  consumes: [0, 1],
  encode(ops, i, f) {
    if (i >= ops.length) { f['btitarget'] = 0; return 0; }
    const name = symbolName(ops[i]);
    const t = name === undefined ? -1 : BTI_TARGETS.indexOf(name.toLowerCase());
    if (t <= 0) return 'unknown option to BTI';
    f['btitarget'] = t;
    return 1;
  },
  format: (f) => (f['btitarget'] ? BTI_TARGETS[f['btitarget']!] : undefined),
};

/** MSR (immediate)'s PSTATE field name, fixed per entry by `params.pstate` (op1/op2 are pinned in the pattern). */
const pstateFieldName: OperandKind = {
  fields: [],
  consumes: [1, 1],
  encode(ops, i, _f, _env, def) {
    const name = symbolName(ops[i]);
    if (name === undefined) return 'expected a PSTATE field name';
    return name.toLowerCase() === def.params['pstate'] ? 1 : `unknown PSTATE field '${name}'`;
  },
  format: (_f, _env, def) => String(def.params['pstate']),
};

/** An unsigned immediate printed as objdump does (hex unless `print` is 'dec'). */
function unsigned(field: string, max: number, print: 'hex' | 'dec' = 'hex'): OperandKind {
  return {
    fields: [field],
    consumes: [1, 1],
    encode(ops, i, f, env) {
      const v = constantOf(ops[i], env);
      if (typeof v === 'string') return v;
      const err = inRange(v, 0n, BigInt(max), 'immediate value');
      if (err) return err;
      f[field] = Number(v);
      return 1;
    },
    format: (f) => (print === 'dec' ? dec(f[field]!) : imm(f[field]!)),
  };
}

/** An optional unsigned immediate with a default that objdump omits (clrex #15, dcps #0). */
function optionalUnsigned(field: string, max: number, omitted: number): OperandKind {
  const base = unsigned(field, max);
  return {
    fields: [field],
    consumes: [0, 1],
    encode(ops, i, f, env, def) {
      if (i >= ops.length) { f[field] = omitted; return 0; }
      return base.encode(ops, i, f, env, def);
    },
    format: (f, env, def) => (f[field] === omitted ? undefined : base.format(f, env, def)),
  };
}

/** DSB/DMB barrier option: a name or #imm4; unnamed values print as two hex digits (`dmb #0x00`). */
const BARRIER_NAMES: (string | undefined)[] = [undefined, 'oshld', 'oshst', 'osh', undefined, 'nshld', 'nshst', 'nsh',
  undefined, 'ishld', 'ishst', 'ish', undefined, 'ld', 'st', 'sy'];

const barrierOption: OperandKind = {
  fields: ['CRm'],
  consumes: [1, 1],
  encode(ops, i, f, env) {
    const name = symbolName(ops[i]);
    if (name !== undefined) {
      const idx = BARRIER_NAMES.indexOf(name.toLowerCase());
      if (idx < 0) return `unknown barrier option '${name}'`;
      f['CRm'] = idx;
      return 1;
    }
    const v = constantOf(ops[i], env, 'barrier option');
    if (typeof v === 'string') return v;
    const err = inRange(v, 0n, 15n, 'immediate value');
    if (err) return err;
    f['CRm'] = Number(v);
    return 1;
  },
  format: (f) => BARRIER_NAMES[f['CRm']!] ?? `#0x${f['CRm']!.toString(16).padStart(2, '0')}`,
};

/** ISB's optional option: only `sy` (15, omitted when printing) or #imm4. */
const isbOption: OperandKind = {
  fields: ['CRm'],
  consumes: [0, 1],
  encode(ops, i, f, env) {
    if (i >= ops.length) { f['CRm'] = 15; return 0; }
    const name = symbolName(ops[i]);
    if (name !== undefined) {
      if (name.toLowerCase() !== 'sy') return 'the specified option is not accepted in ISB';
      f['CRm'] = 15;
      return 1;
    }
    const v = constantOf(ops[i], env, 'barrier option');
    if (typeof v === 'string') return v;
    const err = inRange(v, 0n, 15n, 'immediate value');
    if (err) return err;
    f['CRm'] = Number(v);
    return 1;
  },
  format: (f) => (f['CRm'] === 15 ? undefined : imm(f['CRm']!)),
};

registerKinds({
  'sysreg.read': systemRegister(false),
  'sysreg.write': systemRegister(true),
  'op.tlbi': sysOperation('tlbi'),
  'op.dc': sysOperation('dc'),
  'op.ic': sysOperation('ic'),
  'op.at': sysOperation('at'),
  'op.Xt?': sysOperationRegister,
  'sys.Xt?': optionalRegister('Rt', 31),
  'ret.Xn?': optionalRegister('Rn', 30),
  'csync': keyword('csync'),
  'rctx': keyword('rctx'),
  'bti?': btiTarget,
  'pstate.name': pstateFieldName,
  '#pstate.1': unsigned('imm1', 1),
  '#pstate.4': unsigned('CRm', 15),
  '#clrex?': optionalUnsigned('CRm', 15, 15),
  '#dcps?': optionalUnsigned('imm16', 0xffff, 0),
  '#udf': unsigned('imm16', 0xffff, 'dec'),
  'barrier.option': barrierOption,
  'isb.option?': isbOption,
  '#rmif.shift': unsigned('imm6', 63, 'dec'),
  '#rmif.mask': unsigned('mask', 15, 'dec'),
});

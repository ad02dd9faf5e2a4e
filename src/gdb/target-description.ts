/**
 * The register layout gdb sees and the target description XML that names it.
 *
 * Numbering (the `p`/`P` register numbers, and the order of the `g` packet):
 *   0..30 x0–x30, 31 sp, 32 pc, 33 cpsr            org.gnu.gdb.aarch64.core
 *   34..65 v0–v31 (128-bit), 66 fpsr, 67 fpcr      org.gnu.gdb.aarch64.fpu
 *   68..   system registers (64-bit)               SYSTEM_FEATURE below
 * The `g` packet carries the core and FP/SIMD registers; gdb reads the
 * system registers one by one with `p` (it does so for any register past
 * the end of the `g` reply).
 */

export const SYSTEM_FEATURE = 'org.pkvm-boot-lab.aarch64.system';

export type RegisterKind = 'x' | 'sp' | 'pc' | 'cpsr' | 'v' | 'fpsr' | 'fpcr' | 'el' | 'sp_el' | 'sysreg';

export interface GdbRegister {
  /** Register number in the protocol. */
  regnum: number;
  /** Name in the target description (what gdb shows). */
  name: string;
  bitsize: number;
  /** Type name: a predefined gdb type or one defined in the description. */
  type: string;
  group?: string;
  feature: string;
  kind: RegisterKind;
  /** Index within its kind: n of xN/vN/SP_ELn. */
  index: number;
  /** For 'sysreg': the emulator's register name. */
  sysreg?: string;
}

/** Number of registers in the `g` packet (core + FP/SIMD). */
export const G_PACKET_REGISTERS = 68;

/**
 * System registers offered to gdb, in this order (those the CPU model does
 * not implement are left out). Chosen for boot code: the EL2 and EL1
 * translation, trap and exception state.
 */
export const SYSTEM_REGISTER_NAMES = [
  'sctlr_el1', 'sctlr_el2', 'hcr_el2',
  'tcr_el1', 'ttbr0_el1', 'ttbr1_el1', 'mair_el1',
  'tcr_el2', 'ttbr0_el2', 'mair_el2', 'vtcr_el2', 'vttbr_el2',
  'vbar_el1', 'vbar_el2',
  'esr_el1', 'elr_el1', 'spsr_el1', 'far_el1',
  'esr_el2', 'elr_el2', 'spsr_el2', 'far_el2', 'hpfar_el2',
  'par_el1', 'cptr_el2', 'mdcr_el2', 'hstr_el2', 'cpacr_el1',
  'cnthctl_el2', 'cntvoff_el2', 'tpidr_el1', 'tpidr_el2',
  'vpidr_el2', 'vmpidr_el2', 'mpidr_el1', 'midr_el1',
] as const;

/** The full layout; `hasSysreg` filters the system registers to those the model implements. */
export function aarch64Registers(hasSysreg: (name: string) => boolean): GdbRegister[] {
  const regs: GdbRegister[] = [];
  const core = 'org.gnu.gdb.aarch64.core';
  const fpu = 'org.gnu.gdb.aarch64.fpu';
  const add = (r: Omit<GdbRegister, 'regnum'>) => { regs.push({ ...r, regnum: regs.length }); };
  for (let n = 0; n <= 30; n++) add({ name: `x${n}`, bitsize: 64, type: 'int64', feature: core, kind: 'x', index: n });
  add({ name: 'sp', bitsize: 64, type: 'data_ptr', feature: core, kind: 'sp', index: 0 });
  add({ name: 'pc', bitsize: 64, type: 'code_ptr', feature: core, kind: 'pc', index: 0 });
  add({ name: 'cpsr', bitsize: 32, type: 'pstate_flags', feature: core, kind: 'cpsr', index: 0 });
  for (let n = 0; n <= 31; n++) add({ name: `v${n}`, bitsize: 128, type: 'vreg', group: 'vector', feature: fpu, kind: 'v', index: n });
  add({ name: 'fpsr', bitsize: 32, type: 'int', group: 'float', feature: fpu, kind: 'fpsr', index: 0 });
  add({ name: 'fpcr', bitsize: 32, type: 'int', group: 'float', feature: fpu, kind: 'fpcr', index: 0 });
  // The current exception level, on its own so `info registers el` and `$el` work.
  add({ name: 'el', bitsize: 64, type: 'uint64', group: 'system', feature: SYSTEM_FEATURE, kind: 'el', index: 0 });
  for (let n = 0; n <= 2; n++) add({ name: `sp_el${n}`, bitsize: 64, type: 'data_ptr', group: 'system', feature: SYSTEM_FEATURE, kind: 'sp_el', index: n });
  for (const name of SYSTEM_REGISTER_NAMES) {
    if (!hasSysreg(name)) continue;
    add({ name, bitsize: 64, type: 'uint64', group: 'system', feature: SYSTEM_FEATURE, kind: 'sysreg', index: 0, sysreg: name });
  }
  return regs;
}

/** PSTATE fields as SPSR_ELx lays them out for an AArch64 source state. */
const PSTATE_FIELDS: [string, number, number][] = [
  ['SP', 0, 0], ['EL', 2, 3], ['nRW', 4, 4], ['F', 6, 6], ['I', 7, 7], ['A', 8, 8], ['D', 9, 9],
  ['BTYPE', 10, 11], ['SSBS', 12, 12], ['IL', 20, 20], ['SS', 21, 21], ['PAN', 22, 22], ['UAO', 23, 23],
  ['DIT', 24, 24], ['V', 28, 28], ['C', 29, 29], ['Z', 30, 30], ['N', 31, 31],
];

/** The vector-register view: one member per lane width, as gdb's own AArch64 descriptions offer. */
function vectorTypes(): string {
  const lanes: [string, string, number][] = [
    ['v2d', 'ieee_double', 2], ['v2u', 'uint64', 2], ['v2i', 'int64', 2],
    ['v4f', 'ieee_single', 4], ['v4u', 'uint32', 4], ['v4i', 'int32', 4],
    ['v8u', 'uint16', 8], ['v8i', 'int16', 8],
    ['v16u', 'uint8', 16], ['v16i', 'int8', 16],
    ['v1u', 'uint128', 1], ['v1i', 'int128', 1],
  ];
  const lines = lanes.map(([id, type, count]) => `    <vector id="${id}" type="${type}" count="${count}"/>`);
  const group = (id: string, members: [string, string][]) =>
    `    <union id="${id}">\n${members.map(([n, t]) => `      <field name="${n}" type="${t}"/>`).join('\n')}\n    </union>`;
  lines.push(group('vd', [['f', 'v2d'], ['u', 'v2u'], ['s', 'v2i']]));
  lines.push(group('vs', [['f', 'v4f'], ['u', 'v4u'], ['s', 'v4i']]));
  lines.push(group('vh', [['u', 'v8u'], ['s', 'v8i']]));
  lines.push(group('vb', [['u', 'v16u'], ['s', 'v16i']]));
  lines.push(group('vq', [['u', 'v1u'], ['s', 'v1i']]));
  lines.push(group('vreg', [['d', 'vd'], ['s', 'vs'], ['h', 'vh'], ['b', 'vb'], ['q', 'vq']]));
  return lines.join('\n');
}

function regXml(r: GdbRegister): string {
  const group = r.group ? ` group="${r.group}"` : '';
  return `    <reg name="${r.name}" bitsize="${r.bitsize}" type="${r.type}" regnum="${r.regnum}"${group}/>`;
}

/** The `target.xml` annex: architecture, the two standard features and the system-register feature. */
export function targetXml(regs: GdbRegister[]): string {
  const features = new Map<string, GdbRegister[]>();
  for (const r of regs) {
    const list = features.get(r.feature) ?? [];
    list.push(r);
    features.set(r.feature, list);
  }
  const out: string[] = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>aarch64</architecture>',
  ];
  for (const [name, list] of features) {
    out.push(`  <feature name="${name}">`);
    if (name === 'org.gnu.gdb.aarch64.core') {
      out.push('    <flags id="pstate_flags" size="4">');
      for (const [f, s, e] of PSTATE_FIELDS) out.push(`      <field name="${f}" start="${s}" end="${e}"/>`);
      out.push('    </flags>');
    }
    if (name === 'org.gnu.gdb.aarch64.fpu') out.push(vectorTypes());
    for (const r of list) out.push(regXml(r));
    out.push('  </feature>');
  }
  out.push('</target>');
  return out.join('\n') + '\n';
}

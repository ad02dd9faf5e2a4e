/**
 * Branches, exception generation and system instructions (Arm ARM C4.1.3):
 * immediate, conditional, compare/test and register branches (with pointer
 * authentication), SVC/HVC/SMC/BRK/HLT/DCPS/UDF, the hint space and its
 * aliases, barriers, MSR (immediate), MSR/MRS (register), SYS/SYSL with the
 * TLBI/DC/IC/AT aliases, the PAuth data-processing instructions and FlagM.
 *
 * What each entry tells the CPU (`exec`; aliases and assembler-only forms keep
 * their base's exec, and the distinguishing bits are pinned pattern fields):
 *
 *   exec              instruction(s)                         fields the handler reads
 *   BRANCH_IMM        b, bl                                  op (1 = link), imm26
 *   BRANCH_COND       b.<cond>                               cond, imm19
 *   COMPARE_BRANCH    cbz, cbnz                              op (1 = nonzero), imm19, Rt (datasize)
 *   TEST_BRANCH       tbz, tbnz                              op (1 = nonzero), b5:b40, imm14, Rt
 *   BRANCH_REG        br, blr, ret                           opc (0 br, 1 blr, 2 ret), Rn
 *   BRANCH_REG_PAUTH  braa/brab/blraa/blrab (Rm modifier),   opc (0 br, 1 blr, 2 ret, 8 br+Rm, 9 blr+Rm),
 *                     braaz/brabz/blraaz/blrabz, retaa/retab  M (key B), Rn, Rm
 *   ERET              eret, eretaa, eretab                   A (authenticate), M (key B)
 *   DRPS              drps
 *   EXCEPTION_GEN     svc, hvc, smc, brk, hlt, dcps1-3       opc, LL, imm16
 *   UDF               udf                                    imm16
 *   WFXT              wfet, wfit                             op2 (0 wfet, 1 wfit), Rt
 *   HINT              hint and every alias (nop, wfi, bti,   imm7 (CRm:op2)
 *                     paciasp, esb, …)
 *   CLREX / DSB / DMB / ISB / SB                             CRm
 *   MSR_IMM           msr <pstatefield>, #imm                op1, op2 (params.pstate names the field);
 *                                                          the value in CRm (daifset/daifclr) or imm1
 *   FLAGM             cfinv, xaflag, axflag                  op2 (0 cfinv, 1 xaflag, 2 axflag)
 *   SETF              setf8, setf16                          sz, Rn
 *   RMIF              rmif                                   imm6, mask, Rn
 *   MSR_REG / MRS     msr <sysreg>, Xt / mrs Xt, <sysreg>    sysreg (op0:op1:CRn:CRm:op2), Rt
 *   SYS / SYSL        sys + tlbi/dc/ic/at/cfp/dvp/cpp; sysl  op1, CRn, CRm, op2, Rt
 *   PAUTH_DATA        pacia…autdb, paciza…autdzb             Z (zero modifier), auth, D (data key), B (key B), Rn, Rd
 *   XPAC              xpaci, xpacd                           D, Rd
 *   PACGA             pacga                                  Rm, Rn, Rd
 *
 * Feature gating mirrors GNU as 2.40: pointer-authentication instructions
 * need pauth, but their hint-space forms (paciasp, …) and bti are accepted
 * under plain armv8-a. System register and TLBI/DC/AT operation names carry
 * their own requirements (see src/isa/operands/system.ts): the base entry
 * takes baseline names and one assembler-only entry per feature takes the
 * rest.
 */
import '../operands/system.js';
import type { Feature, InsnDef } from '../insn-def.js';
import { def, group, sized } from '../define.js';
import { sysOpName, type SysOpClass } from '../sysop-names.js';

const T: InsnDef[] = [];
const add = (...defs: (InsnDef | InsnDef[])[]) => { for (const d of defs) Array.isArray(d) ? T.push(...d) : T.push(d); };

const CONDITIONS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const bits = (v: number, width: number) => v.toString(2).padStart(width, '0');

group('unconditional branch (immediate)');
add(
  def('b', 'label.b26', 'op=0 00101 imm26', { exec: 'BRANCH_IMM' }),
  def('bl', 'label.call26', 'op=1 00101 imm26', { exec: 'BRANCH_IMM' }),
);

group('conditional branch (immediate)');
{
  const exec = 'BRANCH_COND';
  CONDITIONS.forEach((c, n) => add(def(`b.${c}`, 'label.b19', `01010100 imm19 0 cond=${bits(n, 4)}`, { exec })));
  // GNU as also takes the condition aliases (hs/lo and the SVE names) and, for the
  // classic condition names, the spelling without the dot (beq, bhs).
  const aliases: [string, number][] = [
    ['hs', 2], ['lo', 3], ['none', 0], ['any', 1], ['nlast', 2], ['last', 3], ['first', 4], ['nfrst', 5],
    ['pmore', 8], ['plast', 9], ['tcont', 10], ['tstop', 11], ['ul', 3],
  ];
  for (const [name, n] of aliases) add(def(`b.${name}`, 'label.b19', `01010100 imm19 0 cond=${bits(n, 4)}`, { exec, asmOnly: true }));
  const undotted: [string, number][] = [...CONDITIONS.slice(0, 14).map((c, n): [string, number] => [c, n]), ['hs', 2], ['lo', 3]];
  for (const [name, n] of undotted) add(def(`b${name}`, 'label.b19', `01010100 imm19 0 cond=${bits(n, 4)}`, { exec, asmOnly: true }));
}

group('compare and branch (immediate)');
add(
  sized('cbz', 'Rt, label.b19', 'sf 011010 op=0 imm19 Rt', { exec: 'COMPARE_BRANCH' }),
  sized('cbnz', 'Rt, label.b19', 'sf 011010 op=1 imm19 Rt', { exec: 'COMPARE_BRANCH' }),
);

group('test and branch (immediate)');
for (const [mn, op] of [['tbz', '0'], ['tbnz', '1']] as const) {
  // b5 = 0 prints with a W register; an X register with a bit number below 32 encodes the same word.
  add(
    def(mn, 'Wt, #tbit, label.b14', `b5=0 011011 op=${op} b40 imm14 Rt`, { exec: 'TEST_BRANCH', datasize: 32 }),
    def(mn, 'Xt, #tbit, label.b14', `b5 011011 op=${op} b40 imm14 Rt`, { exec: 'TEST_BRANCH', datasize: 64 }),
  );
}

group('unconditional branch (register)');
{
  const exec = 'BRANCH_REG';
  add(
    def('br', 'Xn', '1101011 opc:4=0000 11111 000000 Rn 00000', { exec }),
    def('blr', 'Xn', '1101011 opc:4=0001 11111 000000 Rn 00000', { exec }),
    def('ret', 'ret.Xn?', '1101011 opc:4=0010 11111 000000 Rn 00000', { exec }),
  );
  const pauth = { exec: 'BRANCH_REG_PAUTH', feature: 'pauth' as Feature };
  for (const [key, m] of [['a', '0'], ['b', '1']] as const) {
    add(
      def(`bra${key}`, 'Xn, Xm|sp', `1101011 opc:4=1000 11111 00001 M=${m} Rn Rm`, pauth),
      def(`blra${key}`, 'Xn, Xm|sp', `1101011 opc:4=1001 11111 00001 M=${m} Rn Rm`, pauth),
      def(`bra${key}z`, 'Xn', `1101011 opc:4=0000 11111 00001 M=${m} Rn 11111`, pauth),
      def(`blra${key}z`, 'Xn', `1101011 opc:4=0001 11111 00001 M=${m} Rn 11111`, pauth),
      def(`reta${key}`, '', `1101011 opc:4=0010 11111 00001 M=${m} 11111 11111`, pauth),
    );
  }
  add(
    def('eret', '', '1101011 0100 11111 0000 A=0 M=0 11111 00000', { exec: 'ERET' }),
    def('eretaa', '', '1101011 0100 11111 0000 A=1 M=0 11111 11111', { exec: 'ERET', feature: 'pauth' }),
    def('eretab', '', '1101011 0100 11111 0000 A=1 M=1 11111 11111', { exec: 'ERET', feature: 'pauth' }),
    def('drps', '', '1101011 0101 11111 000000 11111 00000', { exec: 'DRPS' }),
  );
}

group('exception generation');
{
  const exec = 'EXCEPTION_GEN';
  add(
    def('svc', '#imm16', '11010100 opc:3=000 imm16 000 LL:2=01', { exec }),
    def('hvc', '#imm16', '11010100 opc:3=000 imm16 000 LL:2=10', { exec }),
    def('smc', '#imm16', '11010100 opc:3=000 imm16 000 LL:2=11', { exec }),
    def('brk', '#imm16', '11010100 opc:3=001 imm16 000 LL:2=00', { exec }),
    def('hlt', '#imm16', '11010100 opc:3=010 imm16 000 LL:2=00', { exec }),
    def('dcps1', '#dcps?', '11010100 opc:3=101 imm16 000 LL:2=01', { exec }),
    def('dcps2', '#dcps?', '11010100 opc:3=101 imm16 000 LL:2=10', { exec }),
    def('dcps3', '#dcps?', '11010100 opc:3=101 imm16 000 LL:2=11', { exec }),
    def('udf', '#udf', '0000000000000000 imm16', { exec: 'UDF' }),
  );
}

group('hints');
{
  const exec = 'HINT';
  const hint = (mn: string, value: number, opts: { asmOnly?: true } = {}) =>
    def(mn, '', `11010101000000110010 imm7=${bits(value, 7)} 11111`, { exec, alias: true, ...opts });
  add(
    hint('nop', 0), hint('yield', 1), hint('wfe', 2), hint('wfi', 3), hint('sev', 4), hint('sevl', 5),
    // objdump 2.40 prints hint #6 as `hint #0x6`, but GNU as accepts `dgh`.
    hint('dgh', 6, { asmOnly: true }),
    hint('xpaclri', 7), hint('pacia1716', 8), hint('pacib1716', 10), hint('autia1716', 12), hint('autib1716', 14),
    hint('esb', 16),
    def('psb', 'csync', '11010101000000110010 imm7=0010001 11111', { exec, alias: true }),
    def('tsb', 'csync', '11010101000000110010 imm7=0010010 11111', { exec, alias: true }),
    hint('csdb', 20), hint('clearbhb', 22),
    hint('paciaz', 24), hint('paciasp', 25), hint('pacibz', 26), hint('pacibsp', 27),
    hint('autiaz', 28), hint('autiasp', 29), hint('autibz', 30), hint('autibsp', 31),
    def('bti', 'bti?', '11010101000000110010 0100 btitarget:2 0 11111', { exec, alias: true }),
    def('hint', '#hint', '11010101000000110010 imm7 11111', { exec }),
  );
}

group('wait with timeout');
// FEAT_WFxT (armv8.7-a): the project never enables it, as GNU's default and test arches do not;
// the entries let the disassembler print what objdump prints.
add(
  def('wfet', 'Xt', '11010101000000110001 0000 op2:3=000 Rt', { exec: 'WFXT', feature: 'wfxt' }),
  def('wfit', 'Xt', '11010101000000110001 0000 op2:3=001 Rt', { exec: 'WFXT', feature: 'wfxt' }),
);

group('barriers');
add(
  def('clrex', '#clrex?', '11010101000000110011 CRm 010 11111', { exec: 'CLREX' }),
  def('ssbb', '', '11010101000000110011 CRm=0000 100 11111', { exec: 'DSB', alias: true }),
  def('pssbb', '', '11010101000000110011 CRm=0100 100 11111', { exec: 'DSB', alias: true }),
  def('dsb', 'barrier.option', '11010101000000110011 CRm 100 11111', { exec: 'DSB' }),
  def('dmb', 'barrier.option', '11010101000000110011 CRm 101 11111', { exec: 'DMB' }),
  def('isb', 'isb.option?', '11010101000000110011 CRm 110 11111', { exec: 'ISB' }),
  def('sb', '', '11010101000000110011 0000 111 11111', { exec: 'SB', feature: 'sb' }),
);

group('PSTATE');
{
  // [name, op1, op2, feature, 4-bit immediate]
  const fields: [string, string, string, Feature | undefined, boolean][] = [
    ['spsel', '000', '101', undefined, false], ['daifset', '011', '110', undefined, true], ['daifclr', '011', '111', undefined, true],
    ['uao', '000', '011', 'uao', false], ['pan', '000', '100', 'pan', false], ['dit', '011', '010', 'dit', false],
    ['ssbs', '011', '001', 'ssbs', false], ['tco', '011', '100', 'memtag', false],
  ];
  for (const [name, op1, op2, feature, wide] of fields) {
    const crm = wide ? 'CRm' : '000 imm1:1';
    add(def('msr', `pstate.name, ${wide ? '#pstate.4' : '#pstate.1'}`, `1101010100000 op1:3=${op1} 0100 ${crm} op2:3=${op2} 11111`, {
      exec: 'MSR_IMM', feature, params: { pstate: name }, id: `MSR_pstate_${name}`,
    }));
  }
  add(
    def('cfinv', '', '1101010100000 000 0100 0000 op2:3=000 11111', { exec: 'FLAGM', feature: 'flagm' }),
    def('xaflag', '', '1101010100000 000 0100 0000 op2:3=001 11111', { exec: 'FLAGM', feature: 'v8.5' }),
    def('axflag', '', '1101010100000 000 0100 0000 op2:3=010 11111', { exec: 'FLAGM', feature: 'v8.5' }),
    def('setf8', 'Wn', '0 0 1 11010000 000000 sz:1=0 0010 Rn 0 1101', { exec: 'SETF', feature: 'flagm', datasize: 32 }),
    def('setf16', 'Wn', '0 0 1 11010000 000000 sz:1=1 0010 Rn 0 1101', { exec: 'SETF', feature: 'flagm', datasize: 32 }),
    def('rmif', 'Xn, #rmif.shift, #rmif.mask', '1 0 1 11010000 imm6 00001 Rn 0 mask:4', { exec: 'RMIF', feature: 'flagm', datasize: 64 }),
  );
}

/** Features that some system register or operation name needs; each gets an assembler-only entry. */
const NAME_FEATURES: Feature[] = ['v8.1', 'lor', 'pan', 'uao', 'v8.2', 'v8.3', 'v8.4', 'dit', 'v8.5', 'ssbs', 'memtag'];

/** The base entry (baseline names) followed by one assembler-only entry per feature a name may need. */
function withNameFeatures(make: (opts: { asmOnly?: true; feature?: Feature; params: Record<string, string> }) => InsnDef): InsnDef[] {
  return [make({ params: { nameFeature: '' } }), ...NAME_FEATURES.map((feature) => make({ asmOnly: true, feature, params: { nameFeature: feature } }))];
}

group('system register move');
add(
  // op0 is a free field: objdump prints any word of the system space no other entry claims as
  // MSR/MRS with a generic s<op0>_… name, and GNU as assembles those names back.
  withNameFeatures((o) => def('msr', 'sysreg.write, Xt', '1101010100 0 sysreg:16 Rt', { exec: 'MSR_REG', ...o })),
  withNameFeatures((o) => def('mrs', 'Xt, sysreg.read', '1101010100 1 sysreg:16 Rt', { exec: 'MRS', ...o })),
);

group('system instructions');
{
  const exec = 'SYS';
  const named = (cls: SysOpClass) => (f: Record<string, number>) => sysOpName(cls, f['op1']!, f['CRm']!, f['op2']!) !== undefined;
  add(
    withNameFeatures((o) => def('tlbi', 'op.tlbi, op.Xt?', '1101010100 0 01 op1 1000 CRm op2 Rt', { exec, alias: named('tlbi'), ...o })),
    withNameFeatures((o) => def('dc', 'op.dc, op.Xt?', '1101010100 0 01 op1 0111 CRm op2 Rt', { exec, alias: named('dc'), ...o })),
    withNameFeatures((o) => def('ic', 'op.ic, op.Xt?', '1101010100 0 01 op1 0111 CRm op2 Rt', { exec, alias: named('ic'), ...o })),
    withNameFeatures((o) => def('at', 'op.at, op.Xt?', '1101010100 0 01 op1 0111 CRm op2 Rt', { exec, alias: named('at'), ...o })),
    def('cfp', 'rctx, Xt', '1101010100 0 01 op1=011 0111 CRm=0011 op2=100 Rt', { exec, alias: true, feature: 'predres' }),
    def('dvp', 'rctx, Xt', '1101010100 0 01 op1=011 0111 CRm=0011 op2=101 Rt', { exec, alias: true, feature: 'predres' }),
    def('cpp', 'rctx, Xt', '1101010100 0 01 op1=011 0111 CRm=0011 op2=111 Rt', { exec, alias: true, feature: 'predres' }),
    def('sys', '#op1, Cn, Cm, #op2, sys.Xt?', '1101010100 0 01 op1 CRn CRm op2 Rt', { exec }),
    def('sysl', 'Xt, #op1, Cn, Cm, #op2', '1101010100 1 01 op1 CRn CRm op2 Rt', { exec: 'SYSL' }),
  );
}

group('pointer authentication (data)');
{
  const exec = 'PAUTH_DATA';
  const feature: Feature = 'pauth';
  for (const [auth, op] of [['0', 'pac'], ['1', 'aut']] as const) {
    for (const [d, key] of [['0', 'i'], ['1', 'd']] as const) {
      for (const [b, k] of [['0', 'a'], ['1', 'b']] as const) {
        add(
          def(`${op}${key}${k}`, 'Xd, Xn|sp', `11011010110 00001 00 Z=0 auth=${auth} D=${d} B=${b} Rn Rd`, { exec, feature }),
          def(`${op}${key}z${k}`, 'Xd', `11011010110 00001 00 Z=1 auth=${auth} D=${d} B=${b} 11111 Rd`, { exec, feature }),
        );
      }
    }
  }
  add(
    def('xpaci', 'Xd', '11011010110 00001 0100 0 D=0 11111 Rd', { exec: 'XPAC', feature }),
    def('xpacd', 'Xd', '11011010110 00001 0100 0 D=1 11111 Rd', { exec: 'XPAC', feature }),
    def('pacga', 'Xd, Xn, Xm|sp', '10011010110 Rm 001100 Rn Rd', { exec: 'PACGA', feature, datasize: 64 }),
  );
}

export const BRANCH_SYSTEM: InsnDef[] = T;

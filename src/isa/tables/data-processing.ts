/**
 * Integer data processing: immediate and register forms, with their aliases
 * (Arm ARM C4.1.2 / C4.1.5 encoding groups). Alias predicates follow the
 * architecture's "preferred disassembly" rules.
 */
import type { Fields, InsnDef } from '../insn-def.js';
import { def, group, sized } from '../define.js';

const isZR = (r: number | undefined) => r === 31;

/** Arm ARM MoveWidePreferred(): a bitmask immediate that MOVZ/MOVN can also produce. */
export function moveWidePreferred(sf: number, n: number, imms: number, immr: number): boolean {
  const width = sf ? 64 : 32;
  if (sf === 1 && n !== 1) return false;
  if (sf === 0 && !(n === 0 && (imms & 0x20) === 0)) return false;
  if (imms < 16) return ((-immr) & 15) <= 15 - imms;
  if (imms >= width - 15) return (immr & 15) <= imms - (width - 15);
  return false;
}

/** Arm ARM BFXPreferred(): whether SBFM/UBFM prints as SBFX/UBFX. */
export function bfxPreferred(sf: number, uns: number, imms: number, immr: number): boolean {
  if (imms < immr) return false;
  if (imms === (sf ? 63 : 31)) return false;
  if (immr === 0) {
    if (sf === 0 && (imms === 7 || imms === 15)) return false;
    if (sf === 1 && uns === 0 && (imms === 7 || imms === 15 || imms === 31)) return false;
  }
  return true;
}

const T: InsnDef[] = [];
const add = (...defs: (InsnDef | InsnDef[])[]) => { for (const d of defs) Array.isArray(d) ? T.push(...d) : T.push(d); };

group('pc-relative addressing');
add(
  def('adr', 'Xd, label.adr', '0 immlo 10000 immhi Rd', { exec: 'ADR' }),
  def('adrp', 'Xd, label.adrp', '1 immlo 10000 immhi Rd', { exec: 'ADRP' }),
);

group('add/subtract (immediate)');
for (const [mn, op, s] of [['add', 0, 0], ['adds', 0, 1], ['sub', 1, 0], ['subs', 1, 1]] as const) {
  const rd = s ? 'Rd' : 'Rd|sp';
  const exec = 'ADD_SUB_IMM';
  // Aliases first: the assembler tries entries in order, the decoder prefers aliases.
  if (mn === 'add') add(sized('mov', 'Rd|sp, Rn|sp', `sf 0 0 100010 sh=0 imm12=000000000000 Rn Rd`, { exec, alias: (f) => f['Rd'] === 31 || f['Rn'] === 31 }));
  if (mn === 'adds') add(sized('cmn', 'Rn|sp, #aimm', `sf 0 1 100010 sh imm12 Rn Rd=11111`, { exec, alias: true }));
  if (mn === 'subs') add(sized('cmp', 'Rn|sp, #aimm', `sf 1 1 100010 sh imm12 Rn Rd=11111`, { exec, alias: true }));
  add(sized(mn, `${rd}, Rn|sp, #aimm`, `sf ${op} ${s} 100010 sh imm12 Rn Rd`, { exec }));
  // Negative immediates: GNU as switches between add and sub.
  add(sized(mn, `${rd}, Rn|sp, #aimm.neg`, `sf ${op ^ 1} ${s} 100010 sh imm12 Rn Rd`, { exec, asmOnly: true }));
  if (mn === 'adds') add(sized('cmn', 'Rn|sp, #aimm.neg', `sf 1 1 100010 sh imm12 Rn Rd=11111`, { exec, asmOnly: true }));
  if (mn === 'subs') add(sized('cmp', 'Rn|sp, #aimm.neg', `sf 0 1 100010 sh imm12 Rn Rd=11111`, { exec, asmOnly: true }));
}

group('logical (immediate)');
for (const [mn, opc] of [['and', '00'], ['orr', '01'], ['eor', '10'], ['ands', '11']] as const) {
  const exec = 'LOGICAL_IMM';
  if (mn === 'ands') add(sized('tst', 'Rn, #bimm', `sf ${opc} 100100 N immr imms Rn Rd=11111`, { exec, alias: true }));
  add(sized(mn, `${mn === 'ands' ? 'Rd' : 'Rd|sp'}, Rn, #bimm`, `sf ${opc} 100100 N immr imms Rn Rd`, { exec }));
}
// GNU as accepts `bic Rd, Rn, #imm` as AND with the inverted immediate (not bics/orn/eon).
add(sized('bic', 'Rd|sp, Rn, #bimm.inv', 'sf 00 100100 N immr imms Rn Rd', { exec: 'LOGICAL_IMM', asmOnly: true }));

group('move wide (immediate)');
add(
  sized('mov', 'Rd, #movz', 'sf 10 100101 hw imm16 Rd', { exec: 'MOVE_WIDE', alias: (f) => !(f['imm16'] === 0 && f['hw'] !== 0) }),
  def('mov', 'Wd, #movn', '0 00 100101 hw imm16 Rd', { exec: 'MOVE_WIDE', datasize: 32, alias: (f) => !(f['imm16'] === 0 && f['hw'] !== 0) && f['imm16'] !== 0xffff }),
  def('mov', 'Xd, #movn', '1 00 100101 hw imm16 Rd', { exec: 'MOVE_WIDE', datasize: 64, alias: (f) => !(f['imm16'] === 0 && f['hw'] !== 0) }),
  sized('mov', 'Rd|sp, #bimm', 'sf 01 100100 N immr imms Rn=11111 Rd', {
    exec: 'LOGICAL_IMM',
    alias: (f, d) => !moveWidePreferred(d.datasize === 64 ? 1 : 0, f['N']!, f['imms']!, f['immr']!),
  }),
  sized('movn', 'Rd, #mwimm', 'sf 00 100101 hw imm16 Rd', { exec: 'MOVE_WIDE' }),
  sized('movz', 'Rd, #mwimm', 'sf 10 100101 hw imm16 Rd', { exec: 'MOVE_WIDE' }),
  sized('movk', 'Rd, #mwimm', 'sf 11 100101 hw imm16 Rd', { exec: 'MOVE_WIDE' }),
);

group('bitfield');
{
  const exec = 'BITFIELD';
  const sbfm = 'sf 00 100110 Nsf immr imms Rn Rd';
  const bfm = 'sf 01 100110 Nsf immr imms Rn Rd';
  const ubfm = 'sf 10 100110 Nsf immr imms Rn Rd';
  const top = (f: Fields, sz: number) => f['imms'] === sz - 1;
  for (const sz of [32, 64] as const) {
    const only = sz;
    add(
      sized('asr', 'Rd, Rn, #asr', sbfm.replace('imms', sz === 64 ? 'imms=111111' : 'imms=011111'), { exec, alias: true, only }),
      sized('sbfiz', 'Rd, Rn, #bfiz.lsb, #bfiz.width', sbfm, { exec, alias: (f) => f['imms']! < f['immr']!, only }),
      sized('sbfx', 'Rd, Rn, #bfx.lsb, #bfx.width', sbfm, { exec, alias: (f) => bfxPreferred(sz === 64 ? 1 : 0, 0, f['imms']!, f['immr']!), only }),
      sized('bfi', 'Rd, Rn, #bfiz.lsb, #bfiz.width', bfm, { exec, alias: (f) => f['imms']! < f['immr']!, only }),
      sized('bfxil', 'Rd, Rn, #bfx.lsb, #bfx.width', bfm, { exec, alias: (f) => f['imms']! >= f['immr']!, only }),
      sized('lsl', 'Rd, Rn, #lsl', ubfm, { exec, alias: (f) => !top(f, sz) && f['imms']! + 1 === f['immr']!, only }),
      sized('lsr', 'Rd, Rn, #lsr', ubfm.replace('imms', sz === 64 ? 'imms=111111' : 'imms=011111'), { exec, alias: true, only }),
      sized('ubfiz', 'Rd, Rn, #bfiz.lsb, #bfiz.width', ubfm, { exec, alias: (f) => f['imms']! < f['immr']!, only }),
      sized('ubfx', 'Rd, Rn, #bfx.lsb, #bfx.width', ubfm, { exec, alias: (f) => bfxPreferred(sz === 64 ? 1 : 0, 1, f['imms']!, f['immr']!), only }),
    );
  }
  add(
    sized('sxtb', 'Rd, Wn', 'sf 00 100110 Nsf immr=000000 imms=000111 Rn Rd', { exec, alias: true }),
    sized('sxth', 'Rd, Wn', 'sf 00 100110 Nsf immr=000000 imms=001111 Rn Rd', { exec, alias: true }),
    def('sxtw', 'Xd, Wn', '1 00 100110 1 immr=000000 imms=011111 Rn Rd', { exec, alias: true, datasize: 64 }),
    def('uxtb', 'Wd, Wn', '0 10 100110 0 immr=000000 imms=000111 Rn Rd', { exec, alias: true, datasize: 32 }),
    def('uxth', 'Wd, Wn', '0 10 100110 0 immr=000000 imms=001111 Rn Rd', { exec, alias: true, datasize: 32 }),
    // GNU as also accepts an X destination for uxtb/uxth and encodes the 32-bit form.
    def('uxtb', 'Xd, Wn', '0 10 100110 0 immr=000000 imms=000111 Rn Rd', { exec, asmOnly: true, datasize: 32 }),
    def('uxth', 'Xd, Wn', '0 10 100110 0 immr=000000 imms=001111 Rn Rd', { exec, asmOnly: true, datasize: 32 }),
    sized('sbfm', 'Rd, Rn, #immr, #imms', sbfm, { exec }),
    sized('bfm', 'Rd, Rn, #immr, #imms', bfm, { exec }),
    sized('ubfm', 'Rd, Rn, #immr, #imms', ubfm, { exec }),
  );
}

group('extract');
add(
  sized('ror', 'Rd, Rn, #ror', 'sf 00 100111 Nsf 0 Rm imms Rn Rd', { exec: 'EXTR', alias: (f) => f['Rn'] === f['Rm'] }),
  sized('extr', 'Rd, Rn, Rm, #extr', 'sf 00 100111 Nsf 0 Rm imms Rn Rd', { exec: 'EXTR' }),
);
// `ror Rd, Rs, #n` writes the same register twice; the assembler fills Rm from Rn.
for (const d of T) if (d.mnemonic === 'ror' && d.exec === 'EXTR') d.params['copyRnToRm'] = 1;

group('logical (shifted register)');
for (const [mn, opc, n] of [['and', '00', 0], ['bic', '00', 1], ['orr', '01', 0], ['orn', '01', 1], ['eor', '10', 0], ['eon', '10', 1], ['ands', '11', 0], ['bics', '11', 1]] as const) {
  const exec = 'LOGICAL_REG';
  const p = `sf ${opc} 01010 shift ${n} Rm imm6 Rn Rd`;
  if (mn === 'orr') add(sized('mov', 'Rd, Rm', `sf 01 01010 shift=00 0 Rm imm6=000000 Rn=11111 Rd`, { exec, alias: true }));
  if (mn === 'orn') add(sized('mvn', 'Rd, Rm, lshift?', `sf 01 01010 shift 1 Rm imm6 Rn=11111 Rd`, { exec, alias: true }));
  if (mn === 'ands') add(sized('tst', 'Rn, Rm, lshift?', `sf 11 01010 shift 0 Rm imm6 Rn Rd=11111`, { exec, alias: true }));
  add(sized(mn, 'Rd, Rn, Rm, lshift?', p, { exec }));
}

group('add/subtract (shifted register)');
for (const [mn, op, s] of [['add', 0, 0], ['adds', 0, 1], ['sub', 1, 0], ['subs', 1, 1]] as const) {
  const exec = 'ADD_SUB_REG';
  if (mn === 'adds') add(sized('cmn', 'Rn, Rm, shift?', `sf 0 1 01011 shift 0 Rm imm6 Rn Rd=11111`, { exec, alias: true }));
  if (mn === 'subs') add(sized('cmp', 'Rn, Rm, shift?', `sf 1 1 01011 shift 0 Rm imm6 Rn Rd=11111`, { exec, alias: true }));
  if (mn === 'sub') add(sized('neg', 'Rd, Rm, shift?', `sf 1 0 01011 shift 0 Rm imm6 Rn=11111 Rd`, { exec, alias: true }));
  if (mn === 'subs') add(sized('negs', 'Rd, Rm, shift?', `sf 1 1 01011 shift 0 Rm imm6 Rn=11111 Rd`, { exec, alias: true }));
  add(sized(mn, 'Rd, Rn, Rm, shift?', `sf ${op} ${s} 01011 shift 0 Rm imm6 Rn Rd`, { exec }));
}

group('add/subtract (extended register)');
for (const [mn, op, s] of [['add', 0, 0], ['adds', 0, 1], ['sub', 1, 0], ['subs', 1, 1]] as const) {
  const exec = 'ADD_SUB_EXT';
  if (mn === 'adds') add(sized('cmn', 'Rn|sp, Rm.ext', `sf 0 1 01011 00 1 Rm option imm3 Rn Rd=11111`, { exec, alias: true }));
  if (mn === 'subs') add(sized('cmp', 'Rn|sp, Rm.ext', `sf 1 1 01011 00 1 Rm option imm3 Rn Rd=11111`, { exec, alias: true }));
  add(sized(mn, `${s ? 'Rd' : 'Rd|sp'}, Rn|sp, Rm.ext`, `sf ${op} ${s} 01011 00 1 Rm option imm3 Rn Rd`, { exec }));
}

group('add/subtract (with carry)');
for (const [mn, op, s] of [['adc', 0, 0], ['adcs', 0, 1], ['sbc', 1, 0], ['sbcs', 1, 1]] as const) {
  const exec = 'ADC_SBC';
  if (mn === 'sbc') add(sized('ngc', 'Rd, Rm', `sf 1 0 11010000 Rm 000000 Rn=11111 Rd`, { exec, alias: true }));
  if (mn === 'sbcs') add(sized('ngcs', 'Rd, Rm', `sf 1 1 11010000 Rm 000000 Rn=11111 Rd`, { exec, alias: true }));
  add(sized(mn, 'Rd, Rn, Rm', `sf ${op} ${s} 11010000 Rm 000000 Rn Rd`, { exec }));
}

group('conditional compare');
for (const [mn, op] of [['ccmn', 0], ['ccmp', 1]] as const) {
  add(
    sized(mn, 'Rn, Rm, #nzcv, cond', `sf ${op} 1 11010010 Rm cond 0 0 Rn 0 nzcv`, { exec: 'COND_CMP_REG' }),
    sized(mn, 'Rn, #imm5, #nzcv, cond', `sf ${op} 1 11010010 imm5 cond 1 0 Rn 0 nzcv`, { exec: 'COND_CMP_IMM' }),
  );
}

group('conditional select');
{
  const exec = 'COND_SELECT';
  const notAlNv = (f: Fields) => (f['cond']! >> 1) !== 7;
  add(
    sized('cset', 'Rd, cond.inv', 'sf 0 0 11010100 Rm=11111 cond 01 Rn=11111 Rd', { exec, alias: true }),
    sized('cinc', 'Rd, Rn, cond.inv', 'sf 0 0 11010100 Rm cond 01 Rn Rd', { exec, alias: (f) => f['Rm'] === f['Rn'] && !isZR(f['Rn']) && notAlNv(f) }),
    sized('csetm', 'Rd, cond.inv', 'sf 1 0 11010100 Rm=11111 cond 00 Rn=11111 Rd', { exec, alias: true }),
    sized('cinv', 'Rd, Rn, cond.inv', 'sf 1 0 11010100 Rm cond 00 Rn Rd', { exec, alias: (f) => f['Rm'] === f['Rn'] && !isZR(f['Rn']) && notAlNv(f) }),
    sized('cneg', 'Rd, Rn, cond.inv', 'sf 1 0 11010100 Rm cond 01 Rn Rd', { exec, alias: (f) => f['Rm'] === f['Rn'] && notAlNv(f) }),
    sized('csel', 'Rd, Rn, Rm, cond', 'sf 0 0 11010100 Rm cond 00 Rn Rd', { exec }),
    sized('csinc', 'Rd, Rn, Rm, cond', 'sf 0 0 11010100 Rm cond 01 Rn Rd', { exec }),
    sized('csinv', 'Rd, Rn, Rm, cond', 'sf 1 0 11010100 Rm cond 00 Rn Rd', { exec }),
    sized('csneg', 'Rd, Rn, Rm, cond', 'sf 1 0 11010100 Rm cond 01 Rn Rd', { exec }),
  );
  // cinc/cinv/cneg take Rn twice; cset/csetm have the condition alone.
  for (const d of T) if (d.exec === 'COND_SELECT' && ['cinc', 'cinv', 'cneg'].includes(d.mnemonic)) d.params['copyRnToRm'] = 1;
  // cset/csetm: al and nv are not allowed (the architecture's alias condition).
  for (const d of T) if (d.exec === 'COND_SELECT' && ['cset', 'csetm'].includes(d.mnemonic)) d.preferred = notAlNv;
}

group('data processing (1 source)');
{
  const exec = 'DP_1SRC';
  add(
    sized('rbit', 'Rd, Rn', 'sf 1 0 11010110 00000 000000 Rn Rd', { exec }),
    sized('rev16', 'Rd, Rn', 'sf 1 0 11010110 00000 000001 Rn Rd', { exec }),
    def('rev', 'Wd, Wn', '0 1 0 11010110 00000 000010 Rn Rd', { exec, datasize: 32 }),
    def('rev32', 'Xd, Xn', '1 1 0 11010110 00000 000010 Rn Rd', { exec, datasize: 64 }),
    def('rev', 'Xd, Xn', '1 1 0 11010110 00000 000011 Rn Rd', { exec, datasize: 64 }),
    def('rev64', 'Xd, Xn', '1 1 0 11010110 00000 000011 Rn Rd', { exec, datasize: 64, asmOnly: true }),
    sized('clz', 'Rd, Rn', 'sf 1 0 11010110 00000 000100 Rn Rd', { exec }),
    sized('cls', 'Rd, Rn', 'sf 1 0 11010110 00000 000101 Rn Rd', { exec }),
  );
}

group('data processing (2 source)');
{
  const exec = 'DP_2SRC';
  add(
    sized('udiv', 'Rd, Rn, Rm', 'sf 0 0 11010110 Rm 000010 Rn Rd', { exec }),
    sized('sdiv', 'Rd, Rn, Rm', 'sf 0 0 11010110 Rm 000011 Rn Rd', { exec }),
  );
  for (const [mn, opc] of [['lsl', '00'], ['lsr', '01'], ['asr', '10'], ['ror', '11']] as const) {
    add(sized(mn, 'Rd, Rn, Rm', `sf 0 0 11010110 Rm 0010${opc} Rn Rd`, { exec, alias: true }));
    add(sized(`${mn}v`, 'Rd, Rn, Rm', `sf 0 0 11010110 Rm 0010${opc} Rn Rd`, { exec }));
  }
  for (const [c, sz] of [['b', '00'], ['h', '01'], ['w', '10'], ['x', '11']] as const) {
    const isX = c === 'x';
    add(
      def(`crc32${c}`, `Wd, Wn, ${isX ? 'Xm' : 'Wm'}`, `${isX ? 1 : 0} 0 0 11010110 Rm 010 0 ${sz} Rn Rd`, { exec: 'CRC32', feature: 'crc', datasize: 32 }),
      def(`crc32c${c}`, `Wd, Wn, ${isX ? 'Xm' : 'Wm'}`, `${isX ? 1 : 0} 0 0 11010110 Rm 010 1 ${sz} Rn Rd`, { exec: 'CRC32', feature: 'crc', datasize: 32 }),
    );
  }
}

group('data processing (3 source)');
{
  const exec = 'DP_3SRC';
  add(
    sized('mul', 'Rd, Rn, Rm', 'sf 00 11011 000 Rm 0 Ra=11111 Rn Rd', { exec, alias: true }),
    sized('madd', 'Rd, Rn, Rm, Ra', 'sf 00 11011 000 Rm 0 Ra Rn Rd', { exec }),
    sized('mneg', 'Rd, Rn, Rm', 'sf 00 11011 000 Rm 1 Ra=11111 Rn Rd', { exec, alias: true }),
    sized('msub', 'Rd, Rn, Rm, Ra', 'sf 00 11011 000 Rm 1 Ra Rn Rd', { exec }),
    def('smull', 'Xd, Wn, Wm', '1 00 11011 001 Rm 0 Ra=11111 Rn Rd', { exec, alias: true, datasize: 64 }),
    def('smaddl', 'Xd, Wn, Wm, Xa', '1 00 11011 001 Rm 0 Ra Rn Rd', { exec, datasize: 64 }),
    def('smnegl', 'Xd, Wn, Wm', '1 00 11011 001 Rm 1 Ra=11111 Rn Rd', { exec, alias: true, datasize: 64 }),
    def('smsubl', 'Xd, Wn, Wm, Xa', '1 00 11011 001 Rm 1 Ra Rn Rd', { exec, datasize: 64 }),
    // Ra of SMULH/UMULH should be ones; the decoder accepts any value there, as objdump and QEMU do.
    def('smulh', 'Xd, Xn, Xm, sbo.Ra', '1 00 11011 010 Rm 0 Ra Rn Rd', { exec, datasize: 64 }),
    def('umull', 'Xd, Wn, Wm', '1 00 11011 101 Rm 0 Ra=11111 Rn Rd', { exec, alias: true, datasize: 64 }),
    def('umaddl', 'Xd, Wn, Wm, Xa', '1 00 11011 101 Rm 0 Ra Rn Rd', { exec, datasize: 64 }),
    def('umnegl', 'Xd, Wn, Wm', '1 00 11011 101 Rm 1 Ra=11111 Rn Rd', { exec, alias: true, datasize: 64 }),
    def('umsubl', 'Xd, Wn, Wm, Xa', '1 00 11011 101 Rm 1 Ra Rn Rd', { exec, datasize: 64 }),
    def('umulh', 'Xd, Xn, Xm, sbo.Ra', '1 00 11011 110 Rm 0 Ra Rn Rd', { exec, datasize: 64 }),
  );
}

export const DATA_PROCESSING: InsnDef[] = T;

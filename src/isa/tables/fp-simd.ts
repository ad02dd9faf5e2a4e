/**
 * Floating-point and Advanced SIMD (Arm ARM C4.1.4 V=1 loads/stores, C4.1.6
 * scalar FP, C4.1.7 AdvSIMD): what kernel boot, FP save/restore and
 * hypervisor code use. Half-precision arithmetic (FEAT_FP16) is left out: GNU
 * as rejects it without +fp16. Feature gates follow GNU as: scalar FP needs
 * `fp`, Advanced SIMD needs `simd`, loads/stores of FP/SIMD registers neither.
 *
 * What each entry tells the CPU (`exec` + `params`; aliases keep their base's):
 *
 *   exec               what                                         params beyond the fields
 *   FP_LDST_UIMM       ldr/str Bt..Qt, [Xn|sp, #imm12 << scale]      memop, scale
 *   FP_LDST_IMM9       ldur/stur and pre/post-index, simm9            memop, scale, index
 *   FP_LDST_REG        [Xn|sp, Rm, extend #(S ? scale : 0)]           memop, scale
 *   FP_LDR_LIT         PC + simm19 * 4                               scale
 *   FP_LDST_PAIR       ldp/stp/ldnp/stnp St..Qt, simm7 << scale       memop, scale, index, nontemporal
 *   SIMD_LDST_MULT     ld1-4/st1-4 {list}, multiple structures         memop, selem, regs, post (0|1)
 *   SIMD_LDST_SINGLE   ld1-4/st1-4 {list}[lane]                       memop, selem, esize, post
 *   SIMD_LD_REPLICATE  ld1r-ld4r                                      memop, selem, post
 *     (size:Q give the arrangement; Rm = 31 with post = 1 is the immediate post-index, whose
 *      amount `mem.vpost` derives from params.form 'multiple' | 'single' | 'replicate')
 *   FMOV_GEN           fmov between W/X and S/D/V.d[1]                op: 'to_fp' | 'from_fp'
 *   FP_CVT_INT         fcvt[nampz][su] to W/X, scvtf/ucvtf from W/X   op, rounding: 'n'|'a'|'p'|'m'|'z'|'fpcr'
 *   FP_CVT_FIXED       the same with #fbits (scale = 64 - fbits)      op
 *   FP_DP1             fmov/fabs/fneg/fsqrt/frint* Sd|Dd              op (+ rounding for frint)
 *   FP_CVT_PREC        fcvt between H, S and D                       from, to ('h'|'s'|'d')
 *   FP_DP2             fmul/fdiv/fadd/fsub/fmax/fmin/fmaxnm/fminnm/fnmul  op
 *   FP_DP3             fmadd/fmsub/fnmadd/fnmsub                      op
 *   FP_CMP             fcmp/fcmpe, register or #0.0                   signaling (fcmpe), zero
 *   FP_CCMP            fccmp/fccmpe                                   signaling
 *   FP_CSEL            fcsel
 *   FP_MOV_IMM         fmov Sd|Dd, #imm
 *   SIMD_MOVI          movi/mvni/orr/bic (vector, immediate), fmov (vector, immediate)
 *                      op: 'movi'|'mvni'|'orr'|'bic'|'fmov', esize: 8|16|32|64, msl (0|1)
 *   SIMD_LOGIC         and/bic/orr/orn/eor/bsl/bit/bif Vd.<8b|16b>  op
 *   SIMD_UNARY         not, cnt, rbit                                 op
 *   SIMD_3SAME         add/sub/mul, cmeq etc., s|umax, s|umin, addp Vd.T   op
 *   SIMD_SCALAR_3SAME  add/sub Dd, Dn, Dm                             op
 *   SIMD_ACROSS        addv/s|umaxv/s|uminv/s|uaddlv                  op
 *   SIMD_PERMUTE       zip1/zip2/uzp1/uzp2/trn1/trn2                  op
 *   SIMD_EXT           ext
 *   SIMD_DUP_ELEM      dup Vd.T, Vn.Ts[i] and scalar dup (mov Bd, Vn.b[i])  scalar (0|1)
 *   SIMD_DUP_GEN       dup Vd.T, Wn|Xn
 *   SIMD_INS_GEN       ins/mov Vd.Ts[i], Wn|Xn
 *   SIMD_INS_ELEM      ins/mov Vd.Ts[i], Vn.Ts[j]
 *   SIMD_UMOV / SIMD_SMOV   umov/mov, smov Wd|Xd, Vn.Ts[i]
 *   (element sizes of the index forms: params.esize in bytes; the index fields are i<b|h|s|d>/j<...>)
 */
import './../operands/fpsimd.js';
import type { Fields, InsnDef } from '../insn-def.js';
import { def, group } from '../define.js';

const T: InsnDef[] = [];
const add = (...defs: (InsnDef | InsnDef[])[]) => { for (const d of defs) Array.isArray(d) ? T.push(...d) : T.push(d); };

/** A decoder-only validity check on a base entry (the assembler ignores `preferred` on non-aliases). */
function validWhen(d: InsnDef, valid: (f: Fields) => boolean): InsnDef {
  d.preferred = valid;
  return d;
}

/** size:Q = 11:0 (.1d) is reserved where the arrangement excludes it; size = 11 where 64-bit elements are. */
const not1d = (f: Fields) => !(f['size'] === 3 && f['Q'] === 0);
const notD = (f: Fields) => f['size'] !== 3;

/** Register-offset `option`: only uxtw, lsl/uxtx, sxtw, sxtx are allocated. */
const validExtend = (f: Fields) => (f['option']! & 2) !== 0;

// ---------------------------------------------------------------------------
// loads and stores of FP/SIMD registers

/** The FP/SIMD register a size:opc pair moves: B/H/S/D use size with opc<1> = 0, Q is size 00 with opc<1> = 1. */
const FP_ACCESSES = [
  { reg: 'B', size: '00', opc1: '0', scale: 0 },
  { reg: 'H', size: '01', opc1: '0', scale: 1 },
  { reg: 'S', size: '10', opc1: '0', scale: 2 },
  { reg: 'D', size: '11', opc1: '0', scale: 3 },
  { reg: 'Q', size: '00', opc1: '1', scale: 4 },
] as const;

group('load/store FP register');
for (const a of FP_ACCESSES) {
  for (const load of [false, true]) {
    const mn = load ? 'ldr' : 'str';
    const opc = `${a.opc1}${load ? 1 : 0}`;
    const rt = `${a.reg}t`;
    const datasize = 8 << a.scale;
    const params = { memop: load ? 'load' : 'store', scale: a.scale };
    add(
      def(mn, `${rt}, mem.u12`, `${a.size} 111 1 01 ${opc} imm12 Rn Rt`, { exec: 'FP_LDST_UIMM', datasize, params }),
      def(mn, `${rt}, mem.pre9`, `${a.size} 111 1 00 ${opc} 0 imm9 11 Rn Rt`, { exec: 'FP_LDST_IMM9', datasize, params: { ...params, index: 'pre' } }),
      def(mn, `${rt}, mem.post9`, `${a.size} 111 1 00 ${opc} 0 imm9 01 Rn Rt`, { exec: 'FP_LDST_IMM9', datasize, params: { ...params, index: 'post' } }),
      validWhen(def(mn, `${rt}, mem.reg`, `${a.size} 111 1 00 ${opc} 1 Rm option S 10 Rn Rt`, { exec: 'FP_LDST_REG', datasize, params }), validExtend),
      // GNU as: an offset the scaled form cannot encode (negative or misaligned) becomes LDUR/STUR.
      def(mn, `${rt}, mem.s9`, `${a.size} 111 1 00 ${opc} 0 imm9 00 Rn Rt`, { exec: 'FP_LDST_IMM9', datasize, params: { ...params, index: 'offset' }, asmOnly: true }),
      def(load ? 'ldur' : 'stur', `${rt}, mem.s9`, `${a.size} 111 1 00 ${opc} 0 imm9 00 Rn Rt`, { exec: 'FP_LDST_IMM9', datasize, params: { ...params, index: 'offset' } }),
    );
  }
}

group('load FP register (literal)');
for (const [reg, opc, scale] of [['S', '00', 2], ['D', '01', 3], ['Q', '10', 4]] as const) {
  const datasize = 8 << scale;
  const params = { scale };
  add(
    def('ldr', `${reg}t, label.lit19`, `${opc} 011 1 00 imm19 Rt`, { exec: 'FP_LDR_LIT', datasize, params }),
    // `ldr Qt, =expr`: a literal-pool entry of the register's size.
    def('ldr', `${reg}t, =lit${datasize / 8}`, `${opc} 011 1 00 imm19 Rt`, { exec: 'FP_LDR_LIT', datasize, params, asmOnly: true }),
  );
}

group('load/store FP register pair');
for (const [reg, opc, scale] of [['S', '00', 2], ['D', '01', 3], ['Q', '10', 4]] as const) {
  for (const load of [false, true]) {
    const L = load ? '1' : '0';
    const exec = 'FP_LDST_PAIR';
    const datasize = 8 << scale;
    const params = { memop: load ? 'load' : 'store', scale, nontemporal: 0 };
    const regs = `${reg}t, ${reg}t2`;
    const mn = load ? 'ldp' : 'stp';
    add(
      def(mn, `${regs}, mem.s7`, `${opc} 101 1 010 ${L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'offset' } }),
      def(mn, `${regs}, mem.pre7`, `${opc} 101 1 011 ${L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'pre' } }),
      def(mn, `${regs}, mem.post7`, `${opc} 101 1 001 ${L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'post' } }),
      def(load ? 'ldnp' : 'stnp', `${regs}, mem.s7`, `${opc} 101 1 000 ${L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'offset', nontemporal: 1 } }),
    );
  }
}

group('AdvSIMD load/store multiple structures');
{
  // opcode, registers in the list, structure elements (selem)
  const FORMS = [
    ['1', '0111', 1, 1], ['1', '1010', 2, 1], ['1', '0110', 3, 1], ['1', '0010', 4, 1],
    ['2', '1000', 2, 2], ['3', '0100', 3, 3], ['4', '0000', 4, 4],
  ] as const;
  for (const [n, opcode, regs, selem] of FORMS) {
    for (const load of [false, true]) {
      const mn = `${load ? 'ld' : 'st'}${n}`;
      const L = load ? '1' : '0';
      // Only LD1/ST1 have the .1d arrangement.
      const list = selem === 1 ? `list${regs}.T` : `list${regs}.T!1d`;
      const params = { memop: load ? 'load' : 'store', selem, regs, form: 'multiple' };
      const valid = selem === 1 ? () => true : not1d;
      add(
        validWhen(def(mn, `${list}, mem.vbase`, `0 Q 0011000 ${L} 000000 ${opcode} size Rn Rt`, { exec: 'SIMD_LDST_MULT', params: { ...params, post: 0 } }), valid),
        validWhen(def(mn, `${list}, mem.vpost`, `0 Q 0011001 ${L} 0 Rm ${opcode} size Rn Rt`, { exec: 'SIMD_LDST_MULT', params: { ...params, post: 1 } }), valid),
      );
    }
  }
}

group('AdvSIMD load/store single structure');
{
  for (const selem of [1, 2, 3, 4]) {
    const R = selem === 2 || selem === 4 ? '1' : '0';
    const o0 = selem === 3 || selem === 4 ? '1' : '0'; // opcode<0>
    // Lane forms: the low bits of Q:S:size not used by the index are fixed.
    const LANES = [
      ['b', `00${o0} S size`],
      ['h', `01${o0} S size1:1 0`],
      ['s', `10${o0} S 00`],
      ['d', `10${o0} 0 01`],
    ] as const;
    for (const load of [false, true]) {
      const mn = `${load ? 'ld' : 'st'}${selem}`;
      const L = load ? '1' : '0';
      for (const [esize, tail] of LANES) {
        const list = `list${selem}.${esize}[]`;
        const params = { memop: load ? 'load' : 'store', selem, esize, form: 'single' };
        add(
          def(mn, `${list}, mem.vbase`, `0 Q 0011010 ${L} ${R} 00000 ${tail} Rn Rt`, { exec: 'SIMD_LDST_SINGLE', params: { ...params, post: 0 } }),
          def(mn, `${list}, mem.vpost`, `0 Q 0011011 ${L} ${R} Rm ${tail} Rn Rt`, { exec: 'SIMD_LDST_SINGLE', params: { ...params, post: 1 } }),
        );
      }
    }
    const params = { memop: 'load', selem, form: 'replicate' };
    add(
      def(`ld${selem}r`, `list${selem}.T, mem.vbase`, `0 Q 0011010 1 ${R} 00000 11${o0} 0 size Rn Rt`, { exec: 'SIMD_LD_REPLICATE', params: { ...params, post: 0 } }),
      def(`ld${selem}r`, `list${selem}.T, mem.vpost`, `0 Q 0011011 1 ${R} Rm 11${o0} 0 size Rn Rt`, { exec: 'SIMD_LD_REPLICATE', params: { ...params, post: 1 } }),
    );
  }
}

// ---------------------------------------------------------------------------
// scalar floating point

/** Scalar precisions with base-architecture arithmetic (half precision needs FEAT_FP16). */
const FTYPES = [['S', '00'], ['D', '01']] as const;

group('FP <-> integer conversion');
{
  // mnemonic, rmode, opcode; to_int converts an FP register to W/X, from_int the other way.
  const CONVERSIONS = [
    ['fcvtns', '00', '000', 'n'], ['fcvtnu', '00', '001', 'n'], ['fcvtas', '00', '100', 'a'], ['fcvtau', '00', '101', 'a'],
    ['fcvtps', '01', '000', 'p'], ['fcvtpu', '01', '001', 'p'], ['fcvtms', '10', '000', 'm'], ['fcvtmu', '10', '001', 'm'],
    ['fcvtzs', '11', '000', 'z'], ['fcvtzu', '11', '001', 'z'], ['scvtf', '00', '010', 'fpcr'], ['ucvtf', '00', '011', 'fpcr'],
  ] as const;
  for (const [mn, rmode, opcode, rounding] of CONVERSIONS) {
    const toInt = !mn.endsWith('cvtf');
    for (const [fp, ftype] of FTYPES) {
      for (const [gp, sf] of [['W', '0'], ['X', '1']] as const) {
        const ops = toInt ? `${gp}d, ${fp}n` : `${fp}d, ${gp}n`;
        const datasize = sf === '1' ? 64 : 32;
        add(def(mn, ops, `${sf} 0 0 11110 ${ftype} 1 ${rmode} ${opcode} 000000 Rn Rd`, { exec: 'FP_CVT_INT', datasize, params: { op: mn, rounding } }));
        // Fixed point: only the round-to-zero conversions and scvtf/ucvtf; W forms need scale >= 32.
        if (rounding === 'z' || rounding === 'fpcr') {
          const d = def(mn, `${ops}, #fbits`, `${sf} 0 0 11110 ${ftype} 0 ${rmode} ${opcode} scale Rn Rd`, { exec: 'FP_CVT_FIXED', datasize, params: { op: mn, gprbits: datasize } });
          add(sf === '0' ? validWhen(d, (f) => f['scale']! >= 32) : d);
        }
      }
    }
  }
  const exec = 'FMOV_GEN';
  add(
    def('fmov', 'Wd, Sn', '0 0 0 11110 00 1 00 110 000000 Rn Rd', { exec, datasize: 32, params: { op: 'from_fp' } }),
    def('fmov', 'Sd, Wn', '0 0 0 11110 00 1 00 111 000000 Rn Rd', { exec, datasize: 32, params: { op: 'to_fp' } }),
    def('fmov', 'Xd, Dn', '1 0 0 11110 01 1 00 110 000000 Rn Rd', { exec, datasize: 64, params: { op: 'from_fp' } }),
    def('fmov', 'Dd, Xn', '1 0 0 11110 01 1 00 111 000000 Rn Rd', { exec, datasize: 64, params: { op: 'to_fp' } }),
    def('fmov', 'Xd, Vn.d[1]', '1 0 0 11110 10 1 01 110 000000 Rn Rd', { exec, datasize: 64, params: { op: 'from_fp' } }),
    def('fmov', 'Vd.d[1], Xn', '1 0 0 11110 10 1 01 111 000000 Rn Rd', { exec, datasize: 64, params: { op: 'to_fp' } }),
  );
}

group('FP data-processing (1 source)');
{
  const OPS = [
    ['fmov', '000000', undefined], ['fabs', '000001', undefined], ['fneg', '000010', undefined], ['fsqrt', '000011', undefined],
    ['frintn', '001000', 'n'], ['frintp', '001001', 'p'], ['frintm', '001010', 'm'], ['frintz', '001011', 'z'],
    ['frinta', '001100', 'a'], ['frintx', '001110', 'fpcr'], ['frinti', '001111', 'fpcr'],
    ['frint32z', '010000', 'z'], ['frint32x', '010001', 'fpcr'], ['frint64z', '010010', 'z'], ['frint64x', '010011', 'fpcr'],
  ] as const;
  for (const [mn, opcode, rounding] of OPS) {
    for (const [fp, ftype] of FTYPES) {
      const params: Record<string, string> = rounding ? { op: mn, rounding } : { op: mn };
      add(def(mn, `${fp}d, ${fp}n`, `0 0 0 11110 ${ftype} 1 ${opcode} 10000 Rn Rd`, {
        exec: 'FP_DP1', params, feature: mn.startsWith('frint32') || mn.startsWith('frint64') ? 'v8.5' : undefined,
      }));
    }
  }
  // fcvt between precisions (including half, which is base FP): ftype is the source, opc the destination.
  const PRECISIONS = [['S', '00'], ['D', '01'], ['H', '11']] as const;
  for (const [from, ftype] of PRECISIONS) {
    for (const [to, opc] of PRECISIONS) {
      if (from === to) continue;
      add(def('fcvt', `${to}d, ${from}n`, `0 0 0 11110 ${ftype} 1 0001 ${opc} 10000 Rn Rd`, {
        exec: 'FP_CVT_PREC', params: { from: from.toLowerCase(), to: to.toLowerCase() },
      }));
    }
  }
}

group('FP data-processing (2 and 3 sources), compare, select, immediate');
{
  const DP2 = [
    ['fmul', '0000'], ['fdiv', '0001'], ['fadd', '0010'], ['fsub', '0011'], ['fmax', '0100'],
    ['fmin', '0101'], ['fmaxnm', '0110'], ['fminnm', '0111'], ['fnmul', '1000'],
  ] as const;
  const DP3 = [['fmadd', '0', '0'], ['fmsub', '0', '1'], ['fnmadd', '1', '0'], ['fnmsub', '1', '1']] as const;
  for (const [fp, ftype] of FTYPES) {
    const r = (x: string) => `${fp}${x}`;
    for (const [mn, opcode] of DP2) {
      add(def(mn, `${r('d')}, ${r('n')}, ${r('m')}`, `0 0 0 11110 ${ftype} 1 Rm ${opcode} 10 Rn Rd`, { exec: 'FP_DP2', params: { op: mn } }));
    }
    for (const [mn, o1, o0] of DP3) {
      add(def(mn, `${r('d')}, ${r('n')}, ${r('m')}, ${r('a')}`, `0 0 0 11111 ${ftype} ${o1} Rm ${o0} Ra Rn Rd`, { exec: 'FP_DP3', params: { op: mn } }));
    }
    for (const [mn, e] of [['fcmp', '0'], ['fcmpe', '1']] as const) {
      add(
        def(mn, `${r('n')}, ${r('m')}`, `0 0 0 11110 ${ftype} 1 Rm 00 1000 Rn ${e}0000`, { exec: 'FP_CMP', params: { signaling: Number(e), zero: 0 } }),
        // objdump ignores the Rm field of the zero forms; GNU as writes zeros.
        def(mn, `${r('n')}, #fpzero`, `0 0 0 11110 ${ftype} 1 xxxxx 00 1000 Rn ${e}1000`, { exec: 'FP_CMP', params: { signaling: Number(e), zero: 1 } }),
      );
    }
    for (const [mn, op] of [['fccmp', '0'], ['fccmpe', '1']] as const) {
      add(def(mn, `${r('n')}, ${r('m')}, #nzcv, cond`, `0 0 0 11110 ${ftype} 1 Rm cond 01 Rn ${op} nzcv`, { exec: 'FP_CCMP', params: { signaling: Number(op) } }));
    }
    add(
      def('fcsel', `${r('d')}, ${r('n')}, ${r('m')}, cond`, `0 0 0 11110 ${ftype} 1 Rm cond 11 Rn Rd`, { exec: 'FP_CSEL' }),
      def('fmov', `${r('d')}, #fpimm`, `0 0 0 11110 ${ftype} 1 imm8 100 00000 Rd`, { exec: 'FP_MOV_IMM', params: { fpbits: fp === 'S' ? 32 : 64 } }),
    );
  }
}

// ---------------------------------------------------------------------------
// Advanced SIMD

group('AdvSIMD modified immediate');
{
  const exec = 'SIMD_MOVI';
  const p = (op: string, Q: string, cmode: string) => `0 ${Q} ${op} 0111100000 abc:3 ${cmode} 0 1 defgh:5 Rd`;
  add(
    def('movi', 'Vd.B, #simd.imm8, lsl0?', p('0', 'Q', '1110'), { exec, params: { op: 'movi', esize: 8 } }),
    def('movi', 'Vd.H, #simd.imm8, lsl8?', p('0', 'Q', '10 cmsh:1 0'), { exec, params: { op: 'movi', esize: 16 } }),
    def('movi', 'Vd.S, #simd.imm8, lsl8?', p('0', 'Q', '0 cmsh:2 0'), { exec, params: { op: 'movi', esize: 32 } }),
    def('movi', 'Vd.S, #simd.imm8, msl', p('0', 'Q', '110 cmsh:1'), { exec, params: { op: 'movi', esize: 32, msl: 1 } }),
    def('movi', 'Dd, #simd.imm64', p('1', '0', '1110'), { exec, params: { op: 'movi', esize: 64 } }),
    def('movi', 'Vd.2d, #simd.imm64', p('1', '1', '1110'), { exec, params: { op: 'movi', esize: 64 } }),
    def('mvni', 'Vd.H, #simd.imm8, lsl8?', p('1', 'Q', '10 cmsh:1 0'), { exec, params: { op: 'mvni', esize: 16 } }),
    def('mvni', 'Vd.S, #simd.imm8, lsl8?', p('1', 'Q', '0 cmsh:2 0'), { exec, params: { op: 'mvni', esize: 32 } }),
    def('mvni', 'Vd.S, #simd.imm8, msl', p('1', 'Q', '110 cmsh:1'), { exec, params: { op: 'mvni', esize: 32, msl: 1 } }),
    def('orr', 'Vd.H, #simd.imm8, lsl8?', p('0', 'Q', '10 cmsh:1 1'), { exec, params: { op: 'orr', esize: 16 } }),
    def('orr', 'Vd.S, #simd.imm8, lsl8?', p('0', 'Q', '0 cmsh:2 1'), { exec, params: { op: 'orr', esize: 32 } }),
    def('bic', 'Vd.H, #simd.imm8, lsl8?', p('1', 'Q', '10 cmsh:1 1'), { exec, params: { op: 'bic', esize: 16 } }),
    def('bic', 'Vd.S, #simd.imm8, lsl8?', p('1', 'Q', '0 cmsh:2 1'), { exec, params: { op: 'bic', esize: 32 } }),
    def('fmov', 'Vd.S, #simd.fpimm', p('0', 'Q', '1111'), { exec, params: { op: 'fmov', esize: 32, fpbits: 32 } }),
    def('fmov', 'Vd.2d, #simd.fpimm', p('1', '1', '1111'), { exec, params: { op: 'fmov', esize: 64, fpbits: 64 } }),
  );
}

group('AdvSIMD three same (logical)');
{
  const exec = 'SIMD_LOGIC';
  const LOGIC = [
    ['and', '0', '00'], ['bic', '0', '01'], ['orr', '0', '10'], ['orn', '0', '11'],
    ['eor', '1', '00'], ['bsl', '1', '01'], ['bit', '1', '10'], ['bif', '1', '11'],
  ] as const;
  for (const [mn, U, opc2] of LOGIC) {
    const pattern = `0 Q ${U} 01110 ${opc2} 1 Rm 00011 1 Rn Rd`;
    // `mov Vd.T, Vn.T` is ORR with Rm = Rn.
    if (mn === 'orr') add(def('mov', 'Vd.B, Vn.B', pattern, { exec, alias: (f) => f['Rm'] === f['Rn'], params: { op: 'orr', copyRnToRm: 1 } }));
    add(def(mn, 'Vd.B, Vn.B, Vm.B', pattern, { exec, params: { op: mn } }));
  }
}

group('AdvSIMD two-register miscellaneous');
{
  const exec = 'SIMD_UNARY';
  add(
    def('mvn', 'Vd.B, Vn.B', '0 Q 1 01110 00 10000 00101 10 Rn Rd', { exec, alias: true, params: { op: 'not' } }),
    def('not', 'Vd.B, Vn.B', '0 Q 1 01110 00 10000 00101 10 Rn Rd', { exec, params: { op: 'not' } }),
    def('cnt', 'Vd.B, Vn.B', '0 Q 0 01110 00 10000 00101 10 Rn Rd', { exec, params: { op: 'cnt' } }),
    def('rbit', 'Vd.B, Vn.B', '0 Q 1 01110 01 10000 00101 10 Rn Rd', { exec, params: { op: 'rbit' } }),
  );
}

group('AdvSIMD three same (integer)');
{
  // mnemonic, U, opcode, arrangements (mul/max/min have no 64-bit elements; addp has 2d)
  const OPS = [
    ['add', '0', '10000', 'T!1d'], ['sub', '1', '10000', 'T!1d'], ['mul', '0', '10011', 'T!d'],
    ['cmeq', '1', '10001', 'T!1d'], ['cmtst', '0', '10001', 'T!1d'], ['cmgt', '0', '00110', 'T!1d'],
    ['cmge', '0', '00111', 'T!1d'], ['cmhi', '1', '00110', 'T!1d'], ['cmhs', '1', '00111', 'T!1d'],
    ['smax', '0', '01100', 'T!d'], ['smin', '0', '01101', 'T!d'], ['umax', '1', '01100', 'T!d'],
    ['umin', '1', '01101', 'T!d'], ['addp', '0', '10111', 'T!1d'],
  ] as const;
  for (const [mn, U, opcode, T_] of OPS) {
    const d = def(mn, `Vd.${T_}, Vn.${T_}, Vm.${T_}`, `0 Q ${U} 01110 size 1 Rm ${opcode} 1 Rn Rd`, { exec: 'SIMD_3SAME', params: { op: mn } });
    add(validWhen(d, T_ === 'T!d' ? notD : not1d));
  }
  for (const [mn, U] of [['add', '0'], ['sub', '1']] as const) {
    add(def(mn, 'Dd, Dn, Dm', `01 ${U} 11110 11 1 Rm 10000 1 Rn Rd`, { exec: 'SIMD_SCALAR_3SAME', params: { op: mn } }));
  }
}

group('AdvSIMD across lanes');
{
  const exec = 'SIMD_ACROSS';
  // mnemonic, U, opcode, widening (the scalar result is twice the element size)
  const OPS = [
    ['addv', '0', '11011', false], ['smaxv', '0', '01010', false], ['sminv', '0', '11010', false],
    ['umaxv', '1', '01010', false], ['uminv', '1', '11010', false], ['saddlv', '0', '00011', true], ['uaddlv', '1', '00011', true],
  ] as const;
  for (const [mn, U, opcode, wide] of OPS) {
    add(
      def(mn, `${wide ? 'H' : 'B'}d, Vn.B`, `0 Q ${U} 01110 00 11000 ${opcode} 10 Rn Rd`, { exec, params: { op: mn, esize: 1 } }),
      def(mn, `${wide ? 'S' : 'H'}d, Vn.H`, `0 Q ${U} 01110 01 11000 ${opcode} 10 Rn Rd`, { exec, params: { op: mn, esize: 2 } }),
      def(mn, `${wide ? 'D' : 'S'}d, Vn.4s`, `0 1 ${U} 01110 10 11000 ${opcode} 10 Rn Rd`, { exec, params: { op: mn, esize: 4 } }),
    );
  }
}

group('AdvSIMD permute and extract');
{
  const PERMUTES = [['uzp1', '001'], ['trn1', '010'], ['zip1', '011'], ['uzp2', '101'], ['trn2', '110'], ['zip2', '111']] as const;
  for (const [mn, opcode] of PERMUTES) {
    add(validWhen(def(mn, 'Vd.T!1d, Vn.T!1d, Vm.T!1d', `0 Q 001110 size 0 Rm 0 ${opcode} 10 Rn Rd`, { exec: 'SIMD_PERMUTE', params: { op: mn } }), not1d));
  }
  add(validWhen(def('ext', 'Vd.B, Vn.B, Vm.B, #ext', '0 Q 101110 00 0 Rm 0 imm4 0 Rn Rd', { exec: 'SIMD_EXT' }), (f) => f['Q'] === 1 || f['imm4']! < 8));
}

group('AdvSIMD copy');
{
  // imm5 holds the element size (lowest set bit) and the index above it; INS (element) has the source index in imm4.
  const SIZES = [
    { e: 'b', bytes: 1, imm5: 'ib:4 1', imm4: 'jb:4', V: 'B' },
    { e: 'h', bytes: 2, imm5: 'ih:3 10', imm4: 'jh:3 x', V: 'H' },
    { e: 's', bytes: 4, imm5: 'is:2 100', imm4: 'js:2 xx', V: 'S' },
    { e: 'd', bytes: 8, imm5: 'id:1 1000', imm4: 'jd:1 xxx', V: 'D' },
  ] as const;
  for (const s of SIZES) {
    const elem = (r: string, idx: 'i' | 'j') => `V${r}.${s.e}[${idx}${s.e}]`;
    const gp = s.e === 'd' ? 'X' : 'W';
    const params = { esize: s.bytes };
    // Vector DUP: 64-bit elements only in the 128-bit form.
    const vec = s.e === 'd' ? 'Vd.2d' : `Vd.${s.V}`;
    const Q = s.e === 'd' ? '1' : 'Q';
    add(
      def('dup', `${vec}, ${elem('n', 'i')}`, `0 ${Q} 0 01110000 ${s.imm5} 0 0000 1 Rn Rd`, { exec: 'SIMD_DUP_ELEM', params: { ...params, scalar: 0 } }),
      def('mov', `${s.V}d, ${elem('n', 'i')}`, `01 0 11110000 ${s.imm5} 0 0000 1 Rn Rd`, { exec: 'SIMD_DUP_ELEM', alias: true, params: { ...params, scalar: 1 } }),
      def('dup', `${s.V}d, ${elem('n', 'i')}`, `01 0 11110000 ${s.imm5} 0 0000 1 Rn Rd`, { exec: 'SIMD_DUP_ELEM', params: { ...params, scalar: 1 } }),
      def('dup', `${vec}, ${gp}n`, `0 ${Q} 0 01110000 ${s.imm5} 0 0001 1 Rn Rd`, { exec: 'SIMD_DUP_GEN', params }),
      def('mov', `${elem('d', 'i')}, ${gp}n`, `0 1 0 01110000 ${s.imm5} 0 0011 1 Rn Rd`, { exec: 'SIMD_INS_GEN', alias: true, params }),
      def('ins', `${elem('d', 'i')}, ${gp}n`, `0 1 0 01110000 ${s.imm5} 0 0011 1 Rn Rd`, { exec: 'SIMD_INS_GEN', params }),
      def('mov', `${elem('d', 'i')}, ${elem('n', 'j')}`, `0 1 1 01110000 ${s.imm5} 0 ${s.imm4} 1 Rn Rd`, { exec: 'SIMD_INS_ELEM', alias: true, params }),
      def('ins', `${elem('d', 'i')}, ${elem('n', 'j')}`, `0 1 1 01110000 ${s.imm5} 0 ${s.imm4} 1 Rn Rd`, { exec: 'SIMD_INS_ELEM', params }),
    );
    // UMOV: W for b/h/s (Q=0), X for d (Q=1); `mov` is preferred for s and d.
    const umovQ = s.e === 'd' ? '1' : '0';
    const umov = `0 ${umovQ} 0 01110000 ${s.imm5} 0 0111 1 Rn Rd`;
    if (s.e === 's' || s.e === 'd') add(def('mov', `${gp}d, ${elem('n', 'i')}`, umov, { exec: 'SIMD_UMOV', alias: true, params }));
    add(def('umov', `${gp}d, ${elem('n', 'i')}`, umov, { exec: 'SIMD_UMOV', params }));
    // SMOV: W for b/h (Q=0), X for b/h/s (Q=1).
    if (s.e !== 'd') {
      if (s.e !== 's') add(def('smov', `Wd, ${elem('n', 'i')}`, `0 0 0 01110000 ${s.imm5} 0 0101 1 Rn Rd`, { exec: 'SIMD_SMOV', datasize: 32, params }));
      add(def('smov', `Xd, ${elem('n', 'i')}`, `0 1 0 01110000 ${s.imm5} 0 0101 1 Rn Rd`, { exec: 'SIMD_SMOV', datasize: 64, params }));
    }
  }
}

// Feature gates as GNU as applies them: loads/stores of FP/SIMD registers need
// neither (they assemble under +nofp), scalar FP needs fp, Advanced SIMD needs simd.
for (const d of T) {
  if (d.feature) continue;
  if (d.exec.startsWith('SIMD_')) d.feature = 'simd';
  else if (!/^FP_(LDST|LDR)/.test(d.exec)) d.feature = 'fp';
}

export const FP_SIMD: InsnDef[] = T;

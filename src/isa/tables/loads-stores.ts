/**
 * Integer loads and stores (Arm ARM C4.1.4, V=0 encodings): single registers
 * in every addressing mode, pairs, exclusives, load-acquire/store-release,
 * LSE atomics and prefetches, with the assembler conveniences of GNU as.
 *
 * What each entry tells the CPU (`exec` + `params`; aliases and assembler-only
 * forms keep their base's exec and params):
 *
 *   exec              addressing                          params beyond the fields
 *   LDST_UIMM         [Xn|sp, #imm12 << scale]            memop, scale, regsize, signed
 *   LDST_IMM9         [Xn|sp, #simm9] unscaled/pre/post   memop, scale, regsize, signed, index
 *   LDST_UNPRIV       [Xn|sp, #simm9] as EL0 (ldtr/sttr)  memop, scale, regsize, signed
 *   LDST_REG          [Xn|sp, Rm, extend #(S ? scale : 0)] memop, scale, regsize, signed
 *   LDR_LIT           PC + simm19 * 4                     scale, regsize, signed (always a load)
 *   PRFM              any of the above forms              mode: 'uimm'|'imm9'|'reg'|'literal', scale (a hint: no access, no fault)
 *   LDST_PAIR         [Xn|sp, #simm7 << scale]            memop, scale, regsize, signed, index, nontemporal
 *   LDST_EXCL         [Xn|sp], one register               memop, scale, regsize, acquire, release
 *   LDST_EXCL_PAIR    [Xn|sp], two registers              memop, scale, regsize, acquire, release
 *   LDST_ACQREL       [Xn|sp] (ldar/stlr/ldlar/stllr/ldapr) memop, scale, regsize, acquire, release
 *   LDST_ACQREL_IMM9  [Xn|sp, #simm9] (ldapur/stlur)      memop, scale, regsize, signed
 *   LSE_CAS / LSE_CASP / LSE_SWP / LSE_LDOP  [Xn|sp]      scale, regsize, acquire, release (+ atomic op for LDOP)
 *
 * Parameter meanings:
 *   memop     'load' | 'store'
 *   scale     log2 of the bytes transferred per register (0 = byte … 3 = doubleword);
 *             scaled offsets are multiplied by 1 << scale; datasize = 8 << scale bits
 *   regsize   32 | 64: width of the transfer register(s) (W or X)
 *   signed    1 when a load sign-extends the loaded value to regsize, else 0 (zero-extends)
 *   index     'offset' (no writeback) | 'pre' (writeback, then access) | 'post' (access, then writeback)
 *   acquire / release   1 when the access has acquire / release ordering, else 0
 *   nontemporal         1 for ldnp/stnp
 *   atomic    'add'|'clr'|'eor'|'set'|'smax'|'smin'|'umax'|'umin' (LSE_LDOP)
 *
 * Validity of reserved field values (register-offset option<1> = 0, odd CASP
 * registers, the LDPSW register overlaps objdump refuses) is expressed by
 * `validWhen`, a decoder-only predicate on the base entry; should-be-one fields that GNU objdump ignores are left free in
 * the pattern and filled with ones by the `sbo.*` kinds when assembling.
 */
import '../operands/loadstore.js';
import type { Fields, InsnDef } from '../insn-def.js';
import { def, group } from '../define.js';

const T: InsnDef[] = [];
const add = (...defs: (InsnDef | InsnDef[])[]) => { for (const d of defs) Array.isArray(d) ? T.push(...d) : T.push(d); };

/** A decoder-only validity check on a base entry (the assembler ignores `preferred` on non-aliases). */
function validWhen(d: InsnDef, valid: (f: Fields) => boolean): InsnDef {
  d.preferred = valid;
  return d;
}

const bits = (v: number, width: number) => v.toString(2).padStart(width, '0');

// ---------------------------------------------------------------------------
// single register: size:opc select width and signedness

interface Access {
  /** Mnemonic suffix after ldr/str, ldur/stur, ldtr/sttr. */
  suffix: '' | 'b' | 'h' | 'sb' | 'sh' | 'sw';
  size: number;
  opc: number;
  reg: 'W' | 'X';
  load: boolean;
  signed: boolean;
}

const ACCESSES: Access[] = [
  { suffix: 'b', size: 0, opc: 0, reg: 'W', load: false, signed: false },
  { suffix: 'b', size: 0, opc: 1, reg: 'W', load: true, signed: false },
  { suffix: 'sb', size: 0, opc: 2, reg: 'X', load: true, signed: true },
  { suffix: 'sb', size: 0, opc: 3, reg: 'W', load: true, signed: true },
  { suffix: 'h', size: 1, opc: 0, reg: 'W', load: false, signed: false },
  { suffix: 'h', size: 1, opc: 1, reg: 'W', load: true, signed: false },
  { suffix: 'sh', size: 1, opc: 2, reg: 'X', load: true, signed: true },
  { suffix: 'sh', size: 1, opc: 3, reg: 'W', load: true, signed: true },
  { suffix: '', size: 2, opc: 0, reg: 'W', load: false, signed: false },
  { suffix: '', size: 2, opc: 1, reg: 'W', load: true, signed: false },
  { suffix: 'sw', size: 2, opc: 2, reg: 'X', load: true, signed: true },
  { suffix: '', size: 3, opc: 0, reg: 'X', load: false, signed: false },
  { suffix: '', size: 3, opc: 1, reg: 'X', load: true, signed: false },
];

/** Register-offset `option`: only uxtw (010), lsl/uxtx (011), sxtw (110), sxtx (111) are allocated. */
const validExtend = (f: Fields) => (f['option']! & 2) !== 0;

function accessParams(a: Access): Record<string, number | string> {
  return { memop: a.load ? 'load' : 'store', scale: a.size, regsize: a.reg === 'W' ? 32 : 64, signed: a.signed ? 1 : 0 };
}

group('load/store register');
for (const a of ACCESSES) {
  const mn = `${a.load ? 'ldr' : 'str'}${a.suffix}`;
  const sz = bits(a.size, 2), opc = bits(a.opc, 2);
  const rt = `${a.reg}t`;
  const params = accessParams(a);
  const datasize = 8 << a.size;
  add(
    def(mn, `${rt}, mem.u12`, `${sz} 111 0 01 ${opc} imm12 Rn Rt`, { exec: 'LDST_UIMM', datasize, params }),
    def(mn, `${rt}, mem.pre9`, `${sz} 111 0 00 ${opc} 0 imm9 11 Rn Rt`, { exec: 'LDST_IMM9', datasize, params: { ...params, index: 'pre' } }),
    def(mn, `${rt}, mem.post9`, `${sz} 111 0 00 ${opc} 0 imm9 01 Rn Rt`, { exec: 'LDST_IMM9', datasize, params: { ...params, index: 'post' } }),
    validWhen(def(mn, `${rt}, mem.reg`, `${sz} 111 0 00 ${opc} 1 Rm option S 10 Rn Rt`, { exec: 'LDST_REG', datasize, params }), validExtend),
  );
  // PC-relative literal loads exist for ldr (W, X) and ldrsw only.
  const litOpc = a.load && a.size === 2 && !a.signed ? '00' : a.load && a.size === 3 ? '01' : a.load && a.suffix === 'sw' ? '10' : undefined;
  if (litOpc) {
    const litParams = { scale: a.size, regsize: a.reg === 'W' ? 32 : 64, signed: a.signed ? 1 : 0 };
    add(
      def(mn, `${rt}, label.lit19`, `${litOpc} 011 0 00 imm19 Rt`, { exec: 'LDR_LIT', datasize, params: litParams }),
      // `ldr Rt, =expr`: the value goes into the section's literal pool (4 bytes for W and ldrsw, 8 for X).
      def(mn, `${rt}, ${a.size === 3 ? '=lit8' : '=lit4'}`, `${litOpc} 011 0 00 imm19 Rt`, { exec: 'LDR_LIT', datasize, params: litParams, asmOnly: true }),
    );
  }
  // GNU as: an offset the scaled form cannot encode (negative or misaligned) becomes LDUR/STUR.
  add(def(mn, `${rt}, mem.s9`, `${sz} 111 0 00 ${opc} 0 imm9 00 Rn Rt`, { exec: 'LDST_IMM9', datasize, params: { ...params, index: 'offset' }, asmOnly: true }));
}

group('load/store register (unscaled immediate)');
for (const a of ACCESSES) {
  const mn = `${a.load ? 'ldur' : 'stur'}${a.suffix}`;
  add(def(mn, `${a.reg}t, mem.s9`, `${bits(a.size, 2)} 111 0 00 ${bits(a.opc, 2)} 0 imm9 00 Rn Rt`, {
    exec: 'LDST_IMM9', datasize: 8 << a.size, params: { ...accessParams(a), index: 'offset' },
  }));
}

group('load/store register (unprivileged)');
for (const a of ACCESSES) {
  const mn = `${a.load ? 'ldtr' : 'sttr'}${a.suffix}`;
  add(def(mn, `${a.reg}t, mem.s9`, `${bits(a.size, 2)} 111 0 00 ${bits(a.opc, 2)} 0 imm9 10 Rn Rt`, {
    exec: 'LDST_UNPRIV', datasize: 8 << a.size, params: accessParams(a),
  }));
}

group('prefetch');
{
  const exec = 'PRFM';
  add(
    def('prfm', 'prfop, mem.u12', '11 111 0 01 10 imm12 Rn Rt', { exec, params: { mode: 'uimm', scale: 3 } }),
    validWhen(def('prfm', 'prfop, mem.reg', '11 111 0 00 10 1 Rm option S 10 Rn Rt', { exec, params: { mode: 'reg', scale: 3 } }), validExtend),
    def('prfm', 'prfop, label.lit19', '11 011 0 00 imm19 Rt', { exec, params: { mode: 'literal', scale: 3 } }),
    def('prfm', 'prfop, mem.s9', '11 111 0 00 10 0 imm9 00 Rn Rt', { exec, params: { mode: 'imm9', scale: 3 }, asmOnly: true }),
    def('prfum', 'prfop, mem.s9', '11 111 0 00 10 0 imm9 00 Rn Rt', { exec, params: { mode: 'imm9', scale: 3 } }),
  );
}

// ---------------------------------------------------------------------------
// pairs

group('load/store pair');
{
  const exec = 'LDST_PAIR';
  const PAIRS = [
    { mn: 'stp', opc: '00', L: 0, reg: 'W', scale: 2, signed: 0 },
    { mn: 'ldp', opc: '00', L: 1, reg: 'W', scale: 2, signed: 0 },
    { mn: 'ldpsw', opc: '01', L: 1, reg: 'X', scale: 2, signed: 1 },
    { mn: 'stp', opc: '10', L: 0, reg: 'X', scale: 3, signed: 0 },
    { mn: 'ldp', opc: '10', L: 1, reg: 'X', scale: 3, signed: 0 },
  ] as const;
  for (const p of PAIRS) {
    const params = { memop: p.L ? 'load' : 'store', scale: p.scale, regsize: p.reg === 'W' ? 32 : 64, signed: p.signed, nontemporal: 0 };
    const datasize = 8 << p.scale;
    const regs = `${p.reg}t, ${p.reg}t2`;
    const pairDefs = [
      def(p.mn, `${regs}, mem.s7`, `${p.opc} 101 0 010 ${p.L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'offset' } }),
      def(p.mn, `${regs}, mem.pre7`, `${p.opc} 101 0 011 ${p.L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'pre' } }),
      def(p.mn, `${regs}, mem.post7`, `${p.opc} 101 0 001 ${p.L} imm7 Rt2 Rn Rt`, { exec, datasize, params: { ...params, index: 'post' } }),
    ];
    // GNU objdump treats the CONSTRAINED UNPREDICTABLE register overlaps of LDPSW as undefined
    // (Rt == Rt2, or a written-back base that is also loaded); the assembler only warns.
    if (p.mn === 'ldpsw') {
      for (const d of pairDefs) {
        const writeback = d.params['index'] !== 'offset';
        validWhen(d, (f) => f['Rt'] !== f['Rt2'] && !(writeback && f['Rn'] !== 31 && (f['Rn'] === f['Rt'] || f['Rn'] === f['Rt2'])));
      }
    }
    add(pairDefs);
    if (p.mn !== 'ldpsw') {
      add(def(`${p.mn[0] === 'l' ? 'ldnp' : 'stnp'}`, `${regs}, mem.s7`, `${p.opc} 101 0 000 ${p.L} imm7 Rt2 Rn Rt`, {
        exec, datasize, params: { ...params, index: 'offset', nontemporal: 1 },
      }));
    }
  }
}

// ---------------------------------------------------------------------------
// exclusives and load-acquire / store-release (size 001000 o2 L o1 Rs o0 Rt2 Rn Rt)

/** Byte, halfword, word and doubleword forms: [mnemonic suffix, size, register, scale]. */
const SIZES = [['b', '00', 'W', 0], ['h', '01', 'W', 1], ['', '10', 'W', 2], ['', '11', 'X', 3]] as const;

group('load/store exclusive');
{
  const exec = 'LDST_EXCL';
  for (const [sfx, size, reg, scale] of SIZES) {
    const base = { scale, regsize: reg === 'W' ? 32 : 64 };
    const datasize = 8 << scale;
    add(
      def(`stxr${sfx}`, `Ws, ${reg}t, mem.base, sbo.Rt2`, `${size} 001000 0 0 0 Rs 0 Rt2 Rn Rt`, { exec, datasize, params: { ...base, memop: 'store', acquire: 0, release: 0 } }),
      def(`stlxr${sfx}`, `Ws, ${reg}t, mem.base, sbo.Rt2`, `${size} 001000 0 0 0 Rs 1 Rt2 Rn Rt`, { exec, datasize, params: { ...base, memop: 'store', acquire: 0, release: 1 } }),
      def(`ldxr${sfx}`, `${reg}t, mem.base, sbo.Rs, sbo.Rt2`, `${size} 001000 0 1 0 Rs 0 Rt2 Rn Rt`, { exec, datasize, params: { ...base, memop: 'load', acquire: 0, release: 0 } }),
      def(`ldaxr${sfx}`, `${reg}t, mem.base, sbo.Rs, sbo.Rt2`, `${size} 001000 0 1 0 Rs 1 Rt2 Rn Rt`, { exec, datasize, params: { ...base, memop: 'load', acquire: 1, release: 0 } }),
    );
  }
  for (const [reg, sz] of [['W', '0'], ['X', '1']] as const) {
    const base = { scale: sz === '1' ? 3 : 2, regsize: reg === 'W' ? 32 : 64 };
    const datasize = sz === '1' ? 64 : 32;
    const pexec = 'LDST_EXCL_PAIR';
    add(
      def('stxp', `Ws, ${reg}t, ${reg}t2, mem.base`, `1 ${sz} 001000 0 0 1 Rs 0 Rt2 Rn Rt`, { exec: pexec, datasize, params: { ...base, memop: 'store', acquire: 0, release: 0 } }),
      def('stlxp', `Ws, ${reg}t, ${reg}t2, mem.base`, `1 ${sz} 001000 0 0 1 Rs 1 Rt2 Rn Rt`, { exec: pexec, datasize, params: { ...base, memop: 'store', acquire: 0, release: 1 } }),
      def('ldxp', `${reg}t, ${reg}t2, mem.base, sbo.Rs`, `1 ${sz} 001000 0 1 1 Rs 0 Rt2 Rn Rt`, { exec: pexec, datasize, params: { ...base, memop: 'load', acquire: 0, release: 0 } }),
      def('ldaxp', `${reg}t, ${reg}t2, mem.base, sbo.Rs`, `1 ${sz} 001000 0 1 1 Rs 1 Rt2 Rn Rt`, { exec: pexec, datasize, params: { ...base, memop: 'load', acquire: 1, release: 0 } }),
    );
  }
}

group('load-acquire / store-release');
{
  const exec = 'LDST_ACQREL';
  for (const [sfx, size, reg, scale] of SIZES) {
    const base = { scale, regsize: reg === 'W' ? 32 : 64 };
    const datasize = 8 << scale;
    add(
      def(`stllr${sfx}`, `${reg}t, mem.base, sbo.Rs, sbo.Rt2`, `${size} 001000 1 0 0 Rs 0 Rt2 Rn Rt`, { exec, datasize, feature: 'lor', params: { ...base, memop: 'store', acquire: 0, release: 1 } }),
      def(`stlr${sfx}`, `${reg}t, mem.base, sbo.Rs, sbo.Rt2`, `${size} 001000 1 0 0 Rs 1 Rt2 Rn Rt`, { exec, datasize, params: { ...base, memop: 'store', acquire: 0, release: 1 } }),
      def(`ldlar${sfx}`, `${reg}t, mem.base, sbo.Rs, sbo.Rt2`, `${size} 001000 1 1 0 Rs 0 Rt2 Rn Rt`, { exec, datasize, feature: 'lor', params: { ...base, memop: 'load', acquire: 1, release: 0 } }),
      // objdump ignores bit 20 (the top bit of Rs) of ldar and ldarb, but not of ldarh.
      sfx === 'h'
        ? def(`ldar${sfx}`, `${reg}t, mem.base`, `${size} 001000 1 1 0 11111 1 11111 Rn Rt`, { exec, datasize, params: { ...base, memop: 'load', acquire: 1, release: 0 } })
        : def(`ldar${sfx}`, `${reg}t, mem.base, sbo.Rs4`, `${size} 001000 1 1 0 Rs4:1 1111 1 11111 Rn Rt`, { exec, datasize, params: { ...base, memop: 'load', acquire: 1, release: 0 } }),
      // RCpc load-acquire (weaker ordering than ldar; the same effect on a single in-order CPU).
      def(`ldapr${sfx}`, `${reg}t, mem.base`, `${size} 111 0 00 1 0 1 11111 1 100 00 Rn Rt`, { exec, datasize, feature: 'rcpc', params: { ...base, memop: 'load', acquire: 1, release: 0 } }),
    );
  }
}

group('load-acquire RCpc / store-release (unscaled immediate)');
{
  const exec = 'LDST_ACQREL_IMM9';
  for (const a of ACCESSES) {
    const mn = `${a.load ? 'ldapur' : 'stlur'}${a.suffix}`;
    add(def(mn, `${a.reg}t, mem.s9`, `${bits(a.size, 2)} 011001 ${bits(a.opc, 2)} 0 imm9 00 Rn Rt`, {
      exec, datasize: 8 << a.size, feature: 'v8.4', params: accessParams(a),
    }));
  }
}

// ---------------------------------------------------------------------------
// LSE atomics (feature lse)

/** Ordering suffixes: [suffix, A (acquire), R (release)]. */
const ORDERINGS = [['', 0, 0], ['a', 1, 0], ['al', 1, 1], ['l', 0, 1]] as const;

group('compare and swap');
for (const [sfx, size, reg, scale] of SIZES) {
  for (const [ord, A, R] of ORDERINGS) {
    add(def(`cas${ord}${sfx}`, `${reg}s, ${reg}t, mem.base`, `${size} 001000 1 ${A} 1 Rs ${R} 11111 Rn Rt`, {
      exec: 'LSE_CAS', datasize: 8 << scale, feature: 'lse', params: { scale, regsize: reg === 'W' ? 32 : 64, acquire: A, release: R },
    }));
  }
}
for (const [reg, sz] of [['W', '0'], ['X', '1']] as const) {
  for (const [ord, A, R] of ORDERINGS) {
    const scale = sz === '1' ? 3 : 2;
    add(validWhen(def(`casp${ord}`, `${reg}s.pair, ${reg}t.pair, mem.base`, `0 ${sz} 001000 0 ${A} 1 Rs ${R} 11111 Rn Rt`, {
      exec: 'LSE_CASP', datasize: 8 << scale, feature: 'lse', params: { scale, regsize: reg === 'W' ? 32 : 64, acquire: A, release: R },
    }), (f) => (f['Rs']! & 1) === 0 && (f['Rt']! & 1) === 0));
  }
}

group('atomic memory operations');
{
  const OPS = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin'] as const;
  for (const [sfx, size, reg, scale] of SIZES) {
    for (const [ord, A, R] of ORDERINGS) {
      const params = { scale, regsize: reg === 'W' ? 32 : 64, acquire: A, release: R };
      const datasize = 8 << scale;
      add(def(`swp${ord}${sfx}`, `${reg}s, ${reg}t, mem.base`, `${size} 111 0 00 ${A} ${R} 1 Rs 1 000 00 Rn Rt`, { exec: 'LSE_SWP', datasize, feature: 'lse', params }));
      OPS.forEach((op, i) => {
        const pattern = `${size} 111 0 00 ${A} ${R} 1 Rs 0 ${bits(i, 3)} 00 Rn Rt`;
        const opts = { exec: 'LSE_LDOP', datasize, feature: 'lse' as const, params: { ...params, atomic: op } };
        // ST<op>: the result is discarded (Rt = zero register); preferred when there is no acquire.
        if (A === 0) add(def(`st${op}${ord}${sfx}`, `${reg}s, mem.base`, pattern.replace(/Rt$/, 'Rt=11111'), { ...opts, alias: true }));
        add(def(`ld${op}${ord}${sfx}`, `${reg}s, ${reg}t, mem.base`, pattern, opts));
      });
    }
  }
}

export const LOADS_STORES: InsnDef[] = T;

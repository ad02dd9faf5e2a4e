/**
 * The integer load/store table (src/isa/tables/loads-stores.ts) against GNU as
 * 2.40 and objdump: generated and hand-written lines must assemble to GNU's
 * bytes, invalid lines must be rejected by both, literal pools must be laid
 * out as GNU lays them out, and our disassembler must print what objdump does.
 */
import { describe, expect, it } from 'vitest';
import { requireOracle, GNU_AS, GNU_OBJDUMP, gnuAssemble, gnuObjdump, compareObjects } from '../helpers/oracle.js';
import { compareLinesWithGnu, describeComparison, generateFromTable, rng, ALL_FEATURES_PREAMBLE } from './support/corpus.js';
import { LOADS_STORES } from '../../src/isa/tables/loads-stores.js';
import { disassemble } from '../../src/isa/disasm.js';
import { assemble } from '../../src/asm/assembler.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { readElf, findSection } from '../../src/elf/read.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';

const OURS = new Set(LOADS_STORES);
const clean = (c: ReturnType<typeof compareLinesWithGnu>) => describeComparison({ ...c, mismatches: [], weAccepted: [], weRejected: [] });
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** One line per mnemonic and addressing mode, with the boundary offsets and GNU's `#0`/extend spellings. */
const VALID = lines(`
  ldr x0, [x1]
  ldr x0, [x1, #0]
  ldr x0, [x1, #8]
  ldr x0, [x1, #32760]
  ldr w0, [x1, #16380]
  ldr w0, [sp, #4]
  ldr xzr, [sp]
  ldr wzr, [x30, #-4]
  ldrb w0, [x1, #4095]
  ldrh w0, [x1, #8190]
  ldrsb w0, [x1, #1]
  ldrsb x0, [x1, #4095]
  ldrsh w0, [x1, #2]
  ldrsh x0, [x1, #8190]
  ldrsw x0, [x1, #16380]
  str x0, [x1, #8]
  str w0, [x1, #4]
  strb w0, [x1, #1]
  strh w0, [x1, #2]
  str xzr, [sp, #16]
  ldr x0, [x1, #-8]
  ldr x0, [x1, #3]
  ldr x0, [x1, #-256]
  ldr x0, [x1, #255]
  ldr w0, [x1, #-4]
  ldr w0, [x1, #2]
  ldrh w0, [x1, #1]
  ldrh w0, [x1, #-2]
  ldrb w0, [x1, #-1]
  ldrsb w0, [x1, #-128]
  ldrsb x0, [x1, #-1]
  ldrsh w0, [x1, #-1]
  ldrsh x0, [x1, #3]
  ldrsw x0, [x1, #-4]
  ldrsw x0, [x1, #2]
  str x0, [x1, #-8]
  str w0, [x1, #1]
  strb w0, [x1, #-256]
  strh w0, [x1, #255]
  ldur x0, [x1]
  ldur x0, [x1, #8]
  ldur w0, [x1, #-256]
  ldurb w0, [x1, #255]
  ldurh w0, [x1, #1]
  ldursb w0, [x1, #-1]
  ldursb x0, [x1, #1]
  ldursh w0, [x1, #-3]
  ldursh x0, [x1, #3]
  ldursw x0, [x1, #-5]
  stur x0, [sp, #-8]
  stur w0, [x1, #3]
  sturb w0, [x1]
  sturh w0, [x1, #-2]
  ldr x0, [x1, #8]!
  ldr x0, [x1, #-256]!
  ldr x0, [x1, #255]!
  ldr x0, [x1], #8
  ldr x0, [x1], #-256
  ldr w0, [sp, #-4]!
  ldr w0, [x1], #3
  ldrb w0, [x1, #1]!
  ldrb w0, [x1], #-1
  ldrh w0, [x1, #2]!
  ldrh w0, [x1], #2
  ldrsb w0, [x1, #1]!
  ldrsb x0, [x1], #1
  ldrsh w0, [x1, #-2]!
  ldrsh x0, [x1], #2
  ldrsw x0, [x1, #4]!
  ldrsw x0, [x1], #-4
  str x0, [sp, #-16]!
  str x0, [sp], #16
  str w0, [x1, #4]!
  strb w0, [x1], #1
  strh w0, [x1, #-2]!
  ldr x0, [x1, #0]!
  ldr x0, [x1], #0
  ldr x0, [x1, x2]
  ldr x0, [x1, x2, lsl #3]
  ldr x0, [x1, x2, lsl #0]
  ldr x0, [x1, x2, lsl 3]
  ldr x0, [x1, w2, uxtw]
  ldr x0, [x1, w2, uxtw #0]
  ldr x0, [x1, w2, uxtw #3]
  ldr x0, [x1, w2, sxtw]
  ldr x0, [x1, w2, sxtw #3]
  ldr x0, [x1, x2, sxtx]
  ldr x0, [x1, x2, sxtx #0]
  ldr x0, [x1, x2, sxtx #3]
  ldr x0, [sp, xzr]
  ldr x0, [x1, wzr, uxtw]
  ldr w0, [x1, x2, lsl #2]
  ldr w0, [x1, w2, sxtw #2]
  ldr w0, [x1, w2, uxtw #0]
  ldrb w0, [x1, x2]
  ldrb w0, [x1, x2, lsl #0]
  ldrb w0, [x1, w2, uxtw]
  ldrb w0, [x1, w2, uxtw #0]
  ldrb w0, [x1, w2, sxtw]
  ldrb w0, [x1, w2, sxtw #0]
  ldrb w0, [x1, x2, sxtx]
  ldrb w0, [x1, x2, sxtx #0]
  ldrsb w0, [x1, x2, lsl #0]
  ldrsb x0, [x1, w2, sxtw #0]
  ldrh w0, [x1, x2, lsl #1]
  ldrh w0, [x1, x2, lsl #0]
  ldrh w0, [x1, w2, uxtw #1]
  ldrsh w0, [x1, x2, sxtx #1]
  ldrsh x0, [x1, w2, sxtw]
  ldrsw x0, [x1, x2, lsl #2]
  ldrsw x0, [x1, w2, uxtw #2]
  ldrsw x0, [x1, w2, sxtw #0]
  str x0, [x1, x2, lsl #3]
  str w0, [x1, w2, uxtw #2]
  strb w0, [x1, x2, lsl #0]
  strb w0, [x1, x2]
  strh w0, [x1, w2, sxtw #1]
  LDR X0, [X1, X2, LSL #3]
  ldtr x0, [x1]
  ldtr x0, [x1, #-256]
  ldtr x0, [x1, #255]
  ldtr w0, [x1, #3]
  ldtrb w0, [x1, #1]
  ldtrh w0, [x1, #-1]
  ldtrsb w0, [x1]
  ldtrsb x0, [x1, #1]
  ldtrsh w0, [x1, #2]
  ldtrsh x0, [x1, #-2]
  ldtrsw x0, [x1, #4]
  sttr x0, [sp, #8]
  sttr w0, [x1, #-4]
  sttrb w0, [x1]
  sttrh w0, [x1, #1]
  ldr x0, .
  ldr x0, .+8
  ldr x0, .-1048576
  ldr x0, .+1048572
  ldr w0, .+4
  ldrsw x0, .-4
  prfm pldl1keep, .+16
  prfm #31, .-8
  prfm pldl1keep, [x1]
  prfm pldl1strm, [x1, #8]
  prfm pldl2keep, [x1, #32760]
  prfm pldl2strm, [sp]
  prfm pldl3keep, [x1]
  prfm pldl3strm, [x1]
  prfm plil1keep, [x1]
  prfm plil1strm, [x1]
  prfm plil2keep, [x1]
  prfm plil2strm, [x1]
  prfm plil3keep, [x1]
  prfm plil3strm, [x1]
  prfm pstl1keep, [x1]
  prfm pstl1strm, [x1]
  prfm pstl2keep, [x1]
  prfm pstl2strm, [x1]
  prfm pstl3keep, [x1]
  prfm pstl3strm, [x1]
  prfm PLDL1KEEP, [x1]
  prfm #0, [x1]
  prfm #6, [x1]
  prfm #31, [x1, #8]
  prfm pldl1keep, [x1, #-8]
  prfm pldl1keep, [x1, #3]
  prfm pldl1keep, [x1, x2]
  prfm pldl1keep, [x1, x2, lsl #3]
  prfm pstl3strm, [x1, w2, uxtw]
  prfm plil2keep, [x1, w2, sxtw #3]
  prfm #7, [x1, x2, sxtx]
  prfum pldl1keep, [x1]
  prfum pldl2keep, [x1, #-256]
  prfum #9, [x1, #255]
  ldp x0, x1, [x2]
  ldp x0, x1, [x2, #8]
  ldp x0, x1, [x2, #-512]
  ldp x0, x1, [x2, #504]
  ldp x0, x1, [sp, #16]!
  ldp x0, x1, [sp], #16
  ldp x0, x1, [x2, #0]!
  ldp x0, x1, [x2], #-512
  ldp w0, w1, [x2]
  ldp w0, w1, [x2, #-256]
  ldp w0, w1, [x2, #252]
  ldp w0, w1, [x2, #4]!
  ldp w0, w1, [x2], #-4
  stp x29, x30, [sp, #-16]!
  stp x29, x30, [sp, #-512]!
  stp x0, x1, [x2], #504
  stp xzr, xzr, [x0]
  stp w0, w1, [x2, #8]
  stp w0, w1, [x2, #-8]!
  stp w0, w1, [x2], #4
  ldpsw x0, x1, [x2]
  ldpsw x0, x1, [x2, #4]
  ldpsw x0, x1, [x2, #-256]!
  ldpsw x0, x1, [x2], #252
  ldnp x0, x1, [x2]
  ldnp x0, x1, [x2, #-512]
  ldnp w0, w1, [x2, #252]
  stnp x0, x1, [sp, #8]
  stnp w0, w1, [x2, #-4]
  ldxr x0, [x1]
  ldxr x0, [x1, #0]
  ldxr w0, [sp]
  ldxrb w0, [x1]
  ldxrh w0, [x1]
  ldaxr x0, [x1]
  ldaxr w0, [x1]
  ldaxrb w0, [x1]
  ldaxrh w0, [x1]
  stxr w0, x1, [x2]
  stxr w0, w1, [x2]
  stxr w0, x1, [x2, #0]
  stxrb w0, w1, [x2]
  stxrh w0, w1, [x2]
  stlxr w0, x1, [x2]
  stlxr w0, w1, [sp]
  stlxrb w0, w1, [x2]
  stlxrh w0, w1, [x2]
  ldxp x0, x1, [x2]
  ldxp w0, w1, [x2]
  ldaxp x0, x1, [x2]
  ldaxp w0, w1, [x2, #0]
  stxp w0, x1, x2, [x3]
  stxp w0, w1, w2, [x3]
  stlxp w0, x1, x2, [x3]
  stlxp w0, w1, w2, [sp]
  ldar x0, [x1]
  ldar w0, [x1, #0]
  ldarb w0, [x1]
  ldarh w0, [x1]
  stlr x0, [x1]
  stlr w0, [sp]
  stlrb w0, [x1]
  stlrh w0, [x1]
  ldlar x0, [x1]
  ldlar w0, [x1]
  ldlarb w0, [x1]
  ldlarh w0, [x1]
  stllr x0, [x1]
  stllr w0, [x1]
  stllrb w0, [x1]
  stllrh w0, [x1]
  ldapr x0, [x1]
  ldapr w0, [x1]
  ldaprb w0, [x1]
  ldaprh w0, [x1, #0]
  ldapur x0, [x1, #-5]
  ldapur w0, [x1]
  ldapurb w0, [x1, #255]
  ldapurh w0, [x1, #-256]
  ldapursb w0, [x1, #1]
  ldapursb x0, [x1, #1]
  ldapursh w0, [x1, #1]
  ldapursh x0, [x1, #1]
  ldapursw x0, [x1, #1]
  stlur x0, [x1, #8]
  stlur w0, [x1, #-8]
  stlurb w0, [x1, #3]
  stlurh w0, [x1]
  cas w0, w1, [x2]
  cas x0, x1, [sp]
  casa w0, w1, [x2]
  casal x0, x1, [x2]
  casl w0, w1, [x2, #0]
  casb w0, w1, [x2]
  casab w0, w1, [x2]
  casalb w0, w1, [x2]
  caslb w0, w1, [x2]
  cash w0, w1, [x2]
  casah w0, w1, [x2]
  casalh w0, w1, [x2]
  caslh w0, w1, [x2]
  casp x0, x1, x2, x3, [x4]
  casp w0, w1, w2, w3, [x4]
  caspa x2, x3, x4, x5, [sp]
  caspal w30, wzr, w2, w3, [x5]
  caspl x30, xzr, x28, x29, [x5]
  swp w0, w1, [x2]
  swp x0, x1, [x2]
  swpa w0, w1, [x2]
  swpal x0, x1, [x2]
  swpl w0, w1, [x2]
  swpb w0, w1, [x2]
  swpab w0, w1, [x2]
  swpalb w0, w1, [x2]
  swplb w0, w1, [x2]
  swph w0, w1, [x2]
  swpah w0, w1, [x2]
  swpalh w0, w1, [x2]
  swplh w0, w1, [x2]
  ldadd w0, w1, [x2]
  ldadda x0, x1, [x2]
  ldaddal w0, w1, [x2]
  ldaddl x0, x1, [x2]
  ldaddb w0, w1, [x2]
  ldaddah w0, w1, [x2]
  ldaddalb w0, w1, [x2]
  ldaddlh w0, w1, [x2]
  ldclr w0, w1, [x2]
  ldclral x0, x1, [x2]
  ldeor w0, w1, [x2]
  ldeorlb w0, w1, [x2]
  ldset x0, x1, [x2]
  ldsetah w0, w1, [x2]
  ldsmax w0, w1, [x2]
  ldsmaxab w0, w1, [x2]
  ldsmin x0, x1, [x2]
  ldsminalh w0, w1, [x2]
  ldumax w0, w1, [x2]
  ldumaxl x0, x1, [x2]
  ldumin w0, w1, [x2]
  lduminb w0, w1, [x2]
  ldadd w0, wzr, [x1]
  ldaddl x0, xzr, [x1]
  ldadda w0, wzr, [x1]
  ldaddal w0, wzr, [x1]
  stadd w0, [x1]
  stadd x0, [x1]
  staddl w0, [x1]
  staddb w0, [x1]
  staddlb w0, [x1]
  staddh w0, [x1]
  staddlh w0, [x1]
  stclr w0, [x1]
  stclrl x0, [x1]
  steor w0, [x1]
  steorlh w0, [x1]
  stset x0, [x1]
  stsetb w0, [x1]
  stsmax w0, [x1]
  stsmaxlb w0, [x1]
  stsmin x0, [x1]
  stsminh w0, [x1]
  stumax w0, [x1]
  stumaxl x0, [x1]
  stumin w0, [x1]
  stuminlb w0, [x1]
  ldr x0, [x1, :lo12:sym]
  ldr x0, [x1, #:lo12:sym]
  ldr w0, [x1, #:lo12:sym]
  ldrb w0, [x1, #:lo12:sym]
  ldrh w0, [x1, #:lo12:sym]
  ldrsw x0, [x1, #:lo12:sym]
  str x0, [x1, #:lo12:sym]
  ldr x0, [x1, #:got_lo12:sym]
`);

/** CONSTRAINED UNPREDICTABLE register overlaps: GNU as only warns, so they must assemble. */
const WARNED = lines(`
  stxr w0, x0, [x1]
  stxr w0, x2, [x0]
  stlxp w1, x1, x2, [x3]
  ldxp x0, x0, [x2]
  ldp x0, x0, [x2]
  ldp x0, x1, [x0], #16
  ldr x0, [x0], #8
  str x0, [x0, #8]!
  ldpsw x0, x0, [x1]
  ldrsw x0, [x0], #4
  stp x0, x1, [x1, #16]!
`);

/** Out-of-range or misaligned offsets, wrong widths, wrong addressing modes, odd CASP pairs. */
const INVALID = lines(`
  ldr x0, [x1, #32768]
  ldr x0, [x1, #-257]
  ldr x0, [x1, #32761]
  ldrb w0, [x1, #4096]
  ldrh w0, [x1, #8191]
  ldr x0, [x1, #256]!
  ldr x0, [x1, #-257]!
  ldr x0, [x1], #256
  ldr x0, [x1], #-257
  ldr x0, [x1]!
  ldr x0, [x1], x2
  ldr x0, [x1, x2]!
  ldr x0, [w1]
  ldr x0, [xzr]
  ldr w0, [w1, #4]
  ldrb x0, [x1]
  ldrh x0, [x1]
  strb x0, [x1]
  strh x0, [x1]
  ldrsw w0, [x1]
  ldr sp, [x1]
  str sp, [x1]
  str wsp, [x1]
  ldr x0, [x1, x2, lsl #2]
  ldr x0, [x1, x2, lsl #1]
  ldr x0, [x1, x2, lsl]
  ldr x0, [x1, w2]
  ldr x0, [x1, x2, uxtw]
  ldr x0, [x1, w2, lsl #3]
  ldr x0, [x1, x2, sxtw]
  ldr x0, [x1, w2, sxtx]
  ldr x0, [x1, w2, uxtx]
  ldr x0, [x1, w2, uxtb]
  ldr x0, [x1, sp]
  ldr x0, [x1, w2, uxtw #2]
  ldrb w0, [x1, x2, lsl #1]
  ldrh w0, [x1, x2, lsl #2]
  ldrsw x0, [x1, w2, uxtw #3]
  ldr x0, [x1, x2, asr #3]
  ldur x0, [x1, #256]
  ldur x0, [x1, #-257]
  ldur x0, [x1, x2]
  ldur x0, [x1, #8]!
  ldurb x0, [x1]
  ldtr x0, [x1, #256]
  ldtr x0, [x1, #8]!
  ldtr x0, [x1], #8
  ldtr x0, [x1, x2]
  ldtrb x0, [x1]
  ldp x0, x1, [x2, #3]
  ldp x0, x1, [x2, #512]
  ldp x0, x1, [x2, #-520]
  ldp w0, w1, [x2, #256]
  ldp w0, w1, [x2, #2]
  ldp x0, w1, [x2]
  ldp x0, x1, [x2, x3]
  ldp x0, x1, [x2]!
  ldp x0, x1, [x2], x3
  ldp x0, [x2]
  ldpsw w0, w1, [x2]
  ldpsw x0, x1, [x2, #2]
  stp x0, x1, [x2, #512]!
  ldnp x0, x1, [x2, #8]!
  ldnp x0, x1, [x2], #8
  ldnp x0, x1, [x2, #4]
  stnp x0, x1, [x2], #8
  ldxr x0, [x1, #8]
  ldxr x0, [x1, #-8]
  ldxr x0, [x1], #8
  ldxr x0, [x1, x2]
  ldxrb x0, [x1]
  stxr x0, x1, [x2]
  stxr w0, x1, [x2, #4]
  stxrb w0, x1, [x2]
  stxp w0, x1, w2, [x3]
  stxp x0, x1, x2, [x3]
  ldxp x0, w1, [x2]
  ldxp x0, x1, [x2, #16]
  ldar x0, [x1, #8]
  ldar x0, [x1], #8
  ldarb x0, [x1]
  stlrh x0, [x1]
  ldapr x0, [x1, #8]
  ldaprb x0, [x1]
  ldapur x0, [x1, #256]
  ldapurb x0, [x1]
  casp x1, x2, x4, x5, [x0]
  casp x0, x1, x3, x4, [x5]
  casp x0, x2, x2, x3, [x5]
  casp x0, x1, x2, x4, [x5]
  casp w0, w1, x2, x3, [x5]
  casp x0, x1, [x0]
  cas x0, w1, [x2]
  cas w0, w1, [x2, #8]
  casb x0, x1, [x2]
  cash w0, x1, [x2]
  swpb x0, x1, [x2]
  swp x0, x1, [x2, #8]
  ldaddb w0, x1, [x2]
  ldadd x0, w1, [x2]
  stadd x0, w1, [x2]
  staddb x0, [x1]
  stadda w0, [x1]
  staddal w0, [x1]
  prfm pldl4keep, [x1]
  prfm #32, [x1]
  prfm #-1, [x1]
  prfm pldl1keep, [x1, #-257]
  prfm pldl1keep, [x1], #8
  prfm pldl1keep, [x1, #8]!
  prfm pldl1keep, [x1, #32768]
  prfm x0, [x1]
  prfum pldl1keep, [x1, #256]
  prfum pldl1keep, [x1, x2]
  ldrsb w0, =1
  ldrb w0, =1
  str x0, =1
  ldr x0, [x1, #:lo12:sym]!
`);

describe.runIf(requireOracle(GNU_AS))('integer load/store encodings match GNU as', () => {
  it('generated corpus from the table', () => {
    const corpus = generateFromTable((d) => OURS.has(d), 12, 0x1d57);
    expect(corpus.length).toBeGreaterThan(3000);
    const c = compareLinesWithGnu(corpus.map((l) => l.text));
    expect(c.accepted).toBeGreaterThan(corpus.length * 0.95);
    expect(describeComparison(c)).toBe(clean(c));
  });

  it('hand-written lines for every mnemonic and addressing mode', () => {
    const c = compareLinesWithGnu([...VALID, ...WARNED]);
    expect(c.rejected).toBe(0);
    expect(describeComparison(c)).toBe(clean(c));
  });

  it('invalid lines are rejected by both', () => {
    const c = compareLinesWithGnu(INVALID);
    expect(c.accepted).toBe(0);
    expect(describeComparison(c)).toBe(clean(c));
  });

  it('LSE, RCpc, LOR and RCpc2 forms need their architecture features', () => {
    const gated = ['cas w0, w1, [x2]', 'casp x0, x1, x2, x3, [x4]', 'swpal x0, x1, [x2]', 'ldadd w0, w1, [x2]', 'stadd w0, [x1]',
      'ldsmaxlh w0, w1, [x2]', 'ldapr x0, [x1]', 'ldlar x0, [x1]', 'stllrb w0, [x1]', 'ldapur x0, [x1]', 'stlur w0, [x1, #-1]'];
    const base = compareLinesWithGnu([...gated, 'ldr x0, [x1]', 'ldaxr w0, [x1]'], '.arch armv8-a');
    expect(base.accepted).toBe(2);
    expect(describeComparison(base)).toBe(clean(base));
    for (const preamble of ['.arch armv8.1-a', '.arch armv8-a+lse', '.arch armv8-a+lor', '.arch armv8.2-a+rcpc', '.arch armv8.3-a', '.arch armv8.4-a']) {
      const c = compareLinesWithGnu(gated, preamble);
      expect(describeComparison(c), preamble).toBe(clean(c));
    }
  });
});

/** Sources whose `ldr =` literal pools land at the end of sections and at `.ltorg`/`.pool`. */
const POOL_SOURCES: Record<string, string> = {
  'end of section, shared entries, per-size pools': `
	.text
	.globl f
f:	ldr x0, =0x1122334455667788
	ldr w1, =0x1234
	ldrsw x2, =-5
	ldr x3, =0x1122334455667788
	ldr w4, =0x1234
	mov x30, x30
`,
  'alignment padding before the 8-byte pool': `
	.text
	mov x0, x1
	ldr x0, =1
	ldr w1, =2
	ldr x2, =3
	ldr w3, =4
	ldr w5, =2
`,
  '.ltorg and .pool in the middle': `
	.text
	ldr x0, =0xdead
	ldr w1, =0xbeef
	mov x9, x10
	.ltorg
	ldr x2, =0xdead
	ldr w3, =7
	.pool
	ldr x4, =9
	mov x30, x30
	.ltorg
	.ltorg
	mov x0, x1
`,
  'symbols and expressions in the pool': `
	.text
	.globl g
g:	ldr x0, =ext
	ldr x1, =ext+16
	ldr x2, =local
	ldr w3, =ext
	ldr x4, =local
	ldr x5, =(1 << 40) + 3
	mov x30, x30
local:	.word 1
`,
  'one pool per section': `
	.section .text.a, "ax"
	ldr x0, =1
	ldr w1, =1
	.section .text.b, "ax"
	mov x0, x1
	ldr x0, =2
	.section .text.a, "ax"
	ldr x2, =3
	.data
	.word 5
	.text
	ldr x9, =0x77
`,
};

describe.runIf(requireOracle(GNU_AS))('ldr = literal pools match GNU as', () => {
  for (const [name, source] of Object.entries(POOL_SOURCES)) {
    it(name, () => {
      const gnu = gnuAssemble(source);
      if (!gnu.ok) throw new Error(gnu.stderr);
      const ours = assemble(source, { file: 'pool.s' });
      expect(ours.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
      const elf = readElf(writeRelocatableObject(toObjectModel(ours)));
      for (const s of gnu.elf.sections) {
        if (!/^\.text|^\.data/.test(s.name)) continue;
        expect(Buffer.from(findSection(elf, s.name)?.data ?? []).toString('hex'), s.name).toBe(Buffer.from(s.data).toString('hex'));
      }
      // GNU as starts each per-size pool with its own $d mapping symbol, even right after
      // the previous pool; ours marks data once per dump. Bytes, symbols and relocations must match.
      expect(compareObjects(elf, gnu.elf).filter((l) => !/^mapping symbols: only in theirs: \$d /.test(l))).toEqual([]);
    });
  }
});

/** objdump -d of `object`, as [address, word, text with single spaces]. */
function objdumpLines(object: Uint8Array): { address: bigint; word: number; text: string }[] {
  const out: { address: bigint; word: number; text: string }[] = [];
  for (const line of gnuObjdump(object, ['-d']).split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$/.exec(line);
    if (m) out.push({ address: BigInt(`0x${m[1]}`), word: parseInt(m[2]!, 16), text: m[3]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** Our text for `word` at `address`, with targets printed like objdump prints them in a .o's .text. */
function ourText(word: number, address: bigint): string {
  const text = disassemble(word, { address, symbolize: (a) => (BigInt.asUintN(64, a) === 0n ? '<.text>' : `<.text+0x${BigInt.asUintN(64, a).toString(16)}>`) }).text;
  return text.replace(/(^|, |\t)-([0-9a-f]+) </, (_m, pre: string, h: string) => `${pre}${BigInt.asUintN(64, -BigInt(`0x${h}`)).toString(16)} <`).replace(/\s+/g, ' ').trim();
}

function disassemblyDifferences(object: Uint8Array, relevant: (objdumpText: string, ours: string) => boolean): { compared: number; diffs: string[] } {
  const diffs: string[] = [];
  let compared = 0;
  for (const { address, word, text } of objdumpLines(object)) {
    const ours = ourText(word, address);
    if (!relevant(text, ours)) continue;
    compared++;
    if (ours !== text) diffs.push(`${word.toString(16).padStart(8, '0')}: objdump '${text}', ours '${ours}'`);
  }
  return { compared, diffs };
}

describe.runIf(requireOracle(GNU_AS) && requireOracle(GNU_OBJDUMP))('integer load/store disassembly matches objdump', () => {
  it('GNU-assembled words of the corpus and the hand-written lines', () => {
    const corpus = generateFromTable((d) => OURS.has(d), 12, 0x1d57).map((l) => l.text);
    const all = [...corpus, ...VALID.filter((l) => !l.includes(':lo12:') && !l.includes(':got_lo12:')), ...WARNED];
    const gnu = gnuAssemble(`${ALL_FEATURES_PREAMBLE}\n${all.join('\n')}\n`);
    if (!gnu.ok) throw new Error(gnu.stderr);
    const { compared, diffs } = disassemblyDifferences(gnu.object, () => true);
    expect(compared).toBe(all.length);
    expect(diffs.slice(0, 20)).toEqual([]);
  });

  it('random words of the integer load/store space', () => {
    const mnemonics = new Set(LOADS_STORES.map((d) => d.mnemonic));
    const next = rng(0xabc123);
    const words: string[] = [];
    for (let i = 0; i < 200000; i++) {
      // op0 = x1x0 (bit 27 set, bit 25 clear) with V (bit 26) clear: the integer loads and stores.
      const w = (next() | (1 << 27)) & ~(1 << 25) & ~(1 << 26);
      words.push(`.inst 0x${(w >>> 0).toString(16)}`);
    }
    const gnu = gnuAssemble(`${words.join('\n')}\n`);
    if (!gnu.ok) throw new Error(gnu.stderr);
    // Only where either side names one of this table's mnemonics (other tables own the rest).
    const { compared, diffs } = disassemblyDifferences(gnu.object, (t, o) => mnemonics.has(t.split(' ')[0]!) || mnemonics.has(o.split(' ')[0]!));
    expect(compared).toBeGreaterThan(50000);
    expect(diffs.slice(0, 20)).toEqual([]);
  });
});

/**
 * Random straight-line AArch64 programs for the differential tests against
 * QEMU (see differential.ts). One image holds many independent programs
 * ("blocks"), each
 *
 *   - a prologue that re-randomises everything the body can see: NZCV
 *     (`msr nzcv`), X0-X30 (movz/movn + movk, with values biased towards
 *     carries, overflows and sign boundaries) and SP;
 *   - a body of random items:
 *       * integer data processing drawn from the instruction table
 *         (src/isa/tables/data-processing.ts): a random entry, a random word
 *         matching its pattern that the decoder accepts, emitted as `.inst`
 *         with its disassembly. Register fields stay random: X0-X30 all hold
 *         data and every memory access sets its own base, so SP and XZR (31)
 *         are fair game as operands too;
 *       * a few random words from the data-processing encoding space
 *         whatever our decoder says of them, so UNDEFINED encodings (and
 *         features the CPU lacks) are checked against QEMU as well; the EL2
 *         vector skips the instruction and returns;
 *       * forward branches within the block: b.cond (all 16 conditions),
 *         cbz/cbnz, tbz/tbnz, b, bl, br/blr/ret through adr;
 *       * aligned loads and stores into a scratch buffer: every width and
 *         sign extension, unsigned/unscaled offsets, pre/post-index, register
 *         offsets (lsl/uxtw/sxtw/sxtx, with junk in the upper half of a W
 *         index), pairs (ldp/stp/ldpsw/ldnp/stnp), ldtr/sttr, ldar/stlr,
 *         PC-relative literals, prefetches. Only aligned accesses: with the
 *         MMU off QEMU does not fault unaligned ones while the architecture
 *         does (QEMU-NOTES), and CONSTRAINED UNPREDICTABLE register overlaps
 *         (writeback base = transfer register, ldp with Rt = Rt2) are never
 *         generated;
 *   and the image ends with PSCI SYSTEM_OFF. The blocks run at EL2 by default,
 *   or at EL1h / EL0t after an ERET (GeneratorOptions.el).
 *
 * Every generated line that is not a label is exactly one instruction, so a
 * PC maps back to its source line (for mismatch reports).
 */
import { DATA_PROCESSING } from '../../../src/isa/tables/data-processing.js';
import { decodeBase } from '../../../src/isa/decode.js';
import { disassemble } from '../../../src/isa/disasm.js';
import type { InsnDef } from '../../../src/isa/insn-def.js';

/** mulberry32: small, seeded, so that a failing program can be regenerated from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Random {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = prng(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const MASK64 = (1n << 64n) - 1n;

/** 64-bit values with many edge cases: carries, signed overflow, 32-bit boundaries, shifts. */
export function interestingValue(r: Random): bigint {
  switch (r.int(0, 9)) {
    case 0: case 1: case 2:
      return r.u64();
    case 3:
      return BigInt(r.int(0, 16));
    case 4:
      return BigInt.asUintN(64, -BigInt(r.int(1, 16)));
    case 5:
      return r.pick([
        0n, 1n, MASK64, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
        0x80000001n, 0xfffffffen, 0xffffffff00000000n, 0xffffffff80000000n, 0x00000000ffff0000n, 0x8000000000000001n,
      ]);
    case 6:
      return BigInt(r.u32()); // a 32-bit value, upper half clear
    case 7:
      return BigInt.asUintN(64, BigInt.asIntN(32, BigInt(r.u32()))); // sign-extended 32-bit
    case 8: {
      const bit = BigInt(r.int(0, 63));
      return BigInt.asUintN(64, (1n << bit) + BigInt(r.int(-1, 1)));
    }
    default: {
      // Repeated halfwords/bytes, as bitmask immediates make.
      const h = BigInt(r.int(0, 0xffff));
      return (h << 48n) | (h << 32n) | (h << 16n) | h;
    }
  }
}

/** movz/movn + movk lines that set `reg` (an X register name) to `value`. */
export function movSequence(reg: string, value: bigint): string[] {
  const v = BigInt.asUintN(64, value);
  const halves = [0, 1, 2, 3].map((i) => Number((v >> BigInt(16 * i)) & 0xffffn));
  const zeros = halves.filter((h) => h === 0).length;
  const ones = halves.filter((h) => h === 0xffff).length;
  const lines: string[] = [];
  if (ones > zeros) {
    // movn writes ~(imm << shift): start from the lowest halfword that is not 0xffff.
    const first = Math.max(0, halves.findIndex((h) => h !== 0xffff));
    lines.push(`movn ${reg}, #0x${(~halves[first]! & 0xffff).toString(16)}, lsl #${16 * first}`);
    halves.forEach((h, i) => { if (i !== first && h !== 0xffff) lines.push(`movk ${reg}, #0x${h.toString(16)}, lsl #${16 * i}`); });
  } else {
    const first = Math.max(0, halves.findIndex((h) => h !== 0));
    lines.push(`movz ${reg}, #0x${halves[first]!.toString(16)}, lsl #${16 * first}`);
    halves.forEach((h, i) => { if (i !== first && h !== 0) lines.push(`movk ${reg}, #0x${h.toString(16)}, lsl #${16 * i}`); });
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Data processing from the instruction table

/** The entries the CPU executes (aliases decode to their base), skipping assembler-only forms. */
const DP_ENTRIES: readonly InsnDef[] = DATA_PROCESSING.filter((d) => !d.asmOnly);
const DP_EXECS = new Set(DATA_PROCESSING.map((d) => d.exec));

/** A random word of a random data-processing entry that the decoder accepts as a data-processing instruction. */
export function randomDataProcessingWord(r: Random): number {
  for (;;) {
    const d = r.pick(DP_ENTRIES);
    const word = ((r.u32() & ~d.mask) | d.value) >>> 0;
    const base = decodeBase(word);
    if (base && DP_EXECS.has(base.exec)) return word;
  }
}

/**
 * A random word anywhere in the A64 data-processing encoding space (op0 = 100x
 * or x101), defined or not. CONSTRAINED UNPREDICTABLE encodings, where QEMU
 * and we may both be right, are steered to their defined form: SMULH/UMULH
 * with Ra != 11111 (should-be-one bits; QEMU and objdump ignore them, our
 * table makes them UNDEFINED; reported).
 */
export function randomDataProcessingSpaceWord(r: Random): number {
  const w = r.u32();
  let word = r.chance(0.5)
    ? ((w & ~(0b111 << 26)) | (0b100 << 26)) >>> 0 // DP (immediate): bits 28:26 = 100
    : ((w & ~(0b111 << 25)) | (0b101 << 25)) >>> 0; // DP (register): bits 27:25 = 101
  if (((word & 0xff608000) >>> 0) === 0x9b400000) word = (word | (31 << 10)) >>> 0; // SMULH/UMULH: Ra = 11111
  return word;
}

function instLine(word: number): string {
  const text = disassemble(word).text.replace(/\t/g, ' ');
  return `.inst 0x${word.toString(16).padStart(8, '0')} // ${text}`;
}

// ---------------------------------------------------------------------------
// Loads and stores

export const BUFFER_SIZE = 4096;
export const BUFFER_LABEL = 'scratch';

/** [mnemonic suffix, register letter, is load] by access size. */
const SINGLE_FORMS: readonly [number, string, 'w' | 'x', boolean][] = [
  [0, 'b', 'w', true], [0, 'sb', 'w', true], [0, 'sb', 'x', true], [0, 'b', 'w', false],
  [1, 'h', 'w', true], [1, 'sh', 'w', true], [1, 'sh', 'x', true], [1, 'h', 'w', false],
  [2, '', 'w', true], [2, 'sw', 'x', true], [2, '', 'w', false],
  [3, '', 'x', true], [3, '', 'x', false],
];

const regName = (letter: 'w' | 'x', n: number) => (n === 31 ? `${letter}zr` : `${letter}${n}`);
const baseName = (n: number) => (n === 31 ? 'sp' : `x${n}`);
const signedHex = (v: number) => (v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
const bufRef = (off: number) => (off === 0 ? BUFFER_LABEL : off > 0 ? `${BUFFER_LABEL}+${off}` : `${BUFFER_LABEL}-${-off}`);

/**
 * Lines that point base register `b` (31 = SP) at buffer offset `off`.
 * SP goes through a temporary register (which only held data).
 */
function setBase(r: Random, b: number, off: number, avoid: number[]): string[] {
  if (b !== 31) return [`adr x${b}, ${bufRef(off)}`];
  let t: number;
  do t = r.int(0, 30); while (avoid.includes(t));
  return [`adr x${t}, ${bufRef(off)}`, `mov sp, x${t}`];
}

/** A random aligned offset into the buffer for an access of `bytes` bytes (with `span` bytes used). */
function target(r: Random, bytes: number, span = bytes): number {
  return r.int(0, (BUFFER_SIZE - span) / bytes) * bytes;
}

function randomBase(r: Random): number {
  return r.chance(0.2) ? 31 : r.int(0, 30);
}

/** One random load/store item (several lines: base set-up, then the access). */
export function randomLoadStore(r: Random): string[] {
  const kind = r.int(0, 99);
  if (kind < 45) return singleAccess(r);
  if (kind < 62) return registerOffset(r);
  if (kind < 82) return pairAccess(r);
  if (kind < 88) return acquireRelease(r);
  if (kind < 94) return literalLoad(r);
  return prefetch(r);
}

function singleAccess(r: Random): string[] {
  const [scale, suffix, letter, load] = r.pick(SINGLE_FORMS);
  const bytes = 1 << scale;
  const base = randomBase(r);
  const mode = r.pick(['uimm', 'uimm', 'zero', 'unscaled', 'pre', 'post', 'unpriv'] as const);
  const writeback = mode === 'pre' || mode === 'post';
  let rt: number;
  do rt = r.int(0, 31); while (writeback && rt === base && base !== 31);
  const t = regName(letter, rt);
  const a = target(r, bytes);
  const op = `${load ? 'ld' : 'st'}`;
  // Base choices: the access address `a` must stay in the buffer and aligned.
  // An SP base must itself be 16-byte aligned (SCTLR_ELx.SA): pick the immediate to make it so.
  const sp = base === 31;
  let imm: number;
  switch (mode) {
    case 'zero': {
      const aa = sp ? a & ~15 : a;
      return [...setBase(r, base, aa, [rt]), `${op}r${suffix} ${t}, [${baseName(base)}]`];
    }
    case 'uimm': {
      imm = r.int(0, Math.min(4095, a / bytes)) * bytes;
      if (sp) imm = a - ((a - imm) & ~15); // still a multiple of the size, in [0, a]
      return [...setBase(r, base, a - imm, [rt]), `${op}r${suffix} ${t}, [${baseName(base)}, #${imm}]`];
    }
    case 'unscaled': case 'unpriv': case 'pre': {
      imm = r.int(-256, 255);
      if (sp) {
        imm += (((a - imm) % 16) + 16) % 16; // base a - imm rounded down to 16
        if (imm > 255) imm -= 16;
      }
      const mn = mode === 'unscaled' ? `${op}ur${suffix}` : mode === 'unpriv' ? `${op}tr${suffix}` : `${op}r${suffix}`;
      const addr = mode === 'pre' ? `[${baseName(base)}, #${imm}]!` : `[${baseName(base)}, #${imm}]`;
      return [...setBase(r, base, a - imm, [rt]), `${mn} ${t}, ${addr}`];
    }
    case 'post': {
      imm = r.int(-256, 255);
      const aa = sp ? a & ~15 : a;
      return [...setBase(r, base, aa, [rt]), `${op}r${suffix} ${t}, [${baseName(base)}], #${imm}`];
    }
  }
}

function registerOffset(r: Random): string[] {
  const [scale, suffix, letter, load] = r.pick(SINGLE_FORMS);
  const bytes = 1 << scale;
  const base = randomBase(r);
  let rm: number;
  do rm = r.int(0, 31); while (rm === base);
  const rt = r.int(0, 31);
  const extend = r.pick(['lsl', 'uxtw', 'sxtw', 'sxtx'] as const);
  const shifted = r.chance(0.6);
  const shift = shifted ? scale : 0;
  // index << shift must keep the address aligned: a multiple of `bytes`.
  const unit = bytes >> shift;
  const baseOff = 16 * r.int(64, 192); // buffer middle, 16-byte aligned (fine for SP)
  let index = 0;
  if (rm !== 31) {
    const lo = Math.ceil(-baseOff / (unit << shift));
    const hi = Math.floor((BUFFER_SIZE - bytes - baseOff) / (unit << shift));
    index = r.int(extend === 'uxtw' ? 0 : lo, hi) * unit;
  }
  const lines = setBase(r, base, baseOff, [rm, rt]);
  if (rm !== 31) {
    let value = BigInt.asUintN(64, BigInt(index));
    // A W index ignores the upper half: fill it with junk.
    if (extend === 'uxtw' || extend === 'sxtw') value = (BigInt(r.u32()) << 32n) | (value & 0xffffffffn);
    lines.push(...movSequence(`x${rm}`, value));
  }
  const indexReg = extend === 'uxtw' || extend === 'sxtw' ? regName('w', rm) : regName('x', rm);
  const amount = extend === 'lsl' ? (shifted ? `, lsl #${shift}` : '') : shifted ? `, ${extend} #${shift}` : `, ${extend}`;
  lines.push(`${load ? 'ld' : 'st'}r${suffix} ${regName(letter, rt)}, [${baseName(base)}, ${indexReg}${amount}]`);
  return lines;
}

function pairAccess(r: Random): string[] {
  const form = r.pick([
    ['ldp', 'w', 2], ['ldp', 'x', 3], ['stp', 'w', 2], ['stp', 'x', 3], ['ldpsw', 'x', 2],
    ['ldnp', 'w', 2], ['ldnp', 'x', 3], ['stnp', 'w', 2], ['stnp', 'x', 3],
  ] as const);
  const [mn, letter, scale] = form;
  const bytes = 1 << scale;
  const load = mn.startsWith('ld');
  const mode = mn.endsWith('np') ? 'offset' : r.pick(['offset', 'offset', 'pre', 'post'] as const);
  const base = randomBase(r);
  const writeback = mode !== 'offset';
  let t1: number, t2: number;
  do {
    t1 = r.int(0, 31);
    t2 = r.int(0, 31);
  } while ((load && t1 === t2) || (writeback && base !== 31 && (t1 === base || t2 === base)));
  const a = target(r, bytes, 2 * bytes);
  let imm = r.int(-64, 63) * bytes;
  const sp = base === 31;
  let baseOff = mode === 'post' ? a : a - imm;
  if (sp && baseOff % 16 !== 0) {
    // Re-pick so that the SP base is 16-byte aligned: base first, then an immediate that stays in the buffer.
    baseOff = 16 * r.int(16, (BUFFER_SIZE - 1024) / 16);
    if (mode !== 'post') imm = r.int(-32, 31) * bytes;
  }
  const regs = `${regName(letter, t1)}, ${regName(letter, t2)}`;
  const addr = mode === 'offset' ? `[${baseName(base)}, #${imm}]` : mode === 'pre' ? `[${baseName(base)}, #${imm}]!` : `[${baseName(base)}], #${imm}`;
  return [...setBase(r, base, baseOff, [t1, t2]), `${mn} ${regs}, ${addr}`];
}

function acquireRelease(r: Random): string[] {
  const [mn, letter, scale] = r.pick([
    ['ldar', 'w', 2], ['ldar', 'x', 3], ['ldarb', 'w', 0], ['ldarh', 'w', 1],
    ['stlr', 'w', 2], ['stlr', 'x', 3], ['stlrb', 'w', 0], ['stlrh', 'w', 1],
  ] as const);
  const base = randomBase(r);
  const rt = r.int(0, 31);
  const a = target(r, 1 << scale);
  return [...setBase(r, base, base === 31 ? a & ~15 : a, [rt]), `${mn} ${regName(letter, rt)}, [${baseName(base)}]`];
}

function literalLoad(r: Random): string[] {
  const [mn, letter, bytes] = r.pick([['ldr', 'w', 4], ['ldr', 'x', 8], ['ldrsw', 'x', 4]] as const);
  return [`${mn} ${regName(letter, r.int(0, 31))}, ${bufRef(target(r, bytes))}`];
}

function prefetch(r: Random): string[] {
  const op = r.pick(['pldl1keep', 'pldl2strm', 'pstl1keep', 'plil3keep']);
  const base = randomBase(r);
  return [...setBase(r, base, 16 * r.int(0, 255), []), `prfm ${op}, [${baseName(base)}, #${8 * r.int(0, 64)}]`];
}

// ---------------------------------------------------------------------------
// Branches

const CONDS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];

/** A forward branch to `label` (possibly with a set-up line). */
function randomBranch(r: Random, label: string): string[] {
  const k = r.int(0, 99);
  if (k < 40) return [`b.${r.pick(CONDS)} ${label}`];
  if (k < 58) return [`${r.pick(['cbz', 'cbnz'])} ${r.chance(0.5) ? 'x' : 'w'}${r.int(0, 30)}, ${label}`];
  if (k < 76) {
    const x = r.chance(0.5);
    return [`${r.pick(['tbz', 'tbnz'])} ${x ? 'x' : 'w'}${r.int(0, 30)}, #${r.int(0, x ? 63 : 31)}, ${label}`];
  }
  if (k < 82) return [`b ${label}`];
  if (k < 88) return [`bl ${label}`];
  const reg = r.int(0, 30);
  const mn = r.pick(['br', 'blr', 'ret']);
  return [`adr x${reg}, ${label}`, mn === 'ret' && reg === 30 && r.chance(0.5) ? 'ret' : `${mn} x${reg}`];
}

// ---------------------------------------------------------------------------
// Blocks and images

export interface BlockSource {
  /** Index of the block in its image; its label is `block<index>`. */
  index: number;
  /** The block's lines: labels end with ':', every other line is one instruction. */
  lines: string[];
}

export interface ProgramImageSource {
  seed: number;
  blocks: BlockSource[];
  /** The whole assembly source. */
  source: string;
}

export interface GeneratorOptions {
  blocks: number;
  /** Body items per block (each 1-5 instructions): [min, max]. */
  items?: [number, number];
  /** Share of body items that are random words of the DP encoding space (defined or not). Default 0.03. */
  undefinedShare?: number;
  /**
   * Exception level the blocks run at (default 2): for 1 and 0, _start sets
   * HCR_EL2.RW and ERETs to EL1h or EL0t first; exceptions then go to EL1.
   */
  el?: 0 | 1 | 2;
}

function prologue(r: Random): string[] {
  const lines: string[] = [];
  lines.push(`movz x0, #0x${(r.int(0, 15) << 12).toString(16)}, lsl #16`, 'msr nzcv, x0');
  // SP: through x1 before x1 gets its own value.
  lines.push(...movSequence('x1', interestingValue(r)), 'mov sp, x1');
  for (let i = 0; i <= 30; i++) lines.push(...movSequence(`x${i}`, interestingValue(r)));
  return lines;
}

function body(r: Random, index: number, opts: GeneratorOptions): string[] {
  const [minItems, maxItems] = opts.items ?? [25, 60];
  const count = r.int(minItems, maxItems);
  const undefinedShare = opts.undefinedShare ?? 0.03;
  // Each item is a group of lines; labels are attached in front of items.
  const items: string[][] = [];
  const labelsAt = new Map<number, string[]>();
  let labelCount = 0;
  for (let i = 0; i < count; i++) {
    const k = r.float();
    if (k < 0.1) {
      const to = Math.min(count, i + 1 + r.int(0, 4));
      const label = `.Lb${index}_${labelCount++}`;
      labelsAt.set(to, [...(labelsAt.get(to) ?? []), label]);
      items.push(randomBranch(r, label));
    } else if (k < 0.35) {
      items.push(randomLoadStore(r));
    } else if (k < 0.35 + undefinedShare) {
      items.push([instLine(randomDataProcessingSpaceWord(r))]);
    } else if (k < 0.37 + undefinedShare) {
      items.push([`mrs x${r.int(0, 30)}, nzcv`]);
    } else {
      items.push([instLine(randomDataProcessingWord(r))]);
    }
  }
  const lines: string[] = [];
  for (let i = 0; i <= count; i++) {
    for (const l of labelsAt.get(i) ?? []) lines.push(`${l}:`);
    if (i < count) lines.push(...items[i]!);
  }
  return lines;
}

const POWER_OFF = ['movz w0, #0x8400, lsl #16', 'movk w0, #8', 'smc #0'];

/**
 * A vector table for EL`el`: synchronous exceptions from the EL the blocks run
 * at skip the instruction and return with every register (and, through SPSR,
 * NZCV) as it was; an SVC ends the program (the EL0 blocks' way to power
 * off); anything else powers off at once.
 */
function vectorTable(el: 1 | 2, blocksEl: number): string[] {
  const lines = ['.balign 2048', `vectors_el${el}:`];
  const syncEntry = blocksEl === el ? 4 : 8; // current EL with SP_ELx, or lower EL (AArch64)
  for (let v = 0; v < 16; v++) {
    lines.push('.balign 128', `vector_el${el}_${v}:`);
    if (v === syncEntry) {
      lines.push(
        `msr tpidr_el${el}, x0`,
        `mrs x0, esr_el${el}`,
        'lsr x0, x0, #26',
        'cmp x0, #0x15', // SVC: the end (NZCV is restored from SPSR by the ERET below)
        `b.eq vector_el${el}_off`,
        `mrs x0, elr_el${el}`,
        'add x0, x0, #4',
        `msr elr_el${el}, x0`,
        `mrs x0, tpidr_el${el}`,
        'eret',
      );
    } else {
      lines.push(...POWER_OFF);
    }
  }
  lines.push(`vector_el${el}_off:`, ...POWER_OFF);
  return lines;
}

/** An image of `opts.blocks` random programs; reproducible from `seed`. */
export function generateImage(seed: number, opts: GeneratorOptions): ProgramImageSource {
  const r = new Random(seed);
  const blocks: BlockSource[] = [];
  for (let b = 0; b < opts.blocks; b++) {
    const lines = [`block${b}:`, ...prologue(r), ...body(r, b, opts)];
    blocks.push({ index: b, lines });
  }
  const data: string[] = [];
  for (let i = 0; i < BUFFER_SIZE / 8; i++) data.push(`.quad 0x${interestingValue(r).toString(16)}`);
  const el = opts.el ?? 2;
  const toLowerEl = el === 2 ? [] : [
    'adr x0, vectors_el1',
    'msr vbar_el1, x0',
    'movz x0, #0x8000, lsl #16', // HCR_EL2.RW: EL1 is AArch64
    'msr hcr_el2, x0',
    `mov x0, #${el === 1 ? '0x3c5' : '0x3c0'}`, // EL1h / EL0t, DAIF masked
    'msr spsr_el2, x0',
    'adr x0, blocks',
    'msr elr_el2, x0',
    'eret',
  ];
  const source = [
    '.text',
    '.global _start',
    '_start:',
    'adr x0, vectors_el2',
    'msr vbar_el2, x0',
    'isb',
    ...toLowerEl,
    'blocks:',
    ...blocks.flatMap((b) => b.lines),
    'done:',
    ...(el === 0 ? ['svc #0'] : POWER_OFF), // SMC is UNDEFINED at EL0
    ...vectorTable(2, el),
    ...(el === 2 ? [] : vectorTable(1, el)),
    '.data',
    '.balign 4096',
    `${BUFFER_LABEL}:`,
    ...data,
    '',
  ].join('\n');
  return { seed, blocks, source };
}

/** The block containing `pc` and the source line of the instruction there, given the blocks' start addresses. */
export function locate(image: ProgramImageSource, symbols: Map<string, bigint>, pc: bigint): { block: BlockSource; line: number } | undefined {
  let found: BlockSource | undefined;
  for (const b of image.blocks) {
    const start = symbols.get(`block${b.index}`);
    if (start !== undefined && start <= pc) found = b;
  }
  if (!found) return undefined;
  let addr = symbols.get(`block${found.index}`)!;
  for (let i = 0; i < found.lines.length; i++) {
    const l = found.lines[i]!;
    if (l.endsWith(':')) continue;
    if (addr === pc) return { block: found, line: i };
    addr += 4n;
  }
  return undefined;
}

/**
 * The fetch/decode/execute loop. Instructions are decoded once into the
 * decoded-instruction cache (keyed by physical page) and executed from there:
 * the common integer and branch ops inline in the switch below, everything
 * else through registered handlers (src/cpu/exec/*). Values stay in 32-bit
 * halves in typed arrays; the loop allocates nothing.
 */
import type { Cpu, StopReason } from './cpu.js';
import { STRIDE } from './decode-cache.js';
import { HANDLERS, predecoderFor } from './exec/registry.js';
import { decodeBase, fieldsOf } from '../isa/decode.js';
import { EC, syncTargetEl, takeException, undefinedInstruction, VectorKind } from './exceptions.js';
import { Access, FastArray, FSC } from '../mmu/memory-port.js';
import { MemoryFault } from '../machine/physical-memory.js';
import { Op } from './ops.js';
import { addWithCarry32, shiftValue32 } from './exec/arith.js';
import { codePageStore, fastOpTranslate, loadStoreSlowPath } from './exec/loadstore-access.js';
import { LS } from './exec/loadstore-slot.js';
import './exec/all.js';
import { takePendingInterrupt } from './interrupts.js';

const EMPTY_BLOCK = new Int32Array(STRIDE * 1024);

/** Decodes `word` into slot i of `block`; returns the op. */
function decodeSlot(cpu: Cpu, block: Int32Array, i: number, word: number): number {
  block[i + 1] = word;
  const def = decodeBase(word);
  if (!def) {
    block[i] = Op.UNDEFINED;
    return Op.UNDEFINED;
  }
  const p = predecoderFor(def.exec);
  if (!p || !p(cpu, fieldsOf(def, word), def, block, i)) {
    block[i] = Op.UNDEFINED;
    return Op.UNDEFINED;
  }
  return block[i]!;
}

/** Like decodeSlot, but a hooked address gets a HOOK slot with the real decode in the hook's shadow. */
function decodeAt(cpu: Cpu, block: Int32Array, i: number, word: number, pcLo: number, pcHi: number): number {
  if (cpu.hooks.count > 0) {
    const id = cpu.hooks.lookup(pcLo, pcHi);
    if (id >= 0) {
      decodeSlot(cpu, cpu.hooks.shadow(id), 0, word);
      block[i] = Op.HOOK;
      block[i + 1] = word;
      block[i + 7] = id;
      return Op.HOOK;
    }
  }
  return decodeSlot(cpu, block, i, word);
}

/** Name of what an UNDEFINED slot holds, for the report. */
export function undefinedName(word: number): string {
  const def = decodeBase(word);
  if (!def) return `unallocated encoding 0x${(word >>> 0).toString(16).padStart(8, '0')}`;
  const implemented = predecoderFor(def.exec) !== undefined;
  return `${def.mnemonic} (${def.id}, 0x${(word >>> 0).toString(16).padStart(8, '0')})${implemented ? ' with reserved operands' : ' is not implemented'}`;
}

/**
 * Runs until `budget` instructions have retired or something stops the CPU
 * (PSCI off, a stop request from a hook, a fatal condition).
 */
export function run(cpu: Cpu, budget: number): StopReason {
  const x = cpu.x;
  const cache = cpu.decodeCache;
  const memory = cpu.memory;
  const port = cpu.port;
  const retiredBase = cpu.retired;
  let pcLo = cpu.pcLo | 0;
  let pcHi = cpu.pcHi | 0;
  let block: Int32Array = EMPTY_BLOCK;
  let pageLo = 1; // never equal to an aligned page: forces the first lookup
  let pageHi = 0;
  let pagePa = 0;
  let n = 0;
  // `stale` forces the top-of-loop checks: set at a page crossing, after taken branches that
  // leave the page, and after every handler (which may change translation, PSTATE or stop).
  let stale = true;
  cpu.stopRequest = undefined;

  main: while (n < budget) {
    if (stale) {
      cpu.pcLo = pcLo; cpu.pcHi = pcHi;
      cpu.retired = retiredBase + n;
      if (cpu.stopRequest) break;
      // Interrupts are delivered here: at the start of a run, after handlers and at page changes.
      if (takePendingInterrupt(cpu)) {
        // Taking an interrupt is one step (run(cpu, 1) stops at the vector), as other exceptions are.
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        n++;
        continue;
      }
      if ((pcLo & ~0xfff) !== pageLo || pcHi !== pageHi || cpu.fetchStale) {
        cpu.fetchStale = false;
        if ((pcLo & 3) !== 0) {
          takeException(cpu, {
            targetEl: syncTargetEl(cpu), ec: EC.PC_ALIGN, iss: 0, il: 1, returnLo: pcLo, returnHi: pcHi,
            vector: VectorKind.Synchronous, far: { lo: pcLo, hi: pcHi },
          });
          pcLo = cpu.pcLo; pcHi = cpu.pcHi;
          n++;
          continue;
        }
        if (cpu.il) {
          // PSTATE.IL from an illegal exception return: Illegal Execution State exception.
          takeException(cpu, { targetEl: syncTargetEl(cpu), ec: EC.ILLEGAL_STATE, iss: 0, il: 1, returnLo: pcLo, returnHi: pcHi, vector: VectorKind.Synchronous });
          pcLo = cpu.pcLo; pcHi = cpu.pcHi;
          n++;
          continue;
        }
        const pa = port.translate(pcLo, pcHi, Access.Fetch, 4);
        if (pa < 0) {
          if (cpu.stopRequest) break;
          // The aborted fetch counts as one step, so run(cpu, 1) stops at the vector.
          pcLo = cpu.pcLo; pcHi = cpu.pcHi;
          n++;
          continue;
        }
        pagePa = pa - (pa % 4096);
        block = cache.block(pagePa / 4096);
        memory.markCodePage(pagePa);
        pageLo = pcLo & ~0xfff;
        pageHi = pcHi;
      }
      stale = false;
    }
    let i = (pcLo & 0xffc) << 1;
    let op = block[i]!;
    if (op === Op.UNDECODED) {
      const word = memory.read32(pagePa + (pcLo & 0xffc));
      if (memory.lastFault !== MemoryFault.None) {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        port.fault(pcLo, pcHi, Access.Fetch, FSC.SYNC_EXTERNAL, 4);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        n++;
        stale = true;
        continue;
      }
      op = decodeAt(cpu, block, i, word, pcLo, pcHi);
    }
    n++;
    let d = block;
    // `dispatch` re-enters the switch for a hooked instruction's shadow slot.
    dispatch: for (;;) {
    switch (op) {
      // ---- add/subtract immediate ------------------------------------------
      // (The helpers in exec/arith.ts state the same arithmetic; it is written out
      // here because V8 will not inline calls into a function this large.)
      case Op.ADD_IMM_X: {
        // Carries are computed with unsigned 32-bit compares: no float arithmetic on this path.
        const s = d[i + 3]!, r = d[i + 2]!;
        const alo = x[s]!;
        const lo = (alo + d[i + 4]!) | 0;
        x[r + 1] = (x[s + 1]! + ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
        x[r] = lo;
        break;
      }
      case Op.ADD_IMM_W: {
        x[d[i + 2]!] = (x[d[i + 3]!]! + d[i + 4]!) | 0;
        x[d[i + 2]! + 1] = 0;
        break;
      }
      case Op.SUB_IMM_X: {
        const s = d[i + 3]!, r = d[i + 2]!;
        const alo = x[s]!, imm = d[i + 4]!;
        x[r + 1] = (x[s + 1]! - ((alo >>> 0) < imm ? 1 : 0)) | 0;
        x[r] = (alo - imm) | 0;
        break;
      }
      case Op.SUB_IMM_W: {
        x[d[i + 2]!] = (x[d[i + 3]!]! - d[i + 4]!) | 0;
        x[d[i + 2]! + 1] = 0;
        break;
      }
      case Op.ADDS_IMM_X: case Op.SUBS_IMM_X: {
        // AddWithCarry(Xn, imm, 0) or AddWithCarry(Xn, NOT(imm), 1)
        const s = d[i + 3]!, r = d[i + 2]!;
        const alo = x[s]!, ahi = x[s + 1]!;
        const sub = op === Op.SUBS_IMM_X;
        const blo = sub ? ~d[i + 4]! : d[i + 4]!, bhi = sub ? -1 : 0;
        const cin = sub ? 1 : 0;
        const rlo = (alo + blo + cin) | 0;
        const c0 = cin ? ((rlo >>> 0) <= (alo >>> 0) ? 1 : 0) : ((rlo >>> 0) < (alo >>> 0) ? 1 : 0);
        const rhi = (ahi + bhi + c0) | 0;
        x[r] = rlo; x[r + 1] = rhi;
        cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0;
        cpu.cf = c0 ? ((rhi >>> 0) <= (ahi >>> 0) ? 1 : 0) : ((rhi >>> 0) < (ahi >>> 0) ? 1 : 0);
        cpu.vf = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
        break;
      }
      case Op.ADDS_IMM_W:
        addWithCarry32(cpu, x[d[i + 3]!]!, d[i + 4]!, 0, d[i + 2]!);
        break;
      case Op.SUBS_IMM_W:
        addWithCarry32(cpu, x[d[i + 3]!]!, ~d[i + 4]!, 1, d[i + 2]!);
        break;

      // ---- add/subtract and logical, shifted register ----------------------------
      case Op.ADD_REG_X: case Op.SUB_REG_X: case Op.ADDS_REG_X: case Op.SUBS_REG_X:
      case Op.AND_REG_X: case Op.ORR_REG_X: case Op.EOR_REG_X: case Op.ANDS_REG_X:
      case Op.BIC_REG_X: case Op.ORN_REG_X: case Op.EON_REG_X: case Op.BICS_REG_X: {
        const n1 = d[i + 3]!, m = d[i + 4]!, amount = d[i + 6]!;
        let blo = x[m]!, bhi = x[m + 1]!;
        if (amount !== 0) {
          // ShiftReg(Xm, shift, amount), amount 1..63
          switch (d[i + 5]!) {
            case 0:
              if (amount < 32) { bhi = (bhi << amount) | (blo >>> (32 - amount)); blo <<= amount; }
              else { bhi = blo << (amount - 32); blo = 0; }
              break;
            case 1:
              if (amount < 32) { blo = (blo >>> amount) | (bhi << (32 - amount)); bhi >>>= amount; }
              else { blo = bhi >>> (amount - 32); bhi = 0; }
              break;
            case 2:
              if (amount < 32) { blo = (blo >>> amount) | (bhi << (32 - amount)); bhi >>= amount; }
              else { blo = bhi >> (amount - 32); bhi >>= 31; }
              break;
            default: {
              let a = amount;
              if (a >= 32) { const t = blo; blo = bhi; bhi = t; a -= 32; }
              if (a !== 0) { const t = blo; blo = (blo >>> a) | (bhi << (32 - a)); bhi = (bhi >>> a) | (t << (32 - a)); }
            }
          }
        }
        const alo = x[n1]!, ahi = x[n1 + 1]!, r = d[i + 2]!;
        switch (op) {
          case Op.ADD_REG_X: {
            const lo = (alo + blo) | 0;
            x[r + 1] = (ahi + bhi + ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
            x[r] = lo;
            break;
          }
          case Op.SUB_REG_X: {
            x[r + 1] = (ahi - bhi - ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
            x[r] = (alo - blo) | 0;
            break;
          }
          case Op.ADDS_REG_X: case Op.SUBS_REG_X: {
            const cin = op === Op.SUBS_REG_X ? 1 : 0;
            if (cin) { blo = ~blo; bhi = ~bhi; }
            const rlo = (alo + blo + cin) | 0;
            const c0 = cin ? ((rlo >>> 0) <= (alo >>> 0) ? 1 : 0) : ((rlo >>> 0) < (alo >>> 0) ? 1 : 0);
            const rhi = (ahi + bhi + c0) | 0;
            x[r] = rlo; x[r + 1] = rhi;
            cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0;
            cpu.cf = c0 ? ((rhi >>> 0) <= (ahi >>> 0) ? 1 : 0) : ((rhi >>> 0) < (ahi >>> 0) ? 1 : 0);
            cpu.vf = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
            break;
          }
          case Op.AND_REG_X: x[r] = alo & blo; x[r + 1] = ahi & bhi; break;
          case Op.ORR_REG_X: x[r] = alo | blo; x[r + 1] = ahi | bhi; break;
          case Op.EOR_REG_X: x[r] = alo ^ blo; x[r + 1] = ahi ^ bhi; break;
          case Op.BIC_REG_X: x[r] = alo & ~blo; x[r + 1] = ahi & ~bhi; break;
          case Op.ORN_REG_X: x[r] = alo | ~blo; x[r + 1] = ahi | ~bhi; break;
          case Op.EON_REG_X: x[r] = alo ^ ~blo; x[r + 1] = ahi ^ ~bhi; break;
          default: { // ANDS, BICS
            if (op === Op.BICS_REG_X) { blo = ~blo; bhi = ~bhi; }
            const rlo = alo & blo, rhi = ahi & bhi;
            x[r] = rlo; x[r + 1] = rhi;
            cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0;
          }
        }
        break;
      }
      case Op.ADD_REG_W: case Op.SUB_REG_W: case Op.ADDS_REG_W: case Op.SUBS_REG_W: {
        const amount = d[i + 6]!;
        let b = x[d[i + 4]!]!;
        if (amount !== 0) b = shiftValue32(b, d[i + 5]!, amount);
        const a = x[d[i + 3]!]!, r = d[i + 2]!;
        if (op === Op.ADD_REG_W) { x[r] = (a + b) | 0; x[r + 1] = 0; }
        else if (op === Op.SUB_REG_W) { x[r] = (a - b) | 0; x[r + 1] = 0; }
        else if (op === Op.ADDS_REG_W) addWithCarry32(cpu, a, b, 0, r);
        else addWithCarry32(cpu, a, ~b, 1, r);
        break;
      }
      case Op.AND_REG_W: case Op.ORR_REG_W: case Op.EOR_REG_W: case Op.ANDS_REG_W:
      case Op.BIC_REG_W: case Op.ORN_REG_W: case Op.EON_REG_W: case Op.BICS_REG_W: {
        const amount = d[i + 6]!;
        let b = x[d[i + 4]!]!;
        if (amount !== 0) b = shiftValue32(b, d[i + 5]!, amount);
        if (op >= Op.BIC_REG_W) b = ~b;
        const a = x[d[i + 3]!]!;
        let res: number;
        switch (op) {
          case Op.ORR_REG_W: case Op.ORN_REG_W: res = a | b; break;
          case Op.EOR_REG_W: case Op.EON_REG_W: res = a ^ b; break;
          default: res = a & b;
        }
        const r = d[i + 2]!;
        x[r] = res; x[r + 1] = 0;
        if (op === Op.ANDS_REG_W || op === Op.BICS_REG_W) {
          cpu.nf = res >>> 31; cpu.zf = res === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0;
        }
        break;
      }

      // ---- logical immediate, move wide ------------------------------------------------
      case Op.AND_IMM: case Op.ORR_IMM: case Op.EOR_IMM: case Op.ANDS_IMM: case Op.ANDS_IMM_W: {
        const s = d[i + 3]!, r = d[i + 2]!, ilo = d[i + 4]!, ihi = d[i + 5]!;
        let rlo: number, rhi: number;
        if (op === Op.ORR_IMM) { rlo = x[s]! | ilo; rhi = x[s + 1]! | ihi; }
        else if (op === Op.EOR_IMM) { rlo = x[s]! ^ ilo; rhi = x[s + 1]! ^ ihi; }
        else { rlo = x[s]! & ilo; rhi = x[s + 1]! & ihi; }
        x[r] = rlo; x[r + 1] = rhi & d[i + 6]!;
        if (op === Op.ANDS_IMM) { cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0; }
        else if (op === Op.ANDS_IMM_W) { cpu.nf = rlo >>> 31; cpu.zf = rlo === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0; }
        break;
      }
      case Op.MOV_CONST: {
        const r = d[i + 2]!;
        x[r] = d[i + 4]!; x[r + 1] = d[i + 5]!;
        break;
      }
      case Op.MOVK: {
        const r = d[i + 2]!, v = d[i + 4]!, pos = d[i + 5]!;
        if (pos < 32) x[r] = (x[r]! & ~(0xffff << pos)) | (v << pos);
        else x[r + 1] = (x[r + 1]! & ~(0xffff << (pos - 32))) | (v << (pos - 32));
        if (d[i + 6]) x[r + 1] = 0;
        break;
      }

      // ---- PC-relative addressing -----------------------------------------------------
      case Op.ADR: case Op.ADRP: {
        const baseLo = op === Op.ADRP ? pcLo & ~0xfff : pcLo;
        const lo = (baseLo >>> 0) + (d[i + 4]! >>> 0);
        const r = d[i + 2]!;
        x[r + 1] = (pcHi + d[i + 5]! + (lo > 0xffffffff ? 1 : 0)) | 0;
        x[r] = lo | 0;
        break;
      }

      // ---- branches --------------------------------------------------------------------------
      case Op.B: {
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.BL: {
        const ret = (pcLo >>> 0) + 4;
        x[60] = ret | 0; x[61] = (pcHi + (ret > 0xffffffff ? 1 : 0)) | 0;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.B_COND: {
        // ConditionHolds(cond), written out (see cpu.conditionHolds)
        const cond = d[i + 2]!;
        let holds: boolean;
        switch (cond >> 1) {
          case 0: holds = cpu.zf === 1; break;
          case 1: holds = cpu.cf === 1; break;
          case 2: holds = cpu.nf === 1; break;
          case 3: holds = cpu.vf === 1; break;
          case 4: holds = cpu.cf === 1 && cpu.zf === 0; break;
          case 5: holds = cpu.nf === cpu.vf; break;
          case 6: holds = cpu.nf === cpu.vf && cpu.zf === 0; break;
          default: holds = true;
        }
        if ((cond & 1) !== 0 && cond !== 15) holds = !holds;
        if (!holds) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.CBZ_X: case Op.CBNZ_X: case Op.CBZ_W: case Op.CBNZ_W: {
        const r = d[i + 2]!;
        const zero = op === Op.CBZ_X || op === Op.CBNZ_X ? (x[r]! | x[r + 1]!) === 0 : x[r]! === 0;
        if (zero !== (op === Op.CBZ_X || op === Op.CBZ_W)) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.TBZ: case Op.TBNZ: {
        const r = d[i + 2]!, bit = d[i + 3]!;
        const set = ((bit < 32 ? x[r]! >>> bit : x[r + 1]! >>> (bit - 32)) & 1) === 1;
        if (set !== (op === Op.TBNZ)) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.BR: case Op.BLR: case Op.RET: {
        const r = d[i + 2]!;
        const tlo = x[r]!, thi = x[r + 1]!;
        if (op === Op.BLR) {
          const ret = (pcLo >>> 0) + 4;
          x[60] = ret | 0; x[61] = (pcHi + (ret > 0xffffffff ? 1 : 0)) | 0;
        }
        pcLo = tlo; pcHi = thi;
        stale = (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi;
        continue main;
      }
      case Op.NOP:
        break;

      // ---- loads and stores (exec/loads-stores.ts) ------------------------------------------------
      // Inline: an access that hits the RAM fast window aligned, through port.translate when the
      // regime translates (a fault there is taken with the instruction syndrome from e), flat when
      // it does not (MMU off: Device memory, so only aligned accesses can be inlined). Anything
      // else (misaligned SP base, unaligned, MMIO, page-crossing pairs) runs the handler.
      case Op.LDR_X_IMM: case Op.LDR_W_IMM: case Op.LDR_IMM: case Op.STR_X_IMM: case Op.STR_W_IMM: case Op.STR_IMM:
      case Op.LDR_REG: case Op.STR_REG: case Op.LDR_WB: case Op.STR_WB: {
        const b = d[i + 3]!, info = d[i + 5]!, e = d[i + 6]!, blo = x[b]!, bhi = x[b + 1]!;
        // the offset: an immediate, or Extend(Rm) << amount
        let olo: number, ohi: number;
        if (op === Op.LDR_REG || op === Op.STR_REG) {
          const m = d[i + 4]!;
          olo = x[m]!; ohi = x[m + 1]!;
          if ((info & LS.EXT_MASK) !== 0) ohi = (info & LS.EXT_MASK) === LS.EXT_SXTW ? olo >> 31 : 0;
          const amount = (info >>> LS.AMOUNT_SHIFT) & 3;
          if (amount !== 0) { ohi = (ohi << amount) | (olo >>> (32 - amount)); olo <<= amount; }
        } else {
          olo = d[i + 4]!; ohi = olo >> 31;
        }
        const sum = (blo >>> 0) + (olo >>> 0);
        const nlo = sum | 0, nhi = (bhi + ohi + (sum > 0xffffffff ? 1 : 0)) | 0;
        // post-index accesses the base itself
        const post = (info & LS.POST) !== 0;
        const vaLo = post ? blo : nlo, vaHi = post ? bhi : nhi;
        const scale = info & LS.SIZE_MASK;
        const load = (info & LS.LOAD) !== 0;
        let off = -1;
        if ((blo & e & 15) === 0) {
          if (!port.translationOn()) off = vaHi * 4294967296 + (vaLo >>> 0) - memory.ramBase;
          else {
            // The port's fast array for this EL, PAN and access type holds permitted pages (memory-port.ts): a
            // hit needs no call; otherwise the port translates, giving the offset in RAM as an int (-2: outside
            // RAM, the handler then does the access; -1: an exception was taken).
            const access = load ? Access.Read : Access.Write;
            const k = (((((cpu.el << 1) | cpu.pan) << 3) | access) << FastArray.Bits) | ((vaLo >>> 12) & FastArray.Mask);
            if ((vaLo & ((1 << scale) - 1)) === 0 && port.fastTagLo[k] === ((vaLo & ~0xfff) | port.epoch) && port.fastTagHi[k] === vaHi) {
              off = port.fastPa[k]! + (vaLo & 0xfff) - memory.ramBase;
            } else {
              const t = fastOpTranslate(cpu, vaLo, vaHi, access, 1 << scale, e & ~15, pcLo, pcHi, retiredBase + n) | 0;
              if (t === -1) { pcLo = cpu.pcLo; pcHi = cpu.pcHi; stale = true; continue main; }
              off = t;
            }
          }
        }
        if ((off & ((1 << scale) - 1)) === 0 && off >= 0 && off < memory.ramSize) {
          const r = d[i + 2]!;
          if (load) {
            if (scale === 3) { const w = off >>> 2; x[r] = memory.ram32[w]!; x[r + 1] = memory.ram32[w + 1]!; }
            else {
              let v = scale === 2 ? memory.ram32[off >>> 2]! | 0 : scale === 0 ? memory.ram8[off]! : memory.ram8[off]! | (memory.ram8[off + 1]! << 8);
              let hi = 0;
              if ((info & LS.SIGNED) !== 0) { const sh = 32 - (8 << scale); v = (v << sh) >> sh; if ((info & LS.REG64) !== 0) hi = v >> 31; }
              x[r] = v; x[r + 1] = hi;
            }
          } else {
            if (scale === 3) { const w = off >>> 2; memory.ram32[w] = x[r]!; memory.ram32[w + 1] = x[r + 1]!; }
            else if (scale === 2) memory.ram32[off >>> 2] = x[r]!;
            else if (scale === 1) { const v = x[r]!; memory.ram8[off] = v; memory.ram8[off + 1] = v >> 8; }
            else memory.ram8[off] = x[r]!;
            if (memory.ramCodePages[off >>> 12] !== 0 && codePageStore(cpu, memory.ramBase + off, 1 << scale)) stale = true;
          }
          // writeback after the access: with Rt == Rn a load's written-back address wins and a
          // store has stored the old base (QEMU's CONSTRAINED UNPREDICTABLE choices)
          if ((info & LS.WRITEBACK) !== 0) { x[b] = nlo; x[b + 1] = nhi; }
          break;
        }
        loadStoreSlowPath(cpu, d, i, pcLo, pcHi, retiredBase + n);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi; stale = true;
        continue main;
      }
      case Op.LDP: case Op.STP: {
        const b = d[i + 3]!, info = d[i + 5]!, blo = x[b]!, bhi = x[b + 1]!;
        const sum = (blo >>> 0) + d[i + 4]!;
        const nlo = sum | 0, nhi = (bhi + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
        const post = (info & LS.POST) !== 0;
        const vaLo = post ? blo : nlo, vaHi = post ? bhi : nhi;
        const scale = info & LS.SIZE_MASK, bytes = 2 << scale;
        let off = -1;
        // both elements in one page (a page-crossing pair takes the handler)
        if ((blo & d[i + 6]! & 15) === 0 && (vaLo & 0xfff) <= 0x1000 - bytes) {
          if (!port.translationOn()) off = vaHi * 4294967296 + (vaLo >>> 0) - memory.ramBase;
          else {
            // the fast array as above; both elements are in this page
            const access = op === Op.LDP ? Access.Read : Access.Write;
            const k = (((((cpu.el << 1) | cpu.pan) << 3) | access) << FastArray.Bits) | ((vaLo >>> 12) & FastArray.Mask);
            if ((vaLo & ((1 << scale) - 1)) === 0 && port.fastTagLo[k] === ((vaLo & ~0xfff) | port.epoch) && port.fastTagHi[k] === vaHi) {
              off = port.fastPa[k]! + (vaLo & 0xfff) - memory.ramBase;
            } else {
              const t = fastOpTranslate(cpu, vaLo, vaHi, access, 1 << scale, 0, pcLo, pcHi, retiredBase + n) | 0;
              if (t === -1) { pcLo = cpu.pcLo; pcHi = cpu.pcHi; stale = true; continue main; }
              off = t;
            }
          }
        }
        if ((off & ((1 << scale) - 1)) === 0 && off >= 0 && off <= memory.ramSize - bytes) {
          const r = d[i + 2]!, r2 = (info >>> LS.REG2_SHIFT) & 0xff, w = off >>> 2, ram = memory.ram32;
          if (op === Op.LDP) {
            if (scale === 3) {
              const lo = ram[w]!, hi = ram[w + 1]!;
              x[r2] = ram[w + 2]!; x[r2 + 1] = ram[w + 3]!;
              x[r] = lo; x[r + 1] = hi; // Rt == Rt2: the first element (as QEMU)
            } else if ((info & LS.SIGNED) === 0) {
              const v = ram[w]!;
              x[r2] = ram[w + 1]!; x[r2 + 1] = 0;
              x[r] = v; x[r + 1] = 0;
            } else { // LDPSW
              const v = ram[w]! | 0, v2 = ram[w + 1]! | 0;
              x[r2] = v2; x[r2 + 1] = v2 >> 31;
              x[r] = v; x[r + 1] = v >> 31;
            }
          } else {
            if (scale === 3) { ram[w] = x[r]!; ram[w + 1] = x[r + 1]!; ram[w + 2] = x[r2]!; ram[w + 3] = x[r2 + 1]!; }
            else { ram[w] = x[r]!; ram[w + 1] = x[r2]!; }
            if (memory.ramCodePages[off >>> 12] !== 0 && codePageStore(cpu, memory.ramBase + off, bytes)) stale = true;
          }
          if ((info & LS.WRITEBACK) !== 0) { x[b] = nlo; x[b + 1] = nhi; }
          break;
        }
        loadStoreSlowPath(cpu, d, i, pcLo, pcHi, retiredBase + n);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi; stale = true;
        continue main;
      }

      // ---- everything else ---------------------------------------------------------------------
      case Op.HANDLER: {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.retired = retiredBase + n;
        cpu.branched = false;
        HANDLERS[d[i + 7]!]!(cpu, d, i);
        if (cpu.branched) { pcLo = cpu.pcLo; pcHi = cpu.pcHi; }
        else { const t = (pcLo >>> 0) + 4; pcLo = t | 0; if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; }
        stale = true;
        continue main;
      }
      case Op.UNDEFINED: {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.onUndefined?.(d[i + 1]!, undefinedName(d[i + 1]!));
        undefinedInstruction(cpu);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        stale = true;
        continue main;
      }
      case Op.HOOK: {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.retired = retiredBase + n - 1;
        cpu.branched = false;
        const id = d[i + 7]!;
        cpu.hooks.fire(id);
        stale = true;
        if (cpu.stopRequest) { n--; continue main; } // the hooked instruction did not retire
        if (cpu.branched) { pcLo = cpu.pcLo; pcHi = cpu.pcHi; continue main; }
        d = cpu.hooks.shadow(id);
        i = 0;
        op = d[0]!;
        continue dispatch;
      }
      default:
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.stopRequest = { kind: 'fatal', why: `internal: unknown decoded op ${op}` };
        stale = true;
        continue main;
    }
    break;
    }
    // Sequential next instruction (a page crossing is caught at the top of the loop;
    // the low half wraps to 0 only when crossing a 4 GiB boundary).
    pcLo = (pcLo + 4) | 0;
    if ((pcLo & 0xfff) === 0) {
      stale = true;
      if (pcLo === 0) pcHi = (pcHi + 1) | 0;
    }
  }
  cpu.pcLo = pcLo;
  cpu.pcHi = pcHi;
  cpu.retired = retiredBase + n;
  const stop = cpu.stopRequest;
  cpu.stopRequest = undefined;
  return stop ?? { kind: 'budget' };
}

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
import { Access, FSC } from '../mmu/memory-port.js';
import { MemoryFault } from '../machine/physical-memory.js';
import * as O from './ops.js';
import { addWithCarry32, addWithCarry64, shiftOut, shiftValue32, shiftValue64 } from './exec/arith.js';
import './exec/all.js';

const EMPTY_BLOCK = new Int32Array(STRIDE * 1024);

/** Decodes the word at physical address `pa` into slot i of `block`; returns the op. */
function decodeSlot(cpu: Cpu, block: Int32Array, i: number, word: number): number {
  block[i + 1] = word;
  const def = decodeBase(word);
  if (!def) {
    block[i] = O.OP_UNDEFINED;
    return O.OP_UNDEFINED;
  }
  const p = predecoderFor(def.exec);
  if (!p || !p(cpu, fieldsOf(def, word), def, block, i)) {
    block[i] = O.OP_UNDEFINED;
    return O.OP_UNDEFINED;
  }
  return block[i]!;
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
  let generation = -1;
  let n = 0;
  cpu.stopRequest = undefined;

  while (n < budget) {
    if (cpu.fetchStale || (pcLo & ~0xfff) !== pageLo || pcHi !== pageHi || generation !== cache.generation) {
      cpu.pcLo = pcLo; cpu.pcHi = pcHi;
      cpu.retired = retiredBase + n;
      if (cpu.stopRequest) break;
      cpu.fetchStale = false;
      if (cpu.il) {
        // PSTATE.IL from an illegal exception return: Illegal Execution State exception.
        takeException(cpu, { targetEl: syncTargetEl(cpu), ec: EC.ILLEGAL_STATE, iss: 0, il: 1, returnLo: pcLo, returnHi: pcHi, vector: VectorKind.Synchronous });
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        continue;
      }
      if ((pcLo & 3) !== 0) {
        takeException(cpu, {
          targetEl: syncTargetEl(cpu), ec: EC.PC_ALIGN, iss: 0, il: 1, returnLo: pcLo, returnHi: pcHi,
          vector: VectorKind.Synchronous, far: { lo: pcLo, hi: pcHi },
        });
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        n++;
        continue;
      }
      const pa = port.translate(pcLo, pcHi, Access.Fetch, 4);
      if (pa < 0) {
        if (cpu.stopRequest) break;
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        continue;
      }
      pagePa = pa - (pa % 4096);
      block = cache.block(pagePa / 4096);
      memory.markCodePage(pagePa);
      pageLo = pcLo & ~0xfff;
      pageHi = pcHi;
      generation = cache.generation;
    }
    const i = (pcLo & 0xffc) << 1;
    let op = block[i]!;
    if (op === O.OP_UNDECODED) {
      const word = memory.read32(pagePa + (pcLo & 0xffc));
      if (memory.lastFault !== MemoryFault.None) {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        port.fault(pcLo, pcHi, Access.Fetch, FSC.SYNC_EXTERNAL, 4);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        n++;
        continue;
      }
      op = decodeSlot(cpu, block, i, word);
    }
    n++;
    const d = block;
    switch (op) {
      // ---- add/subtract immediate ------------------------------------------
      case O.OP_ADD_IMM_X: {
        const s = d[i + 3]!, r = d[i + 2]!;
        const lo = (x[s]! >>> 0) + d[i + 4]!;
        x[r + 1] = (x[s + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
        x[r] = lo | 0;
        break;
      }
      case O.OP_ADD_IMM_W: {
        x[d[i + 2]!] = (x[d[i + 3]!]! + d[i + 4]!) | 0;
        x[d[i + 2]! + 1] = 0;
        break;
      }
      case O.OP_SUB_IMM_X: {
        const s = d[i + 3]!, r = d[i + 2]!;
        const lo = (x[s]! >>> 0) - d[i + 4]!;
        x[r + 1] = (x[s + 1]! - (lo < 0 ? 1 : 0)) | 0;
        x[r] = lo | 0;
        break;
      }
      case O.OP_SUB_IMM_W: {
        x[d[i + 2]!] = (x[d[i + 3]!]! - d[i + 4]!) | 0;
        x[d[i + 2]! + 1] = 0;
        break;
      }
      case O.OP_ADDS_IMM_X: {
        const s = d[i + 3]!;
        addWithCarry64(cpu, x[s]!, x[s + 1]!, d[i + 4]!, 0, 0, d[i + 2]!);
        break;
      }
      case O.OP_ADDS_IMM_W:
        addWithCarry32(cpu, x[d[i + 3]!]!, d[i + 4]!, 0, d[i + 2]!);
        break;
      case O.OP_SUBS_IMM_X: {
        const s = d[i + 3]!;
        addWithCarry64(cpu, x[s]!, x[s + 1]!, ~d[i + 4]!, -1, 1, d[i + 2]!);
        break;
      }
      case O.OP_SUBS_IMM_W:
        addWithCarry32(cpu, x[d[i + 3]!]!, ~d[i + 4]!, 1, d[i + 2]!);
        break;

      // ---- add/subtract shifted register ---------------------------------------
      case O.OP_ADD_REG_X: case O.OP_SUB_REG_X: case O.OP_ADDS_REG_X: case O.OP_SUBS_REG_X: {
        const n1 = d[i + 3]!, m = d[i + 4]!, amount = d[i + 6]!;
        let blo = x[m]!, bhi = x[m + 1]!;
        if (amount !== 0) { shiftValue64(blo, bhi, d[i + 5]!, amount); blo = shiftOut[0]!; bhi = shiftOut[1]!; }
        const r = d[i + 2]!;
        if (op === O.OP_ADD_REG_X) {
          const lo = (x[n1]! >>> 0) + (blo >>> 0);
          x[r + 1] = (x[n1 + 1]! + bhi + (lo > 0xffffffff ? 1 : 0)) | 0;
          x[r] = lo | 0;
        } else if (op === O.OP_SUB_REG_X) {
          const lo = (x[n1]! >>> 0) - (blo >>> 0);
          x[r + 1] = (x[n1 + 1]! - bhi - (lo < 0 ? 1 : 0)) | 0;
          x[r] = lo | 0;
        } else if (op === O.OP_ADDS_REG_X) {
          addWithCarry64(cpu, x[n1]!, x[n1 + 1]!, blo, bhi, 0, r);
        } else {
          addWithCarry64(cpu, x[n1]!, x[n1 + 1]!, ~blo, ~bhi, 1, r);
        }
        break;
      }
      case O.OP_ADD_REG_W: case O.OP_SUB_REG_W: case O.OP_ADDS_REG_W: case O.OP_SUBS_REG_W: {
        const amount = d[i + 6]!;
        let b = x[d[i + 4]!]!;
        if (amount !== 0) b = shiftValue32(b, d[i + 5]!, amount);
        const a = x[d[i + 3]!]!, r = d[i + 2]!;
        if (op === O.OP_ADD_REG_W) { x[r] = (a + b) | 0; x[r + 1] = 0; }
        else if (op === O.OP_SUB_REG_W) { x[r] = (a - b) | 0; x[r + 1] = 0; }
        else if (op === O.OP_ADDS_REG_W) addWithCarry32(cpu, a, b, 0, r);
        else addWithCarry32(cpu, a, ~b, 1, r);
        break;
      }

      // ---- logical shifted register ------------------------------------------------
      case O.OP_AND_REG_X: case O.OP_ORR_REG_X: case O.OP_EOR_REG_X: case O.OP_ANDS_REG_X:
      case O.OP_BIC_REG_X: case O.OP_ORN_REG_X: case O.OP_EON_REG_X: case O.OP_BICS_REG_X: {
        const n1 = d[i + 3]!, m = d[i + 4]!, amount = d[i + 6]!;
        let blo = x[m]!, bhi = x[m + 1]!;
        if (amount !== 0) { shiftValue64(blo, bhi, d[i + 5]!, amount); blo = shiftOut[0]!; bhi = shiftOut[1]!; }
        if (op >= O.OP_BIC_REG_X) { blo = ~blo; bhi = ~bhi; }
        const alo = x[n1]!, ahi = x[n1 + 1]!;
        let rlo: number, rhi: number;
        switch (op) {
          case O.OP_ORR_REG_X: case O.OP_ORN_REG_X: rlo = alo | blo; rhi = ahi | bhi; break;
          case O.OP_EOR_REG_X: case O.OP_EON_REG_X: rlo = alo ^ blo; rhi = ahi ^ bhi; break;
          default: rlo = alo & blo; rhi = ahi & bhi;
        }
        const r = d[i + 2]!;
        x[r] = rlo; x[r + 1] = rhi;
        if (op === O.OP_ANDS_REG_X || op === O.OP_BICS_REG_X) {
          cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0;
        }
        break;
      }
      case O.OP_AND_REG_W: case O.OP_ORR_REG_W: case O.OP_EOR_REG_W: case O.OP_ANDS_REG_W:
      case O.OP_BIC_REG_W: case O.OP_ORN_REG_W: case O.OP_EON_REG_W: case O.OP_BICS_REG_W: {
        const amount = d[i + 6]!;
        let b = x[d[i + 4]!]!;
        if (amount !== 0) b = shiftValue32(b, d[i + 5]!, amount);
        if (op >= O.OP_BIC_REG_W) b = ~b;
        const a = x[d[i + 3]!]!;
        let res: number;
        switch (op) {
          case O.OP_ORR_REG_W: case O.OP_ORN_REG_W: res = a | b; break;
          case O.OP_EOR_REG_W: case O.OP_EON_REG_W: res = a ^ b; break;
          default: res = a & b;
        }
        const r = d[i + 2]!;
        x[r] = res; x[r + 1] = 0;
        if (op === O.OP_ANDS_REG_W || op === O.OP_BICS_REG_W) {
          cpu.nf = res >>> 31; cpu.zf = res === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0;
        }
        break;
      }

      // ---- logical immediate, move wide ------------------------------------------------
      case O.OP_AND_IMM: case O.OP_ORR_IMM: case O.OP_EOR_IMM: case O.OP_ANDS_IMM: case O.OP_ANDS_IMM_W: {
        const s = d[i + 3]!, r = d[i + 2]!, ilo = d[i + 4]!, ihi = d[i + 5]!;
        let rlo: number, rhi: number;
        if (op === O.OP_ORR_IMM) { rlo = x[s]! | ilo; rhi = x[s + 1]! | ihi; }
        else if (op === O.OP_EOR_IMM) { rlo = x[s]! ^ ilo; rhi = x[s + 1]! ^ ihi; }
        else { rlo = x[s]! & ilo; rhi = x[s + 1]! & ihi; }
        x[r] = rlo; x[r + 1] = rhi;
        if (op === O.OP_ANDS_IMM) { cpu.nf = rhi >>> 31; cpu.zf = (rlo | rhi) === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0; }
        else if (op === O.OP_ANDS_IMM_W) { cpu.nf = rlo >>> 31; cpu.zf = rlo === 0 ? 1 : 0; cpu.cf = 0; cpu.vf = 0; }
        break;
      }
      case O.OP_MOV_CONST: {
        const r = d[i + 2]!;
        x[r] = d[i + 4]!; x[r + 1] = d[i + 5]!;
        break;
      }
      case O.OP_MOVK: {
        const r = d[i + 2]!, v = d[i + 4]!, pos = d[i + 5]!;
        if (pos < 32) x[r] = (x[r]! & ~(0xffff << pos)) | (v << pos);
        else x[r + 1] = (x[r + 1]! & ~(0xffff << (pos - 32))) | (v << (pos - 32));
        if (d[i + 6]) x[r + 1] = 0;
        break;
      }

      // ---- PC-relative addressing -----------------------------------------------------
      case O.OP_ADR: case O.OP_ADRP: {
        const baseLo = op === O.OP_ADRP ? pcLo & ~0xfff : pcLo;
        const lo = (baseLo >>> 0) + (d[i + 4]! >>> 0);
        const r = d[i + 2]!;
        x[r + 1] = (pcHi + d[i + 5]! + (lo > 0xffffffff ? 1 : 0)) | 0;
        x[r] = lo | 0;
        break;
      }

      // ---- branches --------------------------------------------------------------------------
      case O.OP_B: {
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        continue;
      }
      case O.OP_BL: {
        const ret = (pcLo >>> 0) + 4;
        x[60] = ret | 0; x[61] = (pcHi + (ret > 0xffffffff ? 1 : 0)) | 0;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        continue;
      }
      case O.OP_B_COND: {
        if (!cpu.conditionHolds(d[i + 2]!)) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        continue;
      }
      case O.OP_CBZ_X: case O.OP_CBNZ_X: case O.OP_CBZ_W: case O.OP_CBNZ_W: {
        const r = d[i + 2]!;
        const zero = op === O.OP_CBZ_X || op === O.OP_CBNZ_X ? (x[r]! | x[r + 1]!) === 0 : x[r]! === 0;
        if (zero !== (op === O.OP_CBZ_X || op === O.OP_CBZ_W)) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        continue;
      }
      case O.OP_TBZ: case O.OP_TBNZ: {
        const r = d[i + 2]!, bit = d[i + 3]!;
        const set = ((bit < 32 ? x[r]! >>> bit : x[r + 1]! >>> (bit - 32)) & 1) === 1;
        if (set !== (op === O.OP_TBNZ)) break;
        const t = (pcLo >>> 0) + d[i + 4]!;
        pcLo = t | 0;
        if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; else if (t < 0) pcHi = (pcHi - 1) | 0;
        continue;
      }
      case O.OP_BR: case O.OP_BLR: case O.OP_RET: {
        const r = d[i + 2]!;
        const tlo = x[r]!, thi = x[r + 1]!;
        if (op === O.OP_BLR) {
          const ret = (pcLo >>> 0) + 4;
          x[60] = ret | 0; x[61] = (pcHi + (ret > 0xffffffff ? 1 : 0)) | 0;
        }
        pcLo = tlo; pcHi = thi;
        continue;
      }
      case O.OP_NOP:
        break;

      // ---- everything else ---------------------------------------------------------------------
      case O.OP_HANDLER: {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.retired = retiredBase + n;
        cpu.branched = false;
        HANDLERS[d[i + 7]!]!(cpu, d, i);
        if (cpu.branched) { pcLo = cpu.pcLo; pcHi = cpu.pcHi; }
        else { const t = (pcLo >>> 0) + 4; pcLo = t | 0; if (t > 0xffffffff) pcHi = (pcHi + 1) | 0; }
        if (cpu.stopRequest) { cpu.fetchStale = true; }
        continue;
      }
      case O.OP_UNDEFINED: {
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.onUndefined?.(d[i + 1]!, undefinedName(d[i + 1]!));
        undefinedInstruction(cpu);
        pcLo = cpu.pcLo; pcHi = cpu.pcHi;
        continue;
      }
      default:
        cpu.pcLo = pcLo; cpu.pcHi = pcHi;
        cpu.stopRequest = { kind: 'fatal', why: `internal: unknown decoded op ${op}` };
        cpu.fetchStale = true;
        continue;
    }
    // Sequential next instruction (a page crossing is caught at the top of the loop).
    const t = (pcLo >>> 0) + 4;
    pcLo = t | 0;
    if (t > 0xffffffff) pcHi = (pcHi + 1) | 0;
  }
  cpu.pcLo = pcLo;
  cpu.pcHi = pcHi;
  cpu.retired = retiredBase + n;
  const stop = cpu.stopRequest;
  cpu.stopRequest = undefined;
  return stop ?? { kind: 'budget' };
}

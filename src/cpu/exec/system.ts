/**
 * Exception generation, exception return and system instructions (Arm ARM
 * C6: SVC/HVC/SMC/BRK/HLT/DCPS/UDF, ERET/DRPS, the hint space, barriers,
 * CLREX, MSR (immediate), MSR/MRS (register), SYS/SYSL with the TLBI, IC, DC
 * and AT operations), plus the instructions that are UNDEFINED on the
 * modelled cores (pointer authentication, FlagM, WFxT, SB).
 *
 * The emulated PE has EL2 and no EL3 (QEMU's virt with virtualization=on):
 * EL2Enabled() is always true, and SMC reaches the machine's firmware (PSCI)
 * directly, as in QEMU. Access rules for system registers live in
 * src/cpu/sysregs/traps.ts.
 */
import type { Cpu } from '../cpu.js';
import type { Fields } from '../../isa/insn-def.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { dstOrZr, srcOrZr } from '../registers.js';
import * as O from '../ops.js';
import { EC, exceptionReturn, takeException, VectorKind } from '../exceptions.js';
import { sysregIdByEncoding, sysregId } from '../sysregs/system-registers.js';
import { ID_RESERVED, IMPDEF_RAZ } from '../sysregs/definitions.js';
import {
  HCR, el2Enabled, hcrLo, impdefAccess, isImpdefEncoding, isReservedIdEncoding, sysregAccess,
  systemAccessIss, systemAccessTrap, trapFromEl0, undefinedSystem,
} from '../sysregs/traps.js';
import { sysregName } from '../../isa/sysreg-names.js';
import { sysOpName } from '../../isa/sysop-names.js';
import { Access } from '../../mmu/memory-port.js';
import { defaultFirmware } from './system-firmware.js';

const S = (slot: number): number => slot * 2;

function setSlot(out: Int32Array, i: number, handler: number, a = 0, b = 0, c = 0, d = 0, e = 0): true {
  out[i] = O.OP_HANDLER; out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = handler;
  return true;
}

function setOp(out: Int32Array, i: number, op: number): true {
  out[i] = op; out[i + 2] = 0; out[i + 3] = 0; out[i + 4] = 0; out[i + 5] = 0; out[i + 6] = 0; out[i + 7] = 0;
  return true;
}

const hex8 = (w: number): string => `0x${(w >>> 0).toString(16).padStart(8, '0')}`;

// ---- UNDEFINED with a reason -------------------------------------------------------------------------------

const undefinedReasons: string[] = [];
const reasonIndex = new Map<string, number>();

const H_UNDEFINED = registerHandler('undefined (system)', (cpu, d, i) => {
  undefinedSystem(cpu, d[i + 1]!, `${undefinedReasons[d[i + 2]!]} (${hex8(d[i + 1]!)})`);
});

/** Slot that raises UNDEFINED and reports `reason` through cpu.onUndefined. */
function undefinedSlot(out: Int32Array, i: number, reason: string): true {
  let k = reasonIndex.get(reason);
  if (k === undefined) {
    k = undefinedReasons.length;
    undefinedReasons.push(reason);
    reasonIndex.set(reason, k);
  }
  return setSlot(out, i, H_UNDEFINED, k);
}

const withoutPauth = (cpu: Cpu, what: string): string =>
  cpu.model.features.pauth ? `${what}: pointer authentication is not implemented` : `${what}: needs FEAT_PAuth (${cpu.model.name} has none)`;

// ---- exception return --------------------------------------------------------------------------------------------

const H_ERET = registerHandler('eret', (cpu, d, i) => {
  if (cpu.el === 0) {
    undefinedSystem(cpu, d[i + 1]!, 'eret at EL0');
    return;
  }
  exceptionReturn(cpu);
});

registerPredecoder('ERET', (cpu, f, _def, out, i) => {
  if (f['A']) return undefinedSlot(out, i, withoutPauth(cpu, f['M'] ? 'eretab' : 'eretaa'));
  return setSlot(out, i, H_ERET);
});

registerPredecoder('BRANCH_REG_PAUTH', (cpu, _f, def, out, i) => undefinedSlot(out, i, withoutPauth(cpu, def.mnemonic)));

// DRPS is UNDEFINED outside Debug state, which is not modelled.
registerPredecoder('DRPS', (_cpu, _f, _def, out, i) => undefinedSlot(out, i, 'drps outside Debug state'));

// ---- exception generation ------------------------------------------------------------------------------------------

/** Preferred return address of SVC/HVC/SMC: the next instruction. */
function takeCall(cpu: Cpu, targetEl: number, ec: number, imm16: number): void {
  const t = (cpu.pcLo >>> 0) + 4;
  takeException(cpu, {
    targetEl, ec, iss: imm16, il: 1,
    returnLo: t | 0, returnHi: (cpu.pcHi + (t > 0xffffffff ? 1 : 0)) | 0, vector: VectorKind.Synchronous,
  });
}

const H_SVC = registerHandler('svc', (cpu, d, i) => {
  // AArch64.CallSupervisor: EL0 → EL1 (EL2 when HCR_EL2.TGE routes it), otherwise the current EL.
  const el = cpu.el;
  const target = el === 0 ? ((hcrLo(cpu) & HCR.TGE) !== 0 ? 2 : 1) : el;
  takeCall(cpu, target, EC.SVC64, d[i + 2]!);
});

const H_HVC = registerHandler('hvc', (cpu, d, i) => {
  const word = d[i + 1]!;
  if (cpu.el === 0) { undefinedSystem(cpu, word, 'hvc at EL0'); return; }
  if (!el2Enabled(cpu)) {
    // No EL2: HVC is the PSCI conduit (QEMU's virt without virtualization=on) or UNDEFINED.
    if ((cpu.firmwareCall ?? defaultFirmware(cpu))('hvc')) return;
    undefinedSystem(cpu, word, 'hvc without EL2');
    return;
  }
  // Without EL3, HCR_EL2.HCD disables HVC at EL1 and EL2.
  if ((hcrLo(cpu) & HCR.HCD) !== 0) { undefinedSystem(cpu, word, 'hvc with HCR_EL2.HCD set'); return; }
  takeCall(cpu, 2, EC.HVC64, d[i + 2]!);
});

const H_SMC = registerHandler('smc', (cpu, d, i) => {
  const word = d[i + 1]!;
  const el = cpu.el;
  if (el === 0) { undefinedSystem(cpu, word, 'smc at EL0'); return; }
  // HCR_EL2.TSC traps EL1's SMC to EL2 (preferred return: the SMC itself). Architecturally TSC is
  // RES0 without EL3, but QEMU's firmware counts as EL3 and honours it (QEMU-NOTES).
  if (el === 1 && (hcrLo(cpu) & HCR.TSC) !== 0) {
    systemAccessTrap(cpu, 2, EC.SMC64, d[i + 2]!);
    return;
  }
  if ((cpu.firmwareCall ?? defaultFirmware(cpu))('smc')) return;
  if (el2Enabled(cpu)) {
    // The SMC conduit's firmware answers calls it does not know with NOT_SUPPORTED, as QEMU's does.
    cpu.x[0] = -1; cpu.x[1] = -1;
    return;
  }
  undefinedSystem(cpu, word, 'smc without EL3 or firmware');
});

const H_BRK = registerHandler('brk', (cpu, d, i) => {
  // AArch64.SoftwareBreakpoint: routed to EL2 from EL0/EL1 by HCR_EL2.TGE or MDCR_EL2.TDE.
  const el = cpu.el;
  let target = el;
  if (el < 2) {
    const toEl2 = el2Enabled(cpu) && ((hcrLo(cpu) & HCR.TGE) !== 0 || (cpu.sys.lo(MDCR_EL2) & (1 << 8)) !== 0);
    target = toEl2 ? 2 : 1;
  }
  takeException(cpu, {
    targetEl: target, ec: EC.BRK64, iss: d[i + 2]!, il: 1, returnLo: cpu.pcLo, returnHi: cpu.pcHi, vector: VectorKind.Synchronous,
  });
});

const MDCR_EL2 = sysregId('mdcr_el2');

registerPredecoder('EXCEPTION_GEN', (_cpu, f, def, out, i) => {
  const opc = f['opc']!, ll = f['LL']!, imm16 = f['imm16']!;
  if (opc === 0) {
    if (ll === 1) return setSlot(out, i, H_SVC, imm16);
    if (ll === 2) return setSlot(out, i, H_HVC, imm16);
    if (ll === 3) return setSlot(out, i, H_SMC, imm16);
  }
  if (opc === 1 && ll === 0) return setSlot(out, i, H_BRK, imm16);
  // HLT: halting debug is not enabled (EDSCR.HDE = 0), so UNDEFINED; DCPSn outside Debug state too.
  if (opc === 2 && ll === 0) return undefinedSlot(out, i, `hlt #0x${imm16.toString(16)} without halting debug`);
  if (opc === 5) return undefinedSlot(out, i, `${def.mnemonic} outside Debug state`);
  return false;
});

registerPredecoder('UDF', (_cpu, f, _def, out, i) => undefinedSlot(out, i, `udf #${f['imm16']}`));

// ---- hints ---------------------------------------------------------------------------------------------------------

const SCTLR_EL1 = sysregId('sctlr_el1');
/** ISS of a trapped WFI/WFE from AArch64: CV = 1, COND = 0b1110, TI = 0 (WFI) or 1 (WFE). */
const wfxIss = (wfe: boolean): number => (1 << 24) | (0xe << 20) | (wfe ? 1 : 0);

/**
 * Decides what a WFI/WFE that would wait does: return true when something
 * will wake the PE (the instruction then completes), false to stop the run
 * loop. The interrupt model installs one per CPU; without it nothing can wake
 * a WFI, so it stops the run with { kind: 'wfi' }.
 */
export type WaitHandler = (cpu: Cpu, kind: 'wfi' | 'wfe') => boolean;
export const waitHandlers = new WeakMap<Cpu, WaitHandler>();

/** AArch64.CheckForWFxTrap for EL0 (SCTLR_EL1.nTWx) then EL0/EL1 (HCR_EL2.TWx). True when trapped. */
function wfxTrapped(cpu: Cpu, wfe: boolean): boolean {
  const el = cpu.el;
  if (el === 0 && (cpu.sys.lo(SCTLR_EL1) & (wfe ? 1 << 18 : 1 << 16)) === 0) {
    trapFromEl0(cpu, EC.WFX, wfxIss(wfe));
    return true;
  }
  if (el < 2 && (hcrLo(cpu) & (wfe ? HCR.TWE : HCR.TWI)) !== 0) {
    systemAccessTrap(cpu, 2, EC.WFX, wfxIss(wfe));
    return true;
  }
  return false;
}

const H_WFI = registerHandler('wfi', (cpu) => {
  if (wfxTrapped(cpu, false)) return;
  const wake = waitHandlers.get(cpu);
  if (wake && wake(cpu, 'wfi')) return;
  // Nothing can wake the PE: stop after the WFI (resuming continues with the next instruction).
  cpu.stopRequest = { kind: 'wfi' };
});

const H_WFE = registerHandler('wfe', (cpu) => {
  if (cpu.eventRegister) { cpu.eventRegister = 0; return; }
  if (wfxTrapped(cpu, true)) return;
  // A single PE with no event sources: the wait ends at once (WFE may complete spuriously).
  waitHandlers.get(cpu)?.(cpu, 'wfe');
});

const H_SEV = registerHandler('sev', (cpu) => { cpu.eventRegister = 1; });

const H_PAUTH_HINT = registerHandler('pauth hint', (cpu, d, i) => {
  undefinedSystem(cpu, d[i + 1]!, withoutPauth(cpu, `hint #${(d[i + 1]! >>> 5) & 0x7f}`));
});

registerPredecoder('HINT', (cpu, f, _def, out, i) => {
  const imm = f['imm7']!;
  switch (imm) {
    case 2: return setSlot(out, i, H_WFE);
    case 3: return setSlot(out, i, H_WFI);
    case 4: case 5: return setSlot(out, i, H_SEV); // SEV, SEVL: one PE, so both set the local event register
    default:
      // XPACLRI, PAC*/AUT* 1716 and SP/Z forms: NOPs without PAuth.
      if (cpu.model.features.pauth && (imm === 7 || (imm >= 8 && imm <= 15) || (imm >= 24 && imm <= 31))) return setSlot(out, i, H_PAUTH_HINT);
      // NOP, YIELD, DGH, ESB, PSB, TSB, CSDB, CLEARBHB, BTI and every unallocated hint.
      return setOp(out, i, O.OP_NOP);
  }
});

// ---- barriers and CLREX ----------------------------------------------------------------------------------------------

const H_CLREX = registerHandler('clrex', (cpu) => { cpu.exclusiveAddress = -1; });
const H_ISB = registerHandler('isb', (cpu) => { cpu.fetchStale = true; });

registerPredecoder('CLREX', (_cpu, _f, _def, out, i) => setSlot(out, i, H_CLREX));
// Memory is coherent and accesses complete in order: DSB and DMB (SSBB, PSSBB) order nothing further.
registerPredecoder('DSB', (_cpu, _f, _def, out, i) => setOp(out, i, O.OP_NOP));
registerPredecoder('DMB', (_cpu, _f, _def, out, i) => setOp(out, i, O.OP_NOP));
registerPredecoder('ISB', (_cpu, _f, _def, out, i) => setSlot(out, i, H_ISB));
registerPredecoder('SB', (_cpu, _f, _def, out, i) => undefinedSlot(out, i, 'sb: needs FEAT_SB'));

// ---- instructions the modelled cores do not have ---------------------------------------------------------------------

registerPredecoder('WFXT', (_cpu, _f, def, out, i) => undefinedSlot(out, i, `${def.mnemonic}: needs FEAT_WFxT`));
for (const exec of ['FLAGM', 'SETF', 'RMIF']) {
  registerPredecoder(exec, (_cpu, _f, def, out, i) => undefinedSlot(out, i, `${def.mnemonic}: needs FEAT_FlagM`));
}
for (const exec of ['PAUTH_DATA', 'XPAC', 'PACGA']) {
  registerPredecoder(exec, (cpu, _f, def, out, i) => undefinedSlot(out, i, withoutPauth(cpu, def.mnemonic)));
}

// ---- MSR (immediate) -----------------------------------------------------------------------------------------------------

/** d[i+2] = immediate. */
const H_MSR_SPSEL = registerHandler('msr spsel, #imm', (cpu, d, i) => {
  if (cpu.el === 0) { undefinedSystem(cpu, d[i + 1]!, 'msr spsel at EL0'); return; }
  cpu.spsel = d[i + 2]!;
  cpu.syncStackPointer();
});

/** d[i+2] = DAIF bits, d[i+3] = 1 for DAIFSet, 0 for DAIFClr. */
const H_MSR_DAIF = registerHandler('msr daifset/daifclr, #imm', (cpu, d, i) => {
  // At EL0, SCTLR_EL1.UMA enables DAIF access.
  if (cpu.el === 0 && (cpu.sys.lo(SCTLR_EL1) & (1 << 9)) === 0) {
    trapFromEl0(cpu, EC.SYSREG, systemAccessIss(d[i + 1]!));
    return;
  }
  cpu.daif = d[i + 3] ? cpu.daif | d[i + 2]! : cpu.daif & ~d[i + 2]!;
  // Unmasking may let a pending interrupt in: have the loop look again.
  cpu.fetchStale = true;
});

/** d[i+2] = immediate, d[i+3] = field (0 PAN, 1 UAO, 2 DIT, 3 SSBS). */
const H_MSR_PSTATE_BIT = registerHandler('msr pstate bit, #imm', (cpu, d, i) => {
  const field = d[i + 3]!, v = d[i + 2]!;
  if (cpu.el === 0 && field <= 1) { undefinedSystem(cpu, d[i + 1]!, `msr ${field ? 'uao' : 'pan'} at EL0`); return; }
  if (field === 0) cpu.pan = v;
  else if (field === 1) cpu.uao = v;
  else if (field === 2) cpu.dit = v;
  else cpu.ssbs = v;
  cpu.fetchStale = true;
});

registerPredecoder('MSR_IMM', (cpu, f, def, out, i) => {
  const field = String(def.params['pstate']);
  const features = cpu.model.features;
  switch (field) {
    case 'spsel': return setSlot(out, i, H_MSR_SPSEL, f['imm1']!);
    case 'daifset': return setSlot(out, i, H_MSR_DAIF, f['CRm']!, 1);
    case 'daifclr': return setSlot(out, i, H_MSR_DAIF, f['CRm']!, 0);
    case 'pan': return features.pan ? setSlot(out, i, H_MSR_PSTATE_BIT, f['imm1']!, 0) : undefinedSlot(out, i, 'msr pan: needs FEAT_PAN');
    case 'uao': return features.uao ? setSlot(out, i, H_MSR_PSTATE_BIT, f['imm1']!, 1) : undefinedSlot(out, i, 'msr uao: needs FEAT_UAO');
    case 'dit': return features.dit ? setSlot(out, i, H_MSR_PSTATE_BIT, f['imm1']!, 2) : undefinedSlot(out, i, 'msr dit: needs FEAT_DIT');
    case 'ssbs': return features.ssbs ? setSlot(out, i, H_MSR_PSTATE_BIT, f['imm1']!, 3) : undefinedSlot(out, i, 'msr ssbs: needs FEAT_SSBS');
    default: return undefinedSlot(out, i, `msr ${field}: not implemented by ${cpu.model.name}`);
  }
});

// ---- MRS / MSR (register) --------------------------------------------------------------------------------------------

/** d[i+2] = Rt slot, d[i+3] = register id. */
const H_MRS = registerHandler('mrs', (cpu, d, i) => {
  const id = d[i + 3]!;
  if (!sysregAccess(cpu, id, true, d[i + 1]!)) return;
  cpu.sys.read(id, cpu.x, d[i + 2]!);
});

const DAIF_ID = sysregId('daif');
const H_MSR = registerHandler('msr', (cpu, d, i) => {
  const id = d[i + 3]!;
  if (!sysregAccess(cpu, id, false, d[i + 1]!)) return;
  const s = d[i + 2]!;
  cpu.sys.write(id, cpu.x[s]!, cpu.x[s + 1]!);
  if (id === DAIF_ID) cpu.fetchStale = true;
});

const H_IMPDEF = registerHandler('mrs/msr implementation defined', (cpu, d, i) => impdefAccess(cpu, d[i + 1]!));

function predecodeMoveSysreg(cpu: Cpu, f: Fields, read: boolean, out: Int32Array, i: number): boolean {
  const enc = f['sysreg']!;
  const what = `${read ? 'mrs' : 'msr'} ${sysregName(enc)}`;
  if (enc >>> 14 < 2) return undefinedSlot(out, i, `${what}: unallocated encoding`);
  let id = sysregIdByEncoding(enc);
  if (id < 0 && isReservedIdEncoding(enc)) id = ID_RESERVED;
  if (id < 0 && cpu.model.impdefRaz?.includes(enc)) id = IMPDEF_RAZ;
  if (id < 0 || !cpu.sys.present(id)) {
    if (isImpdefEncoding(enc)) return setSlot(out, i, H_IMPDEF);
    return undefinedSlot(out, i, `${what}: ${id < 0 ? 'unknown system register' : `not implemented by ${cpu.model.name}`}`);
  }
  const rt = f['Rt']!;
  return setSlot(out, i, read ? H_MRS : H_MSR, S(read ? dstOrZr(rt) : srcOrZr(rt)), id);
}

registerPredecoder('MRS', (cpu, f, _def, out, i) => predecodeMoveSysreg(cpu, f, true, out, i));
registerPredecoder('MSR_REG', (cpu, f, _def, out, i) => predecodeMoveSysreg(cpu, f, false, out, i));

// ---- SYS: TLBI, IC, DC, AT -------------------------------------------------------------------------------------------

const opNames: string[] = [];
function opIndex(name: string): number {
  let k = opNames.indexOf(name);
  if (k < 0) { k = opNames.length; opNames.push(name); }
  return k;
}

/** d[i+2] = Rt slot, d[i+3] = op name index, d[i+4] = lowest EL. */
const H_TLBI = registerHandler('tlbi', (cpu, d, i) => {
  const el = cpu.el;
  const name = opNames[d[i + 3]!]!;
  if (el < d[i + 4]!) { undefinedSystem(cpu, d[i + 1]!, `tlbi ${name} at EL${el}`); return; }
  if (el === 1 && (hcrLo(cpu) & HCR.TTLB) !== 0) { systemAccessTrap(cpu, 2, EC.SYSREG, systemAccessIss(d[i + 1]!)); return; }
  const s = d[i + 2]!;
  cpu.port.tlbi(name, cpu.x[s]!, cpu.x[s + 1]!);
  cpu.fetchStale = true;
});

const enum IcOp { IALLUIS, IALLU, IVAU }
/** d[i+2] = Rt slot, d[i+3] = IcOp. */
const H_IC = registerHandler('ic', (cpu, d, i) => {
  const el = cpu.el, op = d[i + 3]!, word = d[i + 1]!;
  if (op === IcOp.IVAU) {
    if (el === 0 && (cpu.sys.lo(SCTLR_EL1) & (1 << 26)) === 0) { trapFromEl0(cpu, EC.SYSREG, systemAccessIss(word)); return; }
  } else if (el === 0) {
    undefinedSystem(cpu, word, `ic ${op === IcOp.IALLU ? 'iallu' : 'ialluis'} at EL0`);
    return;
  }
  if (el < 2 && (hcrLo(cpu) & HCR.TPU) !== 0) { systemAccessTrap(cpu, 2, EC.SYSREG, systemAccessIss(word)); return; }
  if (op === IcOp.IVAU) {
    const s = d[i + 2]!;
    const port = cpu.port as { probe?: (lo: number, hi: number, access: Access) => number };
    const pa = port.probe ? port.probe(cpu.x[s]!, cpu.x[s + 1]!, Access.Fetch) : -1;
    if (pa >= 0) cpu.decodeCache.invalidatePage(Math.floor(pa / 4096));
    else cpu.decodeCache.invalidateAll();
  } else {
    cpu.decodeCache.invalidateAll();
  }
  cpu.fetchStale = true;
});

const enum DcOp { IVAC, SETWAY, ZVA, CVAC, CVAU, CIVAC, CVAP }
const DCZID_EL0 = sysregId('dczid_el0');
const trapDcToEl2 = (cpu: Cpu, word: number): void => systemAccessTrap(cpu, 2, EC.SYSREG, systemAccessIss(word));

/** d[i+2] = Rt slot, d[i+3] = DcOp. Caches are coherent, so maintenance only checks its traps (and DC ZVA writes). */
const H_DC = registerHandler('dc', (cpu, d, i) => {
  const el = cpu.el, op = d[i + 3]!, word = d[i + 1]!;
  const hcr = hcrLo(cpu);
  const s = d[i + 2]!;
  switch (op) {
    case DcOp.IVAC:
      if (el === 0) { undefinedSystem(cpu, word, 'dc ivac at EL0'); return; }
      if (el === 1 && (hcr & HCR.TPCP) !== 0) { trapDcToEl2(cpu, word); return; }
      // Invalidation can discard writes, so at EL1 it needs write permission (a fault is a data abort).
      if (el === 1 && cpu.port.translate(cpu.x[s]!, cpu.x[s + 1]!, Access.Write, 1) < 0) return;
      return;
    case DcOp.SETWAY:
      if (el === 0) { undefinedSystem(cpu, word, 'dc set/way at EL0'); return; }
      if (el === 1 && (hcr & HCR.TSW) !== 0) trapDcToEl2(cpu, word);
      return;
    case DcOp.ZVA: {
      if (el === 0 && (cpu.sys.lo(SCTLR_EL1) & (1 << 14)) === 0) { trapFromEl0(cpu, EC.SYSREG, systemAccessIss(word)); return; }
      if (el < 2 && (hcr & HCR.TDZ) !== 0) { trapDcToEl2(cpu, word); return; }
      // Zeroes the naturally aligned block of 4 << DCZID_EL0.BS bytes holding the address.
      const bytes = 4 << (cpu.sys.lo(DCZID_EL0) & 0xf);
      const baseLo = cpu.x[s]! & ~(bytes - 1), hi = cpu.x[s + 1]!;
      for (let off = 0; off < bytes; off += 8) {
        if (!cpu.port.write((baseLo + off) | 0, hi, 8, 0, 0)) return;
      }
      return;
    }
    default: {
      // CVAC, CVAU, CIVAC, CVAP: allowed at EL0 by SCTLR_EL1.UCI; TPU traps CVAU, TPCP the others.
      if (el === 0 && (cpu.sys.lo(SCTLR_EL1) & (1 << 26)) === 0) { trapFromEl0(cpu, EC.SYSREG, systemAccessIss(word)); return; }
      if (el < 2 && (hcr & (op === DcOp.CVAU ? HCR.TPU : HCR.TPCP)) !== 0) trapDcToEl2(cpu, word);
    }
  }
});

/** d[i+2] = Rt slot, d[i+3] = op name index, d[i+4] = lowest EL. */
const H_AT = registerHandler('at', (cpu, d, i) => {
  const el = cpu.el;
  const name = opNames[d[i + 3]!]!;
  if (el < d[i + 4]!) { undefinedSystem(cpu, d[i + 1]!, `at ${name} at EL${el}`); return; }
  const s = d[i + 2]!;
  cpu.port.addressTranslate(name, cpu.x[s]!, cpu.x[s + 1]!);
});

function predecodeSys(cpu: Cpu, f: Fields, out: Int32Array, i: number): boolean {
  const op1 = f['op1']!, crn = f['CRn']!, crm = f['CRm']!, op2 = f['op2']!;
  const rt = S(srcOrZr(f['Rt']!));
  const generic = `sys #${op1}, C${crn}, C${crm}, #${op2}`;
  if (crn === 8) {
    const name = sysOpName('tlbi', op1, crm, op2);
    // Armv8.0 TLBI operations only: the Outer Shareable (v8.4) and range (v8.4) forms are UNDEFINED here.
    if (name === undefined || name.endsWith('os') || name.startsWith('r') || op1 === 6) {
      return undefinedSlot(out, i, `${name ? `tlbi ${name}` : generic}: not implemented by ${cpu.model.name}`);
    }
    return setSlot(out, i, H_TLBI, rt, opIndex(name), op1 === 4 ? 2 : 1);
  }
  if (crn === 7) {
    const ic = sysOpName('ic', op1, crm, op2);
    if (ic !== undefined) return setSlot(out, i, H_IC, rt, ic === 'ialluis' ? IcOp.IALLUIS : ic === 'iallu' ? IcOp.IALLU : IcOp.IVAU);
    const at = sysOpName('at', op1, crm, op2);
    if (at !== undefined) {
      if (at.startsWith('s1e3') || (at.endsWith('p') && !cpu.model.features.pan2)) return undefinedSlot(out, i, `at ${at}: not implemented by ${cpu.model.name}`);
      return setSlot(out, i, H_AT, rt, opIndex(at), op1 === 4 ? 2 : 1);
    }
    const dc = sysOpName('dc', op1, crm, op2);
    const dcOp: Record<string, DcOp> = {
      ivac: DcOp.IVAC, isw: DcOp.SETWAY, csw: DcOp.SETWAY, cisw: DcOp.SETWAY, zva: DcOp.ZVA,
      cvac: DcOp.CVAC, cvau: DcOp.CVAU, civac: DcOp.CIVAC, ...(cpu.model.features.dpb ? { cvap: DcOp.CVAP } : {}),
    };
    if (dc !== undefined && dc in dcOp) return setSlot(out, i, H_DC, rt, dcOp[dc]!);
    return undefinedSlot(out, i, `${dc ? `dc ${dc}` : generic}: not implemented by ${cpu.model.name}`);
  }
  return undefinedSlot(out, i, `${generic}: unallocated`);
}

registerPredecoder('SYS', (cpu, f, _def, out, i) => predecodeSys(cpu, f, out, i));
// No SYSL encoding is allocated in Armv8.
registerPredecoder('SYSL', (_cpu, f, _def, out, i) =>
  undefinedSlot(out, i, `sysl x${f['Rt']}, #${f['op1']}, C${f['CRn']}, C${f['CRm']}, #${f['op2']}: unallocated`));


/**
 * The EL1&0 regime: TTBR0/TTBR1 split, EPD, TBI, ASIDs (A1, AS), stage-1
 * permissions (AP, UXN/PXN, WXN, hierarchical APTable/XNTable/PXNTable, HPD,
 * PAN, unprivileged accesses) and hardware access-flag/dirty updates.
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A57, CORTEX_A76, type CpuModel } from '../../src/cpu/cpu-model.js';
import type { Cpu } from '../../src/cpu/cpu.js';
import {
  Access, access, AF, AP_RO_ALL, AP_RO_EL1, AP_RW_ALL, AP_RW_EL1, AP_TABLE0, AP_TABLE1, DBM, FSC, getReg, makeCpu, MAIR, NG,
  PXN, PXN_TABLE, RAM, S1_DEFAULT, setReg, SH_INNER, Tables, tcrEl1, UXN, XN_TABLE,
} from './support.js';

const TABLES = RAM + 0x0100_0000n;
const TABLES1 = RAM + 0x0200_0000n;

function enableEl1(cpu: Cpu, t0: Tables, opts: Parameters<typeof tcrEl1>[0] = {}, asid = 0n, t1?: Tables, asid1 = 0n): void {
  setReg(cpu, 'mair_el1', BigInt(MAIR));
  setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 64 - t0.inputBits, t1sz: t1 ? 64 - t1.inputBits : 16, ...opts }));
  setReg(cpu, 'ttbr0_el1', t0.root | (asid << 48n));
  setReg(cpu, 'ttbr1_el1', (t1?.root ?? 0n) | (asid1 << 48n));
  setReg(cpu, 'sctlr_el1', getReg(cpu, 'sctlr_el1') | 1n);
}

/** 'ok' or the fault status code, for a compact permission table. */
function outcome(cpu: Cpu, va: bigint, kind: Access, el: number): string {
  const r = access(cpu, va, kind, el, kind === Access.Fetch ? 4 : 8);
  if (r.pa !== undefined) return 'ok';
  return r.fault!.fsc === FSC.permission(3) ? 'perm' : `fsc ${r.fault!.fsc.toString(2)}`;
}

function permissionTable(cpu: Cpu, va: bigint): string {
  const cells: string[] = [];
  for (const el of [1, 0]) {
    for (const [k, name] of [[Access.Read, 'R'], [Access.Write, 'W'], [Access.Fetch, 'X']] as const) {
      cells.push(`EL${el}${name}:${outcome(cpu, va, k, el)}`);
    }
  }
  return cells.join(' ');
}

function setup(model: CpuModel = CORTEX_A57) {
  const { cpu, mem } = makeCpu(model);
  const t = new Tables(mem, 12, 48, TABLES);
  return { cpu, mem, t };
}

describe('EL1&0 stage-1 permissions', () => {
  it('AP[2:1], UXN and PXN, and EL1 never executing EL0-writable memory', () => {
    const { cpu, t } = setup();
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_EL1);
    t.map(0x2000n, RAM + 0x2000n, 3, S1_DEFAULT | AP_RW_ALL);
    t.map(0x3000n, RAM + 0x3000n, 3, S1_DEFAULT | AP_RO_EL1);
    t.map(0x4000n, RAM + 0x4000n, 3, S1_DEFAULT | AP_RO_ALL);
    t.map(0x5000n, RAM + 0x5000n, 3, S1_DEFAULT | AP_RW_ALL | UXN);
    t.map(0x6000n, RAM + 0x6000n, 3, S1_DEFAULT | AP_RO_ALL | PXN);
    enableEl1(cpu, t);
    expect(permissionTable(cpu, 0x1000n)).toBe('EL1R:ok EL1W:ok EL1X:ok EL0R:perm EL0W:perm EL0X:ok');
    expect(permissionTable(cpu, 0x2000n)).toBe('EL1R:ok EL1W:ok EL1X:perm EL0R:ok EL0W:ok EL0X:ok');
    expect(permissionTable(cpu, 0x3000n)).toBe('EL1R:ok EL1W:perm EL1X:ok EL0R:perm EL0W:perm EL0X:ok');
    expect(permissionTable(cpu, 0x4000n)).toBe('EL1R:ok EL1W:perm EL1X:ok EL0R:ok EL0W:perm EL0X:ok');
    expect(permissionTable(cpu, 0x5000n)).toBe('EL1R:ok EL1W:ok EL1X:perm EL0R:ok EL0W:ok EL0X:perm');
    expect(permissionTable(cpu, 0x6000n)).toBe('EL1R:ok EL1W:perm EL1X:perm EL0R:ok EL0W:perm EL0X:ok');
  });

  it('reports permission faults as data/instruction aborts to EL1 with WnR', () => {
    const { cpu, t } = setup();
    t.map(0x3000n, RAM + 0x3000n, 3, S1_DEFAULT | AP_RO_EL1);
    enableEl1(cpu, t);
    expect(access(cpu, 0x3008n, Access.Write, 1).fault).toMatchObject({ target: 1, ec: 0x25, fsc: FSC.permission(3), far: 0x3008n });
    expect(access(cpu, 0x3008n, Access.Write, 1).fault!.iss & 0x40).toBe(0x40);
    expect(access(cpu, 0x3008n, Access.Read, 0).fault).toMatchObject({ target: 1, ec: 0x24, fsc: FSC.permission(3) });
    expect(access(cpu, 0x3008n, Access.Read, 0).fault!.iss & 0x40).toBe(0);
    // No ISV on stage-1 aborts.
    cpu.port.accessSyndrome = 0x1c18000;
    expect(access(cpu, 0x3008n, Access.Write, 1).fault!.iss >> 24).toBe(0);
    cpu.port.accessSyndrome = 0;
  });

  it('SCTLR_EL1.WXN makes writable memory execute-never', () => {
    const { cpu, t } = setup();
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_EL1);
    t.map(0x4000n, RAM + 0x4000n, 3, S1_DEFAULT | AP_RO_ALL);
    enableEl1(cpu, t);
    setReg(cpu, 'sctlr_el1', getReg(cpu, 'sctlr_el1') | (1n << 19n));
    expect(outcome(cpu, 0x1000n, Access.Fetch, 1)).toBe('perm');
    expect(outcome(cpu, 0x1000n, Access.Fetch, 0)).toBe('ok'); // EL0 cannot write it
    expect(outcome(cpu, 0x4000n, Access.Fetch, 1)).toBe('ok');
  });

  it('hierarchical APTable[1], APTable[0], XNTable and PXNTable narrow the leaf permissions', () => {
    const { cpu, t } = setup();
    // Each VA lives under its own level-0 entry (512 GiB apart): the table bits on its new tables apply to it alone.
    const [a, b, c, d] = [1n, 2n, 3n, 4n].map((i) => i << 39n) as [bigint, bigint, bigint, bigint];
    t.map(a, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_ALL, AP_TABLE1);
    t.map(b, RAM + 0x2000n, 3, S1_DEFAULT | AP_RW_ALL, AP_TABLE0);
    t.map(c, RAM + 0x3000n, 3, S1_DEFAULT | AP_RO_ALL, XN_TABLE);
    t.map(d, RAM + 0x4000n, 3, S1_DEFAULT | AP_RO_ALL, PXN_TABLE);
    enableEl1(cpu, t);
    expect(permissionTable(cpu, a)).toBe('EL1R:ok EL1W:perm EL1X:ok EL0R:ok EL0W:perm EL0X:ok');
    expect(permissionTable(cpu, b)).toBe('EL1R:ok EL1W:ok EL1X:ok EL0R:perm EL0W:perm EL0X:ok');
    expect(permissionTable(cpu, c)).toBe('EL1R:ok EL1W:perm EL1X:ok EL0R:ok EL0W:perm EL0X:perm');
    expect(permissionTable(cpu, d)).toBe('EL1R:ok EL1W:perm EL1X:perm EL0R:ok EL0W:perm EL0X:ok');
  });

  it('TCR_EL1.HPD0 disables the hierarchical attributes on a PE with FEAT_HPDS (cortex-a76), not on cortex-a57', () => {
    for (const [model, expected] of [[CORTEX_A76, 'ok'], [CORTEX_A57, 'perm']] as const) {
      const { cpu, t } = setup(model);
      t.map(0x4000_0000n, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_EL1, AP_TABLE1 | PXN_TABLE);
      enableEl1(cpu, t, { hpd0: true });
      expect(outcome(cpu, 0x4000_0000n, Access.Write, 1)).toBe(expected);
    }
  });

  it('PSTATE.PAN denies EL1 data accesses to EL0-accessible pages (cortex-a76)', () => {
    const { cpu, t } = setup(CORTEX_A76);
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_EL1);
    t.map(0x2000n, RAM + 0x2000n, 3, S1_DEFAULT | AP_RW_ALL);
    t.map(0x4000n, RAM + 0x4000n, 3, S1_DEFAULT | AP_RO_ALL);
    enableEl1(cpu, t);
    expect(outcome(cpu, 0x2000n, Access.Read, 1)).toBe('ok'); // fills the PAN=0 fast array
    cpu.pan = 1;
    expect(outcome(cpu, 0x2000n, Access.Read, 1)).toBe('perm');
    expect(outcome(cpu, 0x2000n, Access.Write, 1)).toBe('perm');
    expect(outcome(cpu, 0x4000n, Access.Read, 1)).toBe('perm');
    expect(outcome(cpu, 0x4000n, Access.Fetch, 1)).toBe('ok'); // PAN does not affect fetches
    expect(outcome(cpu, 0x1000n, Access.Read, 1)).toBe('ok');
    expect(outcome(cpu, 0x2000n, Access.Read, 0)).toBe('ok');
    cpu.pan = 0;
    expect(outcome(cpu, 0x2000n, Access.Read, 1)).toBe('ok');
  });

  it('unprivileged (LDTR/STTR) accesses at EL1 use EL0 permissions unless PSTATE.UAO', () => {
    const { cpu, t } = setup(CORTEX_A76);
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | AP_RW_EL1);
    t.map(0x2000n, RAM + 0x2000n, 3, S1_DEFAULT | AP_RW_ALL);
    enableEl1(cpu, t);
    expect(outcome(cpu, 0x1000n, Access.Read, 1)).toBe('ok');
    expect(outcome(cpu, 0x1000n, Access.ReadUnprivileged, 1)).toBe('perm');
    expect(outcome(cpu, 0x1000n, Access.WriteUnprivileged, 1)).toBe('perm');
    expect(outcome(cpu, 0x2000n, Access.WriteUnprivileged, 1)).toBe('ok');
    // Through the port's read/write with the handler's flag.
    cpu.el = 1;
    cpu.port.unprivileged = true;
    const out = new Int32Array(2);
    expect(cpu.port.read(0x2000, 0, 8, out, 0)).toBe(true);
    cpu.port.unprivileged = false;
    cpu.uao = 1;
    expect(outcome(cpu, 0x1000n, Access.ReadUnprivileged, 1)).toBe('ok');
  });
});

describe('EL1&0 address ranges and ASIDs', () => {
  it('splits TTBR0/TTBR1 by VA[55] with T0SZ/T1SZ, faulting in the gap; EPD disables walks', () => {
    const { cpu, mem, t } = setup();
    const t1 = new Tables(mem, 12, 39, TABLES1);
    expect(t1.startLevel).toBe(1);
    t.map(0x1000n, RAM + 0x1000n, 3);
    t1.map(0xffff_ffc0_0000_2000n & ((1n << 39n) - 1n), RAM + 0x2000n, 3);
    enableEl1(cpu, t, {}, 0n, t1);
    expect(access(cpu, 0x1008n, Access.Read, 1).pa).toBe(RAM + 0x1008n);
    expect(access(cpu, 0xffff_ffc0_0000_2008n, Access.Read, 1).pa).toBe(RAM + 0x2008n);
    // Not all ones above bit 39: translation fault level 0. Same below TTBR0's range.
    expect(access(cpu, 0xffff_ff00_0000_2000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    expect(access(cpu, 0x0001_0000_0000_1000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    expect(access(cpu, 0x0080_0000_0000_1000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    // EPD1: walks of TTBR1 fault at level 0 (entries already in the TLB may still be used).
    setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 16, t1sz: 25, epd1: true }));
    expect(access(cpu, 0xffff_ffc0_0000_2010n, Access.Read, 1).pa).toBe(RAM + 0x2010n);
    cpu.port.tlbi('vmalle1', 0, 0);
    expect(access(cpu, 0xffff_ffc0_0000_2010n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    expect(access(cpu, 0x1010n, Access.Read, 1).pa).toBe(RAM + 0x1010n);
    setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 16, t1sz: 25, epd0: true }));
    cpu.port.tlbi('vmalle1', 0, 0);
    expect(access(cpu, 0x1010n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
  });

  it('TBI0/TBI1 ignore the top byte per range', () => {
    const { cpu, mem, t } = setup();
    const t1 = new Tables(mem, 12, 48, TABLES1);
    t.map(0x1000n, RAM + 0x1000n, 3);
    t1.map(0xffff_0000_0000_2000n & ((1n << 48n) - 1n), RAM + 0x2000n, 3);
    enableEl1(cpu, t, { tbi0: true }, 0n, t1);
    expect(access(cpu, 0x3400_0000_0000_1008n, Access.Read, 1).pa).toBe(RAM + 0x1008n);
    expect(access(cpu, 0x34ff_0000_0000_2008n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    expect(access(cpu, 0xffff_0000_0000_2008n, Access.Read, 1).pa).toBe(RAM + 0x2008n);
  });

  it('tags non-global entries with the ASID; global entries match every ASID', () => {
    const { cpu, mem, t } = setup();
    const other = new Tables(mem, 12, 48, TABLES1);
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | NG);
    t.map(0x2000n, RAM + 0x2000n, 3, S1_DEFAULT);
    other.map(0x1000n, RAM + 0x7000n, 3, S1_DEFAULT | NG);
    other.map(0x2000n, RAM + 0x8000n, 3, S1_DEFAULT);
    enableEl1(cpu, t, { as16: true }, 5n);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    expect(access(cpu, 0x2000n, Access.Read, 1).pa).toBe(RAM + 0x2000n);
    // ASID 6 with other tables, no TLBI: the nG page walks the new tables; the global page hits the old entry.
    setReg(cpu, 'ttbr0_el1', other.root | (6n << 48n));
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x7000n);
    expect(access(cpu, 0x2000n, Access.Read, 1).pa).toBe(RAM + 0x2000n);
    // Back to ASID 5 with the other tables still installed: its cached entry is used (stale, as hardware may).
    setReg(cpu, 'ttbr0_el1', other.root | (5n << 48n));
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
  });

  it('takes the ASID from TTBR1 with TCR_EL1.A1, and uses 8 bits of it without TCR_EL1.AS', () => {
    const { cpu, mem, t } = setup();
    const other = new Tables(mem, 12, 48, TABLES1);
    t.map(0x1000n, RAM + 0x1000n, 3, S1_DEFAULT | NG);
    other.map(0x1000n, RAM + 0x7000n, 3, S1_DEFAULT | NG);
    enableEl1(cpu, t, { a1: true }, 0n, undefined, 0x105n);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    // TTBR0 changes, ASID (from TTBR1) does not: the cached entry still matches.
    setReg(cpu, 'ttbr0_el1', other.root | (0x77n << 48n));
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    // ASID 0x205 equals 0x105 in 8 bits.
    setReg(cpu, 'ttbr1_el1', 0x205n << 48n);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    setReg(cpu, 'ttbr1_el1', 0x206n << 48n);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x7000n);
  });
});

describe('hardware access flag and dirty state (FEAT_HAFDBS on cortex-a76)', () => {
  it('sets AF on access with TCR_EL1.HA, and makes a DBM page writable with HD', () => {
    const { cpu, t } = setup(CORTEX_A76);
    const d1 = t.map(0x1000n, RAM + 0x1000n, 3, SH_INNER);
    const d2 = t.map(0x2000n, RAM + 0x2000n, 3, AF | SH_INNER | AP_RO_EL1 | DBM);
    enableEl1(cpu, t, { ha: true, hd: true });
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    expect(t.read64(d1) & AF).toBe(AF);
    expect(access(cpu, 0x2000n, Access.Read, 1).pa).toBe(RAM + 0x2000n);
    expect(t.read64(d2) & (1n << 7n)).toBe(1n << 7n); // still clean (read-only)
    expect(access(cpu, 0x2000n, Access.Write, 1).pa).toBe(RAM + 0x2000n);
    expect(t.read64(d2) & (1n << 7n)).toBe(0n); // dirty: AP[2] cleared
  });

  it('faults on AF = 0 without TCR.HA, and on cortex-a57 even with it', () => {
    for (const [model, ha] of [[CORTEX_A76, false], [CORTEX_A57, true]] as const) {
      const { cpu, t } = setup(model);
      t.map(0x1000n, RAM + 0x1000n, 3, SH_INNER);
      enableEl1(cpu, t, { ha });
      expect(access(cpu, 0x1000n, Access.Read, 1).fault).toMatchObject({ target: 1, ec: 0x25, fsc: FSC.accessFlag(3) });
    }
  });
});

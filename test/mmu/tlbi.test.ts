/**
 * TLB maintenance: every TLBI form the arm64 kernel and pKVM issue, each
 * shown by a stale translation before it and the new one after it, and by
 * what it must leave alone (other addresses, ASIDs, VMIDs, regimes, stages).
 * Also: TTBR/VTTBR changes without TLBI keep using entries whose tags match.
 */
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../src/cpu/cpu.js';
import {
  Access, access, getReg, HCR_VM, makeCpu, MAIR, NG, RAM, S1_DEFAULT, S2_DEFAULT, setReg, Tables, tcrEl1, tcrEl2, vtcr,
} from './support.js';

const PA1 = RAM + 0x0010_0000n;
const PA2 = RAM + 0x0020_0000n;

/** Xt for a TLBI by VA: VA[55:12] in bits [43:0], ASID in [63:48]. */
function byVa(va: bigint, asid = 0n): [number, number] {
  const xt = ((va >> 12n) & ((1n << 44n) - 1n)) | (asid << 48n);
  return [Number(xt & 0xffffffffn) | 0, Number(xt >> 32n) | 0];
}

function tlbi(cpu: Cpu, op: string, xt: [number, number] = [0, 0]): void {
  cpu.port.tlbi(op, xt[0], xt[1]);
}

const read = (cpu: Cpu, va: bigint, el: number): bigint | undefined => access(cpu, va, Access.Read, el).pa;

describe('EL2 regime', () => {
  function setup() {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, RAM + 0x0100_0000n);
    const dA = t.map(0x1000n, PA1, 3);
    const dB = t.map(0x2000n, PA1 + 0x1000n, 3);
    const dBlock = t.map(0x4000_0000n, RAM + 0x0400_0000n, 2);
    setReg(cpu, 'mair_el2', BigInt(MAIR));
    setReg(cpu, 'tcr_el2', tcrEl2(16));
    setReg(cpu, 'ttbr0_el2', t.root);
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
    expect(read(cpu, 0x1000n, 2)).toBe(PA1);
    expect(read(cpu, 0x2000n, 2)).toBe(PA1 + 0x1000n);
    // Remap both pages without invalidating.
    t.write64(dA, PA2 | S1_DEFAULT | 3n);
    t.write64(dB, PA2 + 0x1000n | S1_DEFAULT | 3n);
    expect(read(cpu, 0x1000n, 2)).toBe(PA1);
    return { cpu, t, dBlock };
  }

  for (const op of ['vae2', 'vae2is', 'vale2', 'vale2is', 'vae2os']) {
    it(`TLBI ${op} invalidates that VA only`, () => {
      const { cpu } = setup();
      tlbi(cpu, op, byVa(0x1000n));
      expect(read(cpu, 0x1000n, 2)).toBe(PA2);
      expect(read(cpu, 0x2000n, 2)).toBe(PA1 + 0x1000n);
    });
  }

  for (const op of ['alle2', 'alle2is']) {
    it(`TLBI ${op} invalidates every EL2 entry`, () => {
      const { cpu } = setup();
      tlbi(cpu, op);
      expect(read(cpu, 0x1000n, 2)).toBe(PA2);
      expect(read(cpu, 0x2000n, 2)).toBe(PA2 + 0x1000n);
    });
  }

  it('TLBI VAE2 on any address of a block drops every cached piece of it', () => {
    const { cpu, t, dBlock } = setup();
    expect(read(cpu, 0x4000_0000n, 2)).toBe(RAM + 0x0400_0000n);
    expect(read(cpu, 0x401f_f000n, 2)).toBe(RAM + 0x041f_f000n);
    t.write64(dBlock, RAM + 0x0600_0000n | S1_DEFAULT | 1n);
    tlbi(cpu, 'vae2is', byVa(0x4012_3000n));
    expect(read(cpu, 0x4000_0000n, 2)).toBe(RAM + 0x0600_0000n);
    expect(read(cpu, 0x401f_f000n, 2)).toBe(RAM + 0x061f_f000n);
  });

  it('a TLBI drops the walk caches\' table addresses, also once their generation count wraps (2,100 TLBIs)', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, RAM + 0x0100_0000n);
    t.map(0x1000n, PA1, 3);
    t.map(0x20_1000n, PA1, 3); // another 2 MiB region, another walk-cache entry
    const l2 = t.slot(0x1000n, 2), l2Other = t.slot(0x20_1000n, 2);
    const tableA = t.read64(l2) & 0xffff_ffff_f000n;
    const tableB = t.allocTable();
    t.write64(tableB + 8n, PA2 | S1_DEFAULT | 3n); // VA 0x1000 and 0x20_1000 are entry 1
    setReg(cpu, 'mair_el2', BigInt(MAIR));
    setReg(cpu, 'tcr_el2', tcrEl2(16));
    setReg(cpu, 'ttbr0_el2', t.root);
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
    // The other region's entry is made once, then its table changes: no later TLBI may bring the entry back.
    expect(read(cpu, 0x20_1000n, 2)).toBe(PA1);
    t.write64(l2Other, tableB | 3n);
    const seen: bigint[] = [], probed: number[] = [];
    for (let i = 0; i < 2100; i++) {
      // The level-2 entry switches level-3 tables; the walk cache holds the one the last walk used.
      t.write64(l2, (i % 2 === 0 ? tableA : tableB) | 3n);
      tlbi(cpu, 'alle2is');
      seen.push(read(cpu, 0x1000n, 2)!);
      probed.push(cpu.port.probe(0x20_1000, 0, Access.Read)); // without side effects: the cache entries stay as they are
    }
    expect(seen.every((pa, i) => pa === (i % 2 === 0 ? PA1 : PA2))).toBe(true);
    expect(probed.every((pa) => pa === Number(PA2))).toBe(true);
  });

  it('EL1 invalidations leave EL2 entries alone', () => {
    const { cpu } = setup();
    for (const op of ['vmalle1is', 'alle1is', 'vmalls12e1is']) tlbi(cpu, op);
    tlbi(cpu, 'vae1is', byVa(0x1000n));
    expect(read(cpu, 0x1000n, 2)).toBe(PA1);
  });

  it('a new TTBR0_EL2 without TLBI keeps using the cached entries (no ASIDs in this regime)', () => {
    const { cpu, t } = setup();
    setReg(cpu, 'ttbr0_el2', t.root + 0n);
    expect(read(cpu, 0x1000n, 2)).toBe(PA1);
  });
});

describe('EL1&0 regime and stage 2', () => {
  /**
   * Stage 1 maps VA 0x1000 (nG, ASID 5), 0x2000 (global) and 0x3000 (nG) to
   * IPAs 0x1000_0000.. that stage 2 maps to PA1..; both stages are then
   * changed in memory to point at PA2.. without invalidation.
   */
  function setup() {
    const { cpu, mem } = makeCpu();
    const s2 = new Tables(mem, 12, 40, RAM + 0x0200_0000n, 1);
    s2.identity(RAM, 0x0400_0000n, 2, S2_DEFAULT);
    const s2d = [0n, 1n, 2n].map((i) => s2.map(0x1000_0000n + i * 0x1000n, PA1 + i * 0x1000n, 3, S2_DEFAULT));
    const s1 = new Tables(mem, 12, 48, RAM + 0x0100_0000n);
    const s1d = [
      s1.map(0x1000n, 0x1000_0000n, 3, S1_DEFAULT | NG),
      s1.map(0x2000n, 0x1000_1000n, 3, S1_DEFAULT),
      s1.map(0x3000n, 0x1000_2000n, 3, S1_DEFAULT | NG),
    ];
    setReg(cpu, 'vtcr_el2', vtcr(24, 1));
    setReg(cpu, 'vttbr_el2', s2.root | (7n << 48n));
    setReg(cpu, 'hcr_el2', HCR_VM | (1n << 31n));
    setReg(cpu, 'mair_el1', BigInt(MAIR));
    setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 16, as16: true }));
    setReg(cpu, 'ttbr0_el1', s1.root | (5n << 48n));
    setReg(cpu, 'sctlr_el1', getReg(cpu, 'sctlr_el1') | 1n);
    for (let i = 0n; i < 3n; i++) expect(read(cpu, 0x1000n + i * 0x1000n, 1)).toBe(PA1 + i * 0x1000n);
    return { cpu, mem, s1, s2, s1d, s2d };
  }

  /** Changes stage 1 so that VA 0x1000.. now use IPAs 0x1100_0000.., mapped by stage 2 to PA2... */
  function remapStage1(ctx: ReturnType<typeof setup>): void {
    for (let i = 0n; i < 3n; i++) {
      ctx.s2.map(0x1100_0000n + i * 0x1000n, PA2 + i * 0x1000n, 3, S2_DEFAULT);
      const attrs = S1_DEFAULT | (i === 1n ? 0n : NG);
      ctx.s1.write64(ctx.s1d[Number(i)]!, (0x1100_0000n + i * 0x1000n) | attrs | 3n);
    }
  }

  const pas = (cpu: Cpu): (bigint | undefined)[] => [0x1000n, 0x2000n, 0x3000n].map((va) => read(cpu, va, 1));

  for (const op of ['vae1', 'vae1is', 'vale1', 'vale1is', 'vae1os']) {
    it(`TLBI ${op} invalidates the VA for its ASID (and global entries), not other VAs or ASIDs`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      remapStage1(ctx);
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
      tlbi(cpu, op, byVa(0x1000n, 6n)); // other ASID: the nG entry stays
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
      tlbi(cpu, op, byVa(0x1000n, 5n));
      tlbi(cpu, op, byVa(0x2000n, 6n)); // a global entry matches any ASID
      expect(pas(cpu)).toEqual([PA2, PA2 + 0x1000n, PA1 + 0x2000n]);
    });
  }

  for (const op of ['vaae1', 'vaae1is', 'vaale1', 'vaale1is']) {
    it(`TLBI ${op} invalidates the VA for every ASID`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      remapStage1(ctx);
      tlbi(cpu, op, byVa(0x3000n, 99n));
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA2 + 0x2000n]);
    });
  }

  for (const op of ['aside1', 'aside1is']) {
    it(`TLBI ${op} invalidates the ASID's non-global entries only`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      remapStage1(ctx);
      tlbi(cpu, op, byVa(0n, 6n));
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
      tlbi(cpu, op, byVa(0n, 5n));
      expect(pas(cpu)).toEqual([PA2, PA1 + 0x1000n, PA2 + 0x2000n]);
    });
  }

  for (const op of ['vmalle1', 'vmalle1is', 'vmalle1os']) {
    it(`TLBI ${op} invalidates the current VMID's stage-1 entries`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      remapStage1(ctx);
      tlbi(cpu, op);
      expect(pas(cpu)).toEqual([PA2, PA2 + 0x1000n, PA2 + 0x2000n]);
    });
  }

  it('TLBI VMALLE1 leaves other VMIDs and the stage-2-only entries alone', () => {
    const ctx = setup();
    const { cpu } = ctx;
    // VMID 8: a second guest with the same tables; its entries get cached too.
    setReg(cpu, 'vttbr_el2', ctx.s2.root | (8n << 48n));
    expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
    remapStage1(ctx);
    setReg(cpu, 'vttbr_el2', ctx.s2.root | (7n << 48n));
    tlbi(cpu, 'vmalle1is');
    expect(pas(cpu)).toEqual([PA2, PA2 + 0x1000n, PA2 + 0x2000n]);
    setReg(cpu, 'vttbr_el2', ctx.s2.root | (8n << 48n));
    expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
    tlbi(cpu, 'alle1is');
    expect(pas(cpu)).toEqual([PA2, PA2 + 0x1000n, PA2 + 0x2000n]);
  });

  for (const op of ['ipas2e1', 'ipas2e1is', 'ipas2le1', 'ipas2le1is', 'ipas2e1os']) {
    it(`TLBI ${op} invalidates stage-2 entries for the IPA (combined entries need TLBI VMALLE1 as well)`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      // Stage 2 now maps IPA 0x1000_0000 (VA 0x1000) and 0x1000_1000 (VA 0x2000) to PA2...
      ctx.s2.write64(ctx.s2d[0]!, PA2 | S2_DEFAULT | 3n);
      ctx.s2.write64(ctx.s2d[1]!, PA2 + 0x1000n | S2_DEFAULT | 3n);
      tlbi(cpu, 'vmalle1is');
      // Without the IPA invalidation, the stage-2 TLB still holds the old IPA → PA entries.
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
      const ipaXt: [number, number] = [0x1000_0000 >>> 12, 0];
      tlbi(cpu, op, ipaXt);
      // The combined entries survive an IPA invalidation...
      expect(pas(cpu)).toEqual([PA1, PA1 + 0x1000n, PA1 + 0x2000n]);
      tlbi(cpu, 'vmalle1is');
      // ...and after VMALLE1 the walk uses the new stage-2 entry for that IPA only.
      expect(pas(cpu)).toEqual([PA2, PA1 + 0x1000n, PA1 + 0x2000n]);
    });
  }

  for (const op of ['vmalls12e1', 'vmalls12e1is']) {
    it(`TLBI ${op} invalidates both stages for the current VMID`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      ctx.s2.write64(ctx.s2d[0]!, PA2 | S2_DEFAULT | 3n);
      tlbi(cpu, op);
      expect(pas(cpu)).toEqual([PA2, PA1 + 0x1000n, PA1 + 0x2000n]);
    });
  }

  for (const op of ['alle1', 'alle1is']) {
    it(`TLBI ${op} invalidates both stages for every VMID`, () => {
      const ctx = setup();
      const { cpu } = ctx;
      ctx.s2.write64(ctx.s2d[2]!, PA2 + 0x2000n | S2_DEFAULT | 3n);
      remapStage1(ctx);
      tlbi(cpu, op);
      expect(pas(cpu)).toEqual([PA2, PA2 + 0x1000n, PA2 + 0x2000n]);
    });
  }

  it('stage-2 entries cached for stage-1 table walks are invalidated by IPA', () => {
    const ctx = setup();
    const { cpu, mem, s1, s2 } = ctx;
    // Copy the stage-1 level-3 table, change the copy, and point stage 2's mapping of the original's IPA at it.
    const l3 = s1.slot(0x1000n, 3) & ~0xfffn;
    const copy = RAM + 0x0300_0000n;
    mem.writeBytes(Number(copy), mem.readBytes(Number(l3), 4096)!);
    s1.write64(copy + 8n, 0x1100_0000n | S1_DEFAULT | NG | 3n);
    s2.map(0x1100_0000n, PA2, 3, S2_DEFAULT);
    // The identity 2 MiB block covering l3 becomes a table whose page for l3 points at the copy.
    const blockBase = l3 & ~0x1f_ffffn;
    s2.write64(s2.slot(blockBase, 2), 0n);
    for (let a = blockBase; a < blockBase + 0x20_0000n; a += 0x1000n) s2.map(a, a === l3 ? copy : a, 3, S2_DEFAULT);
    tlbi(cpu, 'vmalle1is');
    expect(read(cpu, 0x1000n, 1)).toBe(PA1); // the walk still uses the cached stage-2 entry for l3's IPA
    tlbi(cpu, 'ipas2e1is', [Number(l3 >> 12n), 0]);
    tlbi(cpu, 'vmalle1is');
    expect(read(cpu, 0x1000n, 1)).toBe(PA2);
  });

  it('range TLBIs (FEAT_TLBIRANGE) invalidate the pages in the range', () => {
    const ctx = setup();
    const { cpu } = ctx;
    remapStage1(ctx);
    // TG = 4 KiB, SCALE = 0, NUM = 0: two pages from BaseADDR = VA 0x2000 >> 12.
    const xt = (1n << 46n) | (0n << 44n) | (0n << 39n) | 2n;
    tlbi(cpu, 'rvaae1is', [Number(xt & 0xffffffffn), Number(xt >> 32n)]);
    expect(pas(cpu)).toEqual([PA1, PA2 + 0x1000n, PA2 + 0x2000n]);
  });

  it('a new TTBR0_EL1 with the same ASID keeps using cached entries; a new VMID does not', () => {
    const ctx = setup();
    const { cpu, mem } = ctx;
    const other = new Tables(mem, 12, 48, RAM + 0x0380_0000n);
    other.map(0x1000n, 0x1000_2000n, 3, S1_DEFAULT | NG);
    setReg(cpu, 'ttbr0_el1', other.root | (5n << 48n));
    expect(read(cpu, 0x1000n, 1)).toBe(PA1);
    setReg(cpu, 'vttbr_el2', ctx.s2.root | (9n << 48n));
    expect(read(cpu, 0x1000n, 1)).toBe(PA1 + 0x2000n);
  });
});

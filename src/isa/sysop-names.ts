/**
 * Names of the SYS-alias operations: TLBI (CRn=8), DC and IC (CRn=7), AT (CRn=7, CRm=8/9).
 * Each maps to op1:CRm:op2; CRn is fixed by the instruction's pattern.
 */
export type SysOpClass = 'tlbi' | 'dc' | 'ic' | 'at';

// [name, op1, CRm, op2]
const TLBI: [string, number, number, number][] = [
  ['vmalle1os', 0, 1, 0], ['vae1os', 0, 1, 1], ['aside1os', 0, 1, 2], ['vaae1os', 0, 1, 3], ['vale1os', 0, 1, 5], ['vaale1os', 0, 1, 7],
  ['vmalle1is', 0, 3, 0], ['vae1is', 0, 3, 1], ['aside1is', 0, 3, 2], ['vaae1is', 0, 3, 3], ['vale1is', 0, 3, 5], ['vaale1is', 0, 3, 7],
  ['vmalle1', 0, 7, 0], ['vae1', 0, 7, 1], ['aside1', 0, 7, 2], ['vaae1', 0, 7, 3], ['vale1', 0, 7, 5], ['vaale1', 0, 7, 7],
  ['rvae1is', 0, 2, 1], ['rvaae1is', 0, 2, 3], ['rvale1is', 0, 2, 5], ['rvaale1is', 0, 2, 7],
  ['rvae1os', 0, 5, 1], ['rvaae1os', 0, 5, 3], ['rvale1os', 0, 5, 5], ['rvaale1os', 0, 5, 7],
  ['rvae1', 0, 6, 1], ['rvaae1', 0, 6, 3], ['rvale1', 0, 6, 5], ['rvaale1', 0, 6, 7],
  ['ipas2e1is', 4, 0, 1], ['ipas2le1is', 4, 0, 5], ['ipas2e1os', 4, 4, 0], ['ipas2e1', 4, 4, 1], ['ipas2le1os', 4, 4, 4], ['ipas2le1', 4, 4, 5],
  ['ripas2e1is', 4, 0, 2], ['ripas2le1is', 4, 0, 6], ['ripas2e1os', 4, 4, 3], ['ripas2e1', 4, 4, 2], ['ripas2le1os', 4, 4, 7], ['ripas2le1', 4, 4, 6],
  ['alle2os', 4, 1, 0], ['vae2os', 4, 1, 1], ['alle1os', 4, 1, 4], ['vale2os', 4, 1, 5], ['vmalls12e1os', 4, 1, 6],
  ['alle2is', 4, 3, 0], ['vae2is', 4, 3, 1], ['alle1is', 4, 3, 4], ['vale2is', 4, 3, 5], ['vmalls12e1is', 4, 3, 6],
  ['alle2', 4, 7, 0], ['vae2', 4, 7, 1], ['alle1', 4, 7, 4], ['vale2', 4, 7, 5], ['vmalls12e1', 4, 7, 6],
  ['rvae2is', 4, 2, 1], ['rvale2is', 4, 2, 5], ['rvae2os', 4, 5, 1], ['rvale2os', 4, 5, 5], ['rvae2', 4, 6, 1], ['rvale2', 4, 6, 5],
  ['alle3os', 6, 1, 0], ['vae3os', 6, 1, 1], ['vale3os', 6, 1, 5],
  ['alle3is', 6, 3, 0], ['vae3is', 6, 3, 1], ['vale3is', 6, 3, 5], ['alle3', 6, 7, 0], ['vae3', 6, 7, 1], ['vale3', 6, 7, 5],
  ['rvae3is', 6, 2, 1], ['rvale3is', 6, 2, 5], ['rvae3os', 6, 5, 1], ['rvale3os', 6, 5, 5], ['rvae3', 6, 6, 1], ['rvale3', 6, 6, 5],
  // RME (granule protection)
  ['paallos', 6, 1, 4], ['rpaos', 6, 4, 3], ['rpalos', 6, 4, 7], ['paall', 6, 7, 4],
];

const DC: [string, number, number, number][] = [
  ['ivac', 0, 6, 1], ['isw', 0, 6, 2], ['csw', 0, 10, 2], ['cisw', 0, 14, 2], ['zva', 3, 4, 1],
  ['cvac', 3, 10, 1], ['cvau', 3, 11, 1], ['civac', 3, 14, 1], ['cvap', 3, 12, 1], ['cvadp', 3, 13, 1],
  ['igvac', 0, 6, 3], ['igsw', 0, 6, 4], ['cgsw', 0, 10, 4], ['cigsw', 0, 14, 4], ['cgvac', 3, 10, 3],
  ['cgvap', 3, 12, 3], ['cgvadp', 3, 13, 3], ['cigvac', 3, 14, 3], ['gva', 3, 4, 3], ['gzva', 3, 4, 4],
  ['igdvac', 0, 6, 5], ['igdsw', 0, 6, 6], ['cgdsw', 0, 10, 6], ['cigdsw', 0, 14, 6], ['cgdvac', 3, 10, 5],
  ['cgdvap', 3, 12, 5], ['cgdvadp', 3, 13, 5], ['cigdvac', 3, 14, 5],
  // RME (physical address maintenance)
  ['cipapa', 6, 14, 1], ['cigdpapa', 6, 14, 5],
];

const IC: [string, number, number, number][] = [
  ['ialluis', 0, 1, 0], ['iallu', 0, 5, 0], ['ivau', 3, 5, 1],
];

const AT: [string, number, number, number][] = [
  ['s1e1r', 0, 8, 0], ['s1e1w', 0, 8, 1], ['s1e0r', 0, 8, 2], ['s1e0w', 0, 8, 3], ['s1e1rp', 0, 9, 0], ['s1e1wp', 0, 9, 1],
  ['s1e2r', 4, 8, 0], ['s1e2w', 4, 8, 1], ['s12e1r', 4, 8, 4], ['s12e1w', 4, 8, 5], ['s12e0r', 4, 8, 6], ['s12e0w', 4, 8, 7],
  ['s1e3r', 6, 8, 0], ['s1e3w', 6, 8, 1],
];

export const SYSOP_NAMES: Record<SysOpClass, [string, number, number, number][]> = { tlbi: TLBI, dc: DC, ic: IC, at: AT };

const byName = new Map<string, { op1: number; crm: number; op2: number }>();
const byEncoding = new Map<string, string>();
for (const cls of Object.keys(SYSOP_NAMES) as SysOpClass[]) {
  for (const [name, op1, crm, op2] of SYSOP_NAMES[cls]) {
    byName.set(`${cls}:${name}`, { op1, crm, op2 });
    byEncoding.set(`${cls}:${op1}:${crm}:${op2}`, name);
  }
}

export function lookupSysOp(cls: SysOpClass, name: string): { op1: number; crm: number; op2: number } | undefined {
  return byName.get(`${cls}:${name.toLowerCase()}`);
}

export function sysOpName(cls: SysOpClass, op1: number, crm: number, op2: number): string | undefined {
  return byEncoding.get(`${cls}:${op1}:${crm}:${op2}`);
}

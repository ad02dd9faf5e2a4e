/**
 * `.arch`, `.cpu` and `.arch_extension` as GNU as understands them: which
 * optional features each architecture version or CPU enables. Instructions
 * in the table that name a feature are rejected unless it is enabled.
 */
import type { Feature } from '../isa/insn-def.js';

const V8_0: Feature[] = ['fp', 'simd'];
const V8_1: Feature[] = [...V8_0, 'v8.1', 'lse', 'crc', 'lor', 'pan'];
const V8_2: Feature[] = [...V8_1, 'v8.2', 'ras', 'uao'];
const V8_3: Feature[] = [...V8_2, 'v8.3', 'pauth', 'rcpc'];
const V8_4: Feature[] = [...V8_3, 'v8.4', 'dit', 'flagm'];
const V8_5: Feature[] = [...V8_4, 'v8.5', 'sb', 'ssbs', 'predres', 'bti'];

const ARCHES: Record<string, Feature[]> = {
  'armv8-a': V8_0, 'armv8.1-a': V8_1, 'armv8.2-a': V8_2, 'armv8.3-a': V8_3, 'armv8.4-a': V8_4,
  'armv8.5-a': V8_5, 'armv8.6-a': V8_5, 'armv8.7-a': V8_5, 'armv8.8-a': V8_5, 'armv9-a': V8_5,
};

const EXTENSIONS: Record<string, Feature[]> = {
  lse: ['lse'], crc: ['crc'], fp: ['fp'], simd: ['fp', 'simd'], pauth: ['pauth'], rcpc: ['rcpc'],
  sb: ['sb'], predres: ['predres'], ssbs: ['ssbs'], bti: ['bti'], ras: ['ras'], lor: ['lor'], pan: ['pan'],
  memtag: ['memtag'], flagm: ['flagm'], rng: ['rng'], dit: ['dit'],
};

const CPUS: Record<string, Feature[]> = {
  'cortex-a53': [...V8_0, 'crc'], 'cortex-a57': [...V8_0, 'crc'], 'cortex-a72': [...V8_0, 'crc'],
  'cortex-a55': [...V8_2, 'rcpc'], 'cortex-a76': [...V8_2, 'rcpc', 'ssbs'], 'generic': V8_0,
};

/** `armv8.2-a+lse+nocrc` → feature set, or undefined for an unknown base. */
export function featuresForArch(spec: string): Set<Feature> | undefined {
  const [base, ...exts] = spec.toLowerCase().split('+');
  const feats = ARCHES[base ?? ''];
  if (!feats) return undefined;
  return applyExtensions(new Set(feats), exts);
}

export function featuresForCpu(spec: string): Set<Feature> | undefined {
  const [base, ...exts] = spec.toLowerCase().split('+');
  const feats = CPUS[base ?? ''];
  if (!feats) return undefined;
  return applyExtensions(new Set(feats), exts);
}

export function extensionFeature(name: string): Feature[] | undefined {
  return EXTENSIONS[name.toLowerCase()];
}

function applyExtensions(set: Set<Feature>, exts: string[]): Set<Feature> | undefined {
  for (const e of exts) {
    const off = e.startsWith('no');
    const f = EXTENSIONS[off ? e.slice(2) : e];
    if (!f) return undefined;
    for (const x of f) off ? set.delete(x) : set.add(x);
  }
  return set;
}

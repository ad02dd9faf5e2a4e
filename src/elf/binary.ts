/** Little-endian byte assembly helpers shared by the ELF writers. */

/** A growable little-endian output buffer with absolute-position patching. */
export class ByteSink {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  get position(): number {
    return this.length;
  }

  private ensureCapacity(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Pads with zero bytes up to a multiple of `alignment` (no-op for 0 or 1). */
  alignTo(alignment: number): void {
    if (alignment <= 1) return;
    const remainder = this.length % alignment;
    if (remainder !== 0) this.zeros(alignment - remainder);
  }

  zeros(count: number): void {
    this.ensureCapacity(count);
    this.buffer.fill(0, this.length, this.length + count);
    this.length += count;
  }

  bytes(data: Uint8Array): void {
    this.ensureCapacity(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  u8(value: number): void {
    this.ensureCapacity(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }

  u16(value: number): void {
    this.ensureCapacity(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensureCapacity(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  /** Writes a 64-bit field; negative values are stored in two's complement. */
  u64(value: bigint | number): void {
    this.ensureCapacity(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, BigInt(value)), true);
    this.length += 8;
  }

  /** Overwrites a 64-bit field already emitted (for offsets known only later). */
  patchU64(at: number, value: bigint | number): void {
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
  }

  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }

  patchU16(at: number, value: number): void {
    this.view.setUint16(at, value, true);
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/**
 * Builds an ELF string table: a leading NUL, then NUL-terminated names in the
 * order they were added. Identical names share one entry; with
 * `shareSuffixes`, a name that is the tail of another (".text" inside
 * ".rela.text") takes no space of its own and points into the longer one,
 * which is what GNU as does for .shstrtab.
 */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>();
  private readonly names: string[] = [];
  private encoded: Uint8Array | null = null;

  constructor(private readonly shareSuffixes = false) {}

  add(name: string): void {
    if (this.encoded) throw new Error('StringTableBuilder: add() after finish()');
    if (name === '' || this.offsets.has(name)) return;
    this.offsets.set(name, -1);
    this.names.push(name);
  }

  /** Lays out the table; offsetOf() is valid afterwards. */
  finish(): Uint8Array {
    if (this.encoded) return this.encoded;
    const encoder = new TextEncoder();
    const containerOf = this.shareSuffixes ? this.findSuffixContainers() : new Map<string, string>();
    const chunks: Uint8Array[] = [new Uint8Array(1)];
    let size = 1;
    for (const name of this.names) {
      if (containerOf.has(name)) continue;
      const bytes = encoder.encode(name);
      this.offsets.set(name, size);
      chunks.push(bytes, new Uint8Array(1));
      size += bytes.length + 1;
    }
    for (const [name, container] of containerOf) {
      const tailLength = encoder.encode(name).length;
      const containerLength = encoder.encode(container).length;
      this.offsets.set(name, this.offsets.get(container)! + containerLength - tailLength);
    }
    const table = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      table.set(chunk, at);
      at += chunk.length;
    }
    this.encoded = table;
    return table;
  }

  /** Maps each name that is a proper suffix of another name to the longest such name. */
  private findSuffixContainers(): Map<string, string> {
    // Sorted by reversed spelling, descending, every name comes after all the
    // names that end with it, and the one right before it is the nearest;
    // following the chain back gives a name that is no one's suffix.
    const reversed = new Map(this.names.map((n) => [n, [...n].reverse().join('')]));
    const sorted = [...this.names].sort((a, b) => {
      const ra = reversed.get(a)!;
      const rb = reversed.get(b)!;
      return ra < rb ? 1 : ra > rb ? -1 : 0;
    });
    const containerOf = new Map<string, string>();
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1];
      if (previous.endsWith(sorted[i])) containerOf.set(sorted[i], containerOf.get(previous) ?? previous);
    }
    return containerOf;
  }

  offsetOf(name: string): number {
    if (name === '') return 0;
    const offset = this.offsets.get(name);
    if (offset === undefined || offset < 0) {
      throw new Error(`StringTableBuilder: "${name}" was not added or the table is not finished`);
    }
    return offset;
  }
}

/** One ELF64 section header (Elf64_Shdr), for both writers. */
export interface SectionHeaderFields {
  name: string;
  type: number;
  flags: number | bigint;
  /** sh_addr: 0 in relocatable objects. */
  addr?: bigint;
  offset: number | bigint;
  size: number | bigint;
  link: number;
  info: number;
  align: number | bigint;
  entsize: number | bigint;
}

/** Writes the section header table at the next 8-byte boundary; returns its file offset. */
export function writeSectionHeaders(out: ByteSink, headers: readonly SectionHeaderFields[], shstrtab: StringTableBuilder): number {
  out.alignTo(8);
  const at = out.position;
  for (const h of headers) {
    out.u32(shstrtab.offsetOf(h.name));
    out.u32(h.type);
    out.u64(h.flags);
    out.u64(h.addr ?? 0n);
    out.u64(h.offset);
    out.u64(h.size);
    out.u32(h.link);
    out.u32(h.info);
    out.u64(h.align);
    out.u64(h.entsize);
  }
  return at;
}

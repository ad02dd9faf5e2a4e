/**
 * Symbol name → address map with the reverse lookup traces and debuggers
 * need: "which symbol is 0x40080123 in" → `start+0x23`.
 */

export interface SymbolLocation {
  name: string;
  /** Address minus the symbol's address (>= 0). */
  offset: number;
}

export class SymbolTable extends Map<string, number> {
  /**
   * Symbols whose values do not fit a JS number exactly (above 2^53, e.g.
   * kernel virtual addresses). Kept apart so no address is ever rounded.
   */
  readonly wide = new Map<string, bigint>();
  // Reverse index, rebuilt lazily after changes: addresses ascending, with the
  // preferred name for each address.
  private sortedAddresses: number[] | null = null;
  private sortedNames: string[] = [];
  private readonly globalNames = new Set<string>();

  /**
   * Adds a symbol. Global symbols win over local ones at the same address in
   * reverse lookups. Returns false (and stores it in `wide`) when the value is
   * beyond 2^53.
   */
  define(name: string, value: number | bigint, isGlobal = false): boolean {
    if (typeof value === 'bigint') {
      if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
        this.wide.set(name, BigInt.asUintN(64, value));
        return false;
      }
      value = Number(value);
    }
    if (isGlobal) this.globalNames.add(name);
    this.set(name, value);
    return true;
  }

  override set(name: string, address: number): this {
    this.sortedAddresses = null;
    return super.set(name, address);
  }

  override delete(name: string): boolean {
    this.sortedAddresses = null;
    this.globalNames.delete(name);
    return super.delete(name);
  }

  override clear(): void {
    this.sortedAddresses = null;
    this.globalNames.clear();
    this.wide.clear();
    super.clear();
  }

  /** The nearest symbol at or below `address`, or undefined if none is. */
  lookup(address: number): SymbolLocation | undefined {
    const addresses = this.reverseIndex();
    // Binary search for the last entry <= address.
    let lo = 0;
    let hi = addresses.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (addresses[mid]! <= address) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return undefined;
    return { name: this.sortedNames[found]!, offset: address - addresses[found]! };
  }

  /** `name+0xoff`, `name`, or the bare hex address when no symbol precedes it. */
  format(address: number): string {
    const location = this.lookup(address);
    if (location === undefined) return '0x' + address.toString(16);
    return location.offset === 0 ? location.name : `${location.name}+0x${location.offset.toString(16)}`;
  }

  private reverseIndex(): number[] {
    if (this.sortedAddresses !== null) return this.sortedAddresses;
    const entries = [...this.entries()].sort(
      (a, b) => a[1] - b[1] || this.rank(b[0]) - this.rank(a[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
    );
    const addresses: number[] = [];
    const names: string[] = [];
    for (const [name, address] of entries) {
      // Keep only the best-ranked name per address (it sorts first).
      if (addresses.length > 0 && addresses[addresses.length - 1] === address) continue;
      addresses.push(address);
      names.push(name);
    }
    this.sortedAddresses = addresses;
    this.sortedNames = names;
    return addresses;
  }

  /** Preference for reverse lookup: globals, then ordinary locals, then `.L` labels. */
  private rank(name: string): number {
    if (this.globalNames.has(name)) return 2;
    return name.startsWith('.L') ? 0 : 1;
  }
}

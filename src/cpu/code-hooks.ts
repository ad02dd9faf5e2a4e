/**
 * Code hooks: TypeScript functions run when execution reaches an address
 * (breakpoints, host functions that model C routines, tracing taps). A hooked
 * address decodes to a HOOK slot that calls the functions and then executes
 * the original instruction from a shadow slot, unless a hook redirected
 * control (cpu.branched) or stopped the CPU. Hooks match the virtual address
 * at decode time; adding or removing one drops all decoded code.
 */
import type { Cpu } from './cpu.js';
import { STRIDE } from './decode-cache.js';

export type CodeHook = (cpu: Cpu) => void;

const key = (lo: number, hi: number): string => `${hi >>> 0}:${lo >>> 0}`;

export class CodeHooks {
  private readonly ids = new Map<string, number>();
  private readonly fns: CodeHook[][] = [];
  private readonly shadows: Int32Array[] = [];
  private live = 0;

  constructor(private readonly cpu: Cpu) {}

  get count(): number {
    return this.live;
  }

  /** Adds a hook at a virtual address; returns a function that removes it. */
  add(lo: number, hi: number, fn: CodeHook): () => void {
    const k = key(lo, hi);
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.fns.length;
      this.ids.set(k, id);
      this.fns.push([]);
      this.shadows.push(new Int32Array(STRIDE));
    }
    this.fns[id]!.push(fn);
    this.live++;
    this.cpu.decodeCache.invalidateAll();
    this.cpu.fetchStale = true;
    const list = this.fns[id]!;
    return () => {
      const at = list.indexOf(fn);
      if (at < 0) return;
      list.splice(at, 1);
      this.live--;
      if (list.length === 0) this.ids.delete(k);
      this.cpu.decodeCache.invalidateAll();
      this.cpu.fetchStale = true;
    };
  }

  /** Hook id for an address, or -1. */
  lookup(lo: number, hi: number): number {
    return this.ids.get(key(lo, hi)) ?? -1;
  }

  shadow(id: number): Int32Array {
    return this.shadows[id]!;
  }

  fire(id: number): void {
    for (const fn of this.fns[id]!) {
      fn(this.cpu);
      if (this.cpu.branched || this.cpu.stopRequest) return;
    }
  }
}

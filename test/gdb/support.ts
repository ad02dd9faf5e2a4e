/**
 * Helpers for the gdb stub tests: images assembled with our assembler, an
 * in-memory client for GdbSession, a socket client for the server, and the
 * harness that runs asm/head-init-kernel-el.S's init_kernel_el.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { Emulator } from '../../src/machine/emulator.js';
import { GdbSession } from '../../src/gdb/session.js';
import { GdbTarget } from '../../src/gdb/target.js';
import { PacketDecoder, framePacket, type WireEvent } from '../../src/gdb/packets.js';

export const BASE = 0x40080000n;
export const ROOT = join(import.meta.dirname, '../..');
export const POWER_OFF = 'movz w0, #0x8400, lsl #16\nmovk w0, #8\nsmc #0\n';

export interface Image {
  bytes: Uint8Array;
  symbols: Map<string, bigint>;
  /** An ELF executable of the same image, with the symbols (for gdb). */
  elf: Uint8Array;
}

export function buildImage(source: string, opts: { file?: string; includeDirs?: string[] } = {}): Image {
  const r = assemble(source, { file: opts.file ?? 'test.s', includeDirs: opts.includeDirs });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => d.message).join('\n'));
  const linked = linkFlat(r, BASE);
  const symbols = [...linked.symbols]
    .filter(([n]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
    .map(([name, value]) => ({ name, value, size: 0n, type: 'notype' as const }));
  const elf = writeExecutable({
    entry: linked.symbols.get('_start') ?? BASE,
    segments: [{ vaddr: BASE, data: linked.bytes, memsz: BigInt(linked.bytes.length), flags: 'rwx' }],
    symbols,
  });
  return { bytes: linked.bytes, symbols: linked.symbols, elf };
}

export function emulatorFor(image: Image): Emulator {
  const emu = new Emulator({ uartSink: () => {} });
  emu.load(image.elf);
  return emu;
}

/**
 * init_kernel_el (asm/head-init-kernel-el.S) called from a small harness at
 * EL2 with x0 = 0 (MMU off): it returns with an ERET to `after_eret` at EL1,
 * which powers off. The routine's external symbols are stubs here.
 */
export function initKernelElImage(): Image {
  const routine = readFileSync(join(ROOT, 'asm/head-init-kernel-el.S'), 'utf8');
  const harness = `
	.text
	.globl _start
_start:
	mov	x0, #0
	bl	init_kernel_el
after_eret:
	mov	x19, x0
	${POWER_OFF.trim().split('\n').join('\n\t')}
dcache_clean_poc:
	ret
	.balign 2048
__hyp_stub_vectors:
	.skip 0x800
__hyp_idmap_text_start:
__hyp_text_end:
`;
  return buildImage(routine + harness, { file: 'head-init-kernel-el-harness.S', includeDirs: [join(ROOT, 'asm/include')] });
}

/** Waits (yielding to the event loop) until `cond` holds. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** A client for a GdbSession without a socket: frames requests and decodes what the stub sends. */
export class MemoryClient {
  readonly session: GdbSession;
  readonly target: GdbTarget;
  readonly events: WireEvent[] = [];
  /** Raw bytes the stub wrote. */
  readonly raw: number[] = [];
  ended = false;
  endedHow: string | undefined;
  private readonly decoder = new PacketDecoder(1 << 20);

  constructor(readonly emu: Emulator) {
    this.target = new GdbTarget(emu, { sliceInsns: 1000 });
    this.session = new GdbSession(this.target, {
      write: (b) => { this.raw.push(...b); this.events.push(...this.decoder.push(b)); },
      end: () => { this.ended = true; },
    });
    this.session.onEnd = (how) => { this.endedHow = how; };
  }

  packets(): string[] {
    return this.events.filter((e) => e.kind === 'packet').map((e) => text((e as { data: Uint8Array }).data));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.session.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Sends one packet and returns the next `count` packets the stub sends. */
  async request(payload: string | Uint8Array, count = 1): Promise<string[]> {
    const before = this.packets().length;
    this.sendRaw(framePacket(payload));
    await until(() => this.packets().length >= before + count, 5000, `reply to ${String(payload).slice(0, 30)}`);
    return this.packets().slice(before, before + count);
  }

  async one(payload: string | Uint8Array): Promise<string> {
    return (await this.request(payload))[0]!;
  }
}

/** A socket client of the server: framing and acks by hand, as gdb would. */
export class SocketClient {
  readonly socket: Socket;
  readonly events: WireEvent[] = [];
  closed = false;
  private readonly decoder = new PacketDecoder(1 << 20);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true); // as gdb does: many tiny writes
    socket.on('data', (b) => this.events.push(...this.decoder.push(b)));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  static open(port: number): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => { s.off('error', reject); resolve(new SocketClient(s)); });
      s.once('error', reject);
    });
  }

  packets(): string[] {
    return this.events.filter((e) => e.kind === 'packet').map((e) => text((e as { data: Uint8Array }).data));
  }

  write(bytes: Uint8Array | string): void {
    if (!this.socket.destroyed) this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  async request(payload: string, count = 1, ms = 5000): Promise<string[]> {
    const before = this.packets().length;
    this.write(framePacket(payload));
    await until(() => this.packets().length >= before + count || this.closed, ms, `reply to ${payload.slice(0, 30)}`);
    return this.packets().slice(before, before + count);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) { resolve(); return; }
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}

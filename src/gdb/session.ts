/**
 * One debugger connection speaking the GDB Remote Serial Protocol: framing
 * and acknowledgements (until QStartNoAckMode), the interrupt byte, and the
 * packets of an all-stop, single-thread stub for the target in ./target.ts.
 *
 * Transport-free: bytes come in through `receive`, go out through the
 * `Transport` given to the constructor. Packets are handled one at a time
 * in arrival order; a continue is asynchronous, and 0x03 interrupts it.
 * A handler that throws answers `E01` rather than ending the connection.
 */
import { PacketDecoder, framePacket, fromHex, hexOfText, parseHexNumber, textOf, toHex, bytesOf } from './packets.js';
import type { GdbTarget, StopEvent } from './target.js';
import { G_PACKET_REGISTERS, targetXml } from './target-description.js';
import { RegisterAccessError } from './registers.js';
import { EmulatorError } from '../machine/emulator.js';

/** Largest packet we accept, advertised in qSupported (PacketSize counts payload bytes). */
export const PACKET_SIZE = 0x4000;
/** The single thread's id. */
const THREAD = 1;
/** Consecutive `-` answered with a retransmission before we stop resending. */
const MAX_RETRANSMIT = 8;

export interface Transport {
  write(bytes: Uint8Array): void;
  /** Ends the connection (after what was written has been sent). */
  end(): void;
}

/** How a session ended, for the server and its caller. */
export type SessionEnd = 'detached' | 'killed' | 'disconnected';

interface Reply {
  /** Payloads to send, in order (several for `O` output before `OK`). */
  packets: string[];
  /** Switch acknowledgements off after sending (QStartNoAckMode). */
  noAck?: boolean;
  /** End the connection after sending. */
  end?: SessionEnd;
}

const ERR_MALFORMED = 'E01';
const ERR_MEMORY = 'E0e'; // EFAULT
const ERR_VALUE = 'E16'; // EINVAL

const reply = (...packets: string[]): Reply => ({ packets });

export class GdbSession {
  private readonly decoder = new PacketDecoder(PACKET_SIZE + 64);
  private ackMode = true;
  private lastFrame: Uint8Array | undefined;
  private retransmits = 0;
  /** Packets waiting their turn; `error` stands for a malformed one, answered in order. */
  private readonly queue: ({ data: Uint8Array } | { error: string })[] = [];
  private busy = false;
  private closed = false;
  /** The debugger understands swbreak/hwbreak stop reasons (it said so in qSupported). */
  private swbreakFeature = false;
  private hwbreakFeature = false;
  private xml: string | undefined;
  /** Called once when the session ends (by D, k, or the transport closing). */
  onEnd: ((how: SessionEnd) => void) | undefined = undefined;
  /** Diagnostics (malformed input, handler errors); silent by default. */
  log: (message: string) => void = () => {};

  constructor(private readonly target: GdbTarget, private readonly transport: Transport) {}

  // ---- transport side --------------------------------------------------------------------

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const ev of this.decoder.push(chunk)) {
      switch (ev.kind) {
        case 'interrupt':
          // Meaningful while running, or ahead of a queued continue; a stray one while stopped is dropped.
          if (this.target.running || this.busy || this.queue.length > 0) this.target.interrupt();
          break;
        case 'ack': this.retransmits = 0; break;
        case 'nack':
          if (this.ackMode && this.lastFrame && this.retransmits++ < MAX_RETRANSMIT) this.transport.write(this.lastFrame);
          break;
        case 'bad-checksum':
          this.log('packet with a bad checksum');
          if (this.ackMode) this.transport.write(bytesOf('-'));
          break;
        case 'malformed':
          this.log(`malformed packet: ${ev.why}`);
          if (this.ackMode) this.transport.write(bytesOf('+'));
          this.queue.push({ error: ERR_MALFORMED });
          break;
        case 'packet':
          if (this.ackMode) this.transport.write(bytesOf('+'));
          this.queue.push({ data: ev.data });
          break;
      }
    }
    void this.pump();
  }

  /** The transport went away: stop any run and end the session. */
  disconnected(): void {
    if (this.closed) return;
    if (this.target.running) this.target.interrupt();
    else this.target.clearPendingInterrupt();
    this.finish('disconnected');
  }

  private finish(how: SessionEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.onEnd?.(how);
  }

  private send(payload: string): void {
    const frame = framePacket(bytesOf(payload));
    this.lastFrame = frame;
    this.retransmits = 0;
    this.transport.write(frame);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.queue.length === 0 || this.closed) {
          // Nothing left that an interrupt could have been meant for.
          this.target.clearPendingInterrupt();
          break;
        }
        const item = this.queue.shift()!;
        const r = 'error' in item ? reply(item.error) : await this.dispatchSafely(item.data);
        if (this.closed) break;
        for (const p of r.packets) this.send(p);
        if (r.noAck) this.ackMode = false;
        if (r.end) {
          this.transport.end();
          this.finish(r.end);
        }
      }
    } catch (err) {
      // Only the transport can get here (handlers are caught in dispatchSafely): drop the connection.
      this.log(`connection error: ${(err as Error).message}`);
      this.transport.end();
      this.finish('disconnected');
    } finally {
      this.busy = false;
    }
  }

  private async dispatchSafely(data: Uint8Array): Promise<Reply> {
    try {
      return await this.dispatch(data);
    } catch (err) {
      if (err instanceof RegisterAccessError || err instanceof EmulatorError) return reply(ERR_VALUE);
      this.log(`error handling '${textOf(data.subarray(0, 40))}': ${(err as Error).message}`);
      return reply(ERR_MALFORMED);
    }
  }

  // ---- packets ----------------------------------------------------------------------------

  /** Handles one packet (unescaped payload); exposed for tests. */
  async dispatch(data: Uint8Array): Promise<Reply> {
    const text = textOf(data);
    const cmd = text[0];
    const args = text.slice(1);
    switch (cmd) {
      case '?': return reply(this.stopReply(this.target.lastStop));
      case 'g': return args === '' ? reply(this.readAllRegisters()) : reply(ERR_MALFORMED);
      case 'G': return reply(this.writeAllRegisters(args));
      case 'p': return reply(this.readRegister(args));
      case 'P': return reply(this.writeRegister(args));
      case 'm': return reply(this.readMemory(args));
      case 'M': return reply(this.writeMemoryHex(args));
      case 'X': return reply(this.writeMemoryBinary(data));
      case 'Z': case 'z': return reply(this.breakpoint(cmd === 'Z', args));
      case 's': return this.resumeWith('s', args);
      case 'c': return this.resumeWith('c', args);
      case 'S': case 'C': {
        // Signals mean nothing to bare metal: `S sig[;addr]` is `s [addr]`.
        const m = /^[0-9a-fA-F]{2}(?:;(.*))?$/.exec(args);
        return m ? this.resumeWith(cmd === 'S' ? 's' : 'c', m[1] ?? '') : reply(ERR_MALFORMED);
      }
      case 'H': return reply(/^[gcGC](-1|0|[0-9a-fA-F]+)$/.test(args) && this.knownThread(args.slice(1), true) ? 'OK' : ERR_MALFORMED);
      case 'T': return reply(this.knownThread(args, false) ? 'OK' : ERR_MALFORMED);
      case 'D': return { packets: ['OK'], end: 'detached' };
      case 'k': return { packets: [], end: 'killed' };
      case 'q': return this.query(args);
      case 'Q': return this.setting(args);
      case 'v': return this.vPacket(args);
      default: return reply(''); // unknown packets: the empty reply means "not supported"
    }
  }

  private knownThread(id: string, allowAll: boolean): boolean {
    if (id === '-1' || id === '0') return allowAll;
    const n = parseHexNumber(id);
    return n === BigInt(THREAD);
  }

  private stopReply(ev: StopEvent): string {
    if (ev.kind === 'exited') return `W${ev.code.toString(16).padStart(2, '0')}`;
    let s = `T${ev.signal.toString(16).padStart(2, '0')}`;
    if (ev.breakpoint === 'sw' && this.swbreakFeature) s += 'swbreak:;';
    if (ev.breakpoint === 'hw' && this.hwbreakFeature) s += 'hwbreak:;';
    return s + `thread:${THREAD.toString(16)};`;
  }

  /** Console output (`O` packets) ahead of a stop reply, for stops gdb could not explain itself. */
  private stopPackets(ev: StopEvent): string[] {
    const out: string[] = [];
    if (ev.kind === 'stopped' && ev.message) out.push('O' + hexOfText(`pkvm-lab: ${ev.message}\n`));
    out.push(this.stopReply(ev));
    return out;
  }

  // -- registers

  private readAllRegisters(): string {
    const regs = this.target.registers;
    let s = '';
    for (let n = 0; n < G_PACKET_REGISTERS; n++) s += toHex(regs.read(n));
    return s;
  }

  private writeAllRegisters(hex: string): string {
    const bytes = fromHex(hex);
    if (!bytes) return ERR_MALFORMED;
    const regs = this.target.registers;
    // Validate the whole packet before writing anything: whole registers only, none past the g set.
    let total = 0;
    for (let n = 0; n < G_PACKET_REGISTERS; n++) total += regs.size(n);
    if (bytes.length === 0 || bytes.length > total) return ERR_MALFORMED;
    let at = 0;
    let n = 0;
    while (at < bytes.length) {
      const size = regs.size(n);
      if (at + size > bytes.length) return ERR_MALFORMED;
      at += size;
      n++;
    }
    at = 0;
    for (let k = 0; k < n; k++) {
      const size = regs.size(k);
      regs.write(k, bytes.subarray(at, at + size));
      at += size;
    }
    return 'OK';
  }

  private registerNumber(text: string): number | undefined {
    const n = parseHexNumber(text);
    if (n === null || n >= BigInt(this.target.registers.count)) return undefined;
    return Number(n);
  }

  private readRegister(args: string): string {
    const n = this.registerNumber(args);
    if (n === undefined) return ERR_MALFORMED;
    return toHex(this.target.registers.read(n));
  }

  private writeRegister(args: string): string {
    const eq = args.indexOf('=');
    if (eq < 0) return ERR_MALFORMED;
    const n = this.registerNumber(args.slice(0, eq));
    const bytes = fromHex(args.slice(eq + 1));
    if (n === undefined || !bytes || bytes.length !== this.target.registers.size(n)) return ERR_MALFORMED;
    this.target.registers.write(n, bytes);
    return 'OK';
  }

  // -- memory

  /** `addr,length` → numbers; null when malformed. */
  private addressAndLength(text: string): { addr: bigint; length: number } | null {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(text);
    if (!m) return null;
    const addr = parseHexNumber(m[1]!);
    const length = parseHexNumber(m[2]!);
    if (addr === null || length === null) return null;
    return { addr, length: Number(length > 0x100000n ? 0x100000n : length) };
  }

  private readMemory(args: string): string {
    const req = this.addressAndLength(args);
    if (!req) return ERR_MALFORMED;
    // A reply holds two hex digits per byte; a shorter read is allowed.
    const length = Math.min(req.length, Math.floor(PACKET_SIZE / 2));
    if (length === 0) return '';
    const bytes = this.target.readMemory(req.addr, length);
    return bytes.length === 0 ? ERR_MEMORY : toHex(bytes);
  }

  private writeMemoryHex(args: string): string {
    const colon = args.indexOf(':');
    if (colon < 0) return ERR_MALFORMED;
    const req = this.addressAndLength(args.slice(0, colon));
    const bytes = fromHex(args.slice(colon + 1));
    if (!req || !bytes || bytes.length !== req.length) return ERR_MALFORMED;
    return this.target.writeMemory(req.addr, bytes) ? 'OK' : ERR_MEMORY;
  }

  /** `X addr,length:binary`: the data part is raw bytes (already unescaped by the framing). */
  private writeMemoryBinary(data: Uint8Array): string {
    const colon = data.indexOf(0x3a);
    if (colon < 0) return ERR_MALFORMED;
    const req = this.addressAndLength(textOf(data.subarray(1, colon)));
    const bytes = data.subarray(colon + 1);
    if (!req || bytes.length !== req.length) return ERR_MALFORMED;
    if (bytes.length === 0) return 'OK'; // gdb probes for X support with an empty write
    return this.target.writeMemory(req.addr, bytes) ? 'OK' : ERR_MEMORY;
  }

  // -- breakpoints

  private breakpoint(insert: boolean, args: string): string {
    // type,addr,kind[;cond...]: conditions are evaluated by gdb, we ignore them.
    const m = /^([0-9]),([0-9a-fA-F]{1,16}),([0-9a-fA-F]+)(;.*)?$/.exec(args);
    if (!m) return ERR_MALFORMED;
    const type = m[1] === '0' ? 'sw' : m[1] === '1' ? 'hw' : undefined;
    if (!type) return ''; // watchpoints (2, 3, 4) are not supported
    const addr = BigInt('0x' + m[2]!);
    if (insert) this.target.insertBreakpoint(type, addr);
    else this.target.removeBreakpoint(type, addr);
    return 'OK';
  }

  // -- execution

  private async resumeWith(action: 's' | 'c', addrText: string): Promise<Reply> {
    if (addrText !== '') {
      const addr = parseHexNumber(addrText);
      if (addr === null) return reply(ERR_MALFORMED);
      if (this.target.exitCode === undefined) this.target.emu.cpu.setPc(addr);
    }
    const ev = action === 's' ? this.target.step() : await this.target.resume();
    return { packets: this.stopPackets(ev) };
  }

  // -- queries

  private query(args: string): Promise<Reply> | Reply {
    // The name ends at ':' (qSupported:…, qXfer:…) or ',' (qRcmd,…).
    const end = args.search(/[:,]/);
    const name = end < 0 ? args : args.slice(0, end);
    const rest = end < 0 ? '' : args.slice(end + 1);
    switch (name) {
      case 'Supported': {
        for (const f of rest.split(';')) {
          if (f === 'swbreak+') this.swbreakFeature = true;
          if (f === 'hwbreak+') this.hwbreakFeature = true;
        }
        return reply(`PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+`);
      }
      case 'Xfer': return reply(this.xfer(rest));
      case 'C': return reply(args === 'C' ? `QC${THREAD.toString(16)}` : '');
      case 'Attached': return reply('1'); // we did not create a process gdb should kill on quit
      case 'fThreadInfo': return reply(`m${THREAD.toString(16)}`);
      case 'sThreadInfo': return reply('l');
      case 'Symbol': return reply('OK');
      case 'Rcmd': return this.monitor(rest);
      default: return reply('');
    }
  }

  /** `qXfer:features:read:annex:offset,length` → `m`/`l` and data. */
  private xfer(rest: string): string {
    const m = /^features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(rest);
    if (!m) {
      // Another object or operation: not supported; a malformed features read is an error.
      return rest.startsWith('features:read:') ? 'E00' : '';
    }
    if (m[1] !== 'target.xml') return 'E00';
    const offset = parseHexNumber(m[2]!), length = parseHexNumber(m[3]!);
    if (offset === null || length === null) return 'E00';
    this.xml ??= targetXml(this.target.registers.regs);
    const doc = this.xml;
    if (offset > BigInt(doc.length)) return 'E00';
    const start = Number(offset);
    const len = Number(length > BigInt(PACKET_SIZE - 8) ? BigInt(PACKET_SIZE - 8) : length);
    const chunk = doc.slice(start, start + len);
    return (start + chunk.length >= doc.length ? 'l' : 'm') + chunk;
  }

  /** `monitor …` commands: output as `O` packets, then OK. */
  private monitor(hex: string): Reply {
    const bytes = fromHex(hex);
    if (!bytes) return reply(ERR_MALFORMED);
    const words = textOf(bytes).trim().split(/\s+/);
    const out = (text: string): Reply => ({ packets: ['O' + hexOfText(text), 'OK'] });
    switch (words[0]) {
      case 'phys':
        if (words[1] === 'on' || words[1] === 'off') this.target.physical = words[1] === 'on';
        else if (words[1] !== undefined) return reply(ERR_VALUE);
        return out(`memory accesses use ${this.target.physical ? 'physical addresses' : 'the current translation'}\n`);
      case 'help': case '':
        return out('monitor phys [on|off]  memory packets use physical addresses (on) or the current translation (off, default)\n');
      default:
        return out(`unknown monitor command '${words[0]}' (try 'monitor help')\n`);
    }
  }

  private setting(args: string): Reply {
    if (args === 'StartNoAckMode') return { packets: ['OK'], noAck: true };
    return reply('');
  }

  private async vPacket(args: string): Promise<Reply> {
    if (args === 'Cont?') return reply('vCont;c;C;s;S');
    if (args.startsWith('Cont;')) {
      // Actions apply to the first thread they name; ours is the only one, so the first action that covers it wins.
      for (const action of args.slice(5).split(';')) {
        const m = /^([cCsS])([0-9a-fA-F]{2})?(?::(-1|[0-9a-fA-F]+))?$/.exec(action);
        if (!m) return reply(ERR_MALFORMED);
        if (m[3] !== undefined && m[3] !== '-1' && parseHexNumber(m[3]) !== BigInt(THREAD)) continue;
        if ((m[1] === 'C' || m[1] === 'S') && m[2] === undefined) return reply(ERR_MALFORMED);
        return this.resumeWith(m[1]!.toLowerCase() as 's' | 'c', '');
      }
      return reply(ERR_MALFORMED);
    }
    if (args.startsWith('Kill')) return { packets: ['OK'], end: 'killed' };
    return reply(''); // vMustReplyEmpty, vCtrlC, vFile, vRun...: not supported
  }
}

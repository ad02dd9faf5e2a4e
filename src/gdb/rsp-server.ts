/**
 * Serves the GDB remote protocol for an Emulator on a loopback TCP port:
 *
 *   const server = await serveGdb(emu, 1234);   // listening; the CPU stays stopped
 *   const outcome = await server.done;          // gdb detached / killed / the program exited
 *
 * One debugger at a time; a second connection is refused while one is
 * attached. A debugger that disconnects without detaching leaves the CPU
 * stopped with its breakpoints removed, and another may attach (as with
 * QEMU's -S). After the program has powered off, the next disconnect ends
 * the server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Emulator } from '../machine/emulator.js';
import { GdbTarget } from './target.js';
import { GdbSession, type SessionEnd } from './session.js';

export interface GdbServerOptions {
  /** Interface to bind; loopback unless you mean otherwise. */
  host?: string;
  /** Diagnostics: connections, malformed packets. */
  log?: (message: string) => void;
  /** Initial slice of a continue, in instructions. */
  sliceInsns?: number;
}

export type GdbOutcome =
  | { kind: 'detached' }
  | { kind: 'killed' }
  | { kind: 'exited'; code: number }
  | { kind: 'closed' };

export interface GdbServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly target: GdbTarget;
  /** Settles when the debugging ends: detach, kill, disconnect after power-off, or close(). */
  readonly done: Promise<GdbOutcome>;
  close(): Promise<void>;
}

export function serveGdb(emu: Emulator, port: number, opts: GdbServerOptions = {}): Promise<GdbServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const target = new GdbTarget(emu, { sliceInsns: opts.sliceInsns });
  let active: { session: GdbSession; socket: Socket } | undefined;
  let settle: (o: GdbOutcome) => void = () => {};
  let settled = false;
  const done = new Promise<GdbOutcome>((resolve) => { settle = resolve; });
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => log(`gdb: connection error: ${err.message}`));
    if (active || settled) {
      log('gdb: refusing a second connection while a debugger is attached');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new GdbSession(target, {
      write: (bytes) => { if (!socket.destroyed && socket.writable) socket.write(bytes); },
      end: () => { if (!socket.destroyed) socket.end(); },
    });
    session.log = (m) => log(`gdb: ${m}`);
    active = { session, socket };
    log(`gdb: debugger connected from ${socket.remoteAddress}:${socket.remotePort}`);
    session.onEnd = (how: SessionEnd) => {
      if (active?.session === session) active = undefined;
      log(`gdb: session ended (${how})`);
      // The program runs on without the debugger's breakpoints.
      target.removeAllBreakpoints();
      if (how === 'detached') finish({ kind: 'detached' });
      else if (how === 'killed') finish({ kind: 'killed' });
      else if (target.exitCode !== undefined) finish({ kind: 'exited', code: target.exitCode });
    };
    socket.on('data', (chunk) => session.receive(chunk));
    socket.on('close', () => session.disconnected());
  });

  const finish = (o: GdbOutcome): void => {
    if (settled) return;
    settled = true;
    server.close();
    settle(o);
  };

  const close = (): Promise<void> => {
    finish({ kind: 'closed' });
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => { if (!server.listening) resolve(); else server.close(() => resolve()); });
  };

  return new Promise<GdbServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => log(`gdb: server error: ${err.message}`));
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({ port: bound, target, done, close });
    });
  });
}

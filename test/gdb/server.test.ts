/**
 * The stub over a real loopback socket: connection lifecycle (detach,
 * disconnect and reconnect, one debugger at a time, power-off), interrupt,
 * and a malformed-input fuzz after which the stub must still answer (or
 * have closed the connection cleanly and accept a new one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SocketClient, buildImage, emulatorFor, until, POWER_OFF } from './support.js';
import { serveGdb, type GdbServer } from '../../src/gdb/rsp-server.js';
import { framePacket, bytesOf, checksum, hexOfText } from '../../src/gdb/packets.js';
import { targetXml } from '../../src/gdb/target-description.js';

const LOOP = `_start: add x1, x1, #1\n b _start\n`;
const SHORT = `_start: mov x1, #1\n mov x2, #2\n${POWER_OFF}`;

let servers: GdbServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function start(source: string, logs: string[] = []) {
  const emu = emulatorFor(buildImage(source));
  const server = await serveGdb(emu, 0, { log: (m) => logs.push(m), sliceInsns: 5000 });
  servers.push(server);
  return { emu, server };
}

const settledWithin = async <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('gdb server lifecycle', () => {
  it('listens on loopback only, serves a session and ends on detach', async () => {
    const { server } = await start(SHORT);
    expect(server.port).toBeGreaterThan(0);
    const c = await SocketClient.open(server.port);
    expect(c.socket.remoteAddress).toBe('127.0.0.1');
    expect(await c.request('qSupported:swbreak+')).toEqual([expect.stringContaining('PacketSize=')]);
    expect(await c.request('QStartNoAckMode')).toEqual(['OK']);
    expect(await c.request('?')).toEqual(['T05thread:1;']);
    expect(await c.request('D')).toEqual(['OK']);
    expect(await server.done).toEqual({ kind: 'detached' });
    await until(() => c.closed);
  });

  it('refuses a second debugger while one is attached, and takes another after a disconnect', async () => {
    const { server, emu } = await start(LOOP);
    const first = await SocketClient.open(server.port);
    expect(await first.request('qC')).toEqual(['QC1']);
    expect(await first.request(`Z0,${(0x40080004).toString(16)},4`)).toEqual(['OK']);
    const second = await SocketClient.open(server.port);
    await until(() => second.closed, 2000, 'the second connection to be closed');
    await first.close();
    expect(await settledWithin(server.done, 50)).toBe('pending');
    const third = await SocketClient.open(server.port);
    expect(await third.request('qC')).toEqual(['QC1']);
    // The first debugger's breakpoint went with it: a continue runs until interrupted.
    third.write(framePacket('c'));
    await until(() => emu.cpu.retired > 20_000);
    third.write('\x03');
    await until(() => third.packets().length === 2);
    expect(third.packets()[1]).toBe('T02thread:1;');
    await third.request('D');
    expect(await server.done).toEqual({ kind: 'detached' });
  });

  it('after power-off, the disconnect ends the server with the exit code', async () => {
    const { server } = await start(SHORT);
    const c = await SocketClient.open(server.port);
    expect(await c.request('vCont;c')).toEqual(['W00']);
    await c.close();
    expect(await server.done).toEqual({ kind: 'exited', code: 0 });
  });

  it('k kills', async () => {
    const { server } = await start(SHORT);
    const c = await SocketClient.open(server.port);
    c.write(framePacket('k'));
    expect(await server.done).toEqual({ kind: 'killed' });
    await until(() => c.closed);
  });

  it('reports a port already in use', async () => {
    const { server } = await start(SHORT);
    const emu = emulatorFor(buildImage(SHORT));
    await expect(serveGdb(emu, server.port)).rejects.toThrow(/EADDRINUSE/);
  });

  it('a client vanishing mid-packet and mid-continue leaves the server serving', async () => {
    const { server, emu } = await start(LOOP);
    const a = await SocketClient.open(server.port);
    a.write(framePacket('c'));
    await until(() => emu.cpu.retired > 10_000);
    a.write('$m4008');
    a.socket.destroy();
    await until(() => !server.target.running, 2000, 'the CPU to stop');
    const b = await SocketClient.open(server.port);
    expect(await b.request('qAttached')).toEqual(['1']);
    expect(await b.request('?')).toEqual(['T02thread:1;']); // the stop the disconnect caused
    await b.request('D');
  });
});

/** xorshift32: a fixed sequence, so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('malformed input fuzz', () => {
  it('keeps serving (or closes cleanly) through random, truncated, mis-checksummed and nonsense packets', async () => {
    const logs: string[] = [];
    const { server } = await start(LOOP, logs);
    const doc = targetXml(server.target.registers.regs);
    const rand = rng(Number(process.env.GDB_FUZZ_SEED ?? 0x6db)); // GDB_FUZZ_SEED=n tries another sequence
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const hexDigits = (n: number) => Array.from({ length: n }, () => '0123456789abcdefABCDEFxyz,:;=-'[Math.floor(rand() * 30)]).join('');
    // Packet letters the stub knows (except the ones that end the session), with random arguments.
    const heads = ['m', 'M', 'X', 'p', 'P', 'g', 'G', 'Z0,', 'z0,', 'Z1,', 'z1,', 's', 'S', 'H', 'T', '?', 'qXfer:features:read:', 'qXfer:', 'qRcmd,', 'qSupported:', 'q', 'Q', 'vCont;', 'vCont?', 'v', 'x', 'c', 'C', '\x00', '}'];
    const garbage = (): Uint8Array => {
      switch (Math.floor(rand() * 7)) {
        case 0: return randomBytes(1 + Math.floor(rand() * 64)); // line noise (may include $, #, 0x03, +, -)
        case 1: return framePacket(pick(heads) + hexDigits(Math.floor(rand() * 40))); // well-framed nonsense
        case 2: return framePacket(new Uint8Array([...bytesOf(pick(heads)), ...randomBytes(Math.floor(rand() * 40))]));
        case 3: { const p = framePacket(pick(heads) + hexDigits(8)); p[p.length - 1] ^= 1; return p; } // bad checksum
        case 4: return bytesOf('$' + pick(heads) + hexDigits(Math.floor(rand() * 20))); // truncated: no #
        case 5: return bytesOf('$' + 'g'.repeat(20000 + Math.floor(rand() * 20000)) + '#00'); // over-long
        default: { const body = bytesOf(pick(heads) + '}'); return bytesOf(`$${Buffer.from(body).toString('latin1')}#${checksum(body).toString(16).padStart(2, '0')}`); }
      }
    };

    let client = await SocketClient.open(server.port);
    let reconnects = 0;
    let slow = 0;
    for (let round = 0; round < 400; round++) {
      for (let k = 0; k < 4; k++) client.write(garbage());
      // Resynchronise: end any half packet, interrupt any continue, then ask something with a unique answer.
      const off = (round * 37) % (doc.length - 64);
      const len = 1 + (round % 60);
      const want = 'm' + doc.slice(off, off + len);
      const before = client.packets().length;
      client.write('#00');
      client.write('\x03');
      client.write(framePacket(`qXfer:features:read:target.xml:${off.toString(16)},${len.toString(16)}`));
      const started = Date.now();
      let asked = started;
      while (!client.packets().slice(before).includes(want) && !client.closed) {
        if (Date.now() - started > 5000) throw new Error(`no answer in round ${round}`);
        await new Promise((r) => setTimeout(r, 2));
        client.write('\x03');
        if (Date.now() - asked > 100 && !client.packets().slice(before).includes(want)) {
          // Our request was swallowed (say by a half packet still open): ask again.
          asked = Date.now();
          slow++;
          client.write('#00');
          client.write(framePacket(`qXfer:features:read:target.xml:${off.toString(16)},${len.toString(16)}`));
        }
      }
      if (client.closed) {
        reconnects++;
        client = await SocketClient.open(server.port);
      }
    }
    // Still the same server, still answering, and the CPU still works.
    expect(await settledWithin(server.done, 10)).toBe('pending');
    expect(await client.request('qC')).toEqual(['QC1']);
    expect(reconnects).toBeLessThan(400);
    expect(slow).toBeLessThan(40);
    expect(logs.some((l) => /bad checksum|malformed/.test(l))).toBe(true);
    expect(logs.some((l) => /error handling/.test(l))).toBe(false); // every bad input was an expected error path
    expect(await client.request(`qRcmd,${hexOfText('help')}`, 2)).toEqual([expect.stringMatching(/^O[0-9a-f]+$/), 'OK']);
    expect((await client.request('s'))[0]).toMatch(/^(T0[56]|W0[01])/);
    await client.request('D');
    expect(await server.done).toEqual({ kind: 'detached' });
  });
});

#!/usr/bin/env node
/**
 * Boots Debian's arm64 Linux 6.1 kernel (package linux-image-*-cloud-arm64-unsigned)
 * under qemu-system-aarch64 -M virt,virtualization=on with kvm-arm.mode=protected for
 * several RAM sizes, and records what kvm_hyp_reserve printed
 * ("kvm [0]: Reserved N MiB at 0x...") into test/fixtures/pkvm/kernel-reservations.json.
 *
 * That JSON is the evidence test/pkvm/reservation.test.ts checks the reservation model
 * against; CI does not boot the kernel unless asked (PKVM_KERNEL_CHECK=1 makes the test
 * suite run this script's boots live).
 *
 * The kernel image is data from a Debian package: it is fetched with apt for arm64 into a
 * cache directory (never into the repository) and unpacked with dpkg -x.
 *
 * Usage: node scripts/kernel-reservation-check.mjs [--sizes 512M,1G] [--no-debug]
 *          [--extra-sizes 36M,64M] [--package NAME] [--cache DIR] [--out FILE] [--print]
 *   --print      boot and print, but do not write the JSON
 *   --no-debug   skip the second boot per size with memblock=debug (intermediate facts)
 * Needs: apt-get and dpkg (Debian), qemu-system-aarch64 (scripts/install-reference-tools.sh). No root:
 * the arm64 package list and the download live in the cache directory ($PKVM_KERNEL_CACHE).
 * On demand in CI: `node scripts/kernel-reservation-check.mjs --print`, or PKVM_KERNEL_CHECK=1 npm test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The sizes the issue's Fidelity section asks for. */
const REQUIRED_SIZES = ['512M', '768M', '1G', '1536M', '2G', '3G', '4G', '6G', '8G'];
/** Small sizes that exercise other paths: the DTB placed after the image, the PAGE_SIZE fallback, failure. */
const EXTRA_SIZES = ['32M', '36M', '40M', '64M', '128M', '256M'];
const BOOT_TIMEOUT_MS = 180_000;
const QEMU = 'qemu-system-aarch64';
const BASE_APPEND = 'console=ttyAMA0 kvm-arm.mode=protected earlycon panic=-1';

function parseArgs(argv) {
  const opts = {
    sizes: REQUIRED_SIZES,
    extraSizes: EXTRA_SIZES,
    debug: true,
    pkg: process.env.PKVM_KERNEL_PACKAGE ?? null,
    cache: process.env.PKVM_KERNEL_CACHE ?? join(tmpdir(), 'pkvm-kernel-cache'),
    out: join(ROOT, 'test/fixtures/pkvm/kernel-reservations.json'),
    print: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--sizes') opts.sizes = next().split(',').filter(Boolean);
    else if (a === '--extra-sizes') opts.extraSizes = next().split(',').filter(Boolean);
    else if (a === '--no-debug') opts.debug = false;
    else if (a === '--package') opts.pkg = next();
    else if (a === '--cache') opts.cache = resolve(next());
    else if (a === '--out') opts.out = resolve(next());
    else if (a === '--print') opts.print = true;
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else fail(`unknown option ${a}`);
  }
  for (const s of [...opts.sizes, ...opts.extraSizes]) parseSize(s);
  return opts;
}

function fail(msg) {
  console.error(`kernel-reservation-check: ${msg}`);
  process.exit(1);
}

/** "512M" / "1536M" / "8G" → bytes, as QEMU's -m reads them. */
function parseSize(s) {
  const m = /^(\d+)([MG])$/.exec(s);
  if (!m) fail(`size ${s}: expected a number followed by M or G`);
  return Number(m[1]) * (m[2] === 'G' ? 1024 ** 3 : 1024 ** 2);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) fail(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what}: ${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** apt options for a private arm64 package list and download cache under `cache`. */
function aptOptions(cache) {
  return [
    '-q',
    '-oAPT::Architecture=arm64',
    '-oAPT::Architectures=arm64',
    `-oDir::State::Lists=${join(cache, 'lists')}`,
    `-oDir::Cache=${join(cache, 'apt-cache')}`,
    '-oDir::State::Status=/dev/null',
    '-oDebug::NoLocking=1',
  ];
}

/** Fetches (or reuses) the kernel package and returns the unpacked image's facts. */
function fetchKernel(opts) {
  const cache = opts.cache;
  for (const d of ['lists/partial', 'apt-cache/archives/partial', 'debs']) mkdirSync(join(cache, d), { recursive: true });
  const apt = aptOptions(cache);
  let pkg = opts.pkg;
  let debs = readdirSync(join(cache, 'debs')).filter((f) => f.endsWith('.deb'));
  const wanted = (f) => (pkg ? f.startsWith(`${pkg}_`) : /^linux-image-6\.1\.0-\d+-cloud-arm64-unsigned_/.test(f));
  if (!debs.some(wanted)) {
    console.error('kernel-reservation-check: updating the arm64 package list (cached)…');
    run('apt-get', [...apt, 'update'], 'apt-get update');
    if (!pkg) {
      // The cloud metapackage names the current 6.1 ABI; its -unsigned twin holds the plain Image.
      const deps = run('apt-cache', [...apt, 'depends', 'linux-image-cloud-arm64'], 'apt-cache depends');
      const m = /Depends: (linux-image-6\.1\.0-\d+-cloud-arm64)\b/.exec(deps);
      if (!m) fail(`cannot find the 6.1 cloud kernel in:\n${deps}`);
      pkg = `${m[1]}-unsigned`;
    }
    console.error(`kernel-reservation-check: downloading ${pkg}…`);
    const r = spawnSync('apt-get', [...apt, 'download', pkg], { cwd: join(cache, 'debs'), encoding: 'utf8' });
    if (r.status !== 0) fail(`apt-get download ${pkg} failed:\n${r.stderr}`);
    debs = readdirSync(join(cache, 'debs')).filter((f) => f.endsWith('.deb'));
  }
  const deb = debs.filter(wanted).sort().at(-1);
  if (!deb) fail(`no ${pkg ?? '6.1 cloud kernel'} package in ${join(cache, 'debs')}`);
  const debPath = join(cache, 'debs', deb);
  const unpacked = join(cache, 'root', deb.replace(/\.deb$/, ''));
  if (!existsSync(join(unpacked, 'boot'))) {
    mkdirSync(unpacked, { recursive: true });
    run('dpkg', ['-x', debPath, unpacked], 'dpkg -x');
  }
  const image = readdirSync(join(unpacked, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (!image) fail(`no boot/vmlinuz-* in ${deb}`);
  const imagePath = join(unpacked, 'boot', image);
  const bytes = readFileSync(imagePath);
  // arm64 Image header: text_offset at 8, image_size at 16 (little-endian u64), magic "ARM\x64" at 56.
  if (bytes.readUInt32LE(56) !== 0x644d5241) fail(`${image} is not an arm64 Image`);
  const fields = run('dpkg-deb', ['-f', debPath, 'Package', 'Version'], 'dpkg-deb -f');
  const field = (n) => new RegExp(`^${n}: (.*)$`, 'm').exec(fields)?.[1] ?? null;
  return {
    package: field('Package'),
    debianVersion: field('Version'),
    image: `boot/${image}`,
    imagePath,
    imageSha256: createHash('sha256').update(bytes).digest('hex'),
    textOffset: hex(Number(bytes.readBigUInt64LE(8))),
    imageSize: hex(Number(bytes.readBigUInt64LE(16))),
  };
}

const hex = (n) => `0x${n.toString(16)}`;

/**
 * Boots once and resolves when the kvm_hyp_reserve line has been printed (or the boot ends
 * without it). QEMU is killed by its own pid as soon as the line is seen.
 */
function boot(imagePath, size, append) {
  const args = ['-M', 'virt,virtualization=on', '-cpu', 'cortex-a57', '-m', size, '-nographic',
    '-monitor', 'none', '-kernel', imagePath, '-append', append, '-no-reboot'];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (err) reject(err);
      else resolvePromise({ log: out, command: `${QEMU} ${args.map(shellQuote).join(' ')}` });
    };
    const timer = setTimeout(() => finish(new Error(`${size}: no kvm_hyp_reserve line within ${BOOT_TIMEOUT_MS / 1000}s`)), BOOT_TIMEOUT_MS);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // Stop at the reservation line (or the kernel's failure message), once the line is complete.
      if (/kvm \[0\]: Reserved \d+ MiB at 0x[0-9a-f]+\r?\n/.test(out) || /Failed to reserve hyp memory\r?\n/.test(out)) finish();
    });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('error', (e) => finish(new Error(`cannot run ${QEMU}: ${e.message}`)));
    child.on('exit', () => finish());
  });
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The facts of one plain boot: the printed MiB and base. */
function parseReservation(log, size) {
  const m = /kvm \[0\]: Reserved (\d+) MiB at 0x([0-9a-f]+)/.exec(log);
  if (!m) {
    if (/Failed to reserve hyp memory/.test(log)) return { failed: true, line: 'kvm [0]: Failed to reserve hyp memory' };
    fail(`${size}: the boot ended without a kvm_hyp_reserve line; last output:\n${log.slice(-2000)}`);
  }
  return { reservedMiB: Number(m[1]), base: `0x${m[2]}`, line: m[0] };
}

/**
 * What a memblock=debug boot shows about memblock before kvm_hyp_reserve: how many 4 KiB
 * page-table pages paging_init took from the top of RAM, the unflattened device tree,
 * NODE_DATA, and the sizes kvm_hyp_reserve asked memblock for.
 */
function parseDebug(log, ramTop) {
  const before = log.split(/kvm \[0\]: /)[0];
  const lines = before.split(/\r?\n/);
  let lowestPageTable = null;
  let dtBytes = null;
  const hypAllocs = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/early_pgtable_alloc/.test(l)) {
      const r = /memblock_reserve: \[0x([0-9a-f]+)-/.exec(lines[i + 1] ?? '');
      if (r) {
        const a = Number.parseInt(r[1], 16);
        if (lowestPageTable === null || a < lowestPageTable) lowestPageTable = a;
      }
    }
    const dt = /memblock_alloc_try_nid: (\d+) bytes align=0x8 .*early_init_dt_alloc_memory_arch/.exec(l);
    if (dt) dtBytes = Number(dt[1]);
    const h = /memblock_phys_alloc_range: (\d+) bytes align=0x([0-9a-f]+) .*kvm_hyp_reserve/.exec(l);
    if (h) hypAllocs.push({ bytes: Number(h[1]), align: `0x${h[2]}` });
  }
  const nd = /NUMA: NODE_DATA \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\]/.exec(before);
  return {
    // The early page-table pages are the first top-down allocations, so they end at the top of RAM.
    earlyPageTablePages: lowestPageTable === null ? null : (ramTop - lowestPageTable) / 4096,
    lowestEarlyPageTable: lowestPageTable === null ? null : hex(lowestPageTable),
    unflattenedDtBytes: dtBytes,
    nodeData: nd ? { base: `0x${nd[1]}`, bytes: Number.parseInt(nd[2], 16) + 1 - Number.parseInt(nd[1], 16) } : null,
    hypAllocCalls: hypAllocs,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const qemuVersion = run(QEMU, ['--version'], 'qemu version').split('\n')[0].trim();
  const kernel = fetchKernel(opts);
  console.error(`kernel-reservation-check: ${kernel.package} ${kernel.debianVersion}, ${qemuVersion}`);
  const RAM_BASE = 0x4000_0000;
  const boots = [];
  let uname = null;
  let commandTemplate = null;
  const all = [...opts.sizes.map((s) => [s, true]), ...opts.extraSizes.map((s) => [s, false])];
  for (const [size, required] of all) {
    const ramBytes = parseSize(size);
    const plain = await boot(kernel.imagePath, size, BASE_APPEND);
    commandTemplate ??= plain.command.replace(`-m ${size}`, '-m SIZE').replace(kernel.imagePath, kernel.image);
    uname ??= /Linux version (\S+) .*?(#\d+ SMP .*)$/m.exec(plain.log)?.slice(1, 3).join(' ') ?? null;
    const entry = { size, ramBytes, required, ...parseReservation(plain.log, size) };
    if (opts.debug) {
      const dbg = await boot(kernel.imagePath, size, `${BASE_APPEND} memblock=debug`);
      entry.memblockDebug = { ...parseDebug(dbg.log, RAM_BASE + ramBytes), ...parseReservation(dbg.log, size) };
      delete entry.memblockDebug.line;
    }
    console.error(`  ${size.padStart(6)}: ${entry.line ?? 'failed'}`);
    boots.push(entry);
  }
  const result = {
    about: 'kvm_hyp_reserve as printed by the real kernel under QEMU; written by scripts/kernel-reservation-check.mjs. '
      + 'memblockDebug comes from a second boot with memblock=debug added to the command line.',
    recorded: new Date().toISOString().slice(0, 10),
    qemu: { version: qemuVersion, command: commandTemplate },
    kernel: { package: kernel.package, debianVersion: kernel.debianVersion, uname, image: kernel.image,
      imageSha256: kernel.imageSha256, textOffset: kernel.textOffset, imageSize: kernel.imageSize },
    boots,
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (opts.print) process.stdout.write(text);
  else {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, text);
    console.error(`kernel-reservation-check: wrote ${opts.out}`);
  }
}

main().catch((e) => fail(e instanceof Error ? e.message : String(e)));

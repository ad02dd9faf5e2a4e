#!/usr/bin/env node
/**
 * `pkvm-lab <command>`: the project's command line.
 *   asm       assemble a .S/.s file (see src/cli/asm.ts)
 *   boot      the pKVM boot flow and its report (see src/cli/boot.ts)
 *   start     the default job (npm start): boot with the defaults
 *   asm-list  list the documents' routines in asm/ (the former default job)
 */
import { runAsm, ASM_USAGE } from './asm.js';
import { runStart } from './start.js';
import { runRun, RUN_USAGE } from './run.js';
import { runBootCommand, BOOT_USAGE } from './boot.js';
import { runTrace, TRACE_USAGE } from './trace.js';

const USAGE = `usage: pkvm-lab <command> [args]
commands:
  asm FILE.S|FILE.s [options]   assemble to an ELF object or a flat image
  run IMAGE [options]           run an image on the interpreter from EL2, as QEMU's virt would
  boot [options]                the pKVM boot flow (early boot → host deprivileged) and its report
  start                         the default job (npm start): boot with the defaults
  asm-list                      assemble the documents' routines in asm/ and list them
  trace record|convert|diff|info  record runs as traces, convert them, compare them (ours and QEMU's)
${ASM_USAGE}
${RUN_USAGE}
${BOOT_USAGE}
${TRACE_USAGE}
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'asm': return runAsm(rest);
    case 'start': return runBootCommand(rest);
    case 'boot': return runBootCommand(rest);
    case 'asm-list': return runStart(rest);
    case 'run': return runRun(rest);
    case 'trace': return runTrace(rest);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`pkvm-lab: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // A bug, not bad input: say so plainly rather than dumping a stack trace.
    process.stderr.write(`pkvm-lab: internal error: ${(err as Error).message}\n`);
    process.exitCode = 70;
  },
);

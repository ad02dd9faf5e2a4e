#!/usr/bin/env node
/** The `pkvm-asm` binary: the assembler command on its own. */
import { runAsm } from './asm.js';

process.exitCode = runAsm(process.argv.slice(2));

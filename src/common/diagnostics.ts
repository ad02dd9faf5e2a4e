/**
 * Source-located errors shared by the preprocessor, the assembler and the CLIs.
 * Formatted as GNU tools do: `file:line:col: error: message`, then the source
 * line and a caret under the column.
 */
export interface SourceLocation {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  /** 1-based column; 0 when unknown. */
  col: number;
  /** The text of the source line, for the caret display. */
  text?: string;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  message: string;
  loc: SourceLocation;
  /** Follow-up lines such as "in macro 'x' invoked from here". */
  notes?: string[];
}

/** Thrown for bad input; the CLI prints it with formatDiagnostic and exits 1. */
export class DiagnosticError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.diagnostics = diagnostics;
    this.name = 'DiagnosticError';
  }
}

export function diagnostic(loc: SourceLocation, message: string, severity: Severity = 'error'): Diagnostic {
  return { severity, message, loc };
}

export function errorAt(loc: SourceLocation, message: string): DiagnosticError {
  return new DiagnosticError([diagnostic(loc, message)]);
}

export function formatDiagnostic(d: Diagnostic): string {
  const { file, line, col, text } = d.loc;
  const where = col > 0 ? `${file}:${line}:${col}` : `${file}:${line}`;
  let out = `${where}: ${d.severity}: ${d.message}`;
  if (text !== undefined) {
    out += `\n${text}`;
    if (col > 0) {
      // Keep tabs so the caret lines up under the column in a terminal.
      const pad = text.slice(0, col - 1).replace(/[^\t]/g, ' ');
      out += `\n${pad}^`;
    }
  }
  for (const note of d.notes ?? []) out += `\n${note}`;
  return out;
}

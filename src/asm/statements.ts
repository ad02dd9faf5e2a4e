/**
 * Splits source lines into statements the way gas does for AArch64: `//`
 * comments, `#` comment lines, `;` statement separators, and leading labels.
 */

export interface RawStatement {
  /** Labels defined before the statement, with their 1-based columns. */
  labels: { name: string; col: number }[];
  /** The directive or mnemonic (as written), empty for a label-only line. */
  head: string;
  headCol: number;
  /** Text after the head, trimmed. */
  rest: string;
  restCol: number;
}

/**
 * One pass over a line outside string literals: where a `//` comment starts
 * (or the line length) and where `;` separates statements before it.
 */
function scanLine(line: string): { end: number; separators: number[] } {
  const separators: number[] = [];
  if (line.indexOf('/') < 0 && line.indexOf('"') < 0 && line.indexOf(';') < 0) return { end: line.length, separators };
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '/' && line[i + 1] === '/') {
      return { end: i, separators };
    } else if (c === ';') {
      separators.push(i);
    }
  }
  return { end: line.length, separators };
}

/** Removes a `//` comment (outside string literals). */
export function stripComment(line: string): string {
  const { end } = scanLine(line);
  return end === line.length ? line : line.slice(0, end);
}

/** The comment-free statements of a line, split on `;` outside strings: [text, startColumn0] pieces. */
export function lineStatements(line: string): [string, number][] {
  const { end, separators } = scanLine(line);
  if (separators.length === 0) return [[end === line.length ? line : line.slice(0, end), 0]];
  const out: [string, number][] = [];
  let start = 0;
  for (const sep of separators) {
    out.push([line.slice(start, sep), start]);
    start = sep + 1;
  }
  out.push([line.slice(start, end), start]);
  return out;
}

// Sticky patterns: matched at lastIndex, so parsing a statement slices no substrings.
const LABEL = /([A-Za-z_.$][A-Za-z0-9_.$]*|[0-9]+):/y;
const HEAD = /[A-Za-z_.$][A-Za-z0-9_.$]*/y;
const NO_LABELS: RawStatement['labels'] = [];

/** Parses one statement's text (already comment-free). `baseCol` is its 0-based column in the line. */
export function parseStatement(text: string, baseCol: number): RawStatement {
  let labels = NO_LABELS;
  let i = 0;
  const skipWs = () => { while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++; };
  skipWs();
  for (;;) {
    LABEL.lastIndex = i;
    const m = LABEL.exec(text);
    if (!m) break;
    // `foo:` is a label, but `.macro x:req` is not: labels come before any head.
    if (labels === NO_LABELS) labels = [];
    labels.push({ name: m[1]!, col: baseCol + i + 1 });
    i += m[0].length;
    skipWs();
  }
  HEAD.lastIndex = i;
  const h = HEAD.exec(text);
  if (!h) {
    return { labels, head: '', headCol: baseCol + i + 1, rest: text.slice(i).trim(), restCol: baseCol + i + 1 };
  }
  const headCol = baseCol + i + 1;
  i += h[0].length;
  const afterHead = i;
  skipWs();
  return { labels, head: h[0], headCol, rest: text.slice(i).trimEnd(), restCol: baseCol + (i > afterHead ? i : afterHead) + 1 };
}

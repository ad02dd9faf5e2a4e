/**
 * Tokens and the line lexer of the C preprocessor (see preprocess.ts).
 *
 * The lexer follows gcc's assembler-with-cpp mode: `//` and `/* *\/` are
 * comments, `$` may appear in identifiers and numbers, only `L` is a string
 * prefix, there are no digraphs, and an unterminated `'` or `"` silently
 * becomes one "other" token running to the end of the line (gas uses `'c`
 * for character constants, so this must not be an error).
 */

/** Token kinds. Plain numbers so that hot comparisons stay cheap. */
export const TK = {
  Ident: 0,
  Number: 1,
  String: 2,
  Char: 3,
  Punct: 4,
  Other: 5,
  /** `<...>` after `#include`, lexed as one token like gcc does. */
  HeaderName: 6,
  /** Marks a macro boundary; steers spacing of the output (gcc's CPP_PADDING). */
  Padding: 7,
  /** A parameter reference inside a function-like macro body. */
  MacroArg: 8,
  EOF: 9,
} as const;
export type TokenKind = (typeof TK)[keyof typeof TK];

/** Token flag bits. */
export const TF = {
  /** Whitespace (or a comment) precedes the token. */
  WS: 1,
  /** First token of a logical source line. */
  BOL: 2,
  /** Names a macro that was disabled when met ("painted blue"): never expands. */
  NO_EXPAND: 4,
  /** Left operand of `##` in a macro body. */
  PASTE_LEFT: 8,
  /** Parameter reference preceded by `#` in a macro body. */
  STRINGIFY: 16,
  /** The EOF that ends a macro argument being pre-expanded. */
  ARG_END: 32,
} as const;

export interface Token {
  kind: TokenKind;
  /** Spelling. */
  text: string;
  flags: number;
  /** Presumed file name (after `#line`), for diagnostics and line origins. */
  file: string;
  /** Presumed 1-based line. */
  line: number;
  /** 1-based column in the physical line. */
  col: number;
  /** The physical source line, for the caret display of diagnostics. */
  src: string;
  /** Padding only: the token whose whitespace the padding stands for. */
  source: Token | null;
  /** MacroArg only: index of the parameter. */
  argIndex: number;
}

export function makeToken(
  kind: TokenKind,
  text: string,
  flags: number,
  file: string,
  line: number,
  col: number,
  src: string,
): Token {
  return { kind, text, flags, file, line, col, src, source: null, argIndex: -1 };
}

export function copyToken(t: Token, flags: number): Token {
  return {
    kind: t.kind,
    text: t.text,
    flags,
    file: t.file,
    line: t.line,
    col: t.col,
    src: t.src,
    source: t.source,
    argIndex: t.argIndex,
  };
}

// Character classes for ASCII; everything >= 0x80 is an "other" character.
export const C_IDSTART = 1;
export const C_IDCHAR = 2;
export const C_DIGIT = 4;
export const C_SPACE = 8;
export const charClass = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_$]/.test(ch)) charClass[c] = C_IDSTART | C_IDCHAR;
  else if (/[0-9]/.test(ch)) charClass[c] = C_IDCHAR | C_DIGIT;
}
// NUL is ignored by gcc (with a warning); treat it as whitespace too.
for (const c of [0x20, 0x09, 0x0b, 0x0c, 0x0d, 0x0a, 0x00]) charClass[c] = C_SPACE;

export function isIdentStart(c: number): boolean {
  return c < 128 && (charClass[c] & C_IDSTART) !== 0;
}
export function isIdentChar(c: number): boolean {
  return c < 128 && (charClass[c] & C_IDCHAR) !== 0;
}
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
export function isSpace(c: number): boolean {
  return c < 128 && (charClass[c] & C_SPACE) !== 0;
}

/** Length of the punctuator starting at s[i], or 0 if none does. */
function punctLength(s: string, i: number, c: number): number {
  const n1 = s.charCodeAt(i + 1);
  switch (c) {
    case 0x5b: // [
    case 0x5d: // ]
    case 0x28: // (
    case 0x29: // )
    case 0x7b: // {
    case 0x7d: // }
    case 0x7e: // ~
    case 0x3f: // ?
    case 0x3b: // ;
    case 0x2c: // ,
    case 0x3a: // :
      return 1;
    case 0x2e: // .
      return n1 === 0x2e && s.charCodeAt(i + 2) === 0x2e ? 3 : 1;
    case 0x2d: // -
      return n1 === 0x3e || n1 === 0x2d || n1 === 0x3d ? 2 : 1;
    case 0x2b: // +
      return n1 === 0x2b || n1 === 0x3d ? 2 : 1;
    case 0x26: // &
      return n1 === 0x26 || n1 === 0x3d ? 2 : 1;
    case 0x7c: // |
      return n1 === 0x7c || n1 === 0x3d ? 2 : 1;
    case 0x2a: // *
    case 0x2f: // /
    case 0x25: // %
    case 0x5e: // ^
    case 0x21: // !
    case 0x3d: // =
      return n1 === 0x3d ? 2 : 1;
    case 0x3c: // <
    case 0x3e: // >
      if (n1 === c) return s.charCodeAt(i + 2) === 0x3d ? 3 : 2;
      return n1 === 0x3d ? 2 : 1;
    case 0x23: // #
      return n1 === 0x23 ? 2 : 1;
    default:
      return 0;
  }
}

/** Where an unterminated block comment started (for the diagnostic). */
export interface UnterminatedComment {
  line: number;
  col: number;
  src: string;
}

/**
 * The physical lines of one file and the position of the next one to lex.
 * `lineDelta` turns a physical line number into the presumed one (`#line`).
 */
export interface LineSource {
  lines: string[];
  next: number;
  presumedName: string;
  lineDelta: number;
  /** The last line had no newline after it: a backslash ending it is then kept, as gcc does. */
  noFinalNewline?: boolean;
}

/** Index just past the last non-blank character of `s`. */
function trimmedEnd(s: string): number {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c === 0x20 || c === 0x09 || c === 0x0c || c === 0x0b) e--;
    else break;
  }
  return e;
}

/** True when the physical line continues on the next one (`\` at its end, blanks allowed after it). */
export function endsWithBackslash(s: string): boolean {
  const e = trimmedEnd(s);
  return e > 0 && s.charCodeAt(e - 1) === 0x5c;
}

/**
 * State of lexing one logical line, kept in one reused object so that the
 * per-line work allocates little more than the tokens themselves.
 */
class LineScanner {
  text = '';
  /** Segment k < segCount of `text` starts at segOffset[k] and is physical line segPhys[k] (0-based). */
  private readonly segOffset: number[] = [];
  private readonly segPhys: number[] = [];
  private segCount = 0;
  private seg = 0;
  tokens: Token[] = [];
  private lines: string[] = [];
  private file = '';
  private delta = 0;

  start(source: LineSource): void {
    this.text = '';
    this.segCount = 0;
    this.seg = 0;
    this.tokens = [];
    this.lines = source.lines;
    this.file = source.presumedName;
    this.delta = source.lineDelta;
  }

  /** Appends the next physical line, and the ones a trailing backslash joins to it. */
  appendLogical(source: LineSource): void {
    const lines = source.lines;
    for (;;) {
      const phys = source.next++;
      const raw = lines[phys];
      this.segOffset[this.segCount] = this.text.length;
      this.segPhys[this.segCount] = phys;
      this.segCount++;
      const last = source.next >= lines.length;
      // A backslash on the last line still ends in a newline unless the file ends right there.
      if (endsWithBackslash(raw) && !(last && source.noFinalNewline === true)) {
        this.text += raw.slice(0, trimmedEnd(raw) - 1);
        if (!last) continue;
      } else {
        this.text += raw;
      }
      return;
    }
  }

  /** Physical line (0-based) and column (1-based) of an offset in `text`. */
  place(offset: number): [number, number] {
    const segOffset = this.segOffset;
    if (this.segCount === 1) return [this.segPhys[0], offset + 1];
    while (this.seg + 1 < this.segCount && segOffset[this.seg + 1] <= offset) this.seg++;
    while (this.seg > 0 && segOffset[this.seg] > offset) this.seg--;
    return [this.segPhys[this.seg], offset - segOffset[this.seg] + 1];
  }

  emit(kind: TokenKind, start: number, end: number, ws: boolean): void {
    let phys: number;
    let col: number;
    if (this.segCount === 1) {
      phys = this.segPhys[0];
      col = start + 1;
    } else {
      [phys, col] = this.place(start);
    }
    let flags = ws ? TF.WS : 0;
    if (this.tokens.length === 0) flags |= TF.BOL;
    this.tokens.push(makeToken(kind, this.text.slice(start, end), flags, this.file, phys + 1 + this.delta, col, this.lines[phys]));
  }
}

const scanner = new LineScanner();

/**
 * Lexes one logical line of `source` (physical lines joined by backslash
 * continuations, and extended while a block comment is open) and advances
 * `source.next`. Returns the tokens; the first one carries TF.BOL. Throws
 * UnterminatedComment (a plain object) when a block comment never closes.
 */
export function lexLogicalLine(source: LineSource): Token[] {
  const sc = scanner;
  sc.start(source);
  sc.appendLogical(source);
  const tokens = sc.tokens;
  let text = sc.text;
  let i = 0;
  let ws = false;
  for (;;) {
    const n = text.length;
    if (i >= n) break;
    const c = text.charCodeAt(i);
    if (c < 128 && (charClass[c] & C_SPACE) !== 0) {
      ws = true;
      i++;
      continue;
    }
    if (c < 128 && (charClass[c] & C_IDSTART) !== 0) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 128 && (charClass[d] & C_IDCHAR) !== 0) j++;
        else break;
      }
      // L"..." and L'...' are wide literals; other prefixes are not literals in this mode.
      if (j === i + 1 && c === 0x4c && j < n) {
        const q = text.charCodeAt(j);
        if (q === 0x22 || q === 0x27) {
          const end = scanQuoted(text, j, q);
          sc.emit(end < 0 ? TK.Other : q === 0x22 ? TK.String : TK.Char, i, end < 0 ? n : end, ws);
          i = end < 0 ? n : end;
          ws = false;
          continue;
        }
      }
      sc.emit(TK.Ident, i, j, ws);
      i = j;
      ws = false;
      // `#include <name>`: the header name is one token, not `<` name `>`.
      if (tokens.length === 2 && tokens[0].text === '#' && isIncludeDirectiveName(tokens[1].text)) {
        let k = j;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 0x3c) {
          const close = text.indexOf('>', k + 1);
          if (close >= 0) {
            sc.emit(TK.HeaderName, k, close + 1, k > j);
            i = close + 1;
          }
        }
      }
      continue;
    }
    if ((c >= 0x30 && c <= 0x39) || (c === 0x2e && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 128 && ((charClass[d] & C_IDCHAR) !== 0 || d === 0x2e)) {
          j++;
          // An exponent sign belongs to the pp-number: 1e+5, 0x1p-3.
          if ((d === 0x65 || d === 0x45 || d === 0x70 || d === 0x50) && j < n) {
            const s = text.charCodeAt(j);
            if (s === 0x2b || s === 0x2d) j++;
          }
        } else break;
      }
      sc.emit(TK.Number, i, j, ws);
      i = j;
      ws = false;
      continue;
    }
    if (c === 0x22 || c === 0x27) {
      const end = scanQuoted(text, i, c);
      sc.emit(end < 0 ? TK.Other : c === 0x22 ? TK.String : TK.Char, i, end < 0 ? n : end, ws);
      i = end < 0 ? n : end;
      ws = false;
      continue;
    }
    if (c === 0x2f) {
      const n1 = text.charCodeAt(i + 1);
      if (n1 === 0x2f) break; // `//` comment: the rest of the logical line
      if (n1 === 0x2a) {
        let close = text.indexOf('*/', i + 2);
        while (close < 0) {
          if (source.next >= source.lines.length) {
            const [phys, col] = sc.place(i);
            const err: UnterminatedComment = { line: phys + 1 + source.lineDelta, col, src: source.lines[phys] };
            throw err;
          }
          // A comment spanning lines: keep lexing the next lines as part of this one, as gcc does.
          const from = text.length;
          sc.text += '\n';
          sc.appendLogical(source);
          text = sc.text;
          close = text.indexOf('*/', Math.max(i + 2, from - 1));
        }
        i = close + 2;
        ws = true;
        continue;
      }
    }
    const len = c < 128 ? punctLength(text, i, c) : 0;
    if (len > 0) {
      sc.emit(TK.Punct, i, i + len, ws);
      i += len;
    } else {
      sc.emit(TK.Other, i, i + 1, ws);
      i++;
    }
    ws = false;
  }
  return tokens;
}

function isIncludeDirectiveName(name: string): boolean {
  return name === 'include' || name === 'include_next' || name === 'import';
}

/**
 * End (exclusive) of the quoted literal opening at text[start] with `quote`,
 * or -1 when the line ends first. A backslash escapes the next character.
 */
function scanQuoted(text: string, start: number, quote: number): number {
  const n = text.length;
  let j = start + 1;
  while (j < n) {
    const d = text.charCodeAt(j);
    if (d === 0x5c) j += 2;
    else if (d === quote) return j + 1;
    else if (d === 0x0a) return -1;
    else j++;
  }
  return -1;
}

/**
 * Lexes a standalone string (no continuation lines), for token pasting.
 * Returns undefined if it holds an unterminated comment.
 */
export function lexFragment(text: string): Token[] | undefined {
  const source: LineSource = { lines: [text], next: 0, presumedName: '', lineDelta: 0, noFinalNewline: true };
  try {
    return lexLogicalLine(source);
  } catch {
    return undefined;
  }
}

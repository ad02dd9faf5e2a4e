/**
 * A C preprocessor for arm64 `.S` files, behaving like
 * `gcc -E -x assembler-with-cpp` (the kernel build runs its assembly through
 * it). The output is a list of lines, each tagged with the file and line it
 * came from, in place of gcc's `# N "file"` line markers.
 *
 * The macro expander follows the structure of gcc's libcpp so that corner
 * cases agree with it: a stack of expansion contexts; a macro is disabled
 * while its context is on the stack and a name met then is painted so it
 * never expands; arguments are collected unexpanded and pre-expanded in
 * isolation; "padding" tokens at macro boundaries decide where the printer
 * needs a space so that tokens do not run together.
 *
 * Lines without directives or macro names take a fast path that copies them
 * through untouched (minus comments).
 *
 * Not supported: __VA_OPT__, the _Pragma operator, assertions (#assert and
 * `#if #machine(x)`). Pragmas other than `once` are dropped rather than
 * printed, as are #ident lines.
 */
import * as fs from 'node:fs';
import {
  DiagnosticError,
  diagnostic,
  formatDiagnostic,
  type Diagnostic,
  type SourceLocation,
} from '../common/diagnostics.js';
import { evaluateCondition, type ExprHost } from './preprocess-expr.js';
import {
  TF,
  TK,
  C_DIGIT,
  C_IDCHAR,
  C_IDSTART,
  charClass,
  copyToken,
  endsWithBackslash,
  lexFragment,
  lexLogicalLine,
  makeToken,
  type LineSource,
  type Token,
  type UnterminatedComment,
} from './preprocess-lexer.js';

export interface PreprocessOptions {
  /** Path of the main file, used in diagnostics and line origins. */
  file: string;
  /** -I directories, searched in order. */
  includeDirs?: string[];
  /** -D NAME=VALUE ("1" when no value given). A NAME like `F(x)` defines a function-like macro. */
  defines?: Record<string, string>;
  /** Defaults to the file system; returns undefined when the file is missing. */
  readFile?: (path: string) => string | undefined;
  /** Default 200, as gcc. */
  maxIncludeDepth?: number;
  /** Receives warnings (`#warning`, redefinitions); by default they are printed to stderr. */
  onDiagnostic?: (d: Diagnostic) => void;
}

export interface PreprocessedLine {
  text: string;
  /** Origin: presumed file name (as found on the include path, or as set by `#line`). */
  file: string;
  /** Origin: 1-based line of the first physical line of the output line. */
  line: number;
}

/**
 * Macros defined before the main file, besides the builtins. gcc defines
 * __ASSEMBLER__ in this mode; the kernel's Makefiles add -D__ASSEMBLY__; the
 * rest describe the AArch64 LP64 little-endian target.
 */
export const PREDEFINED_MACROS: Readonly<Record<string, string>> = {
  __ASSEMBLY__: '1',
  __ASSEMBLER__: '1',
  __aarch64__: '1',
  __AARCH64EL__: '1',
  __LP64__: '1',
  _LP64: '1',
  __CHAR_BIT__: '8',
  __SIZEOF_INT__: '4',
  __SIZEOF_LONG__: '8',
  __SIZEOF_POINTER__: '8',
  __ORDER_LITTLE_ENDIAN__: '1234',
  __ORDER_BIG_ENDIAN__: '4321',
  __BYTE_ORDER__: '__ORDER_LITTLE_ENDIAN__',
};

export function preprocess(source: string, opts: PreprocessOptions): PreprocessedLine[] {
  const pp = new Preprocessor(opts);
  try {
    return pp.run(source);
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    // Only pathological input gets here (e.g. expansion nested past the JS stack).
    const reason = e instanceof RangeError ? 'macro expansion or #include nested too deeply' : `internal preprocessor error: ${String(e)}`;
    throw new DiagnosticError([diagnostic(pp.currentLocation(), reason)]);
  }
}

type Builtin = 'FILE' | 'LINE' | 'COUNTER' | 'INCLUDE_LEVEL' | 'BASE_FILE' | 'DATE' | 'TIME';

interface Macro {
  name: string;
  /** null for object-like macros. */
  params: string[] | null;
  variadic: boolean;
  body: Token[];
  builtin: Builtin | null;
  /** Set while the macro's expansion is on the context stack. */
  disabled: boolean;
}

/** One level of macro expansion (or a pushed-back token list). */
interface Context {
  tokens: Token[];
  pos: number;
  /** Effective source line of each token, for __LINE__ (null: all are `line`). */
  lines: number[] | null;
  line: number;
  /** Re-enabled when this context is popped. */
  macro: Macro | null;
  /** The expansion these tokens belong to, for deciding what is a top-level invocation. */
  owner: Macro | null;
}

interface MacroArgument {
  raw: Token[];
  rawLines: number[];
  expanded: Token[] | null;
  expandedLines: number[] | null;
  stringified: Token | null;
  /** GNU `, ## __VA_ARGS__`: the comma is dropped when the variadic argument is left out. */
  omitted: boolean;
}

interface SourceText {
  lines: string[];
  noFinalNewline: boolean;
}

interface Conditional {
  directive: string;
  at: Token;
  /** Whether the enclosing text was already being skipped. */
  wasSkipping: boolean;
  /** Whether some group of this conditional has been taken. */
  taken: boolean;
  sawElse: boolean;
}

interface SourceFile extends LineSource {
  /** Path it was opened by, for include lookups relative to it. */
  path: string;
  dir: string;
  conds: Conditional[];
  /** Index in includeDirs it was found in; -1 for the main file or the includer's directory. */
  foundIn: number;
}

const DIRECTIVES = new Set([
  'define',
  'undef',
  'include',
  'include_next',
  'import',
  'if',
  'ifdef',
  'ifndef',
  'elif',
  'elifdef',
  'elifndef',
  'else',
  'endif',
  'line',
  'error',
  'warning',
  'pragma',
  'ident',
  'sccs',
  'assert',
  'unassert',
]);
const CONDITIONAL_DIRECTIVES = new Set(['if', 'ifdef', 'ifndef', 'elif', 'elifdef', 'elifndef', 'else', 'endif']);
/** Names `defined` reports as defined although they are operators, as gcc does. */
const SPECIAL_OPERATORS = new Set(['__has_include', '__has_include_next', '__has_attribute', '__has_cpp_attribute', '__has_builtin']);

const AVOID_PASTE: Token = makeToken(TK.Padding, '', 0, '', 0, 0, '');
const MAX_CONTEXT_DEPTH = 20000;
const MAX_ARG_NESTING = 256;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Lines that cannot hold a directive or the start of a comment, so skipped groups can drop them unlexed. */
const NEEDS_LEXING_WHEN_SKIPPED = /^[ \t]*#|[/'"\\]/;

function isPunct(t: Token, text: string): boolean {
  return t.kind === TK.Punct && t.text === text;
}

function dirnameOf(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return '';
  return slash === 0 ? '/' : path.slice(0, slash);
}

function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (content.includes('\r')) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
    }
  }
  return lines;
}

function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function defaultReadFile(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** gcc's cpp_avoid_paste: would printing `b` right after `a` lex differently? */
function wouldPaste(a: Token, b: Token): boolean {
  const c = b.kind === TK.Punct ? b.text.charCodeAt(0) : -1;
  if (a.kind === TK.Punct) {
    switch (a.text) {
      case '=':
      case '!':
      case '*':
      case '^':
      case '>>':
      case '<<':
        return c === 0x3d;
      case '>':
        return c === 0x3d || c === 0x3e;
      case '<':
        return c === 0x3d || c === 0x3c || c === 0x25 || c === 0x3a;
      case '+':
        return c === 0x3d || c === 0x2b;
      case '-':
        return c === 0x3d || c === 0x2d || c === 0x3e;
      case '/':
        return c === 0x3d || c === 0x2f || c === 0x2a;
      case '%':
        return c === 0x3d || c === 0x3a || c === 0x25;
      case '&':
        return c === 0x3d || c === 0x26;
      case '|':
        return c === 0x3d || c === 0x7c;
      case ':':
        return c === 0x3a || c === 0x3e;
      case '->':
        return c === 0x2a;
      case '.':
        return c === 0x2e || c === 0x25 || b.kind === TK.Number;
      case '#':
        return c === 0x23 || c === 0x25;
      case '<=':
        return c === 0x3e;
      default:
        return false;
    }
  }
  const plainLiteral = (b.kind === TK.String || b.kind === TK.Char) && b.text[0] !== 'L';
  if (a.kind === TK.Ident) return b.kind === TK.Ident || plainLiteral;
  if (a.kind === TK.Number) {
    return b.kind === TK.Number || b.kind === TK.Ident || (b.kind === TK.Char && b.text[0] !== 'L') || c === 0x2e || c === 0x2b || c === 0x2d;
  }
  if (a.kind === TK.Other) return a.text[0] === '\\' && b.kind === TK.Ident;
  return false;
}

class Preprocessor {
  private readonly includeDirs: string[];
  private readonly readFile: (path: string) => string | undefined;
  private readonly maxIncludeDepth: number;
  private readonly report: (d: Diagnostic) => void;
  private readonly fileCache = new Map<string, SourceText | null>();
  private readonly onceFiles = new Set<string>();

  private readonly macros = new Map<string, Macro>();
  private readonly files: SourceFile[] = [];
  private mainFile = '';

  // Tokens of the current logical line, and tokens stepped back over.
  private lineTokens: Token[] = [];
  private linePos = 0;
  private readonly lookahead: Token[] = [];

  private readonly contexts: Context[] = [];
  private skipping = false;
  private inDirective = false;
  /** 1 while looking for the `(` of a function-like macro, 2 while collecting its arguments. */
  private parsingArgs: 0 | 1 | 2 = 0;
  private preventExpansion = 0;

  // For __LINE__: gcc reports the line of the outermost invocation, or, under a
  // function-like macro, the line where the __LINE__ token itself came from.
  private curLine = 0;
  private invocationLine = 0;
  private topMostFunctionLike = false;
  private aboutToExpand = false;
  private counter = 0;
  private argNesting = 0;

  // Printer state (gcc's scan_translation_unit).
  private readonly out: PreprocessedLine[] = [];
  /** Pieces of the output line being built; null when none is open. */
  private curParts: string[] | null = null;
  private curFile = '';
  private curLineNo = 0;
  private printedAny = false;
  private printPrev: Token | null = null;
  private printSource: Token | null = null;
  private printAvoidPaste = false;

  constructor(opts: PreprocessOptions) {
    this.includeDirs = (opts.includeDirs ?? []).map((d) => (d.length > 1 ? d.replace(/\/+$/, '') : d));
    this.readFile = opts.readFile ?? defaultReadFile;
    this.maxIncludeDepth = opts.maxIncludeDepth ?? 200;
    this.report =
      opts.onDiagnostic ??
      ((d) => {
        process.stderr.write(`${formatDiagnostic(d)}\n`);
      });
    this.mainFile = opts.file;
    for (const name of ['__FILE__', '__LINE__', '__COUNTER__', '__INCLUDE_LEVEL__', '__BASE_FILE__', '__DATE__', '__TIME__']) {
      const builtin = name.slice(2, -2) as Builtin;
      this.macros.set(name, { name, params: null, variadic: false, body: [], builtin, disabled: false });
    }
    for (const [name, value] of Object.entries(PREDEFINED_MACROS)) this.defineFromCommandLine(name, value);
    for (const [name, value] of Object.entries(opts.defines ?? {})) this.defineFromCommandLine(name, value);
  }

  run(source: string): PreprocessedLine[] {
    this.files.push({
      lines: splitLines(source),
      noFinalNewline: source.length > 0 && !source.endsWith('\n'),
      next: 0,
      presumedName: this.mainFile,
      lineDelta: 0,
      path: this.mainFile,
      dir: dirnameOf(this.mainFile),
      conds: [],
      foundIn: -1,
    });
    for (;;) {
      if (this.contexts.length === 0 && this.lookahead.length === 0 && this.linePos >= this.lineTokens.length && !this.skipping) {
        const f = this.files[this.files.length - 1];
        if (f !== undefined && f.next < f.lines.length && this.tryFastLine(f)) continue;
      }
      const tok = this.getToken();
      if (tok.kind === TK.EOF) break;
      this.print(tok);
    }
    this.flushLine();
    return this.out;
  }

  /** Best-effort position for errors that are not tied to a token. */
  currentLocation(): SourceLocation {
    const f = this.files[this.files.length - 1];
    if (this.linePos > 0 && this.linePos <= this.lineTokens.length) return this.loc(this.lineTokens[this.linePos - 1]);
    if (f === undefined) return { file: this.mainFile, line: 1, col: 0 };
    return { file: f.presumedName, line: Math.max(1, f.next + f.lineDelta), col: 0 };
  }

  // ---------------------------------------------------------------- diagnostics

  private loc(t: Token): SourceLocation {
    return { file: t.file, line: t.line, col: t.col, text: t.src };
  }

  private fail(t: Token, message: string): never {
    throw new DiagnosticError([diagnostic(this.loc(t), message)]);
  }

  private warn(t: Token, message: string): void {
    this.report(diagnostic(this.loc(t), message, 'warning'));
  }

  // ---------------------------------------------------------------- fast path

  /**
   * Copies the next physical line straight to the output when the full
   * machinery cannot change it: no directive, no continuation, no identifier
   * that names a macro, and comments that close on the same line (they are
   * cut out here). Returns false to leave the line to the lexer.
   */
  private tryFastLine(f: SourceFile): boolean {
    const line = f.lines[f.next];
    const n = line.length;
    let i = 0;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 0x20 || c === 0x09) i++;
      else break;
    }
    if (i === n) {
      f.next++;
      return true;
    }
    if (line.charCodeAt(i) === 0x23) return false;
    const macros = this.macros;
    let end = n;
    let sawQuote = false;
    // Pieces of the line kept around same-line /* */ comments (each comment becomes a space).
    let kept: string[] | null = null;
    let keptFrom = 0;
    for (; i < n; i++) {
      const c = line.charCodeAt(i);
      if (c >= 128) continue;
      const cls = charClass[c];
      if ((cls & C_IDSTART) !== 0) {
        // Identifier (or the tail of a pp-number: checking it too is merely conservative).
        let j = i + 1;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d < 128 && (charClass[d] & C_IDCHAR) !== 0) j++;
          else break;
        }
        if (macros.has(line.slice(i, j))) return false;
        i = j - 1;
      } else if ((cls & C_DIGIT) !== 0) {
        // A pp-number never contains an identifier token: skip it whole.
        let j = i + 1;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d < 128 && ((charClass[d] & C_IDCHAR) !== 0 || d === 0x2e)) j++;
          else break;
        }
        i = j - 1;
      } else if (c === 0x2f) {
        const d = line.charCodeAt(i + 1);
        if (d === 0x2a) {
          // A comment after a quote might be inside a string; one that runs past the line needs the lexer.
          const close = sawQuote ? -1 : line.indexOf('*/', i + 2);
          if (close < 0) return false;
          kept ??= [];
          kept.push(line.slice(keptFrom, i), ' ');
          keptFrom = close + 2;
          i = close + 1;
          continue;
        }
        if (d === 0x2f) {
          // A `//` after a quote might sit inside a string literal.
          if (sawQuote || endsWithBackslash(line)) return false;
          end = i;
          break;
        }
      } else if (c === 0x22 || c === 0x27) {
        sawQuote = true;
      } else if (c === 0x5c) {
        if (endsWithBackslash(line)) return false;
      }
    }
    let text: string;
    if (kept === null) text = end === n ? line : line.slice(0, end);
    else {
      kept.push(line.slice(keptFrom, end));
      text = kept.join('');
    }
    const last = text.charCodeAt(text.length - 1);
    if (last === 0x20 || last === 0x09) text = text.trimEnd();
    f.next++;
    if (text.length > 0 && text.trim().length > 0) {
      this.flushLine();
      this.out.push({ text, file: f.presumedName, line: f.next + f.lineDelta });
    }
    return true;
  }

  // ---------------------------------------------------------------- printer

  /** Opens the output line started by `t`, the first token of a source line, keeping its indentation. */
  private startOutputLine(t: Token): void {
    this.flushLine();
    const src = t.src;
    let k = 0;
    while (k < t.col - 1 && (src.charCodeAt(k) === 0x20 || src.charCodeAt(k) === 0x09)) k++;
    this.curParts = [k === 0 ? '' : k === t.col - 1 ? src.slice(0, k) : ' '];
    this.curFile = t.file;
    this.curLineNo = t.line;
    this.printedAny = false;
    this.printPrev = null;
    this.printSource = null;
    this.printAvoidPaste = false;
  }

  private flushLine(): void {
    if (this.curParts !== null && this.printedAny) {
      this.out.push({ text: this.curParts.join(''), file: this.curFile, line: this.curLineNo });
    }
    this.curParts = null;
    this.printedAny = false;
  }

  /** Spacing as gcc prints it: a space where the source had one, or where tokens would otherwise merge. */
  private print(t: Token): void {
    if (t.kind === TK.Padding) {
      this.printAvoidPaste = true;
      if (this.printSource === null || (!(this.printSource.flags & TF.WS) && t.source === null)) this.printSource = t.source;
      return;
    }
    if (this.curParts === null) this.startOutputLine(t);
    const parts = this.curParts as string[];
    let space: boolean;
    if (this.printAvoidPaste) {
      const source = this.printSource ?? t;
      space = (source.flags & TF.WS) !== 0 || (this.printPrev !== null && wouldPaste(this.printPrev, t));
    } else {
      space = (t.flags & TF.WS) !== 0;
    }
    if (space && this.printedAny) parts.push(' ');
    parts.push(t.text);
    this.printedAny = true;
    this.printAvoidPaste = false;
    this.printSource = null;
    this.printPrev = t;
  }

  // ---------------------------------------------------------------- base lexer

  private lexLine(f: SourceFile): Token[] {
    try {
      return lexLogicalLine(f);
    } catch (e) {
      if (e instanceof Error) throw e;
      const at = e as UnterminatedComment;
      throw new DiagnosticError([diagnostic({ file: f.presumedName, line: at.line, col: at.col, text: at.src }, 'unterminated comment')]);
    }
  }

  /** Reads the next logical line into lineTokens; false at the end of input (or of a file while collecting arguments). */
  private readLine(): boolean {
    for (;;) {
      const f = this.files[this.files.length - 1];
      if (f === undefined) return false;
      if (f.next >= f.lines.length) {
        // Macro arguments never run past the end of a file.
        if (this.parsingArgs !== 0) return false;
        this.finishFile(f);
        if (this.files.length === 0) return false;
        continue;
      }
      if (this.skipping && !NEEDS_LEXING_WHEN_SKIPPED.test(f.lines[f.next])) {
        f.next++;
        continue;
      }
      const toks = this.lexLine(f);
      if (toks.length === 0) continue;
      if (this.skipping && !isPunct(toks[0], '#')) continue;
      this.lineTokens = toks;
      this.linePos = 0;
      return true;
    }
  }

  private finishFile(f: SourceFile): void {
    if (f.conds.length > 0) {
      const diags = [...f.conds].reverse().map((c) => diagnostic({ file: c.at.file, line: c.at.line, col: 0, text: c.at.src }, `unterminated #${c.directive}`));
      throw new DiagnosticError(diags);
    }
    this.files.pop();
    this.skipping = false;
  }

  private eofToken(): Token {
    const last = this.lineTokens.length > 0 ? this.lineTokens[this.lineTokens.length - 1] : null;
    if (last !== null) return makeToken(TK.EOF, '', 0, last.file, last.line, last.col + last.text.length, last.src);
    const f = this.files[this.files.length - 1];
    const lines = f?.lines ?? [];
    return makeToken(TK.EOF, '', 0, f?.presumedName ?? this.mainFile, Math.max(1, lines.length + (f?.lineDelta ?? 0)), 0, lines[lines.length - 1] ?? '');
  }

  /** gcc's _cpp_lex_token: next token from the files, running directives met at the start of lines. */
  private lexBase(): Token {
    for (;;) {
      let tok: Token;
      if (this.lookahead.length > 0) tok = this.lookahead.pop() as Token;
      else if (this.linePos < this.lineTokens.length) tok = this.lineTokens[this.linePos++];
      else {
        if (this.inDirective || !this.readLine()) return this.eofToken();
        continue;
      }
      if (tok.flags & TF.BOL) {
        // While looking for a macro's `(`, a directive is not run yet: it stops the search.
        if (tok.kind === TK.Punct && tok.text === '#' && this.parsingArgs !== 1 && this.handleDirective(tok)) continue;
        if (this.skipping) {
          this.linePos = this.lineTokens.length;
          continue;
        }
        if (this.parsingArgs === 0) this.startOutputLine(tok);
        else if (this.parsingArgs === 2) tok = copyToken(tok, tok.flags | TF.WS); // a newline inside arguments is a space
      } else if (this.skipping && !this.inDirective) {
        continue;
      }
      return tok;
    }
  }

  // ---------------------------------------------------------------- expansion

  private pushContext(tokens: Token[], lines: number[] | null, line: number, macro: Macro | null, owner: Macro | null): void {
    if (this.contexts.length >= MAX_CONTEXT_DEPTH) {
      throw new DiagnosticError([diagnostic(this.currentLocation(), 'macro expansion nested too deeply')]);
    }
    this.contexts.push({ tokens, pos: 0, lines, line, macro, owner });
  }

  private popContext(): void {
    const ctx = this.contexts.pop();
    if (ctx?.macro) ctx.macro.disabled = false;
  }

  private inMacroExpansion(): boolean {
    if (this.aboutToExpand) return true;
    const top = this.contexts[this.contexts.length - 1];
    return top !== undefined && top.owner !== null;
  }

  private padding(source: Token): Token {
    const p = makeToken(TK.Padding, '', 0, source.file, source.line, source.col, source.src);
    p.source = source;
    return p;
  }

  /** Steps back over the last token read (it came from the top context, or from the lexer). */
  private backup(t: Token): void {
    const top = this.contexts[this.contexts.length - 1];
    if (top === undefined) this.lookahead.push(t);
    else top.pos--;
  }

  /** gcc's cpp_get_token: the next token after macro expansion. */
  private getToken(): Token {
    for (;;) {
      let tok: Token;
      const depth = this.contexts.length;
      if (depth === 0) {
        tok = this.lexBase();
        this.curLine = tok.line;
      } else {
        const ctx = this.contexts[depth - 1];
        if (ctx.pos < ctx.tokens.length) {
          const index = ctx.pos++;
          tok = ctx.tokens[index];
          this.curLine = ctx.lines === null ? ctx.line : ctx.lines[index];
          if (tok.flags & TF.PASTE_LEFT) {
            this.pasteAll(tok, this.curLine);
            if (this.inDirective) continue;
            return this.padding(tok);
          }
        } else {
          this.popContext();
          if (this.inDirective) continue;
          return AVOID_PASTE;
        }
      }
      if (tok.kind !== TK.Ident || tok.flags & TF.NO_EXPAND) return tok;
      const macro = this.macros.get(tok.text);
      if (macro === undefined) return tok;
      if (macro.disabled) return copyToken(tok, tok.flags | TF.NO_EXPAND);
      if (!this.inMacroExpansion()) {
        this.invocationLine = this.curLine;
        this.topMostFunctionLike = macro.params !== null;
      }
      if (this.preventExpansion > 0) return tok;
      const savedAboutToExpand = this.aboutToExpand;
      const entered = this.enterMacro(macro, tok, this.curLine);
      this.aboutToExpand = savedAboutToExpand;
      if (entered) {
        if (this.inDirective) continue;
        return this.padding(tok);
      }
      return tok;
    }
  }

  /** Pushes the expansion of `macro` invoked by `name`; false if a function-like macro has no arguments. */
  private enterMacro(macro: Macro, name: Token, line: number): boolean {
    this.aboutToExpand = true;
    if (macro.builtin !== null) {
      this.pushContext([this.builtinToken(macro.builtin, name, line)], null, line, null, null);
      this.aboutToExpand = false;
      return true;
    }
    let tokens = macro.body;
    let lines: number[] | null = null;
    if (macro.params !== null) {
      const savedParsing = this.parsingArgs;
      this.preventExpansion++;
      this.parsingArgs = 1;
      let padding: Token | null = null;
      let t: Token;
      for (;;) {
        t = this.getToken();
        if (t.kind !== TK.Padding) break;
        if (padding === null || padding.source === null || (!(padding.source.flags & TF.WS) && t.source === null)) padding = t;
      }
      let args: MacroArgument[] | null = null;
      if (isPunct(t, '(')) {
        this.parsingArgs = 2;
        args = this.collectArgs(macro, name);
      } else {
        // The end of a file is not stepped back over; the end of an argument is.
        if (t.kind !== TK.EOF || t.flags & TF.ARG_END) this.backup(t);
        if (padding !== null) this.pushContext([padding], null, this.curLine, null, null);
      }
      this.parsingArgs = savedParsing;
      this.preventExpansion--;
      if (args === null) {
        this.aboutToExpand = false;
        return false;
      }
      if (macro.params.length > 0) {
        const replaced = this.replaceArgs(macro, args, line);
        tokens = replaced.tokens;
        lines = replaced.lines;
      }
    }
    macro.disabled = true;
    this.pushContext(tokens, lines, line, macro, macro);
    this.aboutToExpand = false;
    return true;
  }

  private builtinToken(kind: Builtin, name: Token, line: number): Token {
    const make = (k: typeof TK.Number | typeof TK.String, text: string): Token => makeToken(k, text, 0, name.file, name.line, name.col, name.src);
    const f = this.files[this.files.length - 1];
    switch (kind) {
      case 'LINE':
        return make(TK.Number, String(this.topMostFunctionLike ? line : this.invocationLine));
      case 'FILE':
        return make(TK.String, quoteString(f?.presumedName ?? this.mainFile));
      case 'BASE_FILE':
        return make(TK.String, quoteString(this.mainFile));
      case 'COUNTER':
        return make(TK.Number, String(this.counter++));
      case 'INCLUDE_LEVEL':
        return make(TK.Number, String(Math.max(0, this.files.length - 1)));
      case 'DATE': {
        const d = new Date();
        return make(TK.String, `"${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${d.getFullYear()}"`);
      }
      case 'TIME': {
        const d = new Date();
        const two = (v: number): string => String(v).padStart(2, '0');
        return make(TK.String, `"${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}"`);
      }
    }
  }

  /** Reads the arguments of a function-like macro after its `(`; gcc's collect_args. */
  private collectArgs(macro: Macro, name: Token): MacroArgument[] {
    const params = macro.params as string[];
    const paramCount = params.length;
    const args: MacroArgument[] = [];
    let argCount = 0;
    let tok: Token;
    do {
      argCount++;
      const arg: MacroArgument = { raw: [], rawLines: [], expanded: null, expandedLines: null, stringified: null, omitted: false };
      let depth = 0;
      for (;;) {
        tok = this.getToken();
        const line = this.curLine;
        if (tok.kind === TK.Padding) {
          if (arg.raw.length === 0) continue; // drop leading padding
        } else if (tok.kind === TK.Punct) {
          if (tok.text === '(') depth++;
          else if (tok.text === ')') {
            if (depth === 0) break;
            depth--;
          } else if (tok.text === ',') {
            // A comma inside parentheses, or within the variadic argument, does not split.
            if (depth === 0 && !(macro.variadic && argCount === paramCount)) break;
          } else if (tok.text === '#' && tok.flags & TF.BOL) {
            break; // an assembler `#` line inside the arguments ends an argument, as in gcc
          }
        } else if (tok.kind === TK.EOF) {
          break;
        }
        arg.raw.push(tok);
        arg.rawLines.push(line);
      }
      while (arg.raw.length > 0 && arg.raw[arg.raw.length - 1].kind === TK.Padding) {
        arg.raw.pop();
        arg.rawLines.pop();
      }
      args.push(arg);
    } while (!isPunct(tok, ')') && tok.kind !== TK.EOF);

    if (tok.kind === TK.EOF) this.fail(name, `unterminated argument list invoking macro "${macro.name}"`);
    // A single empty argument is no argument at all for a macro without parameters.
    if (argCount === 1 && paramCount === 0 && args[0].raw.length === 0) argCount = 0;
    if (argCount < paramCount) {
      if (!(argCount + 1 === paramCount && macro.variadic)) {
        this.fail(tok, `macro "${macro.name}" requires ${paramCount} arguments, but only ${argCount} given`);
      }
      args.push({ raw: [], rawLines: [], expanded: null, expandedLines: null, stringified: null, omitted: false });
    } else if (argCount > paramCount) {
      this.fail(tok, `macro "${macro.name}" passed ${argCount} arguments, but takes just ${paramCount}`);
    }
    if (macro.variadic && (argCount < paramCount || (argCount === 1 && args[0].raw.length === 0))) {
      args[paramCount - 1].omitted = true;
    }
    return args;
  }

  /** Fully macro-expands one argument on its own (gcc's expand_arg). */
  private expandArg(arg: MacroArgument): void {
    const tokens: Token[] = [];
    const lines: number[] = [];
    if (arg.raw.length > 0) {
      // Each level re-reads the inner levels' tokens, so deep nesting is quadratic: bound it.
      if (++this.argNesting > MAX_ARG_NESTING) this.fail(arg.raw[0], 'macro arguments nested too deeply');
      const end = makeToken(TK.EOF, '', TF.ARG_END, '', 0, 0, '');
      const depth = this.contexts.length;
      this.pushContext([...arg.raw, end], [...arg.rawLines, 0], 0, null, null);
      for (;;) {
        const t = this.getToken();
        if (t.kind === TK.EOF) break;
        tokens.push(t);
        lines.push(this.curLine);
      }
      while (this.contexts.length > depth) this.popContext();
      this.argNesting--;
    }
    arg.expanded = tokens;
    arg.expandedLines = lines;
  }

  /** Substitutes arguments into a function-like macro body (gcc's replace_args). */
  private replaceArgs(macro: Macro, args: MacroArgument[], line: number): { tokens: Token[]; lines: number[] } {
    const body = macro.body;
    const out: Token[] = [];
    const lines: number[] = [];
    const paramCount = (macro.params as string[]).length;
    for (let i = 0; i < body.length; i++) {
      const src = body[i];
      if (src.kind !== TK.MacroArg) {
        out.push(src);
        lines.push(line);
        continue;
      }
      const arg = args[src.argIndex];
      const afterPaste = i > 0 && (body[i - 1].flags & TF.PASTE_LEFT) !== 0;
      let from: Token[];
      let fromLines: number[];
      let pasteFix = -1; // index in `out` of a token whose PASTE_LEFT flag must follow src's
      if (src.flags & TF.STRINGIFY) {
        if (arg.stringified === null) arg.stringified = this.stringify(arg.raw, src);
        from = [arg.stringified];
        fromLines = [line];
      } else if (src.flags & TF.PASTE_LEFT) {
        from = arg.raw;
        fromLines = arg.rawLines;
      } else if (afterPaste) {
        from = arg.raw;
        fromLines = arg.rawLines;
        if (out.length > 0) {
          const last = out.length - 1;
          if (isPunct(out[last], ',') && macro.variadic && src.argIndex === paramCount - 1) {
            // GNU `, ## __VA_ARGS__`: drop the comma if the arguments were left out, else just do not paste.
            if (arg.omitted) {
              out.pop();
              lines.pop();
            } else {
              pasteFix = last;
            }
          } else if (from.length === 0) {
            pasteFix = last;
          }
        }
      } else {
        if (arg.expanded === null) this.expandArg(arg);
        from = arg.expanded as Token[];
        fromLines = arg.expandedLines as number[];
      }
      // Padding on the left of an argument (unless it is the right side of ##).
      if (!this.inDirective && i > 0 && !afterPaste) {
        out.push(this.padding(src));
        lines.push(line);
      }
      if (from.length > 0) {
        for (let k = 0; k < from.length; k++) {
          out.push(from[k]);
          lines.push(fromLines[k]);
        }
        if (src.flags & TF.PASTE_LEFT) pasteFix = out.length - 1;
      }
      if (!this.inDirective && !(src.flags & TF.PASTE_LEFT)) {
        out.push(AVOID_PASTE);
        lines.push(line);
      }
      if (pasteFix >= 0) {
        const t = out[pasteFix];
        out[pasteFix] = copyToken(t, src.flags & TF.PASTE_LEFT ? t.flags | TF.PASTE_LEFT : t.flags & ~TF.PASTE_LEFT);
      }
    }
    return { tokens: out, lines };
  }

  /** `#param`: the argument's spelling as a string literal (gcc's stringify_arg). */
  private stringify(tokens: Token[], at: Token): Token {
    let text = '"';
    let source: Token | null = null;
    let first = true;
    let backslashes = 0;
    for (const t of tokens) {
      if (t.kind === TK.Padding) {
        if (source === null || (!(source.flags & TF.WS) && t.source === null)) source = t.source;
        continue;
      }
      if (!first) {
        if (source === null) source = t;
        if (source.flags & TF.WS) text += ' ';
      }
      source = null;
      first = false;
      text += t.kind === TK.String || t.kind === TK.Char ? t.text.replace(/[\\"]/g, '\\$&') : t.text;
      backslashes = t.kind === TK.Other && t.text[0] === '\\' ? backslashes + 1 : 0;
    }
    if (backslashes & 1) {
      this.warn(at, "invalid string literal, ignoring final '\\'");
      text = text.slice(0, -1);
    }
    return makeToken(TK.String, `${text}"`, 0, at.file, at.line, at.col, at.src);
  }

  /** Handles `a ## b ## c` starting at `first`, read from the top context (gcc's paste_all_tokens). */
  private pasteAll(first: Token, line: number): void {
    const ctx = this.contexts[this.contexts.length - 1];
    let lhs = first;
    let rhs: Token;
    do {
      if (ctx.pos >= ctx.tokens.length) {
        lhs = copyToken(lhs, lhs.flags & ~TF.PASTE_LEFT);
        break;
      }
      rhs = ctx.tokens[ctx.pos++];
      if (rhs.kind === TK.Padding) {
        lhs = copyToken(lhs, lhs.flags & ~TF.PASTE_LEFT);
        break;
      }
      const pasted = this.pasteTokens(lhs, rhs);
      if (pasted === null) {
        // Assembler mode: an invalid paste is no error, the tokens just stay apart.
        ctx.pos--;
        lhs = copyToken(lhs, lhs.flags & ~TF.PASTE_LEFT);
        break;
      }
      lhs = pasted;
    } while (rhs.flags & TF.PASTE_LEFT);
    this.pushContext([lhs], null, line, null, ctx.owner);
  }

  private pasteTokens(lhs: Token, rhs: Token): Token | null {
    // gcc keeps `/` apart from anything but `=` so that no comment is formed.
    if (isPunct(lhs, '/') && !isPunct(rhs, '=')) return null;
    const text = lhs.text + rhs.text;
    const lexed = lexFragment(text);
    if (lexed === undefined || lexed.length !== 1 || lexed[0].text !== text) return null;
    return makeToken(lexed[0].kind, text, lhs.flags & TF.WS, lhs.file, lhs.line, lhs.col, lhs.src);
  }

  // ---------------------------------------------------------------- directives

  /** Next token of the directive line, unexpanded; EOF at its end. */
  private directiveToken(): Token {
    if (this.linePos < this.lineTokens.length) return this.lineTokens[this.linePos++];
    return this.eofToken();
  }

  /** Rest of the directive line, macro-expanded, without paddings. */
  private expandedDirectiveTokens(): Token[] {
    const toks: Token[] = [];
    for (;;) {
      const t = this.getToken();
      if (t.kind === TK.EOF) return toks;
      if (t.kind !== TK.Padding) toks.push(t);
    }
  }

  /** Runs the directive introduced by `hash`; false if the line is not a directive (an assembler `#`). */
  private handleDirective(hash: Token): boolean {
    if (this.linePos >= this.lineTokens.length) return true; // the null directive
    const nameTok = this.lineTokens[this.linePos];
    const name = nameTok.kind === TK.Ident && DIRECTIVES.has(nameTok.text) ? nameTok.text : null;
    if (name === null || (this.skipping && !CONDITIONAL_DIRECTIVES.has(name))) {
      if (!this.skipping) return false; // gcc passes unknown `#` lines through in assembler mode
      this.linePos = this.lineTokens.length;
      return true;
    }
    this.linePos++;
    const savedParsing = this.parsingArgs;
    const savedPrevent = this.preventExpansion;
    const depth = this.contexts.length;
    this.parsingArgs = 0;
    this.preventExpansion = 0;
    this.inDirective = true;
    const pendingInclude = this.runDirective(name, nameTok, hash);
    while (this.contexts.length > depth) this.popContext();
    this.inDirective = false;
    this.parsingArgs = savedParsing;
    this.preventExpansion = savedPrevent;
    this.linePos = this.lineTokens.length;
    if (pendingInclude !== null) this.files.push(pendingInclude);
    return true;
  }

  /** Returns a file to enter once the directive line is done, for #include. */
  private runDirective(name: string, nameTok: Token, hash: Token): SourceFile | null {
    switch (name) {
      case 'define':
        this.doDefine(nameTok);
        return null;
      case 'undef':
        this.doUndef(nameTok);
        return null;
      case 'include':
      case 'include_next':
      case 'import':
        return this.doInclude(name, nameTok);
      case 'if':
      case 'ifdef':
      case 'ifndef':
        this.doIf(name, nameTok, hash);
        return null;
      case 'elif':
      case 'elifdef':
      case 'elifndef':
        this.doElif(name, nameTok);
        return null;
      case 'else':
        this.doElse(nameTok);
        return null;
      case 'endif':
        this.doEndif(nameTok);
        return null;
      case 'line':
        this.doLine(nameTok);
        return null;
      case 'error':
        return this.fail(nameTok, `#error ${this.restOfLineText()}`.trimEnd());
      case 'warning':
        this.warn(nameTok, `#warning ${this.restOfLineText()}`.trimEnd());
        return null;
      case 'pragma':
        this.doPragma();
        return null;
      default:
        // #ident, #sccs, #assert, #unassert: accepted and ignored.
        return null;
    }
  }

  private restOfLineText(): string {
    let text = '';
    while (this.linePos < this.lineTokens.length) {
      const t = this.lineTokens[this.linePos++];
      if (text.length > 0 && t.flags & TF.WS) text += ' ';
      text += t.text;
    }
    return text;
  }

  private currentFile(): SourceFile {
    return this.files[this.files.length - 1];
  }

  /** Reads the macro name operand of #define, #undef, #ifdef... */
  private macroNameOperand(directive: string, nameTok: Token): Token {
    const t = this.directiveToken();
    if (t.kind === TK.EOF) this.fail({ ...nameTok, col: nameTok.col + nameTok.text.length }, `no macro name given in #${directive} directive`);
    if (t.kind !== TK.Ident) this.fail(t, 'macro names must be identifiers');
    if (t.text === 'defined' || SPECIAL_OPERATORS.has(t.text)) {
      if (directive === 'define' || directive === 'undef') this.fail(t, `"${t.text}" cannot be used as a macro name`);
    }
    return t;
  }

  private doDefine(nameTok: Token): void {
    const name = this.macroNameOperand('define', nameTok);
    const rest = this.lineTokens.slice(this.linePos);
    this.linePos = this.lineTokens.length;
    this.define(name, rest);
  }

  private defineFromCommandLine(name: string, value: string): void {
    const newline = value.indexOf('\n');
    const text = `${name} ${newline >= 0 ? value.slice(0, newline) : value}`;
    const source: LineSource = { lines: [text], next: 0, presumedName: '<command-line>', lineDelta: 0 };
    let toks: Token[];
    try {
      toks = lexLogicalLine(source);
    } catch {
      throw new DiagnosticError([diagnostic({ file: '<command-line>', line: 1, col: 0 }, `bad macro definition "${text}"`)]);
    }
    if (toks.length === 0 || toks[0].kind !== TK.Ident) {
      throw new DiagnosticError([diagnostic({ file: '<command-line>', line: 1, col: 0 }, `macro names must be identifiers: "${name}"`)]);
    }
    this.define(toks[0], toks.slice(1));
  }

  /** Parses a macro definition after its name (gcc's create_iso_definition). */
  private define(nameTok: Token, rest: Token[]): void {
    let params: string[] | null = null;
    let variadic = false;
    let i = 0;
    if (rest.length > 0 && isPunct(rest[0], '(') && !(rest[0].flags & TF.WS)) {
      params = [];
      i = 1;
      let prevIdent = false;
      for (;;) {
        const t = rest[i++];
        if (t === undefined) {
          const end = rest[rest.length - 1];
          const at = { ...end, col: end.col + end.text.length };
          if (variadic) this.fail(at, "expected ')' after \"...\"");
          this.fail(at, prevIdent ? "expected ')' before end of line" : 'expected parameter name before end of line');
        }
        const bad = (): never => {
          if (variadic) this.fail(t, "expected ')' after \"...\"");
          return this.fail(t, prevIdent ? `expected ',' or ')', found "${t.text}"` : `expected parameter name, found "${t.text}"`);
        };
        if (t.kind === TK.Ident) {
          if (prevIdent || variadic) bad();
          if (params.includes(t.text)) this.fail(t, `duplicate macro parameter "${t.text}"`);
          if (t.text === '__VA_ARGS__') this.fail(t, '__VA_ARGS__ can only appear in the expansion of a C99 variadic macro');
          params.push(t.text);
          prevIdent = true;
        } else if (isPunct(t, ')')) {
          if (prevIdent || params.length === 0 || variadic) break;
          bad();
        } else if (isPunct(t, ',')) {
          if (!prevIdent || variadic) bad();
          prevIdent = false;
        } else if (isPunct(t, '...')) {
          if (variadic) bad();
          variadic = true;
          if (!prevIdent) params.push('__VA_ARGS__');
        } else {
          bad();
        }
      }
    }

    const body: Token[] = [];
    let followingPaste = false;
    for (; i < rest.length; i++) {
      const t = rest[i];
      let flags = body.length === 0 ? 0 : t.flags & TF.WS;
      if (isPunct(t, '##')) {
        if (body.length === 0) this.fail(nameTok, "'##' cannot appear at either end of a macro expansion");
        if (!followingPaste) {
          const last = body[body.length - 1];
          body[body.length - 1] = copyToken(last, last.flags | TF.PASTE_LEFT);
        }
        followingPaste = true;
        continue;
      }
      followingPaste = false;
      const paramIndex = params !== null && t.kind === TK.Ident ? params.indexOf(t.text) : -1;
      if (paramIndex >= 0) {
        const prev = body[body.length - 1];
        if (prev !== undefined && isPunct(prev, '#') && !(prev.flags & TF.PASTE_LEFT)) {
          // `# param` stringizes; elsewhere (and in object-like macros) `#` is kept as is for the assembler.
          body.pop();
          flags = TF.STRINGIFY | (prev.flags & TF.WS);
        }
        const arg = copyToken(t, flags);
        arg.kind = TK.MacroArg;
        arg.argIndex = paramIndex;
        body.push(arg);
      } else {
        body.push(copyToken(t, flags));
      }
    }
    if (followingPaste) this.fail(nameTok, "'##' cannot appear at either end of a macro expansion");

    const macro: Macro = { name: nameTok.text, params, variadic, body, builtin: null, disabled: false };
    const old = this.macros.get(macro.name);
    if (old !== undefined && (old.builtin !== null || !sameDefinition(old, macro))) {
      this.warn(nameTok, `"${macro.name}" redefined`);
    }
    this.macros.set(macro.name, macro);
  }

  private doUndef(nameTok: Token): void {
    const name = this.macroNameOperand('undef', nameTok);
    const old = this.macros.get(name.text);
    if (old !== undefined && old.builtin !== null) this.warn(name, `undefining "${name.text}"`);
    this.macros.delete(name.text);
  }

  private isDefined(name: string): boolean {
    return this.macros.has(name) || SPECIAL_OPERATORS.has(name);
  }

  private exprHost(): ExprHost {
    return {
      next: (raw) => {
        if (raw) this.preventExpansion++;
        let t: Token;
        do t = this.getToken();
        while (t.kind === TK.Padding);
        if (raw) this.preventExpansion--;
        return t;
      },
      isDefined: (name) => this.isDefined(name),
      hasInclude: (spec, includeNext) => {
        const angled = spec.startsWith('<');
        return this.findInclude(spec.slice(1, -1), angled, includeNext) !== null;
      },
      fail: (at, message) => this.fail(at, message),
    };
  }

  private evaluate(directive: string, nameTok: Token): boolean {
    return evaluateCondition(this.exprHost(), `#${directive}`, { ...nameTok, col: nameTok.col + nameTok.text.length });
  }

  private doIf(name: string, nameTok: Token, hash: Token): void {
    const f = this.currentFile();
    let value = false;
    if (!this.skipping) {
      if (name === 'if') value = this.evaluate('if', nameTok);
      else {
        const operand = this.macroNameOperand(name, nameTok);
        value = this.isDefined(operand.text) === (name === 'ifdef');
      }
    }
    f.conds.push({ directive: name, at: hash, wasSkipping: this.skipping, taken: value, sawElse: false });
    this.skipping = this.skipping || !value;
  }

  private doElif(name: string, nameTok: Token): void {
    const frame = this.currentFile().conds.at(-1);
    if (frame === undefined) this.fail(nameTok, `#${name} without #if`);
    if (frame.sawElse) this.fail(nameTok, `#${name} after #else`);
    if (frame.wasSkipping) return;
    if (frame.taken) {
      // A group was already taken: later conditions are not even evaluated.
      this.skipping = true;
      return;
    }
    this.skipping = false;
    let value: boolean;
    if (name === 'elif') value = this.evaluate('elif', nameTok);
    else value = this.isDefined(this.macroNameOperand(name, nameTok).text) === (name === 'elifdef');
    frame.taken = value;
    this.skipping = !value;
  }

  private doElse(nameTok: Token): void {
    const frame = this.currentFile().conds.at(-1);
    if (frame === undefined) this.fail(nameTok, '#else without #if');
    if (frame.sawElse) {
      throw new DiagnosticError([
        diagnostic(this.loc(nameTok), '#else after #else'),
        diagnostic({ file: frame.at.file, line: frame.at.line, col: 0, text: frame.at.src }, 'the conditional began here'),
      ]);
    }
    frame.sawElse = true;
    this.skipping = frame.wasSkipping || frame.taken;
    frame.taken = true;
  }

  private doEndif(nameTok: Token): void {
    const frame = this.currentFile().conds.pop();
    if (frame === undefined) this.fail(nameTok, '#endif without #if');
    this.skipping = frame.wasSkipping;
  }

  private doLine(nameTok: Token): void {
    const f = this.currentFile();
    const toks = this.expandedDirectiveTokens();
    if (toks.length === 0) this.fail({ ...nameTok, col: nameTok.col + nameTok.text.length }, 'unexpected end of file after #line');
    const number = toks[0];
    if (number.kind !== TK.Number || !/^[0-9]+$/.test(number.text)) {
      this.fail(number, `"${number.text}" after #line is not a positive integer`);
    }
    const value = Number(number.text);
    if (value > 2147483647) this.fail(number, 'line number out of range');
    if (toks.length > 1) {
      const name = toks[1];
      if (name.kind !== TK.String || !name.text.startsWith('"')) this.fail(name, `invalid filename "${name.text}"`);
      f.presumedName = name.text.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    // The line after the directive gets number `value`.
    f.lineDelta = value - (f.next + 1);
  }

  private doPragma(): void {
    const first = this.directiveToken();
    if (first.kind === TK.Ident && first.text === 'once') this.onceFiles.add(this.currentFile().path);
    // Other pragmas mean nothing to the assembler.
    this.linePos = this.lineTokens.length;
  }

  private readSource(path: string): SourceText | null {
    let text = this.fileCache.get(path);
    if (text === undefined) {
      const content = this.readFile(path);
      text = content === undefined ? null : { lines: splitLines(content), noFinalNewline: content.length > 0 && !content.endsWith('\n') };
      this.fileCache.set(path, text);
    }
    return text;
  }

  /** Searches for a header: the includer's directory first for "..." names, then the -I directories. */
  private findInclude(spec: string, angled: boolean, includeNext: boolean): { path: string; text: SourceText; foundIn: number } | null {
    const f = this.currentFile();
    if (spec.startsWith('/')) {
      const text = this.readSource(spec);
      return text === null ? null : { path: spec, text, foundIn: -1 };
    }
    // #include_next continues after the directory the current file came from.
    const next = includeNext && this.files.length > 1;
    if (!angled && !next) {
      const path = joinPath(f.dir, spec);
      const text = this.readSource(path);
      if (text !== null) return { path, text, foundIn: -1 };
    }
    for (let i = next ? f.foundIn + 1 : 0; i < this.includeDirs.length; i++) {
      const path = joinPath(this.includeDirs[i], spec);
      const text = this.readSource(path);
      if (text !== null) return { path, text, foundIn: i };
    }
    return null;
  }

  private doInclude(kind: string, nameTok: Token): SourceFile | null {
    let t = this.directiveToken();
    let spec: string;
    let angled: boolean;
    if (t.kind === TK.HeaderName) {
      spec = t.text.slice(1, -1);
      angled = true;
    } else if (t.kind === TK.String && t.text.startsWith('"')) {
      spec = t.text.slice(1, -1);
      angled = false;
    } else {
      // Computed include: macro-expand the line, then expect "name" or <name>.
      if (t.kind !== TK.EOF) this.linePos--;
      const toks = this.expandedDirectiveTokens();
      const first = toks[0];
      const expects = `#${kind} expects "FILENAME" or <FILENAME>`;
      if (first === undefined) this.fail(t.kind === TK.EOF ? { ...t, col: nameTok.col + nameTok.text.length } : this.eofToken(), expects);
      t = first;
      if (first.kind === TK.String && first.text.startsWith('"')) {
        spec = first.text.slice(1, -1);
        angled = false;
      } else if (isPunct(first, '<')) {
        spec = '';
        let closed = false;
        for (let i = 1; i < toks.length; i++) {
          if (isPunct(toks[i], '>')) {
            closed = true;
            break;
          }
          if (spec.length > 0 && toks[i].flags & TF.WS) spec += ' ';
          spec += toks[i].text;
        }
        if (!closed) this.fail(first, 'missing terminating > character');
        angled = true;
      } else {
        this.fail(first, expects);
      }
    }
    if (spec === '') this.fail(t, `empty filename in #${kind}`);
    if (this.files.length >= this.maxIncludeDepth) {
      this.fail(t, `#include nested depth ${this.files.length} exceeds maximum of ${this.maxIncludeDepth} (use -fmax-include-depth=DEPTH to increase the maximum)`);
    }
    const found = this.findInclude(spec, angled, kind === 'include_next');
    if (found === null) {
      if (angled && this.includeDirs.length === 0 && !spec.startsWith('/')) this.fail(t, `no include path in which to search for ${spec}`);
      this.fail(t, `${spec}: No such file or directory`);
    }
    if (this.onceFiles.has(found.path)) return null;
    if (kind === 'import') this.onceFiles.add(found.path);
    return {
      lines: found.text.lines,
      noFinalNewline: found.text.noFinalNewline,
      next: 0,
      presumedName: found.path,
      lineDelta: 0,
      path: found.path,
      dir: dirnameOf(found.path),
      conds: [],
      foundIn: found.foundIn,
    };
  }
}

/** Whether a redefinition is the same as the old definition (then gcc does not warn). */
function sameDefinition(a: Macro, b: Macro): boolean {
  if (a.variadic !== b.variadic || (a.params === null) !== (b.params === null)) return false;
  if (a.params !== null && b.params !== null && a.params.join(',') !== b.params.join(',')) return false;
  if (a.body.length !== b.body.length) return false;
  for (let i = 0; i < a.body.length; i++) {
    const x = a.body[i];
    const y = b.body[i];
    if (x.kind !== y.kind || x.text !== y.text || x.flags !== y.flags) return false;
  }
  return true;
}

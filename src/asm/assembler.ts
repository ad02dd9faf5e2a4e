/**
 * The assembler driver: reads statements (after the C preprocessor for `.S`
 * input), expands gas macros and repeats, evaluates conditionals, handles
 * directives, encodes instructions through the instruction table, and
 * resolves fixups into section bytes or ELF relocations.
 */
import { DiagnosticError, diagnostic, type Diagnostic, type SourceLocation } from '../common/diagnostics.js';
import type { Expr, Operand } from '../isa/operand-ir.js';
import type { Feature } from '../isa/insn-def.js';
import { applyFixup, isPcRelative, RELOC, type FixupKind } from '../isa/fixups.js';
import { preprocess, type PreprocessedLine } from './preprocess.js';
import { lineStatements, parseStatement, stripComment } from './statements.js';
import { parseExpr, parseExprList, parseOperands, ParseError } from './parse.js';
import { operandColumns } from './operand-columns.js';
import { Section, SymbolTable, type AsmSymbol, type Fixup } from './sections.js';
import { evaluate, ExprError, type EvalContext, type Value } from './expressions.js';
import { bindArguments, parseMacroParams, splitArguments, substitute, type BodyLine, type MacroDef } from './macros.js';
import { encodeInstruction } from './encode.js';
import { featuresForArch, featuresForCpu, extensionFeature } from './arch-features.js';
import { parseRegister } from './grammar-builders.js';
import type { ObjSectionFlags, ObjSectionType } from '../elf/model.js';

export interface AssembleOptions {
  /** Name used in diagnostics; also decides preprocessing (.S → cpp) unless `preprocess` is given. */
  file?: string;
  includeDirs?: string[];
  defines?: Record<string, string>;
  preprocess?: boolean;
  readFile?: (path: string) => string | undefined;
  /** Macro/include nesting limit. */
  maxDepth?: number;
  /** Measure time per phase into `timings` (costs a clock read per line; off by default). */
  profile?: boolean;
}

export interface RelocationOut {
  section: Section;
  offset: number;
  type: number;
  symbol: AsmSymbol | { section: Section };
  addend: bigint;
}

export interface AssembleResult {
  sections: Section[];
  symbols: AsmSymbol[];
  relocations: RelocationOut[];
  diagnostics: Diagnostic[];
  timings: Record<string, number>;
}

const NOP = 0xd503201f;

interface Frame {
  lines: BodyLine[];
  pos: number;
  kind: 'file' | 'macro' | 'repeat';
  macroName?: string;
  /** Location of the invocation, for "macro invoked from here". */
  callLoc?: SourceLocation;
}

interface CondState {
  /** This block's lines are assembled. */
  active: boolean;
  /** Some branch of this .if chain was taken already. */
  taken: boolean;
  parentActive: boolean;
  seenElse: boolean;
  loc: SourceLocation;
}

interface LiteralEntry {
  expr: Expr;
  key: string;
  size: 4 | 8 | 16;
  /** Instructions waiting for this entry: section offset of the ldr. */
  users: { offset: number; loc: SourceLocation }[];
}

class Abort extends Error {}

export class Assembler {
  readonly sections: Section[] = [];
  readonly symbols = new SymbolTable();
  readonly diagnostics: Diagnostic[] = [];
  private current!: Section;
  private sectionStack: { section: Section; previous: Section | undefined }[] = [];
  private previous: Section | undefined;
  private frames: Frame[] = [];
  private conds: CondState[] = [];
  private macros = new Map<string, MacroDef>();
  private macroCounter = 0;
  private regAliases = new Map<string, string>();
  private features: Set<Feature>;
  private localLabelCounts = new Map<number, number>();
  private pools = new Map<Section, LiteralEntry[]>();
  /** Location of the line being assembled; replaced (never mutated) for each line, so it can be shared. */
  private loc: SourceLocation = { file: '<input>', line: 0, col: 0 };
  private readonly maxDepth: number;
  readonly timings: Record<string, number> = { preprocess: 0, statements: 0, parse: 0, encode: 0, fixups: 0 };
  /** performance.now when profiling, else a constant: phase timing costs nothing unless asked for. */
  private readonly clock: () => number;

  constructor(private readonly opts: AssembleOptions = {}) {
    this.features = featuresForArch('armv8-a')!;
    this.maxDepth = opts.maxDepth ?? 100;
    this.clock = opts.profile ? () => performance.now() : () => 0;
    this.current = this.getSection('.text');
    this.getSection('.data');
    this.getSection('.bss');
  }

  // ---- diagnostics --------------------------------------------------------

  private error(message: string, col = 0): never {
    const d = diagnostic({ ...this.loc, col: col || this.loc.col }, message);
    const notes = this.macroNotes();
    if (notes.length) d.notes = notes;
    this.diagnostics.push(d);
    throw new Abort(message);
  }

  private warn(message: string): void {
    this.diagnostics.push(diagnostic(this.loc, message, 'warning'));
  }

  /** Where the macros containing the current line were invoked, innermost first. */
  private macroNotes(): string[] {
    const notes: string[] = [];
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind === 'macro' && f.callLoc) notes.push(`${f.callLoc.file}:${f.callLoc.line}: note: in macro '${f.macroName}' invoked from here`);
    }
    return notes;
  }

  // ---- sections -----------------------------------------------------------

  private getSection(name: string, type?: ObjSectionType, flags?: ObjSectionFlags, entsize = 0): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      const d = defaultSectionAttributes(name);
      s = new Section(name, type ?? d.type, flags ?? d.flags, this.sections.length, entsize);
      this.sections.push(s);
    } else if (type || flags) {
      // gas warns when attributes change; keep the first set but allow flag additions it would accept.
    }
    return s;
  }

  /** Makes (section, subsection) current; subsection chunks are merged into their section at the end. */
  private switchTo(s: Section, sub = 0): void {
    const target = sub === 0 ? s : this.subsectionChunk(s, sub);
    if (target !== this.current) this.previous = this.current;
    this.current = target;
  }

  private subsectionChunk(s: Section, n: number): Section {
    if (n < 0 || n > 8192) this.error('subsection number out of range');
    let c = s.subsections.find((x) => x.subsectionNumber === n);
    if (!c) {
      c = new Section(s.name, s.type, s.flags, s.index, s.entsize);
      c.parent = s;
      c.subsectionNumber = n;
      s.subsections.push(c);
    }
    return c;
  }

  /** The section (not subsection chunk) being assembled into. */
  private get currentSection(): Section {
    return this.current.parent ?? this.current;
  }

  // ---- symbols ------------------------------------------------------------

  private evalContext(): EvalContext {
    return {
      lookup: (name) => this.symbols.getOrCreate(name),
      dot: () => ({ section: this.current, offset: BigInt(this.current.size) }),
      localLabel: (n, dir) => this.localLabelSymbol(n, dir),
    };
  }

  private localLabelSymbol(n: number, dir: 'b' | 'f'): AsmSymbol {
    const count = this.localLabelCounts.get(n) ?? 0;
    if (dir === 'b') {
      if (count === 0) this.error(`backward reference to local label ${n}b that is not defined`);
      const s = this.symbols.getOrCreate(`.L${n}\u0002${count}`);
      s.internal = true;
      return s;
    }
    const s = this.symbols.getOrCreate(`.L${n}\u0002${count + 1}`);
    s.internal = true;
    return s;
  }

  private defineLabel(name: string, col: number): void {
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      const count = (this.localLabelCounts.get(n) ?? 0) + 1;
      this.localLabelCounts.set(n, count);
      const s = this.symbols.getOrCreate(`.L${n}\u0002${count}`);
      s.internal = true;
      this.placeLabel(s);
      return;
    }
    const s = this.symbols.getOrCreate(name);
    if (s.defined || s.equated) this.error(`symbol \`${name}' is already defined`, col);
    this.placeLabel(s);
  }

  private placeLabel(s: AsmSymbol): void {
    s.defined = true;
    s.section = this.current;
    s.value = BigInt(this.current.size);
    s.loc = this.loc;
  }

  /**
   * Replaces `1b`/`1f` references by the label instance they mean here, so an
   * expression kept for later (fixups, pools, equates) still means the same label.
   */
  private bindLocalLabels(e: Expr): Expr {
    switch (e.t) {
      case 'localref': {
        const count = this.localLabelCounts.get(e.n) ?? 0;
        if (e.dir === 'b' && count === 0) this.error(`backward reference to local label ${e.n}b that is not defined`);
        const s = this.symbols.getOrCreate(`.L${e.n}\u0002${e.dir === 'b' ? count : count + 1}`);
        s.internal = true;
        return { t: 'sym', name: s.name };
      }
      case 'un': case 'reloc': return { ...e, a: this.bindLocalLabels(e.a) };
      case 'bin': return { ...e, a: this.bindLocalLabels(e.a), b: this.bindLocalLabels(e.b) };
      default: return e;
    }
  }

  private evalValue(e: Expr): Value {
    try {
      return evaluate(e, this.evalContext());
    } catch (err) {
      if (err instanceof ExprError) this.error(err.message);
      throw err;
    }
  }

  /** Evaluates an expression that must be absolute now (directive arguments). */
  private absolute(e: Expr, what = 'expression'): bigint {
    const v = this.evalValue(e);
    if (v.section || v.symbol) {
      if (v.symbol && !v.symbol.defined) this.error(`${what}: symbol '${v.symbol.name}' is not defined yet (a constant is required)`);
      this.error(`${what} must be an absolute constant`);
    }
    return v.offset;
  }

  private tryConstant = (e: Expr): bigint | undefined => {
    try {
      const v = evaluate(e, this.evalContext());
      if (v.section || v.symbol) return undefined;
      return v.offset;
    } catch (err) {
      if (err instanceof ExprError) return undefined;
      throw err;
    }
  };

  // ---- driving ------------------------------------------------------------

  assembleSource(source: string): void {
    const file = this.opts.file ?? '<input>';
    const usePreprocessor = this.opts.preprocess ?? /\.S$/.test(file);
    let lines: BodyLine[];
    const t0 = this.clock();
    if (usePreprocessor) {
      const pre: PreprocessedLine[] = preprocess(source, {
        file,
        includeDirs: this.opts.includeDirs,
        defines: this.opts.defines,
        readFile: this.opts.readFile,
      });
      lines = pre;
    } else {
      lines = source.split('\n').map((text, i) => ({ text, file, line: i + 1 }));
    }
    this.timings.preprocess! += this.clock() - t0;
    this.frames.push({ lines, pos: 0, kind: 'file' });
    this.run();
    if (this.conds.length > 0) {
      const c = this.conds[this.conds.length - 1]!;
      this.loc = c.loc;
      this.report(() => this.error('missing .endif for this conditional'));
    }
    this.finish();
  }

  private report(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof Abort)) throw err;
    }
  }

  private nextLine(): BodyLine | undefined {
    while (this.frames.length > 0) {
      const f = this.frames[this.frames.length - 1]!;
      if (f.pos < f.lines.length) return f.lines[f.pos++];
      this.frames.pop();
    }
    return undefined;
  }

  private run(): void {
    for (;;) {
      const line = this.nextLine();
      if (!line) break;
      this.loc = { file: line.file, line: line.line, col: 0, text: line.text };
      // An Abort ends this line only (its diagnostic is recorded); written out rather than via
      // report() so the per-line path allocates no closure.
      try {
        this.processLine(line.text);
      } catch (err) {
        if (!(err instanceof Abort)) throw err;
      }
    }
  }

  private processLine(raw: string): void {
    const t0 = this.clock();
    // A line whose first non-blank is '#' is a comment for AArch64 gas (cpp line markers included).
    const trimmed = raw.trimStart();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) { this.timings.statements! += this.clock() - t0; return; }
    for (const [piece, col] of lineStatements(raw)) {
      if (piece.trim() === '') continue;
      const st = parseStatement(piece, col);
      this.timings.statements! += this.clock() - t0;
      this.processStatement(st.labels, st.head, st.headCol, st.rest, st.restCol);
    }
  }

  /** Whether the innermost conditional (if any) is assembling lines; kept in step with `conds`. */
  private active = true;

  private updateActive(): void {
    const c = this.conds[this.conds.length - 1];
    this.active = !c || c.active;
  }

  private processStatement(labels: { name: string; col: number }[], head: string, headCol: number, rest: string, restCol: number): void {
    const lower = head.toLowerCase();
    if (isConditional(lower)) {
      if (this.active) for (const l of labels) this.defineLabel(l.name, l.col);
      this.conditional(lower, rest);
      return;
    }
    if (!this.active) return;
    for (const l of labels) this.defineLabel(l.name, l.col);
    if (head === '') {
      if (rest !== '') this.error(`junk at start of statement: '${rest}'`, restCol);
      return;
    }
    // `sym = expr`
    if (rest.startsWith('=') && !rest.startsWith('==')) {
      this.setSymbol(head, rest.slice(1).trim(), false);
      return;
    }
    const macro = this.macros.get(lower);
    if (macro) { this.expandMacro(macro, rest); return; }
    if (lower.startsWith('.')) { this.directive(lower, rest, restCol); return; }
    // `name .req reg`
    const req = /^\.req\s+(\S+)$/i.exec(rest);
    if (req) { this.defineRegAlias(head, req[1]!); return; }
    this.instruction(head, rest, headCol, restCol);
  }

  // ---- conditionals -------------------------------------------------------

  private conditional(name: string, rest: string): void {
    const top = this.conds[this.conds.length - 1];
    if (name === '.endif') {
      if (!top) this.error('.endif without .if');
      this.conds.pop();
      this.updateActive();
      return;
    }
    if (name === '.else') {
      if (!top) this.error('.else without .if');
      if (top.seenElse) this.error('duplicate .else');
      top.seenElse = true;
      top.active = top.parentActive && !top.taken;
      top.taken = true;
      this.updateActive();
      return;
    }
    if (name === '.elseif') {
      if (!top) this.error('.elseif without .if');
      if (top.seenElse) this.error('.elseif after .else');
      const cond = top.parentActive && !top.taken ? this.condition('.if', rest) : false;
      top.active = cond;
      if (cond) top.taken = true;
      this.updateActive();
      return;
    }
    const parentActive = this.active;
    const cond = parentActive ? this.condition(name, rest) : false;
    this.conds.push({ active: cond, taken: cond, parentActive, seenElse: false, loc: this.loc });
    this.updateActive();
  }

  private condition(name: string, rest: string): boolean {
    switch (name) {
      case '.if': case '.ifne': return this.absolute(this.expr(rest), name) !== 0n;
      case '.ifeq': return this.absolute(this.expr(rest), name) === 0n;
      case '.ifge': return this.absolute(this.expr(rest), name) >= 0n;
      case '.ifgt': return this.absolute(this.expr(rest), name) > 0n;
      case '.ifle': return this.absolute(this.expr(rest), name) <= 0n;
      case '.iflt': return this.absolute(this.expr(rest), name) < 0n;
      case '.ifdef': return this.isDefined(rest.trim());
      case '.ifndef': case '.ifnotdef': return !this.isDefined(rest.trim());
      case '.ifb': return rest.trim() === '';
      case '.ifnb': return rest.trim() !== '';
      case '.ifc': case '.ifnc': {
        const parts = splitArguments(rest);
        if (parts.length !== 2) this.error(`${name} needs two comma-separated strings`);
        const norm = (s: string) => (s.startsWith("'") || s.startsWith('"') ? s.slice(1, -1) : s);
        const same = norm(parts[0]!) === norm(parts[1]!);
        return name === '.ifc' ? same : !same;
      }
      case '.ifeqs': case '.ifnes': {
        const parts = splitArguments(rest).map((p) => p.replace(/^"|"$/g, ''));
        const same = parts[0] === parts[1];
        return name === '.ifeqs' ? same : !same;
      }
    }
    this.error(`unknown conditional ${name}`);
  }

  private isDefined(name: string): boolean {
    const s = this.symbols.get(name);
    return !!s && (s.defined || !!s.equated);
  }

  // ---- macros and repeats -------------------------------------------------

  /** Reads raw lines up to the matching terminator, counting nesting. */
  private collectBody(open: RegExp, close: RegExp, what: string): BodyLine[] {
    const start = { ...this.loc };
    const body: BodyLine[] = [];
    let depth = 1;
    for (;;) {
      const f = this.frames[this.frames.length - 1];
      if (!f || f.pos >= f.lines.length) {
        this.loc = start;
        this.error(`missing ${what} for this block (end of ${f?.kind === 'file' || !f ? 'file' : 'macro'} reached)`);
      }
      const line = f.lines[f.pos++]!;
      const head = firstWord(stripComment(line.text));
      if (open.test(head)) depth++;
      else if (close.test(head)) {
        depth--;
        if (depth === 0) return body;
      }
      body.push(line);
    }
  }

  private defineMacro(rest: string): void {
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,?\s*(.*)$/.exec(rest.trim());
    if (!m) this.error('expected a macro name');
    const params = parseMacroParams(m[2]!);
    if (typeof params === 'string') this.error(params);
    const body = this.collectBody(/^\.macro$/i, /^\.endm$/i, '.endm');
    const name = m[1]!.toLowerCase();
    if (this.macros.has(name)) this.error(`macro '${m[1]}' was already defined`);
    this.macros.set(name, { name: m[1]!, params, body });
  }

  private pushFrame(frame: Frame): void {
    if (this.frames.length > this.maxDepth) this.error(`macros nested too deeply (more than ${this.maxDepth} levels)`);
    this.frames.push(frame);
  }

  private expandMacro(def: MacroDef, argText: string): void {
    const values = bindArguments(def, argText);
    if (typeof values === 'string') this.error(values);
    const counter = this.macroCounter++;
    const lines = def.body.map((l) => ({ ...l, text: substitute(l.text, values, counter) }));
    this.pushFrame({ lines, pos: 0, kind: 'macro', macroName: def.name, callLoc: this.loc });
  }

  private exitMacro(): void {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind === 'macro') {
        this.frames.length = i;
        return;
      }
    }
    this.error('.exitm outside a macro');
  }

  private repeat(kind: '.rept' | '.irp' | '.irpc', rest: string): void {
    const body = this.collectBody(/^\.(rept|irp|irpc)$/i, /^\.endr$/i, '.endr');
    const out: BodyLine[] = [];
    if (kind === '.rept') {
      const n = this.absolute(this.expr(rest), '.rept count');
      if (n < 0n) this.error('.rept count is negative');
      if (n > 1_000_000n) this.error('.rept count is too large');
      for (let i = 0n; i < n; i++) out.push(...body);
    } else {
      const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*(?:,\s*(.*))?$/s.exec(rest.trim());
      if (!m) this.error(`${kind} needs a parameter name`);
      const name = m[1]!;
      const list = m[2] ?? '';
      const values = kind === '.irp' ? (list.trim() === '' ? [''] : splitArguments(list)) : [...list.replace(/\s+/g, '')];
      if (kind === '.irpc' && values.length === 0) values.push('');
      for (const v of values) {
        const map = new Map([[name, v]]);
        for (const l of body) out.push({ ...l, text: substitute(l.text, map, this.macroCounter) });
      }
    }
    this.pushFrame({ lines: out, pos: 0, kind: 'repeat' });
  }

  // ---- directives ---------------------------------------------------------

  private expr(text: string): Expr {
    try {
      return parseExpr(this.resolveAliasesInText(text));
    } catch (err) {
      if (err instanceof ParseError) this.error(`bad expression: ${err.message}`);
      throw err;
    }
  }

  private exprs(text: string): Expr[] {
    try {
      return parseExprList(text);
    } catch (err) {
      if (err instanceof ParseError) this.error(`bad expression: ${err.message}`);
      throw err;
    }
  }

  private setSymbol(name: string, exprText: string, once: boolean): void {
    const e = this.expr(exprText);
    const s = this.symbols.getOrCreate(name);
    if (once && (s.defined || s.equated)) this.error(`symbol \`${name}' is already defined`);
    if (s.defined && !s.isEquate) this.error(`symbol \`${name}' is already defined`);
    let v: Value | undefined;
    try {
      v = evaluate(e, this.evalContext());
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
    }
    s.isEquate = true;
    s.loc = this.loc;
    if (v && !(v.symbol && !v.symbol.defined)) {
      s.defined = true;
      s.equated = undefined;
      s.section = v.section;
      s.value = v.offset;
      if (v.symbol && v.section === undefined) {
        s.equated = e;
        s.defined = false;
      }
    } else {
      s.equated = this.bindLocalLabels(e);
      s.defined = false;
    }
  }

  private defineRegAlias(name: string, reg: string): void {
    const target = this.regAliases.get(reg.toLowerCase()) ?? reg.toLowerCase();
    const targetReg = parseRegister(target);
    if (!targetReg) this.error(`'${reg}' is not a register`);
    // Redefining a register name is allowed only to the register it already names (`lr .req x30`).
    const existing = parseRegister(name);
    if (existing && (existing.cls !== targetReg.cls || existing.num !== targetReg.num)) this.error(`'${name}' is a register name and cannot be redefined`);
    this.regAliases.set(name.toLowerCase(), target);
  }

  private resolveAliasesInText(text: string): string {
    if (this.regAliases.size === 0) return text;
    return text.replace(/[A-Za-z_.$][A-Za-z0-9_.$]*/g, (w) => {
      const dot = w.indexOf('.');
      const base = dot > 0 ? w.slice(0, dot) : w;
      const r = this.regAliases.get(base.toLowerCase());
      return r ? r + (dot > 0 ? w.slice(dot) : '') : w;
    });
  }

  private symbolNames(rest: string): string[] {
    return rest.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }

  private directive(name: string, rest: string, restCol: number): void {
    const sec = this.current;
    switch (name) {
      case '.text': this.switchTo(this.getSection('.text'), rest ? Number(this.absolute(this.expr(rest))) : 0); return;
      case '.data': this.switchTo(this.getSection('.data'), rest ? Number(this.absolute(this.expr(rest))) : 0); return;
      case '.bss': this.switchTo(this.getSection('.bss'), rest ? Number(this.absolute(this.expr(rest))) : 0); return;
      case '.section': this.sectionDirective(rest, false); return;
      case '.pushsection': this.sectionDirective(rest, true); return;
      case '.popsection': {
        const top = this.sectionStack.pop();
        if (!top) this.error('.popsection without .pushsection');
        this.current = top.section;
        this.previous = top.previous;
        return;
      }
      case '.previous': {
        if (!this.previous) return;
        const p = this.previous;
        this.previous = this.current;
        this.current = p;
        return;
      }
      case '.subsection': this.switchTo(this.currentSection, Number(this.absolute(this.expr(rest || '0'), 'subsection'))); return;
      case '.align': case '.p2align': case '.balign': case '.balignw': case '.balignl':
      case '.p2alignw': case '.p2alignl':
        this.alignDirective(name, rest); return;
      case '.byte': this.dataDirective(rest, 1); return;
      case '.hword': case '.short': case '.2byte': this.dataDirective(rest, 2); return;
      case '.word': case '.long': case '.int': case '.4byte': this.dataDirective(rest, 4); return;
      case '.quad': case '.xword': case '.8byte': case '.dword': this.dataDirective(rest, 8); return;
      case '.inst': this.instDirective(rest); return;
      case '.ascii': this.stringDirective(rest, false); return;
      case '.asciz': case '.string': this.stringDirective(rest, true); return;
      case '.space': case '.skip': case '.zero': this.spaceDirective(rest, name === '.zero'); return;
      case '.fill': this.fillDirective(rest); return;
      case '.org': this.orgDirective(rest); return;
      case '.ltorg': case '.pool': this.dumpPool(sec); return;
      case '.arch': {
        const f = featuresForArch(rest.trim());
        if (!f) this.error(`unknown architecture '${rest.trim()}'`);
        this.features = f;
        return;
      }
      case '.cpu': {
        const f = featuresForCpu(rest.trim());
        if (!f) this.error(`unknown cpu '${rest.trim()}'`);
        this.features = f;
        return;
      }
      case '.arch_extension': {
        const ext = rest.trim().toLowerCase();
        const off = ext.startsWith('no');
        const feats = extensionFeature(off ? ext.slice(2) : ext);
        if (!feats) this.error(`unknown architectural extension '${ext}'`);
        for (const f of feats) off ? this.features.delete(f) : this.features.add(f);
        return;
      }
      case '.global': case '.globl':
        for (const n of this.symbolNames(rest)) { const s = this.symbols.getOrCreate(n); s.binding = 'global'; s.explicitBinding = true; }
        return;
      case '.weak':
        for (const n of this.symbolNames(rest)) { const s = this.symbols.getOrCreate(n); s.binding = 'weak'; s.explicitBinding = true; }
        return;
      case '.local':
        for (const n of this.symbolNames(rest)) { const s = this.symbols.getOrCreate(n); s.binding = 'local'; s.explicitBinding = true; }
        return;
      case '.hidden': case '.protected': case '.internal':
        for (const n of this.symbolNames(rest)) this.symbols.getOrCreate(n).visibility = name.slice(1) as 'hidden';
        return;
      case '.type': this.typeDirective(rest); return;
      case '.size': {
        const parts = splitArguments(rest);
        if (parts.length !== 2) this.error('.size needs a symbol and an expression');
        const s = this.symbols.getOrCreate(parts[0]!);
        s.size = this.bindLocalLabels(this.expr(parts[1]!));
        // Evaluate now when possible ('.' is position-dependent).
        const v = this.tryConstant(s.size);
        if (v !== undefined) s.size = { t: 'num', v };
        return;
      }
      case '.set': case '.equ': case '.equiv': case '.eqv': {
        const parts = splitArguments(rest);
        if (parts.length < 2) this.error(`${name} needs a symbol and an expression`);
        this.setSymbol(parts[0]!, parts.slice(1).join(','), name === '.equiv');
        return;
      }
      case '.req': this.error('.req needs a name before it: name .req register'); return;
      case '.unreq':
        if (!this.regAliases.delete(rest.trim().toLowerCase())) this.error(`unknown register alias '${rest.trim()}'`);
        return;
      case '.macro': this.defineMacro(rest); return;
      case '.endm': this.error('.endm without .macro'); return;
      case '.exitm': this.exitMacro(); return;
      case '.purgem': {
        if (!this.macros.delete(rest.trim().toLowerCase())) this.error(`macro '${rest.trim()}' is not defined`);
        return;
      }
      case '.rept': case '.irp': case '.irpc': this.repeat(name, rest); return;
      case '.endr': this.error('.endr without .rept, .irp or .irpc'); return;
      case '.err': this.error('.err encountered'); return;
      case '.error': this.error(rest.trim().replace(/^"|"$/g, '') || '.error directive invoked in source file'); return;
      case '.warning': this.warn(rest.trim().replace(/^"|"$/g, '') || '.warning directive invoked in source file'); return;
      case '.print': return;
      case '.include': this.includeDirective(rest); return;
      case '.file': case '.ident': case '.loc': case '.end': case '.nops': case '.variant_pcs':
        if (name === '.end') { this.frames.length = 0; }
        return;
    }
    if (name.startsWith('.cfi_')) this.error(`${name}: call frame information directives are not supported`);
    this.error(`unknown directive '${name}'`, restCol > 0 ? undefined : undefined);
  }

  private includeDirective(rest: string): void {
    const m = /^"([^"]*)"$/.exec(rest.trim());
    if (!m) this.error('.include needs a quoted file name');
    const read = this.opts.readFile;
    const candidates = [m[1]!, ...(this.opts.includeDirs ?? []).map((d) => `${d}/${m[1]}`)];
    for (const path of candidates) {
      const text = read ? read(path) : readFileOrUndefined(path);
      if (text !== undefined) {
        this.pushFrame({ lines: text.split('\n').map((t, i) => ({ text: t, file: path, line: i + 1 })), pos: 0, kind: 'file' });
        return;
      }
    }
    this.error(`can't open ${m[1]} for reading: No such file or directory`);
  }

  private sectionDirective(rest: string, push: boolean): void {
    const parts = splitArguments(rest);
    const name = (parts[0] ?? '').replace(/^"|"$/g, '');
    if (!name) this.error('expected a section name');
    let type: ObjSectionType | undefined;
    let flags: ObjSectionFlags | undefined;
    let entsize = 0;
    let sub = 0;
    if (parts.length > 1 && /^"/.test(parts[1]!)) {
      const f = parts[1]!.replace(/"/g, '');
      flags = { alloc: f.includes('a'), write: f.includes('w'), exec: f.includes('x'), merge: f.includes('M'), strings: f.includes('S'), group: f.includes('G'), tls: f.includes('T') };
      const t = parts[2]?.replace(/^[%@]/, '');
      if (t) {
        if (!['progbits', 'nobits', 'note', 'init_array', 'fini_array'].includes(t)) this.error(`unknown section type '${parts[2]}'`);
        type = t as ObjSectionType;
      }
      if (flags.merge && parts[3]) entsize = Number(this.absolute(this.expr(parts[3])));
      if (!type) type = name.startsWith('.bss') || name.startsWith('.tbss') ? 'nobits' : name.startsWith('.note') ? 'note' : 'progbits';
    } else if (parts.length > 1 && push) {
      sub = Number(this.absolute(this.expr(parts[1]!)));
    }
    const s = this.getSection(name, type, flags, entsize);
    if (push) this.sectionStack.push({ section: this.current, previous: this.previous });
    this.switchTo(s, sub);
  }

  private alignDirective(name: string, rest: string): void {
    const args = rest.trim() === '' ? [] : splitArguments(rest);
    if (args.length === 0) this.error(`${name} needs an alignment`);
    const a = this.absolute(this.expr(args[0]!), 'alignment');
    const byPower = name === '.align' || name.startsWith('.p2align');
    if (byPower && (a < 0n || a > 31n)) this.error('alignment too large');
    const align = byPower ? 1 << Number(a) : Number(a);
    if (!byPower && (align <= 0 || (align & (align - 1)) !== 0)) this.error('alignment not a power of 2');
    const fillGiven = args.length > 1 && args[1] !== '';
    const fill = fillGiven ? this.absolute(this.expr(args[1]!), 'fill') : undefined;
    const max = args.length > 2 ? Number(this.absolute(this.expr(args[2]!), 'maximum')) : undefined;
    const fillSize = name.endsWith('w') ? 2 : name.endsWith('l') ? 4 : 1;
    this.alignTo(align, fill, fillSize, max);
  }

  private alignTo(align: number, fill?: bigint, fillSize = 1, max?: number): void {
    const s = this.current;
    const pad = (align - (s.size % align)) % align;
    if (align > s.align) s.align = align;
    if (!s.isNobits) s.setMapping(s.flags.exec ? 'x' : 'd');
    if (pad === 0 || (max !== undefined && pad > max)) return;
    if (fill === undefined && s.flags.exec) {
      // Code sections pad with NOPs (after any bytes up to a word boundary).
      const lead = pad % 4;
      for (let i = 0; i < lead; i++) s.emitBytes([0]);
      for (let i = 0; i < (pad - lead) / 4; i++) s.emitWord(NOP);
      return;
    }
    if (fill === undefined || s.isNobits) { s.reserve(pad); return; }
    let i = 0;
    while (i + fillSize <= pad) { s.emitLE(fill, fillSize); i += fillSize; }
    while (i < pad) { s.emitBytes([0]); i++; }
  }

  private markData(): void {
    if (!this.current.isNobits) this.current.mapData();
  }

  private dataDirective(rest: string, size: number): void {
    if (rest.trim() === '') return;
    const exprs = this.exprs(this.resolveAliasesInText(rest));
    this.markData();
    for (const e of exprs) this.emitData(e, size);
  }

  private emitData(e: Expr, size: number): void {
    const s = this.current;
    if (s.isNobits) {
      const v = this.tryConstant(e);
      if (v !== 0n) this.error('attempt to initialize memory in a nobits section');
      s.reserve(size);
      return;
    }
    const v = this.tryConstant(e);
    if (v !== undefined) {
      if (!fitsData(v, size)) this.warn(`value 0x${BigInt.asUintN(64, v).toString(16)} truncated to 0x${BigInt.asUintN(size * 8, v).toString(16)}`);
      s.emitLE(v, size);
      return;
    }
    const offset = s.reserve(size);
    const kind: FixupKind = size === 8 ? 'data64' : size === 4 ? 'data32' : size === 2 ? 'data16' : 'data8';
    s.fixups.push({ offset, kind, expr: this.bindLocalLabels(e), loc: this.loc, dotOffset: offset, size, isInstruction: false });
  }

  private instDirective(rest: string): void {
    const exprs = this.exprs(rest);
    this.current.mapInstructions();
    for (const e of exprs) this.current.emitWord(Number(BigInt.asUintN(32, this.absolute(e, '.inst'))));
  }

  private stringDirective(rest: string, zero: boolean): void {
    this.markData();
    const re = /"((?:\\[^]|[^"\\])*)"/g;
    let m: RegExpExecArray | null;
    let any = false;
    while ((m = re.exec(rest)) !== null) {
      any = true;
      const bytes = decodeString(m[1]!);
      if (zero) bytes.push(0);
      this.current.emitBytes(bytes);
    }
    if (!any && rest.trim() !== '') this.error('expected a string');
  }

  private spaceDirective(rest: string, zero: boolean): void {
    const args = splitArguments(rest);
    const n = this.absolute(this.expr(args[0] ?? '0'), 'size');
    if (n < 0n) this.error('negative size');
    const fill = !zero && args[1] ? this.absolute(this.expr(args[1]), 'fill') : 0n;
    // A fill frag marks data even in a nobits section (gas's aarch64_init_frag).
    this.current.setMapping('d');
    if (this.current.isNobits) { this.current.reserve(Number(n)); return; }
    const bytes = new Array<number>(Number(n)).fill(Number(fill & 0xffn));
    this.current.emitBytes(bytes);
  }

  private fillDirective(rest: string): void {
    const args = splitArguments(rest);
    const repeat = this.absolute(this.expr(args[0] ?? '0'), 'repeat');
    const size = args[1] ? Number(this.absolute(this.expr(args[1]), 'size')) : 1;
    const value = args[2] ? this.absolute(this.expr(args[2]), 'value') : 0n;
    if (repeat < 0n) this.error('negative repeat count');
    this.current.setMapping('d');
    const unit = Math.min(size, 8);
    for (let i = 0n; i < repeat; i++) {
      // gas stores at most 4 bytes of the value, the rest zero.
      this.current.emitLE(unit > 4 ? BigInt.asUintN(32, value) : value, unit > 4 ? 4 : unit);
      if (unit > 4) this.current.emitLE(0n, unit - 4);
      if (size > 8) this.current.emitLE(0n, size - 8);
    }
  }

  private orgDirective(rest: string): void {
    const args = splitArguments(rest);
    if (!args[0]) this.error('.org needs an address');
    const v = this.evalValue(this.expr(args[0]));
    if (v.symbol || (v.section && v.section !== this.current)) this.error('.org needs a value in the current section');
    const target = Number(v.offset);
    if (target < this.current.size) this.error('attempt to move .org backwards');
    const fill = args[1] ? Number(this.absolute(this.expr(args[1])) & 0xffn) : 0;
    const n = target - this.current.size;
    if (this.current.isNobits) this.current.reserve(n);
    else this.current.emitBytes(new Array<number>(n).fill(fill));
  }

  private typeDirective(rest: string): void {
    // `.type sym, %function`; gas also takes a blank instead of the comma, @/%/# prefixes,
    // the STT_* names and their numbers.
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*(?:,\s*|\s+)(.+)$/.exec(rest.trim());
    if (!m) this.error('.type needs a symbol and a type');
    const t = m[2]!.trim().replace(/^[%@#]/, '').replace(/^"|"$/g, '').toLowerCase();
    const s = this.symbols.getOrCreate(m[1]!);
    switch (t) {
      case 'function': case 'stt_func': case '2': s.type = 'func'; return;
      case 'object': case 'stt_object': case '1': s.type = 'object'; return;
      case 'notype': case 'stt_notype': case '0': s.type = 'notype'; return;
      case 'tls_object': case 'stt_tls': case '6': s.type = 'tls'; return;
    }
    this.error(`unrecognized symbol type '${m[2]}'`);
  }

  // ---- instructions -------------------------------------------------------

  private instruction(mnemonic: string, rest: string, headCol: number, restCol: number): void {
    const t0 = this.clock();
    let operands: Operand[];
    try {
      operands = parseOperands(this.resolveAliasesInText(rest));
    } catch (err) {
      if (err instanceof ParseError) this.error(`${err.message} in operands of '${mnemonic}'`, restCol + Math.max(err.col - 1, 0));
      throw err;
    }
    const t1 = this.clock();
    this.timings.parse! += t1 - t0;
    const lower = mnemonic.toLowerCase();
    const result = encodeInstruction(lower, operands, {
      constant: this.tryConstant,
      hasFeature: (f) => this.features.has(f),
    });
    this.timings.encode! += this.clock() - t1;
    if (!result.ok) {
      const op = result.operand >= 0 ? operands[result.operand] : undefined;
      // Operand columns are only worked out when reporting (see operand-columns.ts).
      const cols = operandColumns(rest);
      const opCol = op ? cols[result.operand] ?? 0 : 0;
      const col = op && opCol > 0 ? restCol + opCol - 1 : result.message.startsWith('unknown mnemonic') ? headCol : restCol;
      this.error(`${result.message} -- \`${mnemonic}${rest ? ' ' + rest : ''}'`, col);
    }
    const s = this.current;
    if (s.isNobits) this.error('attempt to assemble an instruction in a nobits section');
    s.mapInstructions();
    if (s.size % 4 !== 0) this.warn('unaligned instruction');
    const offset = s.size;
    s.emitWord(result.word);
    s.listing.push({ offset, size: 4, loc: this.loc });
    if (s.align < 4) s.align = 4;
    for (const fx of result.fixups) {
      s.fixups.push({ offset, kind: fx.kind, expr: this.bindLocalLabels(fx.expr), loc: this.loc, dotOffset: offset, size: 4, isInstruction: true });
    }
    if (result.literal) this.addLiteral(s, this.bindLocalLabels(result.literal.expr), result.literal.size, offset);
  }

  // ---- literal pools --------------------------------------------------------

  private addLiteral(s: Section, expr: Expr, size: 4 | 8 | 16, offset: number): void {
    let pool = this.pools.get(s);
    if (!pool) { pool = []; this.pools.set(s, pool); }
    const c = this.tryConstant(expr);
    const key = `${size}:${c !== undefined ? `#${BigInt.asUintN(size * 8, c)}` : JSON.stringify(expr, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    let entry = pool.find((p) => p.key === key);
    if (!entry) { entry = { expr, key, size, users: [] }; pool.push(entry); }
    entry.users.push({ offset, loc: this.loc });
  }

  private dumpPool(s: Section): void {
    const pool = this.pools.get(s);
    if (!pool || pool.length === 0) return;
    this.pools.delete(s);
    const saved = this.current;
    this.current = s;
    // Per size: align (in a code section this keeps or starts $x), then $d at the entries, as gas's s_ltorg does.
    for (const size of [4, 8, 16] as const) {
      const entries = pool.filter((p) => p.size === size);
      if (entries.length === 0) continue;
      this.alignTo(size, 0n);
      this.markData();
      for (const entry of entries) {
        const at = s.size;
        if (size === 16) {
          this.emitData(entry.expr, 8);
          s.emitLE(0n, 8);
        } else {
          this.emitData(entry.expr, size);
        }
        for (const u of entry.users) {
          const word = applyFixup('ld_prel19', s.readWord(u.offset), BigInt(at - u.offset));
          if (typeof word === 'string') {
            this.loc = u.loc;
            this.report(() => this.error(`literal pool entry out of range: ${word}; add .ltorg closer to the load`));
          } else {
            s.data.set([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24], u.offset);
          }
        }
      }
    }
    this.current = saved;
  }

  // ---- end of input: pools, fixups, symbol sizes ----------------------------

  private finish(): void {
    for (const s of this.sections) {
      this.dumpPool(s);
      for (const c of s.subsections) this.dumpPool(c);
    }
    this.mergeSubsections();
    const t0 = this.clock();
    for (const s of this.sections) {
      for (const fx of s.fixups) {
        this.loc = fx.loc;
        this.report(() => this.resolveFixup(s, fx));
      }
    }
    this.timings.fixups! += this.clock() - t0;
    for (const sym of this.symbols.all()) {
      if (sym.size && sym.size.t !== 'num') {
        this.loc = sym.loc ?? this.loc;
        this.report(() => { sym.size = { t: 'num', v: this.absolute(sym.size!, '.size') }; });
      }
    }
  }

  readonly relocations: RelocationOut[] = [];

  /** Lays subsections out after their sections and moves labels into the merged section. */
  private mergeSubsections(): void {
    const moved = new Map<Section, { parent: Section; base: number }>();
    for (const s of this.sections) {
      const chunks = [...s.subsections];
      const bases = s.mergeSubsections();
      for (const c of chunks) moved.set(c, { parent: s, base: bases.get(c)! });
    }
    if (moved.size === 0) return;
    for (const sym of this.symbols.all()) {
      const m = sym.section ? moved.get(sym.section) : undefined;
      if (m) { sym.section = m.parent; sym.value += BigInt(m.base); }
    }
    if (this.previous && moved.has(this.previous)) this.previous = moved.get(this.previous)!.parent;
    if (moved.has(this.current)) this.current = moved.get(this.current)!.parent;
  }

  private resolveFixup(s: Section, fx: Fixup): void {
    let kind = fx.kind;
    let v: Value;
    if (!fx.isInstruction && matchPcRelData(fx.expr)) {
      // `.word sym - .` : a difference with '.' becomes a PC-relative relocation.
      v = this.evalSub(matchPcRelData(fx.expr)!, s, fx);
      kind = fx.size === 8 ? 'prel64' : fx.size === 4 ? 'prel32' : 'prel16';
      if (v.section === s && !v.symbol) {
        s.writeLE(fx.offset, v.offset - BigInt(fx.offset), fx.size);
        return;
      }
      this.emitReloc(s, fx, kind, v);
      return;
    }
    try {
      v = evaluate(fx.expr, {
        ...this.evalContext(),
        dot: () => ({ section: s, offset: BigInt(fx.dotOffset) }),
      });
    } catch (err) {
      if (err instanceof ExprError) this.error(err.message);
      throw err;
    }
    if (!fx.isInstruction) {
      if (!v.section && !v.symbol) { s.writeLE(fx.offset, v.offset, fx.size); return; }
      if (fx.size === 1) this.error('cannot represent a relocation in a single byte');
      this.emitReloc(s, fx, kind, v);
      return;
    }
    const word = s.readWord(fx.offset);
    if (isPcRelative(kind)) {
      if (!v.section && !v.symbol) {
        // GNU as takes an absolute target of a PC-relative instruction as the offset itself.
        const patched = applyFixup(kind, word, kind === 'adrp21' || kind === 'adrp21_nc' ? v.offset << 12n : v.offset);
        if (typeof patched === 'string') this.error(patched);
        s.data.set([patched & 0xff, (patched >>> 8) & 0xff, (patched >>> 16) & 0xff, patched >>> 24], fx.offset);
        return;
      }
      const localSameSection = v.section === s && !v.symbol && kind !== 'adrp21' && kind !== 'adrp21_nc';
      if (localSameSection) {
        const patched = applyFixup(kind, word, v.offset - BigInt(fx.offset));
        if (typeof patched === 'string') this.error(patched);
        s.data.set([patched & 0xff, (patched >>> 8) & 0xff, (patched >>> 16) & 0xff, patched >>> 24], fx.offset);
        return;
      }
      this.emitReloc(s, fx, kind, v);
      return;
    }
    if (!v.section && !v.symbol) {
      const patched = applyFixup(kind, word, v.offset);
      if (typeof patched === 'string') this.error(patched);
      s.data.set([patched & 0xff, (patched >>> 8) & 0xff, (patched >>> 16) & 0xff, patched >>> 24], fx.offset);
      return;
    }
    this.emitReloc(s, fx, kind, v);
  }

  private evalSub(e: Expr, s: Section, fx: Fixup): Value {
    return evaluate(e, {
      ...this.evalContext(),
      dot: () => ({ section: s, offset: BigInt(fx.dotOffset) }),
    });
  }

  private emitReloc(s: Section, fx: Fixup, kind: FixupKind, v: Value): void {
    const type = RELOC[kind];
    if (!type) this.error(`cannot emit a relocation for ${kind}`);
    let symbol: RelocationOut['symbol'];
    let addend: bigint;
    if (v.symbol) {
      v.symbol.referenced = true;
      symbol = v.symbol;
      addend = v.offset - (v.symbol.defined && v.symbol.section ? v.symbol.value : 0n);
    } else if (v.section) {
      symbol = { section: v.section };
      addend = v.offset;
    } else {
      this.error('relocation against an absolute value');
    }
    this.relocations.push({ section: s, offset: fx.offset, type, symbol, addend });
  }
}

/** Local-label references are bound to the instance visible where they appear. */
function matchPcRelData(e: Expr): Expr | undefined {
  if (e.t === 'bin' && e.op === '-' && e.b.t === 'dot') return e.a;
  return undefined;
}

function fitsData(v: bigint, size: number): boolean {
  if (size >= 8) return true;
  const bits = BigInt(size * 8);
  return v >= -(1n << (bits - 1n)) && v < (1n << bits);
}

function firstWord(text: string): string {
  const m = /^\s*(?:[A-Za-z_.$][A-Za-z0-9_.$]*:\s*)*([.A-Za-z_$][A-Za-z0-9_.$]*)/.exec(text);
  return m ? m[1]! : '';
}

function isConditional(name: string): boolean {
  return name === '.if' || name === '.else' || name === '.elseif' || name === '.endif' || name.startsWith('.if');
}

function decodeString(body: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = c.codePointAt(0)!;
      if (code < 0x80) out.push(code);
      else out.push(...new TextEncoder().encode(String.fromCodePoint(code)));
      if (code > 0xffff) i++;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out.push(10); break;
      case 't': out.push(9); break;
      case 'r': out.push(13); break;
      case 'b': out.push(8); break;
      case 'f': out.push(12); break;
      case 'v': out.push(11); break;
      case 'a': out.push(7); break;
      case '\\': out.push(92); break;
      case '"': out.push(34); break;
      case "'": out.push(39); break;
      case 'x': case 'X': {
        const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 1));
        if (m) { out.push(parseInt(m[0], 16) & 0xff); i += m[0].length; } else out.push(120);
        break;
      }
      default: {
        const m = /^[0-7]{1,3}/.exec(body.slice(i));
        if (m) { out.push(parseInt(m[0], 8) & 0xff); i += m[0].length - 1; } else if (n !== undefined) out.push(n.charCodeAt(0));
      }
    }
  }
  return out;
}

function readFileOrUndefined(path: string): string | undefined {
  try {
    // Imported lazily so the library stays usable where fs is absent.
    return (globalThis as unknown as { process?: { getBuiltinModule?: (m: string) => typeof import('node:fs') } }).process
      ?.getBuiltinModule?.('node:fs')
      ?.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** gas's defaults for well-known section names. */
export function defaultSectionAttributes(name: string): { type: ObjSectionType; flags: ObjSectionFlags } {
  const f = (alloc: boolean, write: boolean, exec: boolean): ObjSectionFlags => ({ alloc, write, exec });
  if (name === '.text' || name.startsWith('.text.')) return { type: 'progbits', flags: f(true, false, true) };
  if (name === '.data' || name.startsWith('.data.')) return { type: 'progbits', flags: f(true, true, false) };
  if (name === '.bss' || name.startsWith('.bss.')) return { type: 'nobits', flags: f(true, true, false) };
  if (name === '.rodata' || name.startsWith('.rodata.')) return { type: 'progbits', flags: f(true, false, false) };
  if (name.startsWith('.note')) return { type: 'note', flags: f(false, false, false) };
  if (name === '.init_array' || name.startsWith('.init_array.')) return { type: 'init_array', flags: f(true, true, false) };
  if (name === '.fini_array' || name.startsWith('.fini_array.')) return { type: 'fini_array', flags: f(true, true, false) };
  if (name === '.init' || name === '.fini') return { type: 'progbits', flags: f(true, false, true) };
  return { type: 'progbits', flags: f(false, false, false) };
}

/** Library entry point: assembles `source` and returns sections, symbols, relocations and diagnostics. */
export function assemble(source: string, opts: AssembleOptions = {}): AssembleResult {
  const asm = new Assembler(opts);
  try {
    asm.assembleSource(source);
  } catch (err) {
    if (err instanceof DiagnosticError) {
      asm.diagnostics.push(...err.diagnostics);
    } else if (!(err instanceof Abort)) {
      throw err;
    }
  }
  return {
    sections: asm.sections,
    symbols: [...asm.symbols.all()],
    relocations: asm.relocations,
    diagnostics: asm.diagnostics,
    timings: asm.timings,
  };
}

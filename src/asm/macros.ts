/**
 * gas macros: `.macro` definitions, argument binding (named, defaulted,
 * `:req`, `:vararg`, keyword arguments) and body substitution (`\arg`, `\()`,
 * `\@`). Also the argument splitting shared with `.irp`.
 */

export interface MacroParam {
  name: string;
  defaultValue?: string;
  required: boolean;
  vararg: boolean;
}

export interface MacroDef {
  name: string;
  params: MacroParam[];
  body: BodyLine[];
}

/** A line of a macro or repeat body, with where it was written. */
export interface BodyLine {
  text: string;
  file: string;
  line: number;
}

/** Splits `a, b=1, c:req, d:vararg` (commas or blanks between parameters). */
export function parseMacroParams(text: string): MacroParam[] | string {
  const params: MacroParam[] = [];
  const pieces = text.split(/\s*,\s*|\s+(?=[A-Za-z_.$])/).map((p) => p.trim()).filter((p) => p !== '');
  for (const piece of pieces) {
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?::(req|vararg))?(?:\s*=\s*(.*))?$/.exec(piece);
    if (!m) return `invalid macro parameter '${piece}'`;
    params.push({ name: m[1]!, required: m[2] === 'req', vararg: m[2] === 'vararg', defaultValue: m[3] });
  }
  for (let i = 0; i < params.length - 1; i++) if (params[i]!.vararg) return `vararg parameter '${params[i]!.name}' must be last`;
  return params;
}

/** Splits invocation arguments on top-level commas (parentheses and quotes protect). */
export function splitArguments(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') { inString = true; cur += c; continue; }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
    if (c === ',' && depth <= 0) { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

/** Splits one comma-free piece on blanks outside parentheses and quotes (gas also separates arguments by spaces). */
function splitOnBlanks(piece: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let inString = false;
  for (let i = 0; i < piece.length; i++) {
    const c = piece[i]!;
    if (inString) { cur += c; if (c === '"') inString = false; continue; }
    if (c === '"') { inString = true; cur += c; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if ((c === ' ' || c === '\t') && depth <= 0) {
      // Blanks around an operator join, as in `a + b`.
      const prev = cur.trimEnd().slice(-1);
      const next = piece.slice(i).trimStart()[0] ?? '';
      if (/[+\-*/|&^<>=!~(]/.test(prev) || /[+\-*/|&^<>=!)]/.test(next)) { cur += c; continue; }
      if (cur !== '') { out.push(cur); cur = ''; }
      continue;
    }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Binds invocation text to the macro's parameters. Returns name→value or an error message. */
export function bindArguments(def: MacroDef, argText: string): Map<string, string> | string {
  let args = argText.trim() === '' ? [] : splitArguments(argText);
  if (args.length < def.params.length) {
    const spread: string[] = [];
    for (const a of args) spread.push(...(splitOnBlanks(a).length > 1 ? splitOnBlanks(a) : [a]));
    if (spread.length <= def.params.length || def.params[def.params.length - 1]?.vararg) args = spread;
  }
  const values = new Map<string, string>();
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const kw = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)\s*(.*)$/s.exec(arg);
    if (kw && def.params.some((p) => p.name === kw[1])) {
      values.set(kw[1]!, unquote(kw[2]!));
      continue;
    }
    const param = def.params[positional];
    if (!param) return `too many arguments to macro '${def.name}'`;
    if (param.vararg) {
      values.set(param.name, args.slice(i).join(', '));
      positional = def.params.length;
      break;
    }
    values.set(param.name, unquote(arg));
    positional++;
  }
  for (const p of def.params) {
    const v = values.get(p.name);
    if (v === undefined || v === '') {
      if (p.required) return `missing value for required parameter '${p.name}' of macro '${def.name}'`;
      if (v === undefined) values.set(p.name, p.defaultValue !== undefined ? unquote(p.defaultValue) : '');
      else if (p.defaultValue !== undefined) values.set(p.name, unquote(p.defaultValue));
    }
  }
  return values;
}

/** Substitutes `\name`, `\()` and `\@` in a body line. */
export function substitute(text: string, values: Map<string, string>, counter: number): string {
  if (text.indexOf('\\') < 0) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\') { out += c; continue; }
    const next = text[i + 1];
    if (next === '(' && text[i + 2] === ')') { i += 2; continue; }
    if (next === '@') { out += String(counter); i++; continue; }
    const m = /^[A-Za-z_.$][A-Za-z0-9_.$]*/.exec(text.slice(i + 1));
    if (m) {
      // Longest parameter name that prefixes the identifier (gas matches whole identifiers).
      const ident = m[0];
      if (values.has(ident)) { out += values.get(ident); i += ident.length; continue; }
      let matched = false;
      for (let len = ident.length - 1; len > 0; len--) {
        const name = ident.slice(0, len);
        if (values.has(name) && !/[A-Za-z0-9_$]/.test(ident[len]!)) {
          out += values.get(name); i += len; matched = true; break;
        }
      }
      if (matched) continue;
    }
    out += c;
  }
  return out;
}

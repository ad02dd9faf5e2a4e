/**
 * The moo lexer for one assembler statement (after preprocessing, macro
 * expansion and comment removal). The nearley grammar in grammar/aarch64.ne
 * consumes these tokens.
 */
import moo from 'moo';

const SHIFTS = ['lsl', 'lsr', 'asr', 'ror', 'msl', 'uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'];

export const lexer = moo.compile({
  ws: /[ \t\r\f\v]+/,
  string: /"(?:\\[^]|[^"\\])*"/,
  char: /'(?:\\[^]|[^\\])'?/,
  float: /[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/,
  hex: /0[xX][0-9a-fA-F]+/,
  bin: /0[bB][01]+/,
  localref: /[0-9]+[bf](?![0-9A-Za-z_$.])/,
  dec: /[0-9]+/,
  reloc: /:[A-Za-z_][A-Za-z0-9_]*:/,
  ident: {
    match: /[A-Za-z_.$][A-Za-z0-9_.$]*/,
    type: moo.keywords({ shift: [...SHIFTS, ...SHIFTS.map((s) => s.toUpperCase())] }),
  },
  shl: '<<', shr: '>>', le: '<=', ge: '>=', eqeq: '==', ne: '!=', ltgt: '<>', andand: '&&', oror: '||',
  punct: /[#,\[\]!{}()=+\-*\/%&|^~<>:@]/,
});

export type Token = moo.Token;

/** The grammar's token stream: the moo lexer with white space dropped. */
const baseNext = lexer.next.bind(lexer);
lexer.next = () => {
  let tok = baseNext();
  while (tok && tok.type === 'ws') tok = baseNext();
  return tok;
};

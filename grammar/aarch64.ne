# AArch64 GNU-as operand and expression grammar. The statement level
# (labels, directives, macro calls) is split by src/asm/statements.ts; this
# grammar turns an instruction's operand text, or a directive's expression
# list, into the operand IR of src/isa/operand-ir.ts. White space is dropped
# by the token stream (src/asm/lexer.ts), so rules carry no blanks.
@preprocessor typescript
@{%
import { lexer } from '../lexer.js';
import * as B from '../grammar-builders.js';
%}
@lexer lexer

# ---- entry points -------------------------------------------------------
operands   -> null                           {% () => [] %}
            | operand ("," operand):*        {% B.operandList %}
exprlist   -> null                           {% () => [] %}
            | expr ("," expr):*              {% B.exprList %}
exprOnly   -> expr                           {% id %}

# ---- operands -----------------------------------------------------------
operand    -> "#" expr                       {% B.hashImm %}
            | expr                           {% B.bareImm %}
            | "=" expr                       {% B.literal %}
            | %shift                         {% B.shiftNoAmount %}
            | %shift "#" expr                {% B.shiftAmount %}
            | %shift expr                    {% B.shiftAmountBare %}
            | "[" expr "]" "!":?             {% B.memBase %}
            | "[" expr "," memoff "]" "!":?  {% B.memOffset %}
            | "{" reglist "}" ("[" expr "]"):? {% B.regList %}
            | %ident "[" expr "]"            {% B.elementIndex %}

memoff     -> "#" expr                       {% (d) => ({ imm: d[1] }) %}
            | expr                           {% (d) => ({ imm: d[0] }) %}
            | expr "," %shift                {% (d) => ({ imm: d[0], shift: { op: d[2].value.toLowerCase() } }) %}
            | expr "," %shift "#" expr       {% (d) => ({ imm: d[0], shift: { op: d[2].value.toLowerCase(), amount: d[4] } }) %}
            | expr "," %shift expr           {% (d) => ({ imm: d[0], shift: { op: d[2].value.toLowerCase(), amount: d[3] } }) %}

reglist    -> expr ("," expr):*              {% B.regListItems %}
            | expr "-" expr                  {% B.regRange %}

# ---- expressions (gas precedence: unary > mul > or > add/compare > logical) ----
expr       -> logical                        {% id %}
            | %reloc expr                    {% B.reloc %}

logical    -> logical ("&&" | "||") additive {% B.binary %}
            | additive                       {% id %}

additive   -> additive ("+" | "-" | "==" | "!=" | "<>" | "<" | ">" | "<=" | ">=") bitwise {% B.binary %}
            | bitwise                        {% id %}

bitwise    -> bitwise ("|" | "&" | "^" | "!") multiplicative {% B.binary %}
            | multiplicative                 {% id %}

multiplicative -> multiplicative ("*" | "/" | "%" | "<<" | ">>") unary {% B.binary %}
            | unary                          {% id %}

unary      -> ("-" | "~" | "!" | "+") unary  {% B.unary %}
            | primary                        {% id %}

primary    -> %dec                           {% B.number %}
            | %hex                           {% B.number %}
            | %bin                           {% B.number %}
            | %char                          {% B.charConst %}
            | %float                         {% B.floatConst %}
            | %localref                      {% B.localRef %}
            | %ident                         {% B.symbol %}
            | %string                        {% B.stringConst %}
            | "(" expr ")"                   {% (d) => d[1] %}

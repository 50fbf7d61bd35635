import { AnalyticsSqlError, AnalyticsSqlErrorCode as E, type SourcePosition } from './errors';

export type TokenType =
  /** A bare word: a keyword, a column, an alias or a function name (`value` as written). */
  | 'word'
  /** A backquoted or double-quoted identifier (`value` decoded); never a keyword. */
  | 'quoted'
  /** A single-quoted string literal (`value` decoded). */
  | 'string'
  /** A numeric literal (`value` as written: digits, one dot, an exponent). */
  | 'number'
  /** An operator or punctuation: = == != <> < <= > >= + - * / % ( ) , . ; */
  | 'symbol'
  | 'eof';

export interface Token {
  type: TokenType;
  value: string;
  pos: SourcePosition;
}

const SYMBOLS_2 = new Set(['==', '!=', '<>', '<=', '>=']);
const SYMBOLS_1 = new Set(['=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.', ';']);

/** Escapes a string literal may use, after a backslash; all others are refused (ClickHouse would drop or keep them silently). */
const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  n: '\n',
  r: '\r',
  t: '\t',
  '0': '\0',
  b: '\b',
  f: '\f',
  a: '\x07',
  v: '\v',
};

function isWordStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isWordPart(c: string): boolean {
  return isWordStart(c) || (c >= '0' && c <= '9');
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  // Only printable ASCII is echoed: error messages must not carry control or invisible characters.
  return code > 0x20 && code < 0x7f ? `'${c}' (${hex})` : hex;
}

/**
 * Splits SQL text into tokens. Comments (`-- ...` to the end of the line, `/* ... *\/`) and
 * whitespace are dropped: no source text is ever copied into the rewritten SQL, so what a comment
 * hides is simply gone. Positions are 1-based lines and columns of code points.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let column = 1;

  const here = (): SourcePosition => ({ offset: i, line, column });
  const fail = (code: (typeof E)[keyof typeof E], reason: string, pos: SourcePosition = here()): never => {
    throw new AnalyticsSqlError(code, reason, pos);
  };
  /** Moves past one code point, keeping line and column. */
  const advance = (): string => {
    const cp = text.codePointAt(i) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // An unpaired surrogate has no UTF-8 form: it could never reach the server as written.
      fail(E.SQL_SYNTAX, `Unpaired UTF-16 surrogate ${describeChar(String.fromCharCode(cp))}`);
    }
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (ch === '\n' || (ch === '\r' && text[i] !== '\n')) {
      line++;
      column = 1;
    } else {
      column++;
    }
    return ch;
  };

  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      advance();
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') advance();
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const start = here();
      advance();
      advance();
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) advance();
      if (i >= text.length) fail(E.SQL_SYNTAX, 'Unterminated comment /* ... */', start);
      advance();
      advance();
      continue;
    }
    const pos = here();
    if (isWordStart(c)) {
      let value = '';
      while (i < text.length && isWordPart(text[i])) value += advance();
      tokens.push({ type: 'word', value, pos });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      tokens.push({ type: 'number', value: readNumber(), pos });
      continue;
    }
    if (c === "'") {
      tokens.push({ type: 'string', value: readQuoted("'", 'string literal'), pos });
      continue;
    }
    if (c === '`' || c === '"') {
      tokens.push({ type: 'quoted', value: readQuoted(c, 'quoted identifier'), pos });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (SYMBOLS_2.has(two)) {
      advance();
      advance();
      tokens.push({ type: 'symbol', value: two, pos });
      continue;
    }
    if (SYMBOLS_1.has(c)) {
      advance();
      tokens.push({ type: 'symbol', value: c, pos });
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    if (c === '{' || c === '}' || c === '?' || c === '$' || c === '@' || c === ':') {
      fail(E.SQL_UNSUPPORTED, `Query parameters and placeholders (${describeChar(ch)}) are not supported`);
    }
    if (c === '[' || c === ']') fail(E.SQL_UNSUPPORTED, 'Arrays are not supported');
    fail(E.SQL_SYNTAX, `Unexpected character ${describeChar(ch)}`);
  }
  tokens.push({ type: 'eof', value: '', pos: here() });
  return tokens;

  function readNumber(): string {
    const start = here();
    let value = '';
    while (isDigit(text[i] ?? '')) value += advance();
    if (text[i] === '.') {
      value += advance();
      while (isDigit(text[i] ?? '')) value += advance();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      const sign = text[i + 1] === '+' || text[i + 1] === '-' ? 1 : 0;
      if (isDigit(text[i + 1 + sign] ?? '')) {
        value += advance();
        if (sign) value += advance();
        while (isDigit(text[i] ?? '')) value += advance();
      }
    }
    if (i < text.length && (isWordPart(text[i]) || text[i] === '.')) {
      fail(E.SQL_SYNTAX, `Malformed number starting '${value}'`, start);
    }
    return value;
  }

  function readQuoted(quote: string, what: string): string {
    const start = here();
    advance();
    let value = '';
    for (;;) {
      if (i >= text.length) fail(E.SQL_SYNTAX, `Unterminated ${what}`, start);
      const ch = text[i];
      if (ch === quote) {
        if (text[i + 1] === quote) {
          advance();
          advance();
          value += quote;
          continue;
        }
        advance();
        return value;
      }
      if (ch === '\\') {
        const escapePos = here();
        advance();
        if (i >= text.length) fail(E.SQL_SYNTAX, `Unterminated ${what}`, start);
        const next = text[i];
        if (next === 'x' || next === 'X') {
          const hex = text.slice(i + 1, i + 3);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(E.SQL_SYNTAX, 'Escape \\x needs two hex digits', escapePos);
          const code = parseInt(hex, 16);
          // A byte above 0x7F is half of a UTF-8 sequence, not a character: write the character itself.
          if (code > 0x7f)
            fail(E.SQL_UNSUPPORTED, `Escape \\x${hex} is not ASCII; write the character itself`, escapePos);
          advance();
          advance();
          advance();
          value += String.fromCharCode(code);
          continue;
        }
        const decoded = ESCAPES[next];
        if (decoded === undefined) {
          const cp = text.codePointAt(i) ?? 0;
          const shown =
            cp > 0x20 && cp < 0x7f
              ? `'\\${next}'`
              : `\\ followed by ${describeChar(String.fromCodePoint(cp))}`;
          fail(E.SQL_SYNTAX, `Unknown escape sequence ${shown}`, escapePos);
        }
        advance();
        value += decoded;
        continue;
      }
      value += advance();
    }
  }
}

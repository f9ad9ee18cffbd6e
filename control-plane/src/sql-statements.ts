// Splits a migration file into single statements, so the runner needs nothing more than
// "execute one statement" from a driver (PGlite's extended protocol refuses several at once).
// Understands '…' and "…" quoting, $tag$ bodies, -- and /* */ comments.

export function splitSqlStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let index = 0;
  const push = (end: number) => {
    const statement = text.slice(start, end).trim();
    if (statement && !isOnlyComments(statement)) statements.push(statement);
  };
  while (index < text.length) {
    const char = text[index];
    const next = text[index + 1];
    if (char === '-' && next === '-') {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end + 1;
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', index + 2);
      index = end === -1 ? text.length : end + 2;
    } else if (char === "'" || char === '"') {
      index = skipQuoted(text, index, char);
    } else if (char === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(index))?.[0];
      if (tag) {
        const end = text.indexOf(tag, index + tag.length);
        index = end === -1 ? text.length : end + tag.length;
      } else {
        index += 1;
      }
    } else if (char === ';') {
      push(index);
      index += 1;
      start = index;
    } else {
      index += 1;
    }
  }
  push(text.length);
  return statements;
}

/** A doubled quote inside a quoted run is an escaped quote, not its end. */
function skipQuoted(text: string, open: number, quote: string): number {
  let index = open + 1;
  while (index < text.length) {
    if (text[index] === quote) {
      if (text[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return text.length;
}

function isOnlyComments(statement: string): boolean {
  return statement
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .every((line) => line.trim() === '' || line.trim().startsWith('--'));
}

/**
 * The SQL a migration runs, without its comments and with runs of whitespace as one space (quoted
 * text and $tag$ bodies kept as written): what its checksum covers, so a comment can be reworded
 * without making an applied migration look changed.
 */
export function sqlWithoutComments(text: string): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const next = text[index + 1];
    if (char === '-' && next === '-') {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end + 1;
      out += ' ';
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', index + 2);
      index = end === -1 ? text.length : end + 2;
      out += ' ';
    } else if (char === "'" || char === '"') {
      const end = skipQuoted(text, index, char);
      out += text.slice(index, end);
      index = end;
    } else if (char === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(index))?.[0];
      const end = tag ? text.indexOf(tag, index + tag.length) : -1;
      const stop = tag ? (end === -1 ? text.length : end + tag.length) : index + 1;
      out += text.slice(index, stop);
      index = stop;
    } else {
      out += /\s/.test(char as string) ? ' ' : char;
      index += 1;
    }
  }
  return out.replace(/ {2,}/g, ' ').trim();
}

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

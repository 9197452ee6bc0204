/**
 * CloudWatch Logs JSON filter patterns ("Filter pattern syntax": `{ SELECTOR OPERATOR VALUE }` joined by
 * `&&` / `||` with parentheses), evaluated on one log line as CloudWatch does: a line that is not JSON, or
 * a selector that names no field, does not match; `=`/`!=` on a string value compare strings, where `*`
 * matches any run of characters; `<`, `<=`, `>`, `>=` compare numbers only. Anything else in a pattern
 * (regular expressions, IS NULL, EXISTS, arrays, unquoted strings) throws, so a pattern this cannot
 * judge never passes a test.
 */
type Token = { kind: 'sel'; path: string[] } | { kind: 'op'; op: string } | { kind: 'str'; value: string } | { kind: 'num'; value: number } | { kind: 'and' | 'or' | '(' | ')' };

function tokenize(body: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\$(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)|(!=|>=|<=|=|>|<)|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(&&)|(\|\|)|(\()|(\)))/y;
  let at = 0;
  while (at < body.length) {
    if (/^\s*$/.test(body.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(body);
    if (!m) throw new Error(`filter pattern: cannot read "${body.slice(at)}"`);
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'sel', path: m[1].split('.').slice(1) });
    else if (m[2]) tokens.push({ kind: 'op', op: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'str', value: m[3].replace(/\\(.)/g, '$1') });
    else if (m[4]) tokens.push({ kind: 'num', value: Number(m[4]) });
    else if (m[5]) tokens.push({ kind: 'and' });
    else if (m[6]) tokens.push({ kind: 'or' });
    else if (m[7]) tokens.push({ kind: '(' });
    else tokens.push({ kind: ')' });
  }
  return tokens;
}

function field(line: unknown, path: readonly string[]): unknown {
  let v: unknown = line;
  for (const key of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !(key in v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function compare(actual: unknown, op: string, value: Token): boolean {
  if (value.kind === 'str') {
    if (op !== '=' && op !== '!=') throw new Error(`filter pattern: ${op} needs a number`);
    if (typeof actual !== 'string') return false;
    const re = new RegExp(
      `^${value.value
        .split('*')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return op === '=' ? re.test(actual) : !re.test(actual);
  }
  if (value.kind !== 'num') throw new Error('filter pattern: expected a quoted string or a number');
  if (typeof actual !== 'number') return false;
  switch (op) {
    case '=':
      return actual === value.value;
    case '!=':
      return actual !== value.value;
    case '>':
      return actual > value.value;
    case '>=':
      return actual >= value.value;
    case '<':
      return actual < value.value;
    default:
      return actual <= value.value;
  }
}

/** Whether the log line `message` matches the JSON filter `pattern`. */
export function matchesFilterPattern(pattern: string, message: string): boolean {
  const outer = /^\s*\{(.*)\}\s*$/s.exec(pattern);
  if (!outer) throw new Error('filter pattern: only JSON patterns ({ ... }) are supported here');
  const tokens = tokenize(outer[1]);
  let line: unknown;
  try {
    line = JSON.parse(message);
  } catch {
    line = undefined;
  }
  let i = 0;
  const expr = (): boolean => {
    let result = term();
    while (i < tokens.length && (tokens[i].kind === 'and' || tokens[i].kind === 'or')) {
      const joiner = tokens[i++].kind;
      const right = term();
      result = joiner === 'and' ? result && right : result || right;
    }
    return result;
  };
  const term = (): boolean => {
    const t = tokens[i++];
    if (t?.kind === '(') {
      const inner = expr();
      if (tokens[i++]?.kind !== ')') throw new Error('filter pattern: unbalanced parentheses');
      return inner;
    }
    const op = tokens[i++];
    const value = tokens[i++];
    if (t?.kind !== 'sel' || op?.kind !== 'op' || !value) throw new Error('filter pattern: expected SELECTOR OPERATOR VALUE');
    return line !== undefined && compare(field(line, t.path), op.op, value);
  };
  const result = expr();
  if (i !== tokens.length) throw new Error('filter pattern: trailing input');
  return result;
}

// Prometheus text exposition format 0.0.4 (the format Synapse's metrics listener serves; Prometheus docs,
// "Exposition formats"), read strictly: a line that is not a comment, a HELP/TYPE line or a well-formed
// sample is an error naming the line, so a truncated or foreign body is refused as a whole rather than
// half-read. Hand-written because the one npm parser (parse-prometheus-text-format) is unmaintained and
// groups samples into families we would have to take apart again; this is the grammar and nothing more.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN)$/;
const TIMESTAMP = /^-?\d+$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const ESCAPES = { '\\': '\\', '"': '"', n: '\n' };

/** A line the format does not allow; `line` is 1-based. */
export class ExpositionError extends Error {
  constructor(line, reason, text) {
    super(`exposition line ${line}: ${reason}: ${JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text)}`);
    this.name = 'ExpositionError';
  }
}

function parseFloatToken(token) {
  if (!FLOAT.test(token)) return undefined;
  if (/inf$/i.test(token)) return token.startsWith('-') ? -Infinity : Infinity;
  return Number(token);
}

/** `{a="x",b="y"}` from position 0 of `rest`: the labels and what follows the closing brace. */
function parseLabels(rest, fail) {
  const labels = {};
  let i = 1;
  for (;;) {
    while (rest[i] === ' ' || rest[i] === '\t') i++;
    if (rest[i] === '}') return { labels, after: rest.slice(i + 1) };
    const name = LABEL_NAME.exec(rest.slice(i));
    if (!name) fail('expected a label name');
    i += name[0].length;
    while (rest[i] === ' ' || rest[i] === '\t') i++;
    if (rest[i] !== '=') fail(`expected "=" after label ${name[0]}`);
    i++;
    while (rest[i] === ' ' || rest[i] === '\t') i++;
    if (rest[i] !== '"') fail(`expected a quoted value for label ${name[0]}`);
    i++;
    let value = '';
    for (;;) {
      const c = rest[i];
      if (c === undefined) fail(`unterminated value of label ${name[0]}`);
      if (c === '"') break;
      if (c === '\\') {
        const escaped = ESCAPES[rest[i + 1]];
        if (escaped === undefined) fail(`unknown escape in the value of label ${name[0]}`);
        value += escaped;
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    if (Object.hasOwn(labels, name[0])) fail(`label ${name[0]} given twice`);
    labels[name[0]] = value;
    while (rest[i] === ' ' || rest[i] === '\t') i++;
    if (rest[i] === ',') i++;
    else if (rest[i] !== '}') fail('expected "," or "}" after a label');
  }
}

/**
 * Parses an exposition into its samples ({ name, labels, value }) and the declared TYPE of each family.
 * @param {string} text
 * @returns {{ samples: { name: string, labels: Record<string, string>, value: number }[], types: Map<string, string> }}
 */
export function parseExposition(text) {
  const samples = [];
  const types = new Map();
  const lines = text.split('\n');
  // The format ends every line, the last one too, with a line feed: a body cut short ends without one.
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError(lines.length, 'the last line has no line feed (truncated body?)', lines.at(-1));
  lines.forEach((raw, index) => {
    const fail = (reason) => {
      throw new ExpositionError(index + 1, reason, raw);
    };
    const line = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (line === '') return;
    if (line.startsWith('#')) {
      const tokens = line
        .slice(1)
        .trim()
        .split(/[ \t]+/);
      if (tokens[0] === 'TYPE') {
        if (tokens.length !== 3 || !METRIC_NAME.test(tokens[1]) || !TYPES.has(tokens[2])) fail('malformed TYPE line');
        if (types.has(tokens[1])) fail(`second TYPE line for ${tokens[1]}`);
        types.set(tokens[1], tokens[2]);
      } else if (tokens[0] === 'HELP' && (tokens.length < 2 || !METRIC_NAME.test(tokens[1]))) {
        fail('malformed HELP line');
      }
      return;
    }
    const name = METRIC_NAME.exec(line);
    if (!name) fail('expected a metric name');
    let rest = line.slice(name[0].length);
    let labels = {};
    if (rest.startsWith('{')) ({ labels, after: rest } = parseLabels(rest, fail));
    const tokens = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || tokens.length < 1 || tokens.length > 2) fail('expected a value (and an optional timestamp) after the metric');
    const value = parseFloatToken(tokens[0]);
    if (value === undefined) fail(`"${tokens[0]}" is not a number`);
    if (tokens[1] !== undefined && !TIMESTAMP.test(tokens[1])) fail(`"${tokens[1]}" is not a timestamp in milliseconds`);
    samples.push({ name: name[0], labels, value });
  });
  return { samples, types };
}

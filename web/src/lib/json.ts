// Checks the JSON typed into the "send test event" form before it is sent, saying what is wrong
// and where in the same words in every browser (JSON.parse's messages differ between engines
// and often omit the position).

export type JsonCheck =
  | { ok: true; value: unknown }
  | { ok: false; message: string; position: number | null; line: number | null; column: number | null };

/** Parses `text`; on failure says why and where (line and column, 1-based). */
export function checkJson(text: string): JsonCheck {
  if (text.trim() === '') return failure('Payload is empty: enter a JSON value, e.g. {}', null, text);
  try {
    const value: unknown = JSON.parse(text);
    if (value === null) {
      return failure('null is not accepted as a payload: send an object, array, string, number or boolean', null, text);
    }
    return { ok: true, value };
  } catch (error) {
    const problem = findJsonProblem(text) ?? { message: error instanceof Error ? error.message : 'Invalid JSON', position: null };
    return failure(problem.message, problem.position, text);
  }
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

function failure(message: string, position: number | null, text: string): JsonCheck {
  if (position == null) return { ok: false, message, position: null, line: null, column: null };
  const { line, column } = lineAndColumn(text, position);
  return { ok: false, message: `${message} at line ${line}, column ${column}`, position, line, column };
}

interface Problem {
  message: string;
  position: number;
}

class JsonProblem extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** A strict JSON scanner (RFC 8259) that only locates the first problem; null when there is none. */
export function findJsonProblem(text: string): Problem | null {
  let i = 0;
  const describe = (at: number) => (at >= text.length ? 'end of input' : `character ${JSON.stringify(text[at])}`);
  const fail = (message: string, at = i): never => {
    throw new JsonProblem(message, at);
  };
  const skipWhitespace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expectWord = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (text[i + k] !== word[k]) fail(`Unexpected ${describe(i + k)}`, i + k);
    }
    i += word.length;
  };
  const scanString = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('Unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('Unescaped control character in a string (a line break must be written \\n)');
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('Invalid \\u escape in a string (needs 4 hex digits)');
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          fail('Invalid escape in a string');
        }
      } else {
        i++;
      }
    }
  };
  const scanNumber = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '-' || match[0] === '') fail(`Unexpected ${describe(i)}`);
    i += match![0].length;
    if (i < text.length && /[0-9.eE]/.test(text[i]!)) fail('Invalid number');
  };
  const scanValue = (): void => {
    skipWhitespace();
    const c = text[i];
    if (c === undefined) fail('Unexpected end of input: a value is missing');
    else if (c === '{') scanObject();
    else if (c === '[') scanArray();
    else if (c === '"') scanString();
    else if (c === 't') expectWord('true');
    else if (c === 'f') expectWord('false');
    else if (c === 'n') expectWord('null');
    else if (c === '-' || (c >= '0' && c <= '9')) scanNumber();
    else if (c === "'") fail('Strings must use double quotes');
    else fail(`Unexpected ${describe(i)}`);
  };
  const scanObject = () => {
    i++;
    skipWhitespace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[i] === '}') fail('Trailing comma before }', i);
      if (text[i] !== '"') fail(i >= text.length ? 'Unexpected end of input: the object is not closed' : 'Expected a property name in double quotes');
      scanString();
      skipWhitespace();
      if (text[i] !== ':') fail("Expected ':' after the property name");
      i++;
      scanValue();
      skipWhitespace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(i >= text.length ? 'Unexpected end of input: the object is not closed' : "Expected ',' or '}' after a property value");
    }
  };
  const scanArray = () => {
    i++;
    skipWhitespace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[i] === ']') fail('Trailing comma before ]', i);
      scanValue();
      skipWhitespace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(i >= text.length ? 'Unexpected end of input: the array is not closed' : "Expected ',' or ']' after an array element");
    }
  };
  try {
    scanValue();
    skipWhitespace();
    if (i < text.length) fail('Unexpected content after the JSON value');
    return null;
  } catch (error) {
    if (error instanceof JsonProblem) return { message: error.message, position: error.position };
    throw error;
  }
}

/**
 * Reading JSON text without parsing it into doubles: the text of each member of an object
 * written as a number, and the text of each element of an array, so a number keeps every
 * digit it was written with.
 */

/**
 * The text of each member of a JSON object written as a number, by name (the last of
 * repeated names, as JSON.parse keeps). `text` must be valid JSON; anything but an object
 * gives no members.
 */
export function memberNumberTexts(text: string): Map<string, string> {
  const numbers = new Map<string, string>();
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return numbers;
  at = skipSpace(text, at + 1);
  while (text.charCodeAt(at) === QUOTE) {
    const keyEnd = stringEnd(text, at);
    const key = text.slice(at + 1, keyEnd - 1);
    const name = key.includes('\\') ? (JSON.parse(text.slice(at, keyEnd)) as string) : key;
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const valueEnd = jsonValueEnd(text, valueStart);
    const first = text.charCodeAt(valueStart);
    if (first === MINUS || (first >= ZERO && first <= NINE)) numbers.set(name, text.slice(valueStart, valueEnd));
    else numbers.delete(name);
    at = skipSpace(text, valueEnd);
    if (text.charCodeAt(at) !== COMMA) break;
    at = skipSpace(text, at + 1);
  }
  return numbers;
}

const code = (char: string): number => char.charCodeAt(0);
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, QUOTE, BACKSLASH, COMMA, MINUS, ZERO, NINE] = [
  code('{'),
  code('}'),
  code('['),
  code(']'),
  code('"'),
  code('\\'),
  code(','),
  code('-'),
  code('0'),
  code('9'),
];

/**
 * The text of each element of a JSON array, in order, or undefined when `text` is not an
 * array. `text` must be valid JSON. Elements keep their own text, so a number keeps every
 * digit it was written with (parseReadingJson in reading.ts reads them from it).
 */
export function arrayElementTexts(text: string): string[] | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACKET) return undefined;
  const elements: string[] = [];
  at = skipSpace(text, at + 1);
  while (at < text.length && text.charCodeAt(at) !== CLOSE_BRACKET) {
    const end = jsonValueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipSpace(text, end);
    if (text.charCodeAt(at) !== COMMA) break;
    at = skipSpace(text, at + 1);
  }
  return elements;
}

/** JSON whitespace: space, tab, line feed, carriage return. */
const isJsonSpace = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13;

function skipSpace(text: string, at: number): number {
  while (isJsonSpace(text.charCodeAt(at))) at++;
  return at;
}

/** The index after the string starting (with its quote) at `at`. */
function stringEnd(text: string, at: number): number {
  for (let index = at + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === BACKSLASH) index++;
    else if (code === QUOTE) return index + 1;
  }
  return text.length;
}

/** The index after the value starting at `at` (valid JSON): strings and containers are skipped whole, without recursion. */
function jsonValueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number or a literal: up to the next separator.
    let index = at;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isJsonSpace(code)) break;
      index++;
    }
    return index;
  }
  let depth = 0;
  for (let index = at; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) index = stringEnd(text, index) - 1;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) return index + 1;
  }
  return text.length;
}

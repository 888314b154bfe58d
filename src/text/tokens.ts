/**
 * Text primitives shared by indexing, retrieval and quote selection: normalisation, word tokens with
 * offsets, stemming and sentence segmentation. One tokenizer everywhere, so that the words a quote
 * highlights are exactly the words retrieval matched.
 */
import { stemmer } from 'stemmer';
import type { Span } from '../model.js';

/**
 * Function words that carry no topic. "us" is deliberately absent: in news it is nearly always the
 * country, and dropping it loses the most important word of many questions.
 */
const STOPWORDS = new Set(
  `a about above after again against all am an and any are aren't as at be because been before being below
  between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
  few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
  herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more
  most mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own same
  shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
  themselves then there there's these they they'd they'll they're they've this those through to too under
  until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which
  while who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your yours
  yourself yourselves also just tell told say says said did does anything something thing things please
  know get got many much`.split(/\s+/),
);

/** Question words, kept apart from content words because they hint at the kind of answer wanted. */
export type AnswerKind = 'number' | 'time' | 'person' | 'place' | 'other';

export interface Token {
  /** The word as written, lower-cased and with typographic apostrophes made plain. */
  word: string;
  /** The stem used for matching. */
  stem: string;
  start: number;
  end: number;
  stop: boolean;
}

// Dotted acronyms first ("U.S." is the word "us", not two letters), then letters of any script with
// inner apostrophes, then numbers with thousands separators and decimals.
const WORD = /(?:\p{Lu}\.){2,}|\p{L}[\p{L}\p{M}\p{N}]*(?:['’]\p{L}+)*|\p{N}+(?:[.,]\p{N}+)*/gu;

/** Lower-cases, folds typographic apostrophes and removes accents (so "Zakharová" finds "Zakharova"). */
export function foldWord(word: string): string {
  const lower = word.toLowerCase().replace(/’/g, "'");
  // eslint-disable-next-line no-control-regex -- plain ASCII needs no accent folding
  return /^[\x00-\x7f]*$/.test(lower) ? lower : lower.normalize('NFKD').replace(/\p{M}+/gu, '');
}

const stemCache = new Map<string, string>();

/** Porter stem of a folded word, with possessives removed and numbers normalised ("2,000" → "2000"). */
export function stemWord(folded: string): string {
  const cached = stemCache.get(folded);
  if (cached !== undefined) return cached;
  let base = folded.replace(/'s$/, '').replace(/'$/, '');
  if (/^\p{N}/u.test(base)) base = base.replace(/,/g, '');
  else base = stemmer(base);
  if (stemCache.size < 200_000) stemCache.set(folded, base);
  return base;
}

type Analysed = Pick<Token, 'word' | 'stem' | 'stop'>;

// Folding and stemming dominate indexing time; natural text repeats its words, so each is done once.
const analysedCache = new Map<string, Analysed>();

function analyse(raw: string): Analysed {
  let analysed = analysedCache.get(raw);
  if (!analysed) {
    const word = foldWord(raw.includes('.') && /^\p{Lu}\./u.test(raw) ? raw.replace(/\./g, '') : raw);
    analysed = { word, stem: stemWord(word), stop: STOPWORDS.has(word) };
    if (analysedCache.size < 500_000) analysedCache.set(raw, analysed);
  }
  return analysed;
}

/** Tokens of `text` with their character offsets, in order. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const match of text.matchAll(WORD)) {
    const raw = match[0];
    const start = match.index;
    tokens.push({ ...analyse(raw), start, end: start + raw.length });
  }
  return tokens;
}

/** Stems of every word of `text`, stopwords included, without building token objects. */
export function allStems(text: string): string[] {
  const stems: string[] = [];
  for (const match of text.matchAll(WORD)) stems.push(analyse(match[0]).stem);
  return stems;
}

/** Stems of the content words of `text`, in order, repeats kept (BM25 counts them). */
export function contentStems(text: string): string[] {
  const stems: string[] = [];
  for (const match of text.matchAll(WORD)) {
    const analysed = analyse(match[0]);
    if (!analysed.stop) stems.push(analysed.stem);
  }
  return stems;
}

/** The kind of answer a question asks for, from its question word. */
export function answerKind(question: string): AnswerKind {
  const lower = question.toLowerCase();
  if (/\bhow (many|much|long|far|old|big|large)\b|\bwhat (number|percentage|amount)\b/.test(lower)) return 'number';
  if (/\bwhen\b|\bwhat (year|date|day|month|time)\b|\bsince when\b/.test(lower)) return 'time';
  if (/\bwho\b|\bwhom\b|\bwhose\b/.test(lower)) return 'person';
  if (/\bwhere\b/.test(lower)) return 'place';
  return 'other';
}

const KIND_PATTERNS: Record<Exclude<AnswerKind, 'other'>, RegExp> = {
  number:
    /\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|dozens?|hundreds?|thousands?|millions?|billions?|trillions?|several|few|twice|half|pair|single|percent)\b/i,
  time: /\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last (week|month|year)|ago|since|century)\b/i,
  person: /\b\p{Lu}\p{Ll}+\s+\p{Lu}\p{Ll}+/u,
  place: /\b(in|at|near|from)\s+(the\s+)?\p{Lu}/u,
};

/** Whether `text` holds something of the kind a question asks for: a number for "how many", a date for "when". */
export function holdsAnswerKind(text: string, kind: AnswerKind): boolean {
  return kind !== 'other' && KIND_PATTERNS[kind].test(text);
}

// Abbreviations after which ICU's sentence rules wrongly break ("Mr. Smith", "the U.S. Military").
const ABBREVIATION_END =
  /(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|Cmdr|Adm|Maj|St|Jr|Sr|Inc|Ltd|Co|Corp|No|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|etc|approx|e\.g|i\.e)\.|\b(?:\p{Lu}\.){1,3})\s*$/u;

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Sentence spans of `text` from Intl.Segmenter, with breaks after common abbreviations and initials
 * undone, and surrounding whitespace trimmed from each span.
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  for (const segment of segmenter.segment(text)) {
    const start = segment.index;
    const end = start + segment.segment.length;
    const previous = spans.at(-1);
    if (previous && ABBREVIATION_END.test(text.slice(previous.start, previous.end))) {
      previous.end = end;
    } else {
      spans.push({ start, end });
    }
  }
  return spans
    .map(({ start, end }) => {
      const slice = text.slice(start, end);
      const leading = slice.length - slice.trimStart().length;
      const trailing = slice.length - slice.trimEnd().length;
      return { start: start + leading, end: end - trailing };
    })
    .filter((span) => span.end > span.start);
}

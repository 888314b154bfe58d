/**
 * Questions about an article rather than about what it says: who wrote it, which outlet ran it, when it
 * came out. No passage holds the byline, outlet or date (they are read from the page into the article's
 * fields, and page furniture is kept out of the passages), so these are answered from the fields of the
 * article that the rest of the question points to.
 *
 * Recognition is deliberately narrow: "who wrote the letter?" asks about the story, not the article, so a
 * question counts only when it also names the piece itself ("the article", "the Newsweek story", "it").
 */
import type { ArticleRecord } from '../model.js';
import { foldWord } from '../text/tokens.js';

export type MetadataField = 'byline' | 'outlet' | 'date';

export interface MetadataQuestion {
  field: MetadataField;
  /** Whose piece it is, when the question says so ("Newsweek's story"): it must name an outlet to count. */
  possessor?: string;
  /** The question without its metadata wording: what the article is about, to find it by. */
  topic: string;
}

/** Words for a piece of journalism ("a piece of silver" is not one). */
const PIECE = String.raw`(?:article|articles|piece(?!\s+of\b)|story|stories|report|essay|column|analysis|op-?ed|review|post|blog|feature|editorial|explainer|commentary|coverage|write-?up|interview|profile|news item)`;
/** The question names the piece: a piece word, or "it"/"this" as the last word ("who wrote it?"). */
const NAMES_PIECE = new RegExp(
  String.raw`\b${PIECE}\b|\b(?:wrote|written|authored|published|posted|ran|run|from)\s+(?:it|this)\s*\W*$|\b(?:is|was)\s+(?:it|this)\s+from\b`,
  'i',
);
/** "Thoreau's essay": a piece that belongs to someone in the story, unless that someone is an outlet. */
const POSSESSED_PIECE = new RegExp(String.raw`([\p{L}\p{N}][\p{L}\p{N}.&-]*)['’]s\s+(?:[\p{L}-]+\s+){0,2}${PIECE}\b`, 'iu');

const PUBLISHING = String.raw`(?:published|publish|publishes|posted|ran|run|runs|carried|carries|carry|printed|put out|released|came out|come out|appeared|appear|reported|broke)`;
/** Verbs only an outlet does to a piece ("who reported the attack" asks about the story, so no "reported"). */
const PUBLISHED_BY = String.raw`(?:published|publish|publishes|ran|runs|carried|carries|printed|put out|posted)`;

interface Pattern {
  field: MetadataField;
  /** The wording that makes the question a metadata question. */
  pattern: RegExp;
  /** Whether the question must also name the piece itself. */
  needsPiece: boolean;
}

const PATTERNS: Pattern[] = [
  { field: 'byline', pattern: /\bwho\s+(?:wrote|writes|authored|penned|is\s+behind|was\s+behind)\b/i, needsPiece: true },
  { field: 'byline', pattern: /\bwho\s+wrote\s+(?:about|on)\b/i, needsPiece: false },
  { field: 'byline', pattern: /\b(?:written|authored)\s+by\s+whom\b|\bby\s+whom\s+was\b/i, needsPiece: false },
  { field: 'byline', pattern: /\bwhose\s+(?:byline|article|piece|story|column|essay|report)\b/i, needsPiece: false },
  {
    field: 'byline',
    pattern: /^(?:(?:so|and|ok|okay)\W+)?(?:who|whom|what|name|tell me)\b.*\b(?:author|writer|byline|reporter|journalist|columnist)s?\b/i,
    needsPiece: true,
  },
  {
    field: 'outlet',
    pattern: new RegExp(
      String.raw`\b(?:which|what)\s+(?:news\s*)?(?:outlet|newspaper|paper|site|website|publication|magazine|organi[sz]ation|agency|network|channel|broadcaster|media(?:\s+outlet)?)\b.*\b(?:${PUBLISHING}|is\s+(?:it|this|that)\s+from|from)\b`,
      'i',
    ),
    needsPiece: true,
  },
  {
    field: 'outlet',
    pattern: new RegExp(String.raw`\b(?:who|where)\s+(?:(?:was|is|did|does)\s+.*\b)?${PUBLISHED_BY}\b`, 'i'),
    needsPiece: true,
  },
  { field: 'outlet', pattern: /\bwhere\s+(?:is|was|does|did)\b.*\b(?:from|come\s+from|came\s+from)\b/i, needsPiece: true },
  {
    field: 'date',
    pattern: new RegExp(String.raw`\bwhen\s+(?:was|is|were|did|does)\b.*\b(?:${PUBLISHING}|written|dated|updated|out)\b`, 'i'),
    needsPiece: true,
  },
  {
    field: 'date',
    pattern: new RegExp(
      String.raw`\b(?:what|which)\s+(?:date|day|year|month)\b.*\b(?:${PUBLISHING}|written|dated)\b|\bpublication\s+date\b|\bdate\s+of\s+(?:the\s+|this\s+|that\s+)?${PIECE}\b|\bhow\s+old\s+is\s+(?:the|this|that)\b`,
      'i',
    ),
    needsPiece: true,
  },
];

/** Words that only say what is asked, not what the article is about. */
const METADATA_WORDS = new RegExp(
  String.raw`\b(?:who|whom|whose|which|what|when|where|name|tell me|wrote|writes|written|authored|penned|behind|author|authors|writer|writers|byline|reporter|journalist|columnist|outlet|newspaper|paper|site|website|publication|magazine|news|organi[sz]ation|agency|network|channel|broadcaster|media|date|dated|day|year|month|how old|updated|${PUBLISHING}|${PIECE})\b`,
  'gi',
);

/** The metadata question `question` asks, or null when it asks about the articles' text. */
export function metadataQuestion(question: string): MetadataQuestion | null {
  for (const { field, pattern, needsPiece } of PATTERNS) {
    if (!pattern.test(question)) continue;
    if (needsPiece && !NAMES_PIECE.test(question)) continue;
    const topic = question.replace(METADATA_WORDS, ' ').replace(/\s+/g, ' ').trim();
    const possessor = POSSESSED_PIECE.exec(question)?.[1];
    return possessor ? { field, topic, possessor } : { field, topic };
  }
  return null;
}

/** Each article's source names, worked out once: an article record is replaced, never changed. */
const namesOfArticle = new WeakMap<Pick<ArticleRecord, 'outlet' | 'url'>, string[]>();

/** The names a question may use for an article's source: its outlet and its site's name ("newsweek"). */
export function sourceNames(article: Pick<ArticleRecord, 'outlet' | 'url'>): string[] {
  const known = namesOfArticle.get(article);
  if (known) return known;
  const names: string[] = [];
  if (article.outlet) names.push(fold(article.outlet));
  if (article.url) {
    try {
      const labels = new URL(article.url).hostname.replace(/^www\d*\./, '').split('.');
      // The label before the public suffix: "newsweek" of newsweek.com, "bbc" of bbc.co.uk, "cnn" of
      // money.cnn.com (a short second level counts as part of the suffix only under a country's domain).
      const underCountry = labels.length >= 3 && labels.at(-1)!.length === 2 && labels.at(-2)!.length <= 3;
      const site = underCountry ? labels.at(-3) : labels.at(-2);
      if (site && site.length >= 3) names.push(site);
    } catch {
      // Not an address: the outlet alone names the source.
    }
  }
  const found = names.filter((name) => name.length > 0);
  namesOfArticle.set(article, found);
  return found;
}

function fold(text: string): string {
  return text
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((word) => foldWord(word))
    .join(' ');
}

/** Whether a source name (as `sourceNames` gives it) is in the question ("the Newsweek piece", "on Press TV"). */
function sourceMatcher(question: string): (name: string) => boolean {
  const folded = ` ${fold(question)} `;
  const squashed = folded.replace(/ /g, '');
  return (name) => folded.includes(` ${name} `) || (name.length >= 6 && squashed.includes(name.replace(/ /g, '')));
}

/** Whether the question names an article's source, the question read once for all the articles asked about. */
export function sourceMentionedIn(question: string): (article: Pick<ArticleRecord, 'outlet' | 'url'>) => boolean {
  const matches = sourceMatcher(question);
  return (article) => sourceNames(article).some(matches);
}

/** Whether the question names the article's source ("the Newsweek piece", "on Press TV"). */
export function mentionsSource(question: string, article: Pick<ArticleRecord, 'outlet' | 'url'>): boolean {
  return sourceMentionedIn(question)(article);
}

/** How a metadata answer reads, as one sentence; the value is null when the article does not give it. */
export function describeFact(field: MetadataField, value: string | null): string {
  if (value === null) {
    return field === 'byline'
      ? 'The article does not name its author.'
      : field === 'outlet'
        ? 'The article does not name the outlet that ran it.'
        : 'The article carries no date.';
  }
  return field === 'byline' ? `Written by ${value}.` : field === 'outlet' ? `Published by ${value}.` : `Published on ${value}.`;
}

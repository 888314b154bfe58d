/**
 * What every handler of the bot is given: the searchable library, the logger, the clock and the shared
 * state (rate limits, remembered answers, the feedback log).
 */
import { answerQuestion, type Answer } from '../retrieval/answer.js';
import type { ArticleFilter } from '../retrieval/filters.js';
import type { EarlierQuestion } from '../retrieval/question-terms.js';
import type { SearchIndex } from '../retrieval/search.js';
import { memoryLookup, type PassageLookup } from '../storage/served-index.js';
import type { Logger } from 'pino';
import { hashUser, type FeedbackLog } from '../eval/feedback.js';
import type { RateLimiter } from './rate-limit.js';
import type { ArticleRecord, IndexedPassage } from '../model.js';
import type { Embedder } from '../embedding/embedder.js';
import type { ParagraphText } from './render/catalog-views.js';
import type { AnswerMemory } from './answer-memory.js';
import type { AppendLog } from '../storage/append-log.js';
import type { AddedLink } from '../web/add-pages.js';

/** The index with the lookups the bot needs besides search. */
/** An index as the bot takes it: with its passage look-ups, or with every passage in memory. */
export type LibraryIndex = SearchIndex & { lookup?: PassageLookup };

export interface Library {
  index: LibraryIndex;
  embedder: Embedder | null;
  /** A caveat shown with every answer (e.g. lexical-only retrieval). */
  notice?: string;
  /** Articles, newest first, then by headline. */
  articles: ArticleRecord[];
  passageCount(file: string): number;
  /** A passage by its label; undefined when the index no longer holds it. */
  passage(label: number): Promise<IndexedPassage | undefined>;
  /** Label of a passage by its id (`file#paragraph`). */
  labelOf(passageId: string): Promise<number | undefined>;
  /** Paragraphs `from`..`to` of an article (1-based, inclusive), parts of long paragraphs joined. */
  paragraphs(file: string, from: number, to: number): Promise<ParagraphText[]>;
}

/** What the bot answers from: the loaded index and the question embedder. */
export interface LibrarySource {
  index: LibraryIndex;
  embedder: Embedder | null;
  notice?: string;
}

/**
 * The library of a source that may be swapped while the bot runs (a live index): the lookups are built
 * once per source, when a handler first needs them after a swap.
 */
export function libraryOf(source: LibrarySource | (() => LibrarySource)): () => Library {
  if (typeof source !== 'function') {
    const library = createLibrary(source);
    return () => library;
  }
  let seen: LibrarySource | undefined;
  let library: Library | undefined;
  return () => {
    const current = source();
    if (current !== seen || !library) {
      seen = current;
      library = createLibrary(current);
    }
    return library;
  };
}

export function createLibrary(source: LibrarySource): Library {
  const lookup = source.index.lookup ?? memoryLookup(source.index.passages);
  const articles = [...source.index.articles.values()].sort(
    (a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.title.localeCompare(b.title) || a.file.localeCompare(b.file),
  );
  return {
    index: source.index,
    embedder: source.embedder,
    notice: source.notice,
    articles,
    passageCount: (file) => lookup.passageCount(file),
    passage: (label) => lookup.passage(label),
    labelOf: (passageId) => lookup.labelOf(passageId),
    async paragraphs(file, from, to) {
      const found = new Map<number, string[]>();
      for (const passage of await lookup.paragraphs(file, from, to)) {
        found.set(passage.paragraph, [...(found.get(passage.paragraph) ?? []), passage.text]);
      }
      return [...found.entries()].map(([number, parts]) => ({ number, text: parts.join(' ') }));
    },
  };
}

/** Adding articles from links (/add): where it happens and who did what. */
export interface Additions {
  /** Fetches the links, saves and indexes the pages; the index answering questions includes them once this resolves. */
  add(links: string[]): Promise<AddedLink[]>;
  /** The audit log: who added which link, user ids hashed. */
  log: AppendLog;
  /** Additions per user and channel; each one fetches pages and rebuilds part of the index. */
  limiter: RateLimiter;
}

export interface BotContext {
  /** The library as it is now; read it once per question, so one answer comes from one index. */
  readonly library: Library;
  logger: Logger;
  /** Milliseconds since the epoch; injected so limits and expiry can be tested. */
  clock: () => number;
  limiter: RateLimiter;
  memory: AnswerMemory;
  feedback: FeedbackLog;
  /** Articles per page of /sources (at most 25, Discord's field limit). */
  sourcesPageSize: number;
  /** Absent when the bot was started without a way to add articles. */
  additions?: Additions;
}

/** How a question reached the bot, for the logs. */
export type Via = 'mention' | 'reply' | 'answer-channel' | 'dm' | 'ask' | 'find-sources' | 'more';

/** Answers a question from the library and logs what happened (never who asked: the user id is hashed). */
export async function askLibrary(
  ctx: BotContext,
  question: string,
  details: {
    k: number;
    via: Via;
    userId: string;
    channelId: string | null;
    filter?: ArticleFilter;
    earlier?: readonly EarlierQuestion[];
  },
): Promise<Answer> {
  const started = ctx.clock();
  const library = ctx.library;
  const answer = await answerQuestion(question, {
    index: library.index,
    embedder: library.embedder,
    k: details.k,
    notice: library.notice,
    filter: details.filter,
    earlier: details.earlier,
  });
  ctx.logger.info(
    {
      event: 'answer',
      via: details.via,
      question: answer.question,
      ...(answer.follows ? { follows: answer.follows } : {}),
      mode: answer.mode,
      answered: answer.answered,
      results: answer.results.length,
      latencyMs: ctx.clock() - started,
      channelId: details.channelId,
      user: hashUser(details.userId),
    },
    'answered a question',
  );
  return answer;
}

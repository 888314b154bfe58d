/**
 * When a question asks about a time ("in March 2019", "during 2017") or for the newest news ("the latest
 * on…", "most recent"), articles of that time, or the newest, are preferred. A preference, not a filter:
 * a strong match from another time still answers (filters are `--since`/`--until`). Pure.
 */
import { filterDay } from './filters.js';

export type DateIntent =
  /** Articles dated in the period (inclusive ISO days) are preferred; `words` is how the question put it. */
  | { kind: 'period'; since: string; until: string; words: string }
  /** The newer an article, the more it is preferred. */
  | { kind: 'latest'; words: string };

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = String.raw`(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`;
const YEAR = String.raw`((?:19|20)\d{2})`;
/** "March 2019", "in Mar. 2019": a month then its year. */
const MONTH_YEAR = new RegExp(String.raw`\b${MONTH}\.?,?\s+${YEAR}\b`, 'i');
/**
 * A year after a word that places it in time ("in 2019", "since 2018", "of 2017"): a bare number could
 * be a count ("2000 troops").
 */
const PLACED_YEAR = new RegExp(
  String.raw`\b(?:in|during|from|since|of|until|before|after|by|throughout|early|late|mid)[\s-]+${YEAR}\b(?![,.]?\d)`,
  'i',
);
/** A year before a word that makes it one ("2019 election", "the 2018 report") is not caught: too close to counts. */
const LATEST =
  /\b(latest|newest|most recent(?:ly)?|last (?:week|month)|this (?:week|month)|(?:so far )?this year|recent(?:ly)?|today|yesterday|up to date)\b/i;

/** The time a question asks about, or null. */
export function dateIntentOf(question: string): DateIntent | null {
  const monthYear = MONTH_YEAR.exec(question);
  if (monthYear) {
    const month = MONTHS.indexOf(monthYear[1]!.slice(0, 3).toLowerCase()) + 1;
    const value = `${monthYear[2]}-${String(month).padStart(2, '0')}`;
    const since = filterDay(value, 'since');
    const until = filterDay(value, 'until');
    if (since && until) return { kind: 'period', since, until, words: monthYear[0] };
  }
  const year = PLACED_YEAR.exec(question);
  if (year) {
    const since = filterDay(year[1]!, 'since');
    const until = filterDay(year[1]!, 'until');
    if (since && until) return { kind: 'period', since, until, words: year[1]! };
  }
  const latest = LATEST.exec(question);
  if (latest) return { kind: 'latest', words: latest[1]! };
  return null;
}

/**
 * How much an intent prefers an article dated `date`, from 0 to 1: 1 inside the period, 0 outside or
 * undated; for "latest", the article's place between the oldest (0) and the newest (1) of `dates`.
 */
export function datePreference(
  intent: DateIntent,
  date: string | null | undefined,
  dates: { oldest: string; newest: string } | null,
): number {
  if (!date) return 0;
  if (intent.kind === 'period') return date >= intent.since && date <= intent.until ? 1 : 0;
  if (!dates) return 0;
  const oldest = Date.parse(dates.oldest);
  const span = Date.parse(dates.newest) - oldest;
  if (!(span > 0)) return 1;
  return Math.min(1, Math.max(0, (Date.parse(date) - oldest) / span));
}

/** The sentence that tells the reader how the question's time was read. */
export function describeDateIntent(intent: DateIntent): string {
  if (intent.kind === 'latest') return `Newer articles come first: the question says “${intent.words}”.`;
  const period = intent.since.slice(0, 7) === intent.until.slice(0, 7) ? intent.since.slice(0, 7) : intent.since.slice(0, 4);
  return `Articles dated ${period} come first: the question says “${intent.words}”.`;
}

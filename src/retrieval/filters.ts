/**
 * Which articles a question may be answered from (`ask --outlet X --since D --until D`, the same options
 * of /ask), and how old an article is. Dates are the ISO days articles carry (YYYY-MM-DD); a filter
 * date may be a year or a month too, read as its first day for `since` and its last for `until`.
 */
import type { ArticleRecord } from '../model.js';
import { mentionsSource } from './metadata.js';

export interface ArticleFilter {
  /** An outlet or site name, as a reader writes it ("Press TV", "newsweek"). */
  outlet?: string;
  /** First day (inclusive), YYYY-MM-DD. */
  since?: string;
  /** Last day (inclusive), YYYY-MM-DD. */
  until?: string;
}

const DAY = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/**
 * A filter date as an ISO day: "2019" → 2019-01-01 (since) or 2019-12-31 (until); "2019-03" likewise;
 * null for anything that is not a real day, month or year.
 */
export function filterDay(text: string, end: 'since' | 'until'): string | null {
  const match = DAY.exec(text.trim());
  if (!match) return null;
  const year = Number(match[1]);
  const month = match[2] === undefined ? (end === 'since' ? 1 : 12) : Number(match[2]);
  if (month < 1 || month > 12) return null;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const day = match[3] === undefined ? (end === 'since' ? 1 : lastDay) : Number(match[3]);
  if (day < 1 || day > lastDay) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether the filter lets an article through; an undated article fails any date bound. */
export function acceptsArticle(filter: ArticleFilter, article: Pick<ArticleRecord, 'outlet' | 'url' | 'date'>): boolean {
  if (filter.outlet && !mentionsSource(filter.outlet, article)) return false;
  if (filter.since && (!article.date || article.date < filter.since)) return false;
  if (filter.until && (!article.date || article.date > filter.until)) return false;
  return true;
}

export function isEmptyFilter(filter: ArticleFilter | undefined): boolean {
  return !filter || (!filter.outlet && !filter.since && !filter.until);
}

/** "from Press TV, published 2019-01-01 or later": the filter as words, for notices. */
export function describeFilter(filter: ArticleFilter): string {
  const parts: string[] = [];
  if (filter.outlet) parts.push(`from ${filter.outlet}`);
  if (filter.since && filter.until) parts.push(`published ${filter.since} to ${filter.until}`);
  else if (filter.since) parts.push(`published ${filter.since} or later`);
  else if (filter.until) parts.push(`published ${filter.until} or earlier`);
  return parts.join(', ');
}

/** How old an article is on `today`, in words ("today", "3 days ago", "2 years ago"); null when undated. */
export function ageOf(date: string | null | undefined, today: Date): string | null {
  if (!date || !DAY.test(date)) return null;
  const published = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(published)) return null;
  const days = Math.floor((Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - published) / 86_400_000);
  if (days < 0) return 'dated in the future';
  if (days === 0) return 'today';
  if (days === 1) return 'yesterday';
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'} ago`;
  if (days < 14) return plural(days, 'day');
  if (days < 60) return plural(Math.floor(days / 7), 'week');
  if (days < 730) return plural(Math.floor(days / 30.44), 'month');
  return plural(Math.floor(days / 365.25), 'year');
}

/** A filter from the words a user typed (command-line options, slash-command options), or what is wrong with them. */
export function parseArticleFilter(raw: {
  outlet?: string | null;
  since?: string | null;
  until?: string | null;
}): { ok: true; filter: ArticleFilter } | { ok: false; reason: string } {
  const filter: ArticleFilter = {};
  const outlet = raw.outlet?.trim();
  if (outlet) {
    if (outlet.length > 100) return { ok: false, reason: 'The outlet is over 100 characters; give its name, as in "Newsweek".' };
    filter.outlet = outlet;
  }
  for (const end of ['since', 'until'] as const) {
    const text = raw[end]?.trim();
    if (!text) continue;
    const day = filterDay(text, end);
    if (!day)
      return {
        ok: false,
        reason: `"${text.slice(0, 40)}" is not a date for ${end}: give a year, a month or a day, as in 2019, 2019-03 or 2019-03-14.`,
      };
    filter[end] = day;
  }
  if (filter.since && filter.until && filter.since > filter.until) {
    return { ok: false, reason: `since (${filter.since}) is after until (${filter.until}).` };
  }
  return { ok: true, filter };
}

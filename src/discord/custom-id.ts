/**
 * What the bot's buttons carry in their custom ids (at most 100 characters, too short for a question):
 * "More" and the votes a short key into the memory of recent answers, "Context" and the /sources pages
 * all they need (a passage label, a page number), so those work after a restart.
 */
import type { Vote } from '../eval/feedback.js';

export type ComponentAction =
  | { kind: 'more'; key: string }
  | { kind: 'vote'; key: string; vote: Vote }
  | { kind: 'context'; label: number }
  | { kind: 'sources'; page: number };

const PREFIX = 'cb';

export function customId(action: ComponentAction): string {
  switch (action.kind) {
    case 'more':
      return `${PREFIX}:more:${action.key}`;
    case 'vote':
      return `${PREFIX}:vote:${action.key}:${action.vote}`;
    case 'context':
      return `${PREFIX}:ctx:${action.label}`;
    case 'sources':
      return `${PREFIX}:src:${action.page}`;
  }
}

/** The action a custom id stands for; null for ids that are not ours or are malformed. */
export function parseCustomId(id: string): ComponentAction | null {
  const [prefix, kind, first, second] = id.split(':');
  if (prefix !== PREFIX || first === undefined) return null;
  if (kind === 'more' && /^[\w-]{1,32}$/.test(first)) return { kind: 'more', key: first };
  if (kind === 'vote' && /^[\w-]{1,32}$/.test(first) && (second === 'up' || second === 'down'))
    return { kind: 'vote', key: first, vote: second };
  if (kind === 'ctx' && /^\d{1,9}$/.test(first)) return { kind: 'context', label: Number(first) };
  if (kind === 'src' && /^-?\d{1,6}$/.test(first)) return { kind: 'sources', page: Number(first) };
  return null;
}

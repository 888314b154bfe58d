/**
 * Follow-ups: a question that replies to one of the bot's answers ("and what did Moscow say?") is read
 * with the question it follows, whose words count at a lower weight, and that one's own earlier question
 * lower still. Pure: the earlier questions come in, the weights go out.
 */
import type { EarlierQuestion } from './question-terms.js';

/** Weight of the words of the question a follow-up replies to (the follow-up's own count 1). */
export const FOLLOW_UP_WEIGHT = 0.3;

/** Earlier questions a chain of follow-ups carries: beyond two back, a conversation has moved on. */
export const MAX_EARLIER = 2;

/** What is known of the question a follow-up replies to. */
export interface PreviousQuestion {
  question: string;
  /** The questions that one followed, as it was asked. */
  earlier?: readonly EarlierQuestion[];
}

/** The earlier questions of a follow-up to `previous`, most recent first, each step back at `weight` times the one after. */
export function followUpOf(previous: PreviousQuestion, weight = FOLLOW_UP_WEIGHT): EarlierQuestion[] {
  if (!(weight > 0) || previous.question.trim() === '') return [];
  const chain = [
    { text: previous.question, weight },
    ...(previous.earlier ?? []).map((one) => ({ text: one.text, weight: one.weight * weight })),
  ];
  return chain.filter((one) => one.weight > 0).slice(0, MAX_EARLIER);
}

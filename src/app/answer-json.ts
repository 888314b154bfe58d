/** An answer as `ask --json` prints it: the documented keys in order (README, "JSON output"). */
import type { Answer } from '../retrieval/answer.js';

/** The JSON shape of an answer: the documented keys, in order, plus corroboration and confidence. */
export function answerJson(answer: Answer, id?: unknown): Record<string, unknown> {
  return {
    ...(id === undefined ? {} : { id }),
    question: answer.question,
    mode: answer.mode,
    answered: answer.answered,
    ...(answer.follows ? { follows: answer.follows } : {}),
    ...(answer.notice ? { notice: answer.notice } : {}),
    ...(answer.fact
      ? { fact: { field: answer.fact.field, value: answer.fact.value, text: answer.fact.text, article: answer.fact.article } }
      : {}),
    results: answer.results.map((result) => ({
      rank: result.rank,
      score: result.score,
      article: result.article,
      paragraph: result.paragraph,
      passage: result.passage,
      quote: result.quote,
      link: result.link,
      ...(result.speaker ? { speaker: { ...result.speaker } } : {}),
      confidence: result.confidence,
      corroborated_by: result.corroboratedBy.map((other) => ({ ...other })),
    })),
  };
}

/** Renders an Answer for a terminal: quote, source line, score; bold matching words when it is a TTY. */
import type { Answer, AnswerResult } from '../retrieval/answer.js';
import { quoteWithSpeaker } from '../retrieval/attribution.js';

/** The quote with its speaker's name in brackets where the quote only says "he"; matching words bold on a TTY. */
function emphasise(result: AnswerResult, color: boolean): string {
  const { text, highlights } = quoteWithSpeaker(result.quote, result.highlights, result.speaker);
  if (!color || highlights.length === 0) return text;
  let out = '';
  let cursor = 0;
  for (const span of highlights) {
    out += `${text.slice(cursor, span.start)}\u001b[1m${text.slice(span.start, span.end)}\u001b[22m`;
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

export function sourceLine(result: Pick<AnswerResult, 'article' | 'paragraph'> & { link?: string | null }): string {
  const { article } = result;
  return [
    article.title,
    article.outlet ?? 'unknown outlet',
    ...(article.byline ? [`by ${article.byline}`] : []),
    article.date ? `${article.date}${article.age ? ` (${article.age})` : ''}` : 'undated',
    `¶${result.paragraph}`,
    result.link ?? article.url ?? article.file,
  ].join(' · ');
}

export function renderAnswerText(answer: Answer, color = false): string {
  const lines: string[] = [];
  if (answer.follows) lines.push(`(read as a follow-up to: ${answer.follows})`);
  if (answer.notice) lines.push(`note: ${answer.notice}`, '');
  if (answer.follows && !answer.notice) lines.push('');
  if (answer.results.length === 0) {
    if (!answer.notice) lines.push('Nothing in the indexed articles matches this question.');
    return lines.join('\n');
  }
  lines.push(
    answer.answered
      ? `Answer (${answer.mode} retrieval):`
      : `No confident answer in the indexed articles. The closest articles (${answer.mode} retrieval):`,
    '',
  );
  if (answer.fact) {
    const { article } = answer.fact;
    const source = [article.title, article.outlet ?? 'unknown outlet', article.date ?? 'undated', article.url ?? article.file].join(' · ');
    lines.push(answer.fact.text, `   — ${source}`, '', 'From the article:', '');
  }
  for (const result of answer.results) {
    lines.push(`${result.rank}. “${emphasise(result, color)}”`);
    lines.push(`   — ${sourceLine(result)}`);
    const corroboration = result.corroboratedBy.map((other) => `${other.outlet ?? other.title} ¶${other.paragraph}`).join(', ');
    lines.push(
      `   score ${result.score.toFixed(3)}, confidence ${result.confidence}${corroboration ? `; also reported by ${corroboration}` : ''}`,
    );
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

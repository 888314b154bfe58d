/**
 * The attribution check: over sentences labelled with their speaker (eval/attribution.jsonl), how often
 * quote attribution names the right person, names a wrong one, or names no one. A wrong name is the
 * costly error (a reader trusts the bracket), so the check counts it apart from a missed one.
 */
import { z } from 'zod';
import { passageContext, speakerOf } from '../retrieval/attribution.js';
import { splitSentences } from '../text/tokens.js';
import type { IndexedPassage, Passage } from '../model.js';
import { readJsonl } from './datasets.js';

const attributionLabel = z.object({
  /** Passage id, `<file>#<paragraph>`. */
  id: z.string(),
  /** The sentence's opening characters, as in the passage. */
  sentence: z.string().min(1),
  /** The words standing for the speaker; empty for a bare quotation. */
  reference: z.string(),
  /** The speaker's name in its fullest form in the article; null when the article never names them. */
  speaker: z.string().nullable(),
  /** Where the sentence's speaker is named: in the sentence itself, elsewhere in the article, or nowhere. */
  named: z.enum(['in-sentence', 'elsewhere', 'unnamed']),
  why: z.string().optional(),
});
export type AttributionLabel = z.infer<typeof attributionLabel>;

export function readAttributionLabels(file: string): Promise<AttributionLabel[]> {
  return readJsonl(file, attributionLabel);
}

export interface AttributionScore {
  /** Labels whose passage was among those given. */
  checked: number;
  /** Speakers named elsewhere in the article: named right, named wrongly, not named. */
  elsewhere: { total: number; right: number; wrong: number; missed: number };
  /** Speakers the article never names: a name given to one of them is wrong. */
  unnamed: { total: number; wrong: number };
  /** Sentences that name their own speaker: a bracket added to one of them is noise. */
  inSentence: { total: number; annotated: number };
  /** Every wrong or missed case, for reading. */
  misses: Array<{ id: string; sentence: string; expected: string | null; got: string | null }>;
}

/** A name matches when the surnames agree ("Lavrentiev" and "Alexander Lavrentiev"). */
function sameSpeaker(a: string, b: string): boolean {
  const surname = (name: string) => name.trim().split(/\s+/).at(-1)!.toLowerCase();
  return surname(a) === surname(b);
}

/** Runs attribution on each labelled sentence, as the answer path does for a quote of that sentence. */
export function scoreAttribution(passages: Passage[], labels: AttributionLabel[]): AttributionScore {
  const indexed: IndexedPassage[] = passages.map((passage, label) => ({ ...passage, label }));
  const byId = new Map(indexed.map((passage) => [passage.id, passage]));
  const score: AttributionScore = {
    checked: 0,
    elsewhere: { total: 0, right: 0, wrong: 0, missed: 0 },
    unnamed: { total: 0, wrong: 0 },
    inSentence: { total: 0, annotated: 0 },
    misses: [],
  };
  for (const label of labels) {
    const passage = byId.get(label.id);
    if (!passage) continue;
    const span = splitSentences(passage.text).find((candidate) => {
      const text = passage.text.slice(candidate.start, candidate.end);
      return text.startsWith(label.sentence) || label.sentence.startsWith(text);
    });
    if (!span) continue;
    score.checked += 1;
    const quote = passage.text.slice(span.start, span.end);
    const got = speakerOf(quote, ...passageContext((at) => indexed[at], passage, span))?.name ?? null;
    const verdict = judge(label, got);
    if (label.named === 'in-sentence') score.inSentence.total += 1;
    else if (label.named === 'unnamed' || label.speaker === null) score.unnamed.total += 1;
    else score.elsewhere.total += 1;
    if (verdict === 'bracket-added') score.inSentence.annotated += 1;
    if (verdict === 'named-unnamed') score.unnamed.wrong += 1;
    if (verdict === 'right') score.elsewhere.right += 1;
    if (verdict === 'wrong') score.elsewhere.wrong += 1;
    if (verdict === 'missed') score.elsewhere.missed += 1;
    if (verdict !== 'right' && verdict !== 'ok')
      score.misses.push({ id: label.id, sentence: label.sentence, expected: label.speaker, got });
  }
  return score;
}

type Verdict = 'ok' | 'right' | 'wrong' | 'missed' | 'named-unnamed' | 'bracket-added';

function judge(label: AttributionLabel, got: string | null): Verdict {
  if (label.named === 'in-sentence') return got ? 'bracket-added' : 'ok';
  if (label.named === 'unnamed' || label.speaker === null) return got ? 'named-unnamed' : 'ok';
  if (!got) return 'missed';
  return sameSpeaker(got, label.speaker) ? 'right' : 'wrong';
}

export function formatAttribution(score: AttributionScore): string {
  const { elsewhere, unnamed, inSentence } = score;
  const share = (part: number, whole: number) => (whole === 0 ? '—' : (part / whole).toFixed(3));
  const named = elsewhere.right + elsewhere.wrong + unnamed.wrong;
  return [
    `attribution check: ${score.checked} labelled sentences`,
    `speaker named elsewhere   ${elsewhere.total}: right ${elsewhere.right}, wrong ${elsewhere.wrong}, not named ${elsewhere.missed} (recall ${share(elsewhere.right, elsewhere.total)})`,
    `speaker never named       ${unnamed.total}: given a name ${unnamed.wrong}`,
    `named in the sentence     ${inSentence.total}: bracket added ${inSentence.annotated}`,
    `precision of names given  ${share(elsewhere.right, named)}`,
  ].join('\n');
}

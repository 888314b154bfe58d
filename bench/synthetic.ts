/**
 * Deterministic synthetic corpora for scale measurements, built from real text: every generated
 * paragraph is a run of real sentences (squad paragraphs and the seeds), drawn with a seeded generator,
 * so word statistics stay those of real prose while the corpus grows to any size.
 */

/** Mulberry32: a small, fast, seedable generator; the same seed gives the same corpus everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticArticle {
  file: string;
  text: string;
  paragraphs: number;
}

/**
 * `articleCount` articles of `paragraphsPerArticle` paragraphs, each paragraph 2–6 sentences drawn from
 * `sentences`, as page text with a headline line, so they go through the same parser as real seeds.
 */
export function syntheticArticles(
  sentences: string[],
  articleCount: number,
  paragraphsPerArticle: number,
  seed = 1606,
): SyntheticArticle[] {
  if (sentences.length === 0) throw new Error('no source sentences');
  const random = seededRandom(seed);
  const pick = () => sentences[Math.floor(random() * sentences.length)]!;
  const articles: SyntheticArticle[] = [];
  for (let a = 0; a < articleCount; a += 1) {
    const headline = pick()
      .split(/\s+/)
      .slice(0, 8)
      .join(' ')
      .replace(/[.!?,;:]+$/, '');
    const body: string[] = [];
    for (let p = 0; p < paragraphsPerArticle; p += 1) {
      const count = 2 + Math.floor(random() * 5);
      body.push(Array.from({ length: count }, pick).join(' '));
    }
    articles.push({
      file: `synthetic-${String(a).padStart(6, '0')}.txt`,
      text: `${headline}\n\n${body.join('\n\n')}\n`,
      paragraphs: paragraphsPerArticle,
    });
  }
  return articles;
}

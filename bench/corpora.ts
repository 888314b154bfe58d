/** The corpora the benchmark indexes, written as seed folders so builds go through the real reading path. */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readDataset } from '../src/eval/datasets.js';
import { splitSentences } from '../src/text/tokens.js';
import { syntheticArticles } from './synthetic.js';

export interface CorpusSpec {
  name: string;
  /** Folder of article files. */
  seedsDir: string;
  articles: number;
  /** Paragraphs written (the index may split long ones into more passages). */
  paragraphs: number;
}

/** The project's own seeds, copied so the benchmark never touches the real index. */
export async function seedsCorpus(projectSeeds: string, dir: string): Promise<CorpusSpec> {
  await cp(projectSeeds, dir, { recursive: true });
  return { name: 'seeds', seedsDir: dir, articles: 5, paragraphs: 66 };
}

/** The squad passages as articles: one file per Wikipedia article, one paragraph per passage. */
export async function squadCorpus(datasetDir: string, dir: string): Promise<CorpusSpec> {
  const { articles } = await readDataset(datasetDir);
  const byTitle = new Map<string, string[]>();
  for (const article of articles) {
    const paragraphs = byTitle.get(article.title) ?? [];
    paragraphs.push(article.paragraphs[0]!.text);
    byTitle.set(article.title, paragraphs);
  }
  await mkdir(dir, { recursive: true });
  let n = 0;
  for (const [title, paragraphs] of byTitle) {
    await writeFile(path.join(dir, `squad-${String(n++).padStart(3, '0')}.txt`), `${title}\n\n${paragraphs.join('\n\n')}\n`);
  }
  return { name: 'squad11-dev', seedsDir: dir, articles: byTitle.size, paragraphs: articles.length };
}

/** Sentences of the squad passages, the material synthetic corpora are drawn from. */
export async function sourceSentences(datasetDir: string): Promise<string[]> {
  const { articles } = await readDataset(datasetDir);
  return articles.flatMap((article) => {
    const text = article.paragraphs[0]!.text;
    return splitSentences(text)
      .map((span) => text.slice(span.start, span.end))
      .filter((sentence) => sentence.length > 40 && /[.!?]["')\]]?$/.test(sentence));
  });
}

/** `passages` passages in articles of ten paragraphs, deterministic. */
export async function syntheticCorpus(sentences: string[], passages: number, dir: string): Promise<CorpusSpec> {
  const articleCount = Math.ceil(passages / 10);
  await mkdir(dir, { recursive: true });
  const articles = syntheticArticles(sentences, articleCount, 10);
  for (const article of articles) await writeFile(path.join(dir, article.file), article.text);
  return {
    name: `synthetic-${passages >= 1000 ? `${passages / 1000}k` : passages}`,
    seedsDir: dir,
    articles: articleCount,
    paragraphs: articleCount * 10,
  };
}

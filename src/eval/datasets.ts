/**
 * Labelled question sets for the retrieval check. Three shapes are read:
 * - a data set folder in the squad11-dev form (passages.jsonl + questions.jsonl, gold by passage id);
 * - a data set folder in the news-web form (pages/ of saved web pages, questions.jsonl with [file, phrase]
 *   expectations and a kind, unanswerable.jsonl), indexed through the same extraction as seeds;
 * - the seeds question file (gold by a verbatim excerpt of the paragraph that answers, or by the article
 *   field that answers: its author, outlet or date).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CitebotError } from '../errors.js';
import { sha256 } from '../hash.js';
import { parseArticleFile } from '../ingest/seed-files.js';
import type { Article } from '../model.js';

export interface LabelledQuestion {
  id: string;
  question: string;
  /** False for questions the corpus cannot answer: the right response is to abstain. */
  answerable: boolean;
  /** Gold passages, as a predicate on (file, passage text). */
  isGold: (file: string, text: string) => boolean;
  /** Gold answer strings, for the answer-in-quote rate. */
  answers: string[];
  /** The kind of question, where the set tells it (paraphrase, lexical, metadata): metrics are also given by kind. */
  kind?: string;
  /** The question this one follows in a conversation (it replies to the answer to it). */
  follows?: string;
  /**
   * For a question answered by an article's field (its author, outlet or date) that no passage holds: the
   * article and field. Such a question is judged by the answer's fact, not by passages.
   */
  goldFact?: { file: string; field: 'byline' | 'outlet' | 'date' };
}

const squadPassage = z.object({ id: z.string().min(1), title: z.string(), text: z.string().min(1) });
const squadQuestion = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  passage_ids: z.array(z.string()).min(1),
  answers: z.array(z.string()).default([]),
});

/** A labelled data file that cannot be used as it is; the message names the file and line. */
export class DataFileError extends CitebotError {
  constructor(message: string) {
    super('DataFileError', message);
  }
}

/**
 * Reads JSON lines checked against `schema`. A bad line is an error, or, with `onBadLine`, reported and
 * skipped (for append-only logs, whose last line may be cut short by a crash).
 */
export async function readJsonl<T>(file: string, schema: z.ZodType<T>, onBadLine?: (message: string) => void): Promise<T[]> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    throw new DataFileError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const rows: T[] = [];
  for (const [index, line] of raw.split('\n').entries()) {
    if (line.trim() === '') continue;
    let problem: string | undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(line));
      if (parsed.success) rows.push(parsed.data);
      else problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'line'} ${issue.message}`).join('; ');
    } catch {
      problem = 'not valid JSON';
    }
    if (problem === undefined) continue;
    const message = `${file}:${index + 1}: ${problem}`;
    if (!onBadLine) throw new DataFileError(message);
    onBadLine(message);
  }
  return rows;
}

/**
 * A data set folder. In the squad form each passage becomes a one-paragraph article whose file name is the
 * passage id; in the news-web form each page of pages/ is an article, read as a seed page would be.
 */
export async function readDataset(
  dir: string,
  warn: (message: string) => void = () => {},
  questionsFile?: string,
): Promise<{ articles: Article[]; questions: LabelledQuestion[] }> {
  const pages = path.join(dir, 'pages');
  if (
    await stat(pages)
      .then((info) => info.isDirectory())
      .catch(() => false)
  )
    return readNewsWebDataset(dir, warn, questionsFile);
  const passages = await readJsonl(path.join(dir, 'passages.jsonl'), squadPassage);
  const rows = await readJsonl(questionsFile ?? path.join(dir, 'questions.jsonl'), squadQuestion);
  const articles: Article[] = passages.map((passage) => ({
    file: passage.id,
    hash: '',
    title: passage.title,
    titleSource: 'page',
    paragraphs: [{ number: 1, text: passage.text.trim(), start: 0, end: passage.text.length }],
  }));
  const questions = rows.map((row) => {
    const gold = new Set(row.passage_ids);
    return { id: row.id, question: row.question, answerable: true, isGold: (file: string) => gold.has(file), answers: row.answers };
  });
  return { articles, questions };
}

const webQuestion = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  expect: z.array(z.tuple([z.string().min(1), z.string().min(1)])).min(1),
  kind: z.string().optional(),
  follows: z.string().min(1).optional(),
});
const webUnanswerable = z.object({ id: z.string().min(1), question: z.string().min(1) });

const collapse = (text: string) => text.replace(/\s+/g, ' ');

async function readNewsWebDataset(
  dir: string,
  warn: (message: string) => void,
  questionsFile?: string,
): Promise<{ articles: Article[]; questions: LabelledQuestion[] }> {
  const pagesDir = path.join(dir, 'pages');
  const articles: Article[] = [];
  for (const file of (await readdir(pagesDir)).sort()) {
    const bytes = await readFile(path.join(pagesDir, file)).catch(() => undefined);
    if (!bytes) continue;
    try {
      articles.push(parseArticleFile(file, bytes, sha256(bytes)));
    } catch (error) {
      warn(`${(error as Error).message}; its questions count as misses.`);
    }
  }
  const answerable = (await readJsonl(questionsFile ?? path.join(dir, 'questions.jsonl'), webQuestion)).map((row): LabelledQuestion => ({
    id: row.id,
    question: row.question,
    answerable: true,
    // Phrases are compared after collapsing whitespace, as the set's README says.
    isGold: (file, text) => row.expect.some(([goldFile, phrase]) => goldFile === file && collapse(text).includes(phrase)),
    answers: row.expect.map(([, phrase]) => phrase),
    kind: row.kind,
    ...(row.follows ? { follows: row.follows } : {}),
  }));
  const unanswerableFile = path.join(dir, 'unanswerable.jsonl');
  // Questions given in place of the set's own are all there is to ask.
  const unanswerable =
    !questionsFile && (await stat(unanswerableFile).catch(() => undefined))
      ? (await readJsonl(unanswerableFile, webUnanswerable)).map((row): LabelledQuestion => ({
          id: row.id,
          question: row.question,
          answerable: false,
          isGold: () => false,
          answers: [],
        }))
      : [];
  return { articles, questions: [...answerable, ...unanswerable] };
}

const seedQuestion = z.union([
  z.object({
    id: z.string().min(1),
    question: z.string(),
    answerable: z.literal(false),
  }),
  z.object({
    id: z.string().min(1),
    question: z.string().min(1),
    answerable: z.literal(true).default(true),
    gold: z.array(z.object({ file: z.string(), contains: z.string().min(1) })).min(1),
    answers: z.array(z.string()).default([]),
    kind: z.string().optional(),
    follows: z.string().min(1).optional(),
  }),
  z.object({
    id: z.string().min(1),
    question: z.string().min(1),
    answerable: z.literal(true).default(true),
    fact: z.object({ file: z.string(), field: z.enum(['byline', 'outlet', 'date']) }),
    answers: z.array(z.string()).default([]),
    kind: z.string().optional(),
    follows: z.string().min(1).optional(),
  }),
]);

/** The seeds question file: gold passages are those whose text contains a given excerpt of a given file. */
export async function readSeedQuestions(file: string): Promise<LabelledQuestion[]> {
  const rows = await readJsonl(file, seedQuestion);
  return rows.map((row) => {
    if ('fact' in row)
      return {
        id: row.id,
        question: row.question,
        answerable: true,
        isGold: () => false,
        answers: row.answers,
        kind: row.kind,
        ...(row.follows ? { follows: row.follows } : {}),
        goldFact: row.fact,
      };
    if (!('gold' in row)) return { id: row.id, question: row.question, answerable: false, isGold: () => false, answers: [] };
    const gold = row.gold;
    return {
      id: row.id,
      question: row.question,
      answerable: true,
      isGold: (passageFile: string, text: string) =>
        gold.some((entry) => entry.file === passageFile && (text.includes(entry.contains) || entry.contains.includes(text))),
      answers: row.answers,
      kind: row.kind,
      ...(row.follows ? { follows: row.follows } : {}),
    };
  });
}

/**
 * `npm run ask -- "question"`: answers from the index with quotes and sources.
 * `--json` prints one JSON object; `--batch FILE` reads JSONL {"id","question"} lines and writes one JSON
 * answer per line, loading the model once.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { answerQuestion, checkQuestion, MAX_RESULTS } from '../retrieval/answer.js';
import { answerJson } from './answer-json.js';
import { followUpOf } from '../retrieval/follow-up.js';
import { parseArticleFilter, type ArticleFilter } from '../retrieval/filters.js';
import { openRuntime, type Runtime } from './runtime.js';
import { configFromEnvironment, parseCommandLine, embedProgress, runMain, UsageError, warn } from './cli.js';
import { renderAnswerText } from './render-text.js';

const USAGE =
  'usage: npm run ask -- [--json] [--k N] [--outlet NAME] [--since DATE] [--until DATE] [--follows "earlier question"] "question"\n       npm run ask -- --json --batch questions.jsonl [--k N] [--outlet NAME] [--since DATE] [--until DATE]';

async function runBatch(file: string, runtime: Runtime, k: number, filter: ArticleFilter): Promise<number> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error)
    throw new UsageError(`Cannot read the batch file ${file} (${info.code === 'ENOENT' ? 'it does not exist' : info.code}).`);
  if (info.isDirectory()) throw new UsageError(`The batch file ${file} is a folder; give a .jsonl file of {"id","question"} lines.`);
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  let failures = 0;
  // Answers are matched to questions by id: a missing or repeated id is said once, at the end.
  const withoutId: number[] = [];
  const linesOfId = new Map<string, number[]>();
  for await (let line of lines) {
    lineNumber += 1;
    // A byte order mark that an editor put before the first line is not part of the JSON.
    if (lineNumber === 1) line = line.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    let row: { id?: unknown; question?: unknown; follows?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch {
      failures += 1;
      console.log(JSON.stringify({ line: lineNumber, error: `line ${lineNumber} is not valid JSON` }));
      continue;
    }
    if (typeof row !== 'object' || row === null || typeof row.question !== 'string') {
      failures += 1;
      console.log(JSON.stringify({ id: row?.id ?? null, line: lineNumber, error: `line ${lineNumber} has no "question" string` }));
      continue;
    }
    if (row.id === undefined || row.id === null || row.id === '') withoutId.push(lineNumber);
    else linesOfId.set(JSON.stringify(row.id), [...(linesOfId.get(JSON.stringify(row.id)) ?? []), lineNumber]);
    const answer = await answerQuestion(row.question, {
      index: runtime.index,
      embedder: runtime.embedder,
      k,
      notice: runtime.notice,
      filter,
      // "follows": the question this one replies to, as a reply to the bot's answer would.
      earlier: typeof row.follows === 'string' ? followUpOf({ question: row.follows }) : [],
    });
    console.log(JSON.stringify({ line: lineNumber, ...answerJson(answer, row.id ?? null) }));
  }
  if (failures > 0) warn(`${failures} line(s) of ${file} could not be read; their output lines carry an "error".`);
  if (withoutId.length > 0)
    warn(`${withoutId.length} line(s) of ${file} have no "id" (${lineList(withoutId)}); match their answers by "line".`);
  for (const [id, at] of linesOfId)
    if (at.length > 1) warn(`The id ${id} appears on ${at.length} lines of ${file} (${lineList(at)}); match those answers by "line".`);
  return 0;
}

function lineList(lines: number[]): string {
  const shown = lines.slice(0, 10).join(', ');
  return `line${lines.length === 1 ? '' : 's'} ${shown}${lines.length > 10 ? ', …' : ''}`;
}

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        batch: { type: 'string' },
        k: { type: 'string', default: '3' },
        outlet: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        follows: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const k = Number(args.values.k);
  if (!Number.isInteger(k) || k < 1 || k > MAX_RESULTS) throw new UsageError(`--k must be a whole number from 1 to ${MAX_RESULTS}.`);
  const parsedFilter = parseArticleFilter(args.values);
  if (!parsedFilter.ok) throw new UsageError(parsedFilter.reason);
  const { filter } = parsedFilter;
  const question = args.positionals.join(' ');
  if (args.values.batch && question) throw new UsageError(`Give either a question or --batch FILE, not both.\n${USAGE}`);
  if (args.values.batch && !args.values.json) throw new UsageError(`--batch writes JSON lines; add --json.\n${USAGE}`);
  if (!args.values.batch && question.trim() === '') throw new UsageError(`Ask a question.\n${USAGE}`);

  const config = configFromEnvironment();
  const progress = embedProgress('indexing');
  const runtime = await openRuntime(config, { warn, onEmbedProgress: progress.onProgress });
  progress.stop();

  if (args.values.batch) return runBatch(args.values.batch, runtime, k, filter);
  const answer = await answerQuestion(question, {
    index: runtime.index,
    embedder: runtime.embedder,
    k,
    notice: runtime.notice,
    filter,
    earlier: args.values.follows === undefined ? [] : followUpOf({ question: args.values.follows }),
  });
  if (args.values.json) console.log(JSON.stringify(answerJson(answer)));
  else console.log(renderAnswerText(answer, Boolean(process.stdout.isTTY)));
  // A question refused as unusable (only symbols, too long) is a failed run, like an empty one.
  return checkQuestion(question).ok ? 0 : 1;
});

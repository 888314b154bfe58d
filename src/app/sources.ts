/**
 * `npm run sources -- [--json]`: the articles the index holds (updating it first, as `ask` does), with
 * headline, outlet, byline, date, link and passage count. `--json` prints one JSON array.
 */
import { parseArgs } from 'node:util';
import type { ArticleRef } from '../retrieval/answer.js';
import type { ServedIndex } from '../storage/served-index.js';
import { configFromEnvironment, embedProgress, parseCommandLine, runMain, warn } from './cli.js';
import { openRuntime } from './runtime.js';

const USAGE = 'usage: npm run sources -- [--json]';

/** An article as answers name it, with the number of passages it has in the index. */
type SourceListing = Omit<ArticleRef, 'age'> & { passages: number };

/** The indexed articles in file order, with the number of passages each has in the index. */
function listSources(index: ServedIndex): SourceListing[] {
  return [...index.articles.values()]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .map((article) => ({
      file: article.file,
      title: article.title,
      outlet: article.outlet ?? null,
      byline: article.byline ?? null,
      date: article.date ?? null,
      url: article.url ?? null,
      passages: index.lookup.passageCount(article.file),
    }));
}

function renderListing(sources: SourceListing[]): string {
  if (sources.length === 0) return 'No articles are indexed. Put .txt, .md or saved .html pages in the seeds folder.';
  const lines = [`${sources.length} indexed article${sources.length === 1 ? '' : 's'}:`, ''];
  for (const [i, source] of sources.entries()) {
    const details = [source.outlet ?? 'unknown outlet', ...(source.byline ? [`by ${source.byline}`] : []), source.date ?? 'undated'];
    details.push(`${source.passages} passage${source.passages === 1 ? '' : 's'}`);
    lines.push(`${i + 1}. ${source.title}`, `   ${details.join(' · ')}`, `   ${source.url ?? '(no link)'} · ${source.file}`);
  }
  return lines.join('\n');
}

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({ options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const progress = embedProgress('indexing');
  const runtime = await openRuntime(configFromEnvironment(), { warn, onEmbedProgress: progress.onProgress });
  progress.stop();
  const sources = listSources(runtime.index);
  console.log(args.values.json ? JSON.stringify(sources) : renderListing(sources));
  return 0;
});

/**
 * `npm run add -- URL [URL…]`: fetches each news page, saves it into the seeds folder with the address
 * it came from, and updates the index. Each link gets a line: what was indexed, or why not. Exits 1
 * when no link could be added (an already indexed one counts as fine).
 */
import { parseArgs } from 'node:util';
import type { AddedLink } from '../web/add-pages.js';
import { configFromEnvironment, parseCommandLine, runMain, UsageError, warn } from './cli.js';
import { LiveLibrary } from './live-library.js';
import { openRuntime } from './runtime.js';

const USAGE = 'usage: npm run add -- URL [URL…] [--json]';

function describe(outcome: AddedLink): string {
  if (outcome.status === 'added') {
    const { article } = outcome;
    const details = [article.outlet ?? 'unknown outlet', ...(article.byline ? [`by ${article.byline}`] : []), article.date ?? 'undated'];
    if (outcome.passages !== undefined) details.push(`${outcome.passages} passage${outcome.passages === 1 ? '' : 's'}`);
    return `added: ${article.title}\n  ${details.join(' · ')}\n  saved as ${outcome.file}`;
  }
  if (outcome.status === 'already-indexed') return `already indexed: ${outcome.link} is ${outcome.file} ("${outcome.title}")`;
  return `not added: ${outcome.reason}`;
}

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  if (args.positionals.length === 0) throw new UsageError(`Give at least one link.\n${USAGE}`);
  const config = configFromEnvironment();
  const runtime = await openRuntime(config, { warn });
  const live = new LiveLibrary({ config, runtime, warn });
  const outcomes = await live.addLinks(args.positionals).finally(() => live.close());
  if (args.values.json) console.log(JSON.stringify(outcomes));
  else for (const outcome of outcomes) console.log(describe(outcome));
  return outcomes.every((outcome) => outcome.status === 'failed') ? 1 : 0;
});

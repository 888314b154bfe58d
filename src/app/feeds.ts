/**
 * `npm run feeds`: polls every feed in FEEDS once (the running bot does so every FEED_POLL_MINUTES),
 * adds the new items' pages through the same path as `add`, and updates the index. One line per feed.
 */
import { parseArgs } from 'node:util';
import { configFromEnvironment, parseCommandLine, runMain, warn } from './cli.js';
import { LiveLibrary } from './live-library.js';
import { openRuntime } from './runtime.js';

const USAGE = 'usage: npm run feeds [-- --json]   (the feeds are the FEEDS setting, comma-separated)';

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({ options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  const config = configFromEnvironment();
  if (config.web.feeds.length === 0) {
    console.log('No feeds are set. Put their links in FEEDS in .env (comma-separated RSS, Atom or JSON Feed links).');
    return;
  }
  const runtime = await openRuntime(config, { warn });
  const live = new LiveLibrary({ config, runtime, warn: (message) => void message });
  const reports = await live.pollFeeds().finally(() => live.close());
  if (args.values.json) {
    console.log(JSON.stringify(reports));
  } else {
    for (const report of reports) {
      if (report.status === 'failed') console.log(`${report.feed}: failed: ${report.reason}`);
      else if (report.status === 'unchanged') console.log(`${report.feed}: unchanged since the last poll`);
      else {
        const added = report.outcomes.filter((outcome) => outcome.status === 'added').length;
        const failed = report.outcomes.filter((outcome) => outcome.status === 'failed');
        const known = report.outcomes.filter((outcome) => outcome.status === 'already-indexed').length;
        console.log(
          `${report.feed}: ${report.items} items, ${report.outcomes.length} new; ${added} added, ${known} already indexed, ${failed.length} not added`,
        );
        for (const outcome of failed) if (outcome.status === 'failed') console.log(`  not added: ${outcome.reason}`);
      }
    }
  }
  return reports.every((report) => report.status === 'failed') ? 1 : 0;
});

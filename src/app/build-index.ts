/** `npm run index`: builds the index from the seeds folder, or updates it with what changed. */
import { parseArgs } from 'node:util';
import { withBulkWorker } from '../embedding/worker.js';
import { buildIndex } from '../index/build.js';
import { deltaLimit } from '../index/delta.js';
import { seedFolder } from '../ingest/seed-files.js';
import { localStore } from '../storage/local-store.js';
import { openEmbedder } from './runtime.js';
import { configFromEnvironment, embedProgress, parseCommandLine, runMain, warn } from './cli.js';

const USAGE = 'usage: npm run index [-- --rebuild] [--json]';

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        rebuild: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  const config = configFromEnvironment();
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) warn(`${reason} Building a lexical-only (BM25) index.`);
  const progress = embedProgress('embedding');
  // Large builds embed in a worker thread while this one indexes.
  const bulk = embedder ? withBulkWorker(embedder, config.embedding) : null;
  const report = await buildIndex({
    source: seedFolder(config.seedsDir),
    store: localStore(config.indexDir),
    embedder: bulk,
    modeReason: reason,
    rebuild: args.values.rebuild,
    warn,
    onEmbedProgress: progress.onProgress,
  }).finally(() => bulk?.close());
  progress.stop();
  if (args.values.json) {
    const { manifest, index: _index, ...rest } = report;
    // Peak resident memory of this process, for the benchmark and for sizing a machine.
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    console.log(
      JSON.stringify({ ...rest, indexDir: config.indexDir, generation: manifest.generation, embedding: manifest.embedding, peakRssMb }),
    );
    return;
  }
  const ms = (value: number) => `${Math.round(value)} ms`;
  if (report.upToDate) {
    console.log(
      `Index is up to date: ${report.articleCount} articles, ${report.passageCount} passages (${report.mode}) in ${config.indexDir}.`,
    );
  } else {
    const model = report.manifest.embedding;
    const setup = model ? `${report.mode}, ${model.model}, ${model.dimension}-d` : report.mode;
    console.log(`Indexed ${report.articleCount} articles, ${report.passageCount} passages (${setup}) into ${config.indexDir}.`);
    const counts = `added ${report.added.length}, changed ${report.changed.length}, removed ${report.removed.length}, unchanged ${report.unchanged}`;
    const why = report.fullRebuildReason ? ` (full build: ${report.fullRebuildReason})` : '';
    console.log(`  ${counts}; embedded ${report.embeddedPassages} passages${why}`);
    const delta = report.manifest.delta;
    if (report.wrote === 'delta' && delta) {
      console.log(
        `  written as a delta over the index (${delta.passages} passages added, ${delta.withdrawn} withdrawn since the last full write; merged past ${deltaLimit(report.manifest.passageCount)})`,
      );
    }
    const { read, embed, vectors, lexical, save, total } = report.timingsMs;
    console.log(
      `  time: read ${ms(read)}, embed ${ms(embed)}, hnsw ${ms(vectors)}, lexical ${ms(lexical)}, save ${ms(save)}, total ${ms(total)}`,
    );
  }
  if (report.skipped.length > 0) console.log(`  skipped ${report.skipped.length} file(s); see the warnings above.`);
});

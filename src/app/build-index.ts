/** `npm run index`: builds the index from the seeds folder, or updates it with what changed. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localStore } from '../storage/local-store.js';
import type { Config } from './config.js';
import { withBulkWorker } from '../embedding/worker.js';
import { seedFolder } from '../ingest/seed-files.js';
import { indexBackend, openEmbedder } from './runtime.js';
import { configFromEnvironment, embedProgress, parseCommandLine, runMain, UsageError, warn } from './cli.js';

const USAGE =
  'usage: npm run index [-- --rebuild] [--json]\n       npm run index -- --from-files [DIR]   (INDEX_STORE=postgres: copy the index in INDEX_DIR, or DIR, into the database)';

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      allowPositionals: true,
      options: {
        rebuild: { type: 'boolean', default: false },
        'from-files': { type: 'boolean', default: false },
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
  if (args.values['from-files']) return copyIntoDatabase(config, args.positionals[0] ?? config.indexDir, args.values.json);
  if (args.positionals.length > 0) throw new UsageError(`Only --from-files takes a folder.\n${USAGE}`);
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) warn(`${reason} Building a lexical-only (BM25) index.`);
  const progress = embedProgress('embedding');
  // Large builds embed in a worker thread while this one indexes.
  const bulk = embedder ? withBulkWorker(embedder, config.embedding) : null;
  const backend = await indexBackend(config);
  const report = await backend
    .build({
      source: seedFolder(config.seedsDir),
      embedder: bulk,
      modeReason: reason,
      rebuild: args.values.rebuild,
      warn,
      onEmbedProgress: progress.onProgress,
    })
    .finally(() => Promise.all([bulk?.close(), backend.close()]));
  progress.stop();
  const where = backend.location;
  if (args.values.json) {
    const { summary, index: _index, notes: _notes, ...rest } = report;
    // Peak resident memory of this process, for the benchmark and for sizing a machine.
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    console.log(
      JSON.stringify({
        ...rest,
        ...(config.indexStore.kind === 'files' ? { indexDir: config.indexDir } : {}),
        location: where,
        version: summary.version,
        embedding: summary.embedding,
        peakRssMb,
      }),
    );
    return;
  }
  const ms = (value: number) => `${Math.round(value)} ms`;
  if (report.upToDate) {
    console.log(`Index is up to date: ${report.articleCount} articles, ${report.passageCount} passages (${report.mode}) in ${where}.`);
  } else {
    const model = report.summary.embedding;
    const setup = model ? `${report.mode}, ${model.model}, ${model.dimension}-d` : report.mode;
    console.log(`Indexed ${report.articleCount} articles, ${report.passageCount} passages (${setup}) into ${where}.`);
    const counts = `added ${report.added.length}, changed ${report.changed.length}, removed ${report.removed.length}, unchanged ${report.unchanged}`;
    const why = report.fullRebuildReason ? ` (full build: ${report.fullRebuildReason})` : '';
    console.log(`  ${counts}; embedded ${report.embeddedPassages} passages${why}`);
    for (const note of report.notes) console.log(`  ${note}`);
    const { read, embed, vectors, lexical, save, total } = report.timingsMs;
    console.log(
      `  time: read ${ms(read)}, embed ${ms(embed)}, hnsw ${ms(vectors)}, lexical ${ms(lexical)}, save ${ms(save)}, total ${ms(total)}`,
    );
  }
  if (report.skipped.length > 0) console.log(`  skipped ${report.skipped.length} file(s); see the warnings above.`);
});

/** `--from-files`: the local index copied into the configured database as it is, nothing embedded again. */
async function copyIntoDatabase(config: Config, indexDir: string, json: boolean): Promise<void> {
  if (config.indexStore.kind !== 'postgres')
    throw new UsageError('--from-files copies a local index into Postgres: set INDEX_STORE=postgres and DATABASE_URL first.');
  const from = path.resolve(indexDir);
  const index = await localStore(from).load();
  const { importLocalIndex } = await import('../storage/postgres/pg-backend.js');
  const report = await importLocalIndex(config.indexStore, index);
  if (json) console.log(JSON.stringify({ from, ...report }));
  else
    console.log(
      `Copied ${report.articles} articles and ${report.passages} passages from ${from} into ${report.location} (generation ${report.generation}, ${Math.round(report.timingsMs.total)} ms); nothing was embedded again.`,
    );
}

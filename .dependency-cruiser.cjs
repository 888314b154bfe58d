/**
 * The architecture as rules, checked by `npm test` (npm run deps): no import cycles, adapters at the
 * edge, a pure core. See README "Architecture".
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules form layers; a cycle means two of them are one.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'The build ships src/ only; nothing there may need test support.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'discord-only-in-the-adapter',
      severity: 'error',
      comment: 'discord.js is the Discord adapter’s business.',
      from: { path: '^src/', pathNot: '^src/discord/' },
      to: { path: 'node_modules/(discord\\.js|@discordjs)/' },
    },
    {
      name: 'entry-points-at-the-top',
      severity: 'error',
      comment: 'Only entry points read the environment, parse command lines and turn remedies into commands.',
      from: { path: '^src/', pathNot: '^src/app/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'pure-core',
      severity: 'error',
      comment: 'Text, retrieval, the model recipe, the shared types and the in-memory indexes do no I/O and start no threads.',
      from: {
        path: '^src/(text/|retrieval/|embedding/glove/|model\\.ts|errors\\.ts|index/(bm25|blocked-top|hnsw|top-k|changes|delta|stage|memory|build)\\.ts)',
      },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|fs/promises|node:fs|node:fs/promises|worker_threads|node:worker_threads|child_process|node:child_process|net|node:net|http|node:http|https|node:https)$',
      },
    },
    {
      name: 'core-knows-no-adapter',
      severity: 'error',
      comment: 'The core returns plain data; adapters render it.',
      from: { path: '^src/(text|ingest|embedding|index|storage|retrieval|eval)/' },
      to: { path: '^src/discord/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};

#!/usr/bin/env node
/**
 * `citebot <command> [arguments…]` (or `npx citebot …` in the project): the npm scripts without npm's
 * banner on stdout, so `npx citebot ask --json "question"` prints JSON only.
 */
const COMMANDS = {
  index: 'app/build-index',
  ask: 'app/ask',
  check: 'app/check',
  sources: 'app/sources',
  start: 'app/main',
  'deploy-commands': 'app/deploy-commands',
  model: 'app/build-model',
  add: 'app/add',
  feeds: 'app/feeds',
};

const name = process.argv[2];
const command = name === undefined ? undefined : COMMANDS[name];
if (!command) {
  const known = Object.keys(COMMANDS).join(', ');
  process.stderr.write(
    `${name === undefined ? 'usage' : `citebot: there is no command ${name}; usage`}: citebot <${known}> [arguments…]\n`,
  );
  process.exit(2);
}
process.argv.splice(2, 1, command);
await import('./run.mjs');

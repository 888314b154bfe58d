#!/usr/bin/env node
/**
 * Runs one of citebot's commands: `node bin/run.mjs app/ask [args…]`. It runs the compiled JavaScript in
 * dist/ (built by `npm run build`, which `npm ci` runs), which starts about half a second sooner than the
 * TypeScript sources: tsx rewrites every module it loads, transformers.js's 1.3 MB bundle included. When a
 * source file is newer than the build (someone is editing), it runs the sources through tsx instead, so a
 * command never runs stale code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const command = process.argv[2];
if (!command || !/^[\w-]+(\/[\w-]+)*$/.test(command)) {
  process.stderr.write('usage: node bin/run.mjs <command, e.g. app/ask> [arguments…]\n');
  process.exit(2);
}

/** Newest modification time of the files under `dir`, 0 when it does not exist. */
function newestUnder(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(file) : statSync(file).mtimeMs);
  }
  return newest;
}

const compiled = path.join(root, 'dist', 'src', `${command}.js`);
const source = path.join(root, 'src', `${command}.ts`);
if (!existsSync(source)) {
  process.stderr.write(`bin/run.mjs: there is no command ${command} (no src/${command}.ts)\n`);
  process.exit(2);
}
let builtAt = 0;
try {
  builtAt = statSync(compiled).mtimeMs;
} catch {
  // Not built: run the sources.
}
const fresh = builtAt > 0 && newestUnder(path.join(root, 'src')) <= builtAt;
const target = fresh ? compiled : source;
if (!fresh) {
  const { register } = await import('tsx/esm/api');
  register();
}
// The command sees itself as the script that was run, with its own arguments.
process.argv.splice(1, 2, target);
await import(pathToFileURL(target).href);

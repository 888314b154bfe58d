/**
 * Where the project itself lives, whatever the current folder: defaults that belong to the checkout
 * (its own models folder) resolve against it, not against the folder a command was started from.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above `start` holding package.json: src/app/ from the sources, dist/src/app/ from the build. */
function packageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${start}.`);
  }
}

export const PROJECT_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The project's own models folder (git-ignored), where `npm run model` builds the offline model. */
export const PROJECT_MODELS_DIR = path.join(PROJECT_ROOT, 'models');

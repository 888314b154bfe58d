/**
 * Starting a worker thread on one of citebot's own modules, whether it runs compiled (dist/) or from its
 * TypeScript sources (tsx, vitest).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A package's ESM entry as a URL. `import.meta.resolve` is missing where a test runner rewrites modules
 * (vitest); `require.resolve` then finds the CommonJS entry, whose ESM twin sits beside it.
 */
function resolveModule(specifier: string): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve(specifier);
  const entry = createRequire(import.meta.url).resolve(specifier);
  const esm = entry.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(existsSync(esm) ? esm : entry).href;
}

/** A worker running the module at `moduleUrl` (an `import.meta.url`). */
export function startModuleWorker(moduleUrl: string, options: Omit<WorkerOptions, 'eval'>): Worker {
  // Run from TypeScript sources, the worker first registers tsx's loader to import the module.
  return moduleUrl.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(resolveModule('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); });`,
        { ...options, eval: true },
      )
    : new Worker(new URL(moduleUrl), options);
}

/**
 * Where an index is kept, as the entry points use it: local files (here), or a Postgres database
 * (./postgres/pg-backend.ts). Every entry point builds, opens and polls the index through this, and
 * answers from the `ServedIndex` it opens, whichever it is.
 */
import { buildIndex, type BuildOptions, type BuildReport } from '../index/build.js';
import { deltaLimit } from '../index/delta.js';
import { localStore } from './local-store.js';
import type { WordVectorTable } from '../model.js';
import { indexVersion, servedLocalIndex, summaryOf, type IndexSummary, type ServedIndex } from './served-index.js';

/** A build's account, wherever it wrote. */
export type BackendReport = Omit<BuildReport, 'manifest' | 'index' | 'wrote'> & {
  /** What was written: a new generation, a delta over the current one (files), or the changed articles' rows (Postgres). */
  wrote?: 'generation' | 'delta' | 'update';
  summary: IndexSummary;
  /** What the build wrote, in a line or two for the terminal. */
  notes: string[];
  /** The index as written, when the build holds it (saves opening it again). */
  index?: ServedIndex;
};

export type BackendBuildOptions = Omit<BuildOptions, 'store'>;

export interface OpenOptions {
  wordVectors: WordVectorTable | null;
}

export interface IndexBackend {
  /** Where the index lives, for messages. */
  readonly location: string;
  /** Builds the index from the source, or updates it with what changed (see `buildIndex`). */
  build(options: BackendBuildOptions): Promise<BackendReport>;
  /**
   * Opens the stored index for answering, without building; IndexMissing when there is none. The word
   * vectors are soft matching's (null: question words match only themselves).
   */
  open(options: OpenOptions): Promise<ServedIndex>;
  /** The stored index's version, cheaply: a process reopens the index when it differs from the one it answers from. */
  version(): Promise<string>;
  /** Releases what the backend holds open (a database pool). */
  close(): Promise<void>;
}

/** The index in a folder: a manifest, a generation's data files and a delta (src/storage/local-store.ts). */
export function localBackend(indexDir: string): IndexBackend {
  const store = localStore(indexDir);
  return {
    location: indexDir,
    build: async (options) => {
      const { manifest, index, ...report } = await buildIndex({ ...options, store });
      const notes: string[] = [];
      if (report.wrote === 'delta' && manifest.delta) {
        notes.push(
          `written as a delta over the index (${manifest.delta.passages} passages added, ${manifest.delta.withdrawn} withdrawn since the last full write; merged past ${deltaLimit(manifest.passageCount)})`,
        );
      }
      return {
        ...report,
        summary: summaryOf(manifest, indexDir),
        notes,
        ...(index ? { index: servedLocalIndex(index, indexDir) } : {}),
      };
    },
    open: async ({ wordVectors }) => Object.assign(servedLocalIndex(await store.load(), indexDir), { wordVectors }),
    version: async () => indexVersion(await store.readManifest()),
    close: async () => undefined,
  };
}

/**
 * The index as the entry points answer from it, wherever it is kept: what search takes, a summary for
 * logs and messages, and the passage look-ups the bot's buttons and commands make. An index in local
 * files has every passage in memory; an index in Postgres reads them when asked (see
 * src/storage/postgres/pg-candidates.ts), so the look-ups are asynchronous.
 */
import type { IndexedPassage, RetrievalMode } from '../model.js';
import type { SearchIndex } from '../retrieval/search.js';
import type { Manifest } from './manifest.js';
import type { LoadedIndex } from './store.js';

export interface IndexSummary {
  /** Where the index lives, for messages: a folder, or a database without its credentials. */
  location: string;
  mode: RetrievalMode;
  /** Why the index is lexical-only, when it is. */
  modeReason?: string;
  embedding: Manifest['embedding'];
  articleCount: number;
  passageCount: number;
  /** Names one state of the index: equal versions are the same index. */
  version: string;
}

export interface PassageLookup {
  /** Passages an article has in the index. */
  passageCount(file: string): number;
  passage(label: number): Promise<IndexedPassage | undefined>;
  /** Label of a passage by its id (`file#paragraph`, with a part number for a long paragraph's later parts). */
  labelOf(passageId: string): Promise<number | undefined>;
  /** Passages of paragraphs `from`..`to` of an article (1-based, inclusive), in order. */
  paragraphs(file: string, from: number, to: number): Promise<IndexedPassage[]>;
  /** Every passage, by label (the retrieval check finds gold passages among them). */
  all(): Promise<Map<number, IndexedPassage>>;
}

export interface ServedIndex extends SearchIndex {
  summary: IndexSummary;
  lookup: PassageLookup;
}

/** What names one state of a local index: its generation and delta. */
export function indexVersion(manifest: Manifest): string {
  return `${manifest.generation}/${manifest.delta?.file ?? 'no-delta'}`;
}

/** Look-ups over passages held in memory. */
export function memoryLookup(passages: ReadonlyMap<number, IndexedPassage>): PassageLookup {
  let byFile: Map<string, IndexedPassage[]> | undefined;
  let labels: Map<string, number> | undefined;
  /** Built on first use: a process that only answers questions never needs them. */
  const indexed = () => {
    if (!byFile || !labels) {
      byFile = new Map();
      labels = new Map();
      for (const passage of passages.values()) {
        labels.set(passage.id, passage.label);
        const list = byFile.get(passage.file) ?? [];
        list.push(passage);
        byFile.set(passage.file, list);
      }
      for (const list of byFile.values()) list.sort((a, b) => a.paragraph - b.paragraph || a.start - b.start || a.label - b.label);
    }
    return { byFile, labels };
  };
  return {
    passageCount: (file) => indexed().byFile.get(file)?.length ?? 0,
    passage: async (label) => passages.get(label),
    labelOf: async (passageId) => indexed().labels.get(passageId),
    paragraphs: async (file, from, to) =>
      (indexed().byFile.get(file) ?? []).filter((passage) => passage.paragraph >= from && passage.paragraph <= to),
    all: async () => new Map(passages),
  };
}

/** The summary of a local index, from its manifest. */
export function summaryOf(manifest: Manifest, location: string): IndexSummary {
  return {
    location,
    mode: manifest.mode,
    ...(manifest.modeReason ? { modeReason: manifest.modeReason } : {}),
    embedding: manifest.embedding,
    articleCount: manifest.articleCount,
    passageCount: manifest.passageCount,
    version: indexVersion(manifest),
  };
}

/** An index loaded from local files, served (the loaded object, with its summary and look-ups). */
export function servedLocalIndex(index: LoadedIndex, location: string): ServedIndex & LoadedIndex {
  return Object.assign(index, { summary: summaryOf(index.manifest, location), lookup: memoryLookup(index.passages) });
}

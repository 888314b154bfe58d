/**
 * The only reader of process.env. Every setting is parsed and validated once; a bad configuration is
 * reported as a whole (every bad key at once), never one key per run.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CitebotError } from '../errors.js';
import { EMBEDDING_DTYPES, type EmbeddingSettings } from '../embedding/embedder.js';
import { GLOVE_MODEL_ID } from '../embedding/glove/recipe.js';
import { checkLink } from '../web/fetch.js';
import { PG_EF_SEARCH } from '../storage/postgres/search-settings.js';
import { databaseUrlProblem } from '../storage/postgres/database-url.js';
import { schemaNameProblem } from '../storage/postgres/schema.js';
import { PROJECT_MODELS_DIR } from './paths.js';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

/** A blank value counts as unset (a template line uncommented but left empty), so its default applies. */
const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const snowflakeList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== ''),
  )
  .pipe(z.array(z.string().regex(/^\d{17,20}$/, 'expected comma-separated Discord channel ids')));

/** Comma-separated http(s) links; a bad one is named without any credentials it carries. */
const linkList = z
  .string()
  .optional()
  .transform((value, context) => {
    const links: string[] = [];
    for (const part of (value ?? '').split(',').map((item) => item.trim())) {
      if (part === '') continue;
      try {
        links.push(checkLink(part).href);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
    return links;
  });

const environmentSchema = z.object({
  EMBEDDING_MODEL: z.string().trim().min(1).default(GLOVE_MODEL_ID),
  // Unset means the project's own models folder, wherever the command is run from.
  MODELS_DIR: z.string().trim().min(1).optional(),
  MODEL_CACHE_DIR: z.string().trim().min(1).default('.cache/models'),
  ALLOW_REMOTE_MODELS: booleanString.default(false),
  EMBEDDING_DTYPE: z.enum(EMBEDDING_DTYPES).optional(),
  EMBEDDING_POOLING: z.enum(['mean', 'cls']).optional(),
  EMBEDDING_QUERY_PREFIX: z.string().optional(),
  EMBEDDING_PASSAGE_PREFIX: z.string().optional(),
  SEEDS_DIR: z.string().trim().min(1).default('seeds'),
  INDEX_DIR: z.string().trim().min(1).default('index'),
  INDEX_STORE: z.enum(['files', 'postgres'], { message: 'expected files (INDEX_DIR) or postgres (DATABASE_URL)' }).default('files'),
  // Checked in indexStoreOf, so that a bad URL is never repeated: it may hold a password.
  DATABASE_URL: optionalText,
  DATABASE_SCHEMA: z.string().trim().min(1).default('public'),
  // pgvector's own bounds for hnsw.ef_search.
  DATABASE_EF_SEARCH: z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ message: 'expected a whole number of candidates' })
      .int('expected a whole number of candidates')
      .min(1, 'expected 1 to 1000 (pgvector’s range for hnsw.ef_search)')
      .max(1000, 'expected 1 to 1000 (pgvector’s range for hnsw.ef_search)')
      .default(PG_EF_SEARCH),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEARCH_THREADS: z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ message: 'expected 1 (one thread) or 2 (a second thread for large questions)' })
      .int('expected 1 (one thread) or 2 (a second thread for large questions)')
      .min(1, 'expected 1 (one thread) or 2 (a second thread for large questions)')
      .max(2, 'expected 1 (one thread) or 2 (a second thread for large questions)')
      .default(2),
  ),
  DISCORD_TOKEN: optionalText,
  DISCORD_APPLICATION_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{17,20}$/, 'expected a Discord application id')
      .optional(),
  ),
  DISCORD_GUILD_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{17,20}$/, 'expected a Discord guild id')
      .optional(),
  ),
  ANSWER_CHANNEL_IDS: snowflakeList,
  DISCORD_API_URL: optionalText.pipe(
    z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http(s) URL such as https://discord.com/api')
      .optional(),
  ),
  FEEDBACK_FILE: z.string().trim().min(1).default('feedback/feedback.jsonl'),
  ADDITIONS_FILE: z.string().trim().min(1).default('feedback/additions.jsonl'),
  WATCH_SEEDS: booleanString.default(true),
  ALLOW_PRIVATE_URLS: booleanString.default(false),
  FEEDS: linkList,
  FEED_POLL_MINUTES: z.coerce
    .number({ message: 'expected a number of minutes' })
    .min(0, 'expected 0 (off) or more minutes')
    .max(7 * 24 * 60, 'expected at most a week (10080 minutes)')
    .default(30),
  FEED_STATE_FILE: z.string().trim().min(1).default('feeds/state.json'),
  // Checked in shardingOf: inside a shard process discord.js sets it to the shard's id.
  SHARDS: z.string().optional(),
});

/** More shard processes than this on one machine is a mistake, not a plan. */
export const MAX_SHARDS = 128;

/**
 * How many shards the manager runs: SHARDS=N as set (at most MAX_SHARDS already), SHARDS=auto the count
 * Discord recommends, capped at MAX_SHARDS like N is (`capped` says so).
 */
export function shardCountFor(shards: 'auto' | number, recommended: number): { count: number; capped: boolean } {
  if (shards !== 'auto') return { count: shards, capped: false };
  const count = Math.max(1, Math.min(recommended, MAX_SHARDS));
  return { count, capped: recommended > MAX_SHARDS };
}

/** Where the index is kept: files in a folder, or tables in a Postgres database (src/storage/postgres). */
export type IndexStoreSetting =
  | { kind: 'files'; dir: string }
  | {
      kind: 'postgres';
      url: string;
      schema: string;
      /** DATABASE_EF_SEARCH: candidates pgvector's HNSW search keeps (recall against time). */
      efSearch: number;
    };

export interface Config {
  embedding: EmbeddingSettings;
  seedsDir: string;
  indexDir: string;
  /** INDEX_STORE: `files` keeps the index in INDEX_DIR; `postgres` in DATABASE_URL's database, in DATABASE_SCHEMA. */
  indexStore: IndexStoreSetting;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  /** SEARCH_THREADS: 2 lets a second thread score half of a large question's postings (on two cores or more). */
  searchThreads: number;
  discord: {
    token?: string;
    applicationId?: string;
    guildId?: string;
    answerChannelIds: string[];
    /** REST base URL without the version; unset means Discord's own. For proxies and tests. */
    apiUrl?: string;
  };
  feedbackFile: string;
  /** Who added which link (`/add`), one JSON line each, user ids hashed. */
  additionsFile: string;
  /** Update the index when files in the seeds folder change, while the bot or the terminal chat runs. */
  watchSeeds: boolean;
  web: {
    allowPrivateAddresses: boolean;
    feeds: string[];
    /** 0: feeds are polled only by `npm run feeds`. */
    feedPollMinutes: number;
    feedStateFile: string;
  };
  /**
   * SHARDS: unset runs the bot in this one process; `auto` (Discord's recommended count) or a number
   * runs discord.js' ShardingManager, one process per shard.
   */
  shards?: 'auto' | number;
  /** Set only in a shard process started by the manager: which shard this is, of how many. */
  shard?: { id: number; count: number };
}

/** A configuration that failed validation; `problems` has one line per bad key. */
export class ConfigError extends CitebotError {
  constructor(readonly problems: string[]) {
    super('ConfigError', `Invalid configuration:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
  }
}

/**
 * Parses the environment into a Config. Relative paths are resolved against `baseDir` (the project root
 * when run through npm scripts); the default models folder is the project's own, from anywhere.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, baseDir: string = process.cwd()): Config {
  const parsed = environmentSchema.safeParse(environment);
  const sharding = shardingOf(environment);
  const resolve = (value: string) => path.resolve(baseDir, value);
  const store = parsed.success ? indexStoreOf(parsed.data, resolve) : { problems: [] };
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`)),
    ...('problem' in sharding ? [sharding.problem] : []),
    ...('problems' in store ? store.problems : []),
  ];
  if (!parsed.success || 'problem' in sharding || 'problems' in store || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  return {
    embedding: {
      model: env.EMBEDDING_MODEL,
      modelsDir: env.MODELS_DIR === undefined ? PROJECT_MODELS_DIR : resolve(env.MODELS_DIR),
      cacheDir: resolve(env.MODEL_CACHE_DIR),
      allowRemote: env.ALLOW_REMOTE_MODELS,
      dtype: env.EMBEDDING_DTYPE,
      pooling: env.EMBEDDING_POOLING,
      queryPrefix: env.EMBEDDING_QUERY_PREFIX,
      passagePrefix: env.EMBEDDING_PASSAGE_PREFIX,
    },
    seedsDir: resolve(env.SEEDS_DIR),
    indexDir: resolve(env.INDEX_DIR),
    indexStore: store,
    logLevel: env.LOG_LEVEL,
    searchThreads: env.SEARCH_THREADS,
    discord: {
      token: env.DISCORD_TOKEN,
      applicationId: env.DISCORD_APPLICATION_ID,
      guildId: env.DISCORD_GUILD_ID,
      answerChannelIds: env.ANSWER_CHANNEL_IDS,
      apiUrl: env.DISCORD_API_URL?.replace(/\/+$/, ''),
    },
    feedbackFile: resolve(env.FEEDBACK_FILE),
    additionsFile: resolve(env.ADDITIONS_FILE),
    watchSeeds: env.WATCH_SEEDS,
    web: {
      allowPrivateAddresses: env.ALLOW_PRIVATE_URLS,
      feeds: env.FEEDS,
      feedPollMinutes: env.FEED_POLL_MINUTES,
      feedStateFile: resolve(env.FEED_STATE_FILE),
    },
    ...sharding,
  };
}

/** INDEX_STORE with what it needs: DATABASE_URL (checked without repeating it) and DATABASE_SCHEMA for postgres. */
function indexStoreOf(
  env: z.infer<typeof environmentSchema>,
  resolve: (value: string) => string,
): IndexStoreSetting | { problems: string[] } {
  if (env.INDEX_STORE === 'files') {
    return { kind: 'files', dir: resolve(env.INDEX_DIR) };
  }
  const problems: string[] = [];
  if (!env.DATABASE_URL)
    problems.push('DATABASE_URL: INDEX_STORE=postgres needs the database, as postgres://user:password@host:5432/database');
  else {
    const problem = databaseUrlProblem(env.DATABASE_URL);
    if (problem) problems.push(`DATABASE_URL: ${problem}`);
  }
  const schemaProblem = schemaNameProblem(env.DATABASE_SCHEMA);
  if (schemaProblem) problems.push(`DATABASE_SCHEMA: ${schemaProblem}`);
  if (problems.length > 0) return { problems };
  return { kind: 'postgres', url: env.DATABASE_URL!, schema: env.DATABASE_SCHEMA, efSearch: env.DATABASE_EF_SEARCH };
}

/**
 * SHARDS as the operator sets it (`auto` or a number of shards), or, in a process that discord.js'
 * ShardingManager started (it sets SHARDING_MANAGER, and SHARDS and SHARD_COUNT to this shard's id and
 * the count), the shard this process is.
 */
function shardingOf(environment: NodeJS.ProcessEnv): Pick<Config, 'shards' | 'shard'> | { problem: string } {
  const raw = environment.SHARDS?.trim() ?? '';
  if (environment.SHARDING_MANAGER === 'true') {
    const id = Number(raw);
    const count = Number(environment.SHARD_COUNT);
    if (!Number.isInteger(id) || !Number.isInteger(count) || id < 0 || id >= count) {
      return {
        problem: `SHARDS, SHARD_COUNT: a shard process needs its id and the shard count from the shard manager (got "${raw}" of "${environment.SHARD_COUNT ?? ''}"); start citebot with \`npm start\``,
      };
    }
    return { shard: { id, count } };
  }
  if (raw === '') return {};
  if (raw.toLowerCase() === 'auto') return { shards: 'auto' };
  const expected = `expected auto or a whole number of shards from 1 to ${MAX_SHARDS}`;
  if (!/^[-+]?\d+(\.\d+)?$/.test(raw)) return { problem: `SHARDS: ${expected}, got "${raw}"` };
  const count = Number(raw);
  if (!Number.isInteger(count)) return { problem: `SHARDS: ${expected}; ${raw} is not a whole number` };
  if (count < 1) return { problem: `SHARDS: ${expected}; ${raw} would run no shard (leave SHARDS unset to run the bot in one process)` };
  if (count > MAX_SHARDS) return { problem: `SHARDS: ${expected}; ${raw} shard processes are more than one machine should run` };
  return { shards: count };
}

/** What a path is on disk now: a folder, a file, nothing, or unreadable (with the error code). */
function pathKind(target: string): 'folder' | 'file' | 'missing' | string {
  try {
    return statSync(target).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : (code ?? 'unreadable');
  }
}

/**
 * The configured paths that cannot work, all of them in one message, checked before anything is read or
 * built: a folder setting that names a file, a file setting that names a folder or sits in no folder.
 * A missing seeds or index folder is fine (the index is created; the seeds message says what to do).
 */
export function checkConfigPaths(config: Config): void {
  const problems: string[] = [];
  const folder = (name: string, target: string) => {
    const kind = pathKind(target);
    if (kind === 'file') problems.push(`${name} ${target} is a file; it must be a folder`);
    else if (kind !== 'folder' && kind !== 'missing') problems.push(`${name} ${target} cannot be read (${kind})`);
  };
  folder('SEEDS_DIR', config.seedsDir);
  folder('INDEX_DIR', config.indexDir);
  folder('MODELS_DIR', config.embedding.modelsDir);
  const file = (name: string, target: string, created: string) => {
    if (pathKind(target) === 'folder') problems.push(`${name} ${target} is a folder; it must name a file (${created})`);
    if (pathKind(path.dirname(target)) === 'file') problems.push(`${name} ${target} is inside ${path.dirname(target)}, which is a file`);
  };
  file('FEEDBACK_FILE', config.feedbackFile, 'it is created on the first vote');
  file('ADDITIONS_FILE', config.additionsFile, 'it is created on the first /add');
  file('FEED_STATE_FILE', config.web.feedStateFile, 'it is created on the first feed poll');
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * Runs the REAL bot (createBot) against the fake Discord, on a real index of the five seeds built with
 * the offline model. Each test file loads the library once; each test gets a fresh fake and bot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { APIEmbed, APIMessage, Client, RESTPostAPIChannelMessageJSONBody } from 'discord.js';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import { buildIndex } from '../../src/index/build.js';
import { createBot, type BotOptions } from '../../src/discord/bot.js';
import { InFlight } from '../../src/discord/in-flight.js';
import {
  loginTestClient,
  startFakeDiscord,
  type FakeDiscord,
  type FakeDiscordOptions,
  type RecordedRequest,
} from '../support/fake-discord.js';
import type { Embedder } from '../../src/embedding/embedder.js';
import type { LoadedIndex } from '../../src/storage/store.js';
import { folders, loadIndex, MODELS_DIR } from '../helpers.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface TestLibrary {
  index: LoadedIndex;
  embedder: Embedder;
  tmp: string;
  dispose(): Promise<void>;
}

/** Builds the seeds' index in a temp folder with the local GloVe model (no network). */
export async function loadTestLibrary(): Promise<TestLibrary> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-discord-'));
  const embedder = await createTransformersEmbedder({
    model: 'local/glove-6b-100d-sif',
    modelsDir: MODELS_DIR,
    cacheDir: path.join(tmp, 'model-cache'),
    allowRemote: false,
  });
  const indexDir = path.join(tmp, 'index');
  await buildIndex({ ...folders(path.join(repoRoot, 'seeds'), indexDir), embedder });
  const index = await loadIndex(indexDir);
  return { index, embedder, tmp, dispose: () => rm(tmp, { recursive: true, force: true }) };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ManualClock {
  now: () => number;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2025, 0, 1)): ManualClock {
  let time = start;
  return {
    now: () => time,
    advance(ms) {
      time += ms;
    },
  };
}

export interface BotHarness {
  fake: FakeDiscord;
  client: Client<true>;
  logs: LogLine[];
  logger: Logger;
  clock: ManualClock;
  work: InFlight;
  feedbackFile: string;
  /** Where /add writes who added what. */
  additionsFile: string;
  /** Log lines at level error or above. */
  errors(): LogLine[];
  stop(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeDiscordOptions;
  /** Answer channels, chosen once the fake (and its channel ids) exists. */
  answerChannelIds?: (fake: FakeDiscord) => string[];
  /** Bot options; `library` replaces the test library (a live one, for instance). */
  bot?: Partial<Omit<BotOptions, 'config' | 'logger' | 'clock' | 'work'>>;
  /** Replaces the library's embedder (e.g. with a slow one). */
  embedder?: Embedder;
}

let feedbackCounter = 0;

export async function startBot(library: TestLibrary, options: HarnessOptions = {}): Promise<BotHarness> {
  const fake = await startFakeDiscord(options.fake);
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const clock = manualClock();
  const work = new InFlight();
  feedbackCounter += 1;
  const feedbackFile = path.join(library.tmp, `feedback-${process.pid}-${feedbackCounter}`, 'feedback.jsonl');
  const additionsFile = path.join(path.dirname(feedbackFile), 'additions.jsonl');
  const client = createBot({
    library: { index: library.index, embedder: options.embedder ?? library.embedder },
    config: { discord: { answerChannelIds: options.answerChannelIds?.(fake) ?? [] }, feedbackFile, additionsFile },
    logger,
    clock: clock.now,
    work,
    ...options.bot,
    clientOptions: {
      waitGuildTimeout: 200,
      ...options.bot?.clientOptions,
      rest: { ...options.bot?.clientOptions?.rest, api: fake.restUrl },
    },
  });
  let ready: Client<true>;
  try {
    ready = await loginTestClient(client, fake);
  } catch (error) {
    await client.destroy();
    await fake.close();
    throw error;
  }
  return {
    fake,
    client: ready,
    logs,
    logger,
    clock,
    work,
    feedbackFile,
    additionsFile,
    errors: () => logs.filter((line) => line.level >= 50),
    async stop() {
      // Destroy the client before closing the server, or it keeps trying to reconnect.
      await client.destroy();
      await fake.close();
    },
  };
}

// ---------------------------------------------------------------------------
// Assertions helpers
// ---------------------------------------------------------------------------

export type MessageBody = RESTPostAPIChannelMessageJSONBody;

export const channelMessages = (fake: FakeDiscord, channelId = fake.channelId) => `/channels/${channelId}/messages`;

/** The bot's reply (a POST carrying message_reference) to `message`. */
export function waitForReply(fake: FakeDiscord, message: APIMessage, timeoutMs = 3_000): Promise<RecordedRequest<MessageBody>> {
  return fake.waitForRequest<MessageBody>(
    (request) =>
      request.method === 'POST' &&
      request.path === channelMessages(fake, message.channel_id) &&
      request.status === 200 &&
      (request.body as MessageBody | null)?.message_reference?.message_id === message.id,
    timeoutMs,
  );
}

/** Every POST of a message to a channel so far. */
export function botPosts(fake: FakeDiscord): RecordedRequest<MessageBody>[] {
  return fake.requests.filter(
    (request) => request.method === 'POST' && /^\/channels\/\d+\/messages$/.test(request.path),
  ) as RecordedRequest<MessageBody>[];
}

/** Resolves after `ms` real milliseconds: used to show that nothing happened. */
export const settle = (ms = 250) => new Promise((resolve) => setTimeout(resolve, ms));

/** All the text a user sees in a message body: content, embed titles, descriptions, fields, footers. */
export function visibleText(body: { content?: string | null; embeds?: APIEmbed[] | null }): string {
  const parts = [body.content ?? ''];
  for (const embed of body.embeds ?? []) {
    parts.push(embed.title ?? '', embed.description ?? '', embed.footer?.text ?? '');
    for (const field of embed.fields ?? []) parts.push(field.name, field.value);
  }
  return parts.join('\n');
}

/** Custom ids of the buttons in a message body. */
export function customIds(body: { components?: unknown[] | null }): string[] {
  const rows = (body.components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>;
  return rows.flatMap((row) => (row.components ?? []).flatMap((component) => (component.custom_id ? [component.custom_id] : [])));
}

/** A text has no live mention: every @everyone/@here/<@…>/<#…> is broken by a zero-width space. */
export function hasLiveMention(text: string): boolean {
  return /@(everyone|here)|<(@[!&]?|#)\d/.test(text);
}

/**
 * The per-file lifecycle both bot test files share: the library loads once, each test starts its own
 * bot, and after each test the bot stops and must have failed at nothing, leaked no token into the logs
 * and called no route the fake does not know.
 */
export function useBotHarness(): { library: () => TestLibrary; setup: (options?: HarnessOptions) => Promise<BotHarness> } {
  let library: TestLibrary | undefined;
  let harness: BotHarness | undefined;
  beforeAll(async () => {
    library = await loadTestLibrary();
  });
  afterAll(async () => {
    await library?.dispose();
  });
  afterEach(async () => {
    const current = harness;
    harness = undefined;
    if (!current) return;
    await current.stop();
    expect(current.errors()).toEqual([]);
    expect(JSON.stringify(current.logs)).not.toContain(current.fake.token);
    expect(current.fake.unknownRequests()).toEqual([]);
  });
  return {
    library: () => library!,
    setup: async (options = {}) => {
      harness = await startBot(library!, options);
      return harness;
    },
  };
}

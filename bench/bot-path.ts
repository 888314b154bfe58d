/**
 * The bot's whole path, timed: a question posted on (a fake) Discord → gateway MESSAGE_CREATE → the REAL
 * bot from `createBot` → retrieval → the reply's POST /channels/:id/messages answered by Discord. The fake
 * Discord from the tests speaks REST v10 and the gateway on 127.0.0.1, so what is measured is discord.js
 * plus citebot plus two loopback hops, never the internet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { mean, percentile } from '../src/eval/metrics.js';
import { RESTEvents, type Client, type RESTPostAPIChannelMessageJSONBody } from 'discord.js';
import { createBot } from '../src/discord/bot.js';
import { InFlight } from '../src/discord/in-flight.js';
import type { LibrarySource } from '../src/discord/context.js';
import type { RateLimitSettings } from '../src/discord/rate-limit.js';
import { loginTestClient, startFakeDiscord, type FakeDiscord, type RecordedRequest } from '../test/support/fake-discord.js';

/**
 * What the bot answers from, the pieces `createBot` takes as `library`, flattened into the options: a
 * `Runtime` from openRuntime can be spread in (`{ ...runtime, questions, count }`).
 */
export interface BotPathOptions {
  /** The loaded index (`loadIndex(dir)` or `runtime.index`). */
  index: LibrarySource['index'];
  /** The question embedder; null answers lexically (BM25 only). */
  embedder: LibrarySource['embedder'];
  /** A caveat shown with every answer, as `Runtime.notice`. */
  notice?: string;
  /** Questions to ask, used in turn (question i is `questions[i % questions.length]`). */
  questions: string[];
  /** Questions timed, one at a time. */
  count: number;
  /** Progress lines (login, warm-up, every tenth of the run). */
  log?: (line: string) => void;
  /** A question without a reply within this many ms counts as a failure. Default 5 000. */
  timeoutMs?: number;
  /** Untimed questions asked first (JIT, caches, the first embedding). Default 3. */
  warmup?: number;
}

export interface BotPathResult {
  /** Questions timed (= `options.count`), failures included. */
  count: number;
  /** Latency in ms, nearest-rank percentiles over the questions that got a reply; NaN when none did. */
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Questions without a successful reply: timeout, an error status from Discord, or an error the bot logged. */
  failures: number;
}

/**
 * Limits no sequential run can reach: the production limits (one question per user every 5 s) would refuse
 * all but the first question. The window is 1 ms so the limiter's buckets stay empty.
 */
const UNTHROTTLED: RateLimitSettings = {
  user: { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 },
  channel: { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 },
};

/**
 * discord.js holds every request once 50 were sent in the same second, as Discord's global limit asks.
 * Back-to-back questions reach that rate (a real channel never does), and the hold would then dominate
 * p99 (≈ 0.8 s every 50th question); the benchmark measures citebot, so it lifts that client-side cap.
 */
const GLOBAL_REQUESTS_PER_SECOND = 1_000_000;

const DEFAULT_TIMEOUT_MS = 5_000;
const LOGIN_TIMEOUT_MS = 10_000;
const DEFAULT_WARMUP = 3;
/** Time given to answers still being written (after a timeout) before the client is destroyed. */
const DRAIN_MS = 2_000;

type MessageBody = RESTPostAPIChannelMessageJSONBody;

export async function measureBotPath(options: BotPathOptions): Promise<BotPathResult> {
  const { questions, count } = options;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const warmup = options.warmup ?? DEFAULT_WARMUP;
  if (questions.length === 0) throw new Error('measureBotPath needs at least one question');
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);

  // Errors the bot logs are failures of the question being asked; everything else stays silent.
  let botErrors = 0;
  let lastError = '';
  const logger = pino(
    { level: 'error' },
    {
      write(line: string) {
        botErrors += 1;
        lastError = line.trim();
      },
    },
  );

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-bench-bot-'));
  const fake = await startFakeDiscord();
  const work = new InFlight();
  let client: Client | undefined;
  try {
    client = createBot({
      library: { index: options.index, embedder: options.embedder, notice: options.notice },
      // Nobody votes in the benchmark; the file is only named, never written.
      config: { discord: { answerChannelIds: [] }, feedbackFile: path.join(tmp, 'feedback.jsonl') },
      logger,
      limits: UNTHROTTLED,
      work,
      clientOptions: { waitGuildTimeout: 200, rest: { api: fake.restUrl, globalRequestsPerSecond: GLOBAL_REQUESTS_PER_SECOND } },
    });
    // Any rate-limit wait discord.js still applies would be in the numbers: say so.
    client.rest.on(RESTEvents.RateLimited, (info) =>
      log(`bot path: discord.js waited ${info.timeToReset} ms for a rate limit on ${info.route}`),
    );
    await loginTestClient(client, fake, LOGIN_TIMEOUT_MS);
    log(`bot path: logged in to the fake Discord at ${fake.restUrl}`);

    const ask = async (question: string): Promise<{ ms: number } | { error: string }> => {
      const since = fake.cursor();
      const errorsBefore = botErrors;
      const t0 = performance.now();
      const message = fake.sendMessage({ content: question, mentionBot: true });
      let reply: RecordedRequest<MessageBody>;
      try {
        reply = await fake.waitForRequest<MessageBody>(
          (request) =>
            request.method === 'POST' &&
            request.path === `/channels/${message.channel_id}/messages` &&
            (request.body as MessageBody | null)?.message_reference?.message_id === message.id,
          timeoutMs,
          since,
        );
      } catch {
        return { error: `no reply within ${timeoutMs} ms` };
      }
      const ms = performance.now() - t0;
      if (reply.status < 200 || reply.status >= 300) return { error: `the reply was refused with status ${reply.status}` };
      if (botErrors > errorsBefore) return { error: `the bot logged an error: ${lastError.slice(0, 300)}` };
      return { ms };
    };

    for (let i = 0; i < warmup; i += 1) {
      const outcome = await ask(questions[i % questions.length]!);
      if ('error' in outcome) log(`bot path: warm-up question ${i + 1} failed: ${outcome.error}`);
    }
    if (warmup > 0) log(`bot path: warmed up with ${warmup} question${warmup === 1 ? '' : 's'}`);

    const latencies: number[] = [];
    let failures = 0;
    const step = Math.max(1, Math.ceil(count / 10));
    for (let i = 0; i < count; i += 1) {
      const question = questions[i % questions.length]!;
      const outcome = await ask(question);
      if ('error' in outcome) {
        failures += 1;
        log(`bot path: question ${i + 1} failed (${outcome.error}): ${question}`);
      } else {
        latencies.push(outcome.ms);
      }
      if ((i + 1) % step === 0 || i + 1 === count) log(`bot path: ${i + 1}/${count} questions`);
    }

    const none = latencies.length === 0;
    return {
      count,
      p50: none ? Number.NaN : percentile(latencies, 50),
      p95: none ? Number.NaN : percentile(latencies, 95),
      p99: none ? Number.NaN : percentile(latencies, 99),
      mean: none ? Number.NaN : mean(latencies),
      failures,
    };
  } finally {
    await shutdown(client, work, fake);
    await rm(tmp, { recursive: true, force: true });
  }
}

async function shutdown(client: Client | undefined, work: InFlight, fake: FakeDiscord): Promise<void> {
  work.close();
  // An answer that timed out may still be on its way: let it land while the fake still listens.
  await work.drain(DRAIN_MS);
  // Destroy the client before closing the server, or it keeps trying to reconnect.
  await client?.destroy();
  await fake.close();
}

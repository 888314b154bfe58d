/**
 * `npm run soak`: the REAL bot (createBot) against the fake Discord for minutes on end. Simulated users in
 * several guild channels ask the seeds' questions by mention, by reply, in answer channels, with /ask and
 * with the buttons under earlier answers, while the gateway is dropped now and then and the routes the
 * bot replies on answer 429s (with Retry-After) and 500s. A benchmark, not a timed test: the figures go
 * to the README.
 *
 * Every question must end in an answer or a rate-limit refusal. A refusal is usually a notice; a message
 * refused again within the same wait gets none (the bot tells a flooder once), so those are taken from the
 * bot's `rate-limited` log line, which names the (hashed) user and the channel: each user has one question
 * in flight at most, so the line says which. A question that ends in neither within the deadline is lost,
 * and any lost question fails the run.
 *
 * Everything runs in this one process (the fake's HTTP and WebSocket servers, discord.js, retrieval), so
 * the RSS figures include the fake; its retention is bounded (`retain`) so that what it records cannot
 * pass for a leak in the bot. Run under `--expose-gc`, each memory sample follows a full GC.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { pino } from 'pino';
import { MessageFlags, RESTEvents, type APIEmbed, type APIMessage, type APIUser, type Client } from 'discord.js';
import { parseCommandLine, runMain, UsageError } from '../src/app/cli.js';
import { PROJECT_MODELS_DIR, PROJECT_ROOT } from '../src/app/paths.js';
import { createBot } from '../src/discord/bot.js';
import type { LibrarySource } from '../src/discord/context.js';
import { InFlight } from '../src/discord/in-flight.js';
import { DEFAULT_RATE_LIMITS, describeRefusal, type RateLimitSettings } from '../src/discord/rate-limit.js';
import { GLOVE_MODEL_ID } from '../src/embedding/glove/recipe.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { hashUser } from '../src/eval/feedback.js';
import { percentile } from '../src/eval/metrics.js';
import { MAX_QUESTION_CHARS } from '../src/retrieval/answer.js';
import { localStore } from '../src/storage/local-store.js';
import { readWordVectors } from '../src/embedding/word-vectors.js';
import { loginTestClient, SpecViolationError, startFakeDiscord, waitUntil, type RecordedRequest } from '../test/support/fake-discord.js';
import { seededRandom } from './synthetic.js';

// ---------------------------------------------------------------------------
// Options and result
// ---------------------------------------------------------------------------

/** How a question reached the bot: the three message triggers, /ask, and the three buttons under an answer. */
export const SOAK_KINDS = ['mention', 'reply', 'answer-channel', 'ask', 'more', 'vote', 'context'] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

/** `default`: the bot's own DEFAULT_RATE_LIMITS; `off`: limits no run reaches, so every question is answered. */
export type SoakLimits = 'default' | 'off';

export interface SoakOptions {
  /** What the bot answers from (the seeds' index and the offline embedder). */
  library: LibrarySource;
  /** Questions to draw from; each one asked is a varied copy (prefix, suffix, case). */
  questions: string[];
  /** Questions in all (messages, /ask and button presses). */
  count: number;
  users: number;
  /** Guild text channels; about one in five is an answer channel (at least one when there are two or more). */
  channels: number;
  /** Questions in flight at once, at most; each user has at most one. */
  concurrency: number;
  /** Mean think time of a user between an outcome and their next question (exponential, capped at 5×). */
  thinkMs: number;
  limits: SoakLimits;
  /** Gateway disruptions spread evenly over the run: close 4000, TCP drop (1006), op 7 RECONNECT in turn. */
  drops: number;
  /** REST failures injected, spread evenly: 429s with Retry-After and 500s on the reply routes in turn. */
  failures: number;
  /** A question with no answer and no refusal this long after it was sent is lost. */
  deadlineMs: number;
  /**
   * After the bot logs a refusal of a message, how long a refusal reply may still come: the bot tells a
   * user once per wait and then refuses silently (by design, so a flood is not answered with a flood).
   */
  refusalGraceMs: number;
  seed: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export const DEFAULT_SOAK_OPTIONS = {
  count: 10_000,
  users: 50,
  channels: 10,
  concurrency: 16,
  thinkMs: 1_000,
  limits: 'default',
  drops: 6,
  deadlineMs: 30_000,
  refusalGraceMs: 5_000,
  seed: 1,
} as const satisfies Partial<SoakOptions>;

/** About one injected REST failure per hundred questions, at least four. */
export const defaultFailures = (count: number): number => Math.max(4, Math.round(count / 100));

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface KindCounts {
  sent: number;
  answered: number;
  refused: number;
  failed: number;
  lost: number;
}

export interface LostQuestion {
  n: number;
  kind: SoakKind;
  channelId: string;
  /** The interaction was acknowledged (deferred) but its answer never came. */
  acknowledged: boolean;
  /** The bot logged a refusal for it. */
  refusalLogged: boolean;
  /** Milliseconds after the deadline that a response still came, null if none came before the end. */
  lateByMs: number | null;
}

export interface SoakResult {
  config: Omit<SoakOptions, 'library' | 'questions' | 'log'> & { answerChannels: number; rateLimits: RateLimitSettings };
  durationMs: number;
  questionsPerSecond: number;
  sent: number;
  /** An answer or another non-refusal response (a vote thanked, a quote in context, "that was everything"). */
  answered: number;
  refused: {
    total: number;
    /** A refusal notice came (always for interactions; once per wait for messages). */
    told: number;
    /** Refused by the bot's log, no notice: repeated refusals of messages, as designed. */
    silent: number;
    user: number;
    channel: number;
  };
  /** The bot apologised ("something went wrong"). */
  failed: number;
  lost: number;
  byKind: Record<SoakKind, KindCounts>;
  /** From sending on the fake to the final response arriving at the fake. */
  latencyMs: {
    answered: Percentiles;
    /**
     * Answers that no injected trouble touched: not in flight while the gateway was down or within a
     * Retry-After of an injected 429, and none of their own requests failed.
     */
    undisturbed: Percentiles;
    refused: Percentiles;
    all: Percentiles;
    interactionAck: Percentiles;
  };
  /** Retrieval mode of the answers, from the bot's answer log. */
  modes: Record<string, number>;
  gateway: {
    disruptions: Array<{ atQuestion: number; kind: string; reconnectMs: number | null }>;
    resumes: number;
    identifies: number;
    invalidSessions: number;
  };
  rest: {
    requests: number;
    injected: { planned: number; served429: number; served5xx: number };
    /** discord.js held a request for a rate limit (the injected 429s, or its own global 50/s). */
    clientWaits: { route: number; global: number };
    /** Responses with an error status other than the injected ones: route, status, Discord code. */
    otherErrors: Array<{ route: string; status: number; code: number | null }>;
  };
  memory: {
    /** Before the fake Discord started (the library loaded): the fake, its API description and discord.js come on top. */
    beforeFakeRssMb: number;
    /** Once the bot has logged in, before the first question. */
    startRssMb: number;
    midRssMb: number;
    endRssMb: number;
    /**
     * Every tenth of the run. `heapTotalMb` is the heap V8 holds, used or not; `externalMb` memory outside
     * the JS heap that V8 knows of (buffers). Under `node --expose-gc` each sample follows a full GC.
     */
    samples: Array<{ sent: number; rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number }>;
    /** The samples followed a full GC (the process ran with --expose-gc). */
    afterGc: boolean;
    startHeapUsedMb: number;
    endHeapUsedMb: number;
  };
  /** Resources still active after the bot and the fake were shut down, less those active before the run. */
  openHandles: { after: Record<string, number>; added: string[] };
  bot: { errors: number; warnings: number; firstErrors: string[] };
  lostQuestions: LostQuestion[];
  /** Responses matched to no question in flight, and refusal logs matched to no question: should be 0. */
  unmatched: { responses: number; refusalLogs: number; examples: string[] };
  specViolations: string[];
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/** Limits no run reaches; the window is 1 ms so the buckets stay empty. */
const UNTHROTTLED: RateLimitSettings = {
  user: { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 },
  channel: { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 },
};

/** The fake keeps this much, no more: enough for every question in flight, the buttons' answers and a RESUME. */
const RETAIN = { requests: 2_000, messages: 5_000, interactions: 2_000, replayFrames: 2_000 };

const LOGIN_TIMEOUT_MS = 15_000;
const DRAIN_MS = 10_000;
const MAX_LISTED = 20;
/** Recent public answers per channel, and private ones per user, whose buttons users press. */
const PUBLIC_POOL = 8;
const PRIVATE_POOL = 4;

const MESSAGE_KINDS: ReadonlySet<SoakKind> = new Set(['mention', 'reply', 'answer-channel']);
const MESSAGE_VIAS = new Set(['mention', 'reply', 'answer-channel']);

type Disruption = 'close 4000' | 'TCP drop' | 'op 7 reconnect';
const DISRUPTIONS: Disruption[] = ['close 4000', 'TCP drop', 'op 7 reconnect'];

interface InjectedFailure {
  method: string;
  pathPattern: RegExp;
  status: number;
  global?: boolean;
}
const REPLY_ROUTES = {
  message: { method: 'POST', pathPattern: /^\/channels\/\d+\/messages$/ },
  callback: { method: 'POST', pathPattern: /^\/interactions\/\d+\/[^/]+\/callback$/ },
  edit: { method: 'PATCH', pathPattern: /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/ },
};
const FAILURE_PLAN: InjectedFailure[] = [
  { ...REPLY_ROUTES.message, status: 429 },
  { ...REPLY_ROUTES.callback, status: 500 },
  { ...REPLY_ROUTES.edit, status: 429 },
  { ...REPLY_ROUTES.message, status: 500 },
  { ...REPLY_ROUTES.callback, status: 429 },
  { ...REPLY_ROUTES.edit, status: 500 },
  { ...REPLY_ROUTES.message, status: 429, global: true },
];
/** Whole seconds, as Discord's Retry-After header gives them; well inside the 3 s an interaction has. */
const RETRY_AFTER_SECONDS = 1;

/** The first sentence of each refusal the rate limiter words, whatever the wait. */
const REFUSAL_OPENINGS = (['user', 'channel'] as const).map((scope) => ({
  scope,
  opening: describeRefusal({ ok: false, scope, retryAfterMs: 1_000, firstRefusal: true }).split('. ')[0]!,
}));
const APOLOGY_OPENING = 'Sorry, something went wrong';

type Verdict = { type: 'answered' } | { type: 'refused'; scope: 'user' | 'channel' } | { type: 'failed' };

/** What a response says: an answer (or another non-refusal notice), a rate-limit refusal, or the apology. */
export function classifyResponse(body: { content?: string | null; embeds?: APIEmbed[] | null } | null | undefined): Verdict {
  const texts = [body?.content ?? '', ...(body?.embeds ?? []).flatMap((embed) => [embed.title ?? '', embed.description ?? ''])];
  for (const text of texts) {
    const refusal = REFUSAL_OPENINGS.find((candidate) => text.startsWith(candidate.opening));
    if (refusal) return { type: 'refused', scope: refusal.scope };
    if (text.startsWith(APOLOGY_OPENING)) return { type: 'failed' };
  }
  return { type: 'answered' };
}

interface SoakUser {
  user: APIUser;
  hash: string;
  home: string;
}

interface AnswerRef {
  messageId: string;
  channelId: string;
  customIds: string[];
}

interface Pending {
  n: number;
  kind: SoakKind;
  user: SoakUser;
  channelId: string;
  sentAt: number;
  /** Message id (message kinds) or interaction token. */
  key: string;
  timer?: NodeJS.Timeout;
  settled: boolean;
  ackAt?: number;
  /** One of its own requests was answered with an injected 429 or 500. */
  hitFailure?: boolean;
  /** Scope of the refusal the bot logged for it. */
  refusedScope?: 'user' | 'channel';
  /** A message refused by the log: a refusal reply may still come until `graceTimer` fires. */
  graceTimer?: NodeJS.Timeout;
  endGrace?: () => void;
  done: () => void;
}

interface Outcomes {
  answered: number;
  refusedTold: number;
  refusedSilent: number;
  refusedByScope: { user: number; channel: number };
  failed: number;
  lost: number;
  byKind: Record<SoakKind, KindCounts>;
  latency: { answered: number[]; refused: number[]; ack: number[] };
  /** Per answer: when it was sent, when it came, and whether one of its own requests failed. */
  answers: Array<{ sentAt: number; at: number; hitFailure: boolean }>;
}

/** Runs the soak: starts a fake Discord and the real bot, asks `count` questions, shuts both down. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  if (options.questions.length === 0) throw new Error('runSoak needs at least one question');
  for (const [name, value] of Object.entries({
    count: options.count,
    users: options.users,
    channels: options.channels,
    concurrency: options.concurrency,
  })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number ≥ 1, got ${value}`);
  }
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const handlesBefore = activeResources();
  const rateLimits = options.limits === 'default' ? DEFAULT_RATE_LIMITS : UNTHROTTLED;

  // --- the bot's log: errors, and the refusals it tells nobody about --------------------------------
  const botLog = { errors: 0, warnings: 0, firstErrors: [] as string[] };
  const modes: Record<string, number> = {};
  let onRefusalLogged: (line: { via?: string; scope?: 'user' | 'channel'; user?: string; channelId?: string }) => void = () => undefined;
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as {
          level: number;
          event?: string;
          mode?: string;
          via?: string;
          scope?: 'user' | 'channel';
          user?: string;
          channelId?: string;
        };
        if (entry.level >= 50) {
          botLog.errors += 1;
          if (botLog.firstErrors.length < MAX_LISTED) botLog.firstErrors.push(line.trim().slice(0, 600));
        } else if (entry.level >= 40) botLog.warnings += 1;
        if (entry.event === 'answer' && entry.mode) modes[entry.mode] = (modes[entry.mode] ?? 0) + 1;
        if (entry.event === 'rate-limited') onRefusalLogged(entry);
      },
    },
  );

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-soak-'));
  const beforeFakeRssMb = process.memoryUsage().rss / 2 ** 20;
  const fake = await startFakeDiscord({ retain: RETAIN });
  const work = new InFlight();
  let client: Client | undefined;
  let fakeOpen = true;
  const specViolations: string[] = [];
  try {
    // --- the guild: channels (some of them answer channels) and users ------------------------------
    const channelIds = [fake.channelId, fake.secondChannelId].slice(0, options.channels);
    while (channelIds.length < options.channels) channelIds.push(fake.addTextChannel(`soak-${channelIds.length + 1}`));
    const answerChannelCount = options.channels < 2 ? 0 : Math.max(1, Math.round(options.channels / 5));
    const answerChannels = new Set(channelIds.slice(channelIds.length - answerChannelCount));
    const users: SoakUser[] = Array.from({ length: options.users }, (_, i) => {
      const user = fake.addUser(`soak-user-${String(i + 1).padStart(3, '0')}`);
      return { user, hash: hashUser(user.id), home: channelIds[i % channelIds.length]! };
    });

    client = createBot({
      library: options.library,
      config: { discord: { answerChannelIds: [...answerChannels] }, feedbackFile: path.join(tmp, 'feedback.jsonl') },
      logger,
      limits: rateLimits,
      work,
      clientOptions: { waitGuildTimeout: 200, rest: { api: fake.restUrl } },
    });
    const clientWaits = { route: 0, global: 0 };
    client.rest.on(RESTEvents.RateLimited, (info) => void (info.global ? (clientWaits.global += 1) : (clientWaits.route += 1)));
    await loginTestClient(client, fake, LOGIN_TIMEOUT_MS);
    log(
      `soak: the bot is logged in to the fake Discord (${options.users} users, ${options.channels} channels, ${answerChannelCount} answer channels)`,
    );

    // --- bookkeeping --------------------------------------------------------------------------------
    const outcomes: Outcomes = {
      answered: 0,
      refusedTold: 0,
      refusedSilent: 0,
      refusedByScope: { user: 0, channel: 0 },
      failed: 0,
      lost: 0,
      byKind: Object.fromEntries(SOAK_KINDS.map((kind) => [kind, { sent: 0, answered: 0, refused: 0, failed: 0, lost: 0 }])) as Record<
        SoakKind,
        KindCounts
      >,
      latency: { answered: [], refused: [], ack: [] },
      answers: [],
    };
    /** Spans of time when injected trouble held replies up: the gateway down, a Retry-After running. */
    const troubled: Array<{ from: number; to: number }> = [];
    const byMessage = new Map<string, Pending>();
    const byToken = new Map<string, Pending>();
    const byUser = new Map<string, Pending>();
    const lost = new Map<string, { question: LostQuestion; deadlineAt: number }>();
    const lostQuestions: LostQuestion[] = [];
    const publicAnswers = new Map<string, AnswerRef[]>();
    const privateAnswers = new Map<string, AnswerRef[]>();
    const unmatched = { responses: 0, refusalLogs: 0, examples: [] as string[] };
    const unmatchedResponse = (request: RecordedRequest, why: string) => {
      unmatched.responses += 1;
      if (unmatched.examples.length < MAX_LISTED) unmatched.examples.push(`${request.route ?? request.method} → ${request.status}: ${why}`);
    };
    const rest = { requests: 0, served429: 0, served5xx: 0, otherErrors: [] as SoakResult['rest']['otherErrors'] };
    const graceWaits = new Set<Promise<void>>();

    const forget = (pending: Pending) => {
      if (MESSAGE_KINDS.has(pending.kind)) byMessage.delete(pending.key);
      else byToken.delete(pending.key);
      if (byUser.get(pending.user.hash) === pending) byUser.delete(pending.user.hash);
    };

    const settle = (pending: Pending, verdict: Verdict | { type: 'lost' }, at: number) => {
      if (pending.settled) return;
      pending.settled = true;
      clearTimeout(pending.timer);
      const counts = outcomes.byKind[pending.kind];
      if (verdict.type === 'answered' || verdict.type === 'failed') {
        outcomes[verdict.type] += 1;
        counts[verdict.type] += 1;
        if (verdict.type === 'answered') {
          outcomes.latency.answered.push(at - pending.sentAt);
          outcomes.answers.push({ sentAt: pending.sentAt, at, hitFailure: pending.hitFailure === true });
        }
        forget(pending);
      } else if (verdict.type === 'refused') {
        counts.refused += 1;
        outcomes.refusedByScope[pending.refusedScope ?? verdict.scope] += 1;
        forget(pending);
      } else {
        outcomes.lost += 1;
        counts.lost += 1;
        forget(pending);
        const question: LostQuestion = {
          n: pending.n,
          kind: pending.kind,
          channelId: pending.channelId,
          acknowledged: pending.ackAt !== undefined,
          refusalLogged: pending.refusedScope !== undefined,
          lateByMs: null,
        };
        lostQuestions.push(question);
        lost.set(pending.key, { question, deadlineAt: at });
      }
      pending.done();
    };

    /** A refusal notice came: for a question still waiting, or one the log had already settled. */
    const told = (pending: Pending, at: number, scope: 'user' | 'channel') => {
      outcomes.refusedTold += 1;
      outcomes.latency.refused.push(at - pending.sentAt);
      if (pending.graceTimer) {
        clearTimeout(pending.graceTimer);
        byMessage.delete(pending.key);
        pending.endGrace?.();
      }
      settle(pending, { type: 'refused', scope }, at);
    };

    onRefusalLogged = (entry) => {
      const pending = entry.user ? byUser.get(entry.user) : undefined;
      if (!pending || pending.settled || pending.channelId !== entry.channelId || !entry.scope) {
        unmatched.refusalLogs += 1;
        return;
      }
      pending.refusedScope = entry.scope;
      // An interaction is always told (privately); a message maybe not: settle it now, and wait a little
      // for the notice the bot may still send.
      if (!MESSAGE_KINDS.has(pending.kind) || !MESSAGE_VIAS.has(entry.via ?? '')) return;
      settle(pending, { type: 'refused', scope: entry.scope }, performance.now());
      byMessage.set(pending.key, pending);
      const grace = new Promise<void>((resolve) => {
        pending.endGrace = resolve;
        pending.graceTimer = setTimeout(() => {
          if (byMessage.get(pending.key) === pending) {
            byMessage.delete(pending.key);
            outcomes.refusedSilent += 1;
            keepSilent(pending);
          }
          resolve();
        }, options.refusalGraceMs);
      });
      graceWaits.add(grace);
      void grace.then(() => graceWaits.delete(grace));
    };

    /**
     * A refusal counted silent whose notice comes after all (held up by an injected 429, say) is moved to
     * the told ones; they are kept for one deadline.
     */
    const silentLately = new Map<string, { pending: Pending; since: number }>();
    const keepSilent = (pending: Pending) => {
      const now = performance.now();
      for (const [key, entry] of silentLately) {
        if (entry.since > now - options.deadlineMs) break;
        silentLately.delete(key);
      }
      silentLately.set(pending.key, { pending, since: now });
    };

    const remember = (pool: Map<string, AnswerRef[]>, key: string, ref: AnswerRef, size: number) => {
      const list = pool.get(key) ?? [];
      list.push(ref);
      if (list.length > size) list.shift();
      pool.set(key, list);
    };

    /** The final response to `pending`: its verdict, and its buttons for later presses. */
    const finalResponse = (pending: Pending, body: unknown, response: unknown, at: number) => {
      const verdict = classifyResponse(body as { content?: string; embeds?: APIEmbed[] });
      if (verdict.type === 'refused') {
        told(pending, at, verdict.scope);
        return;
      }
      if (verdict.type === 'answered') {
        const message = response as APIMessage | undefined;
        const customIds = customIdsOf(message);
        if (message?.id && customIds.length > 0) {
          const ref = { messageId: message.id, channelId: pending.channelId, customIds };
          if (((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0) remember(privateAnswers, pending.user.user.id, ref, PRIVATE_POOL);
          else remember(publicAnswers, pending.channelId, ref, PUBLIC_POOL);
        }
      }
      settle(pending, verdict, at);
    };

    const noteLate = (key: string, at: number): boolean => {
      const late = lost.get(key);
      if (!late) return false;
      late.question.lateByMs ??= Math.round(at - late.deadlineAt);
      return true;
    };

    /** The question a reply request belongs to, if it is still waiting. */
    const pendingOf = (request: RecordedRequest): Pending | undefined => {
      const reference = (request.body as { message_reference?: { message_id?: string } } | null)?.message_reference?.message_id;
      if (reference) return byMessage.get(reference);
      const token = /^\/(?:interactions\/\d+|webhooks\/\d+)\/([^/]+)/.exec(request.path)?.[1];
      return token ? byToken.get(token) : undefined;
    };

    fake.onRequest((request: RecordedRequest) => {
      const at = performance.now();
      rest.requests += 1;
      const injected = request.response as { message?: string } | undefined;
      if (request.status === 429) rest.served429 += 1;
      else if (request.status >= 500 && /Injected failure/.test(injected?.message ?? '')) rest.served5xx += 1;
      else if (request.status >= 400) {
        if (rest.otherErrors.length < MAX_LISTED) {
          const code = (request.response as { code?: number } | undefined)?.code ?? null;
          rest.otherErrors.push({ route: request.route ?? `${request.method} ${request.path}`, status: request.status, code });
        }
      }
      if (request.status === 429) troubled.push({ from: at - 1, to: at + RETRY_AFTER_SECONDS * 1000 + 50 });
      if (request.status === 429 || request.status >= 500) {
        const failed = pendingOf(request);
        if (failed) failed.hitFailure = true;
      }
      if (request.status < 200 || request.status >= 300) return;

      if (request.method === 'POST' && REPLY_ROUTES.message.pathPattern.test(request.path)) {
        const body = request.body as { message_reference?: { message_id?: string } } | null;
        const id = body?.message_reference?.message_id;
        if (!id) return;
        const pending = byMessage.get(id);
        if (pending) {
          const verdict = classifyResponse(request.body as { content?: string });
          if (pending.settled && verdict.type === 'refused') told(pending, at, verdict.scope);
          else if (!pending.settled) finalResponse(pending, request.body, request.response, at);
          else unmatchedResponse(request, `a second response (${verdict.type}) to a ${pending.kind} already settled`);
        } else if (silentLately.has(id) && classifyResponse(request.body as { content?: string }).type === 'refused') {
          const { pending: late } = silentLately.get(id)!;
          silentLately.delete(id);
          outcomes.refusedSilent -= 1;
          told(late, at, late.refusedScope ?? 'user');
        } else if (!noteLate(id, at)) unmatchedResponse(request, 'a reply to no question in flight');
        return;
      }
      const callback = /^\/interactions\/\d+\/([^/]+)\/callback$/.exec(request.path);
      const webhook = /^\/webhooks\/\d+\/([^/]+)(\/messages\/@original)?$/.exec(request.path);
      const token = callback?.[1] ?? webhook?.[1];
      if (!token) return;
      const pending = byToken.get(token);
      if (!pending) {
        if (!noteLate(token, at)) unmatchedResponse(request, 'an interaction response to no question in flight');
        return;
      }
      if (callback) {
        const body = request.body as { type?: number; data?: unknown } | null;
        if (body?.type === 5 || body?.type === 6) {
          pending.ackAt = at;
          outcomes.latency.ack.push(at - pending.sentAt);
          return;
        }
        outcomes.latency.ack.push(at - pending.sentAt);
        finalResponse(pending, body?.data, request.response, at);
        return;
      }
      // The deferred reply edited into the answer (PATCH @original), or an apology as a follow-up.
      if (request.method === 'PATCH' || (request.method === 'POST' && !webhook?.[2]))
        finalResponse(pending, request.body, request.response, at);
    });

    // --- what users do --------------------------------------------------------------------------------
    const questions = options.questions;
    const known = (ref: AnswerRef) => fake.getMessage(ref.messageId) !== undefined;
    const answersFor = (user: SoakUser, channelId: string) =>
      [
        ...(publicAnswers.get(channelId) ?? []),
        ...(privateAnswers.get(user.user.id) ?? []).filter((ref) => ref.channelId === channelId),
      ].filter(known);

    const send = (user: SoakUser, n: number): Promise<void> => {
      const channelId = random() < 0.8 ? user.home : pick(channelIds);
      const inAnswerChannel = answerChannels.has(channelId);
      const text = vary(pick(questions), random);
      const roll = random();
      let kind: SoakKind = inAnswerChannel ? 'answer-channel' : 'mention';
      let target: AnswerRef | undefined;
      let buttonId: string | undefined;
      if (roll < 0.4) {
        // a message, as set above
      } else if (roll < 0.45) {
        const answers = (publicAnswers.get(channelId) ?? []).filter(known);
        if (answers.length > 0) {
          target = pick(answers);
          kind = 'reply';
        }
      } else if (roll < 0.8) {
        kind = 'ask';
      } else {
        const answers = answersFor(user, channelId);
        if (answers.length > 0) {
          target = pick(answers);
          const wanted = pick(['more', 'more', 'vote', 'vote', 'context'] as const);
          const prefix = { more: 'cb:more:', vote: 'cb:vote:', context: 'cb:ctx:' }[wanted];
          const ofKind = target.customIds.filter((id) => id.startsWith(prefix));
          buttonId = pick(ofKind.length > 0 ? ofKind : target.customIds);
          kind = buttonKind(buttonId);
        }
      }

      return new Promise<void>((resolve) => {
        const pending: Pending = { n, kind, user, channelId, sentAt: performance.now(), key: '', settled: false, done: resolve };
        if (kind === 'mention' || kind === 'answer-channel' || kind === 'reply') {
          const message = fake.sendMessage({
            content: text,
            author: user.user,
            channelId,
            mentionBot: kind === 'mention',
            ...(kind === 'reply' && target ? { referencedMessage: target.messageId } : {}),
          });
          pending.key = message.id;
          byMessage.set(message.id, pending);
        } else if (kind === 'ask') {
          const askOptions: Record<string, string | number | boolean> = { question: text };
          if (random() < 0.3) askOptions.results = 1 + Math.floor(random() * 5);
          if (random() < 0.2) askOptions.private = true;
          const handle = fake.chatInputCommand('ask', askOptions, { user: user.user, channelId });
          pending.key = handle.token;
          byToken.set(handle.token, pending);
        } else {
          const handle = fake.button(buttonId!, target!.messageId, { user: user.user, channelId });
          pending.key = handle.token;
          byToken.set(handle.token, pending);
        }
        outcomes.byKind[kind].sent += 1;
        byUser.set(user.hash, pending);
        pending.timer = setTimeout(() => settle(pending, { type: 'lost' }, performance.now()), options.deadlineMs);
      });
    };

    // --- the schedule: disruptions, injected failures, memory samples ----------------------------------
    const dropAt = new Map<number, number>();
    for (let i = 0; i < options.drops; i += 1) dropAt.set(Math.max(1, Math.floor((options.count * (i + 1)) / (options.drops + 1))), i);
    const failAt = new Map<number, number>();
    for (let j = 0; j < options.failures; j += 1) failAt.set(Math.max(1, Math.floor((options.count * (j + 0.5)) / options.failures)), j);
    const sampleEvery = Math.max(1, Math.ceil(options.count / 10));
    const disruptions: SoakResult['gateway']['disruptions'] = [];
    const reconnects: Array<Promise<void>> = [];
    const samples: SoakResult['memory']['samples'] = [];
    const startMemory = memoryNow();

    const disrupt = (atQuestion: number, i: number) => {
      const kind = DISRUPTIONS[i % DISRUPTIONS.length]!;
      const before = fake.stats.resumes + fake.stats.identifies;
      const started = performance.now();
      if (kind === 'close 4000') fake.dropConnection(4000);
      else if (kind === 'TCP drop') fake.dropConnection('terminate');
      else fake.requestReconnect();
      const entry = { atQuestion, kind, reconnectMs: null as number | null };
      disruptions.push(entry);
      const window = { from: started, to: Number.POSITIVE_INFINITY };
      troubled.push(window);
      reconnects.push(
        waitUntil(() => fake.stats.resumes + fake.stats.identifies > before && fake.activeGatewayConnections > 0, {
          timeoutMs: options.deadlineMs,
          description: `the gateway to come back after ${kind}`,
        }).then(
          () => {
            window.to = performance.now();
            entry.reconnectMs = window.to - started;
          },
          () => log(`soak: the gateway did not come back within ${options.deadlineMs} ms after ${kind}`),
        ),
      );
    };

    const inject = (j: number) => {
      const plan = FAILURE_PLAN[j % FAILURE_PLAN.length]!;
      fake.failNext({ ...plan, retryAfterSeconds: RETRY_AFTER_SECONDS, times: 1 });
    };

    // --- go ------------------------------------------------------------------------------------------
    let issued = 0;
    const slots = new Slots(options.concurrency);
    const started = performance.now();
    const think = () => Math.min(5 * options.thinkMs, -Math.log(1 - random()) * options.thinkMs);
    const userLoop = async (user: SoakUser) => {
      // Users start spread over one think time, not all in the same millisecond.
      await sleep(random() * options.thinkMs);
      while (issued < options.count) {
        await slots.acquire();
        if (issued >= options.count) {
          slots.release();
          return;
        }
        issued += 1;
        const n = issued;
        const drop = dropAt.get(n);
        if (drop !== undefined) disrupt(n, drop);
        const failure = failAt.get(n);
        if (failure !== undefined) inject(failure);
        try {
          await send(user, n);
        } finally {
          slots.release();
        }
        if (n % sampleEvery === 0 || n === options.count) {
          const memory = memoryNow();
          samples.push({
            sent: n,
            rssMb: memory.rss / 2 ** 20,
            heapUsedMb: memory.heapUsed / 2 ** 20,
            heapTotalMb: memory.heapTotal / 2 ** 20,
            externalMb: memory.external / 2 ** 20,
          });
          const settled = outcomes.answered + totalRefused(outcomes) + outcomes.failed + outcomes.lost;
          log(
            `soak: ${n}/${options.count} sent, ${outcomes.answered} answered, ${totalRefused(outcomes)} refused, ${outcomes.failed} failed, ${outcomes.lost} lost, ${issued - settled} in flight, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MB`,
          );
        }
        if (issued < options.count) await sleep(think());
      }
    };
    await Promise.all(users.map(userLoop));
    await Promise.all(reconnects);
    await Promise.all(graceWaits);
    const durationMs = performance.now() - started;
    const endMemory = memoryNow();
    log(`soak: all ${issued} questions settled in ${(durationMs / 1000).toFixed(1)} s; shutting down`);

    // --- shut down and look for what is left ----------------------------------------------------------
    work.close();
    await work.drain(DRAIN_MS);
    await client.destroy();
    client = undefined;
    try {
      fakeOpen = false;
      await fake.close();
    } catch (error) {
      if (!(error instanceof SpecViolationError)) throw error;
      specViolations.push(
        ...error.violations
          .slice(0, MAX_LISTED)
          .map(
            (violation) =>
              `${violation.method} ${violation.path} → ${violation.status}: ${violation.problems.map((problem) => `${problem.at} ${problem.message}`).join('; ')}`,
          ),
      );
    }
    // A closed server's handle goes a moment after its close callback: give what is closing that moment.
    const handlesAfter = await settledResources(handlesBefore);

    const refusedTotal = totalRefused(outcomes);
    const mid = samples.find((sample) => sample.sent >= options.count / 2) ?? samples.at(-1);
    return {
      config: {
        count: options.count,
        users: options.users,
        channels: options.channels,
        concurrency: options.concurrency,
        thinkMs: options.thinkMs,
        limits: options.limits,
        drops: options.drops,
        failures: options.failures,
        deadlineMs: options.deadlineMs,
        refusalGraceMs: options.refusalGraceMs,
        seed: options.seed,
        answerChannels: answerChannelCount,
        rateLimits,
      },
      durationMs,
      questionsPerSecond: issued / (durationMs / 1000),
      sent: issued,
      answered: outcomes.answered,
      refused: {
        total: refusedTotal,
        told: outcomes.refusedTold,
        silent: outcomes.refusedSilent,
        user: outcomes.refusedByScope.user,
        channel: outcomes.refusedByScope.channel,
      },
      failed: outcomes.failed,
      lost: outcomes.lost,
      byKind: outcomes.byKind,
      latencyMs: {
        answered: percentiles(outcomes.latency.answered),
        undisturbed: percentiles(
          outcomes.answers
            .filter((answer) => !answer.hitFailure && !troubled.some((span) => answer.sentAt <= span.to && answer.at >= span.from))
            .map((answer) => answer.at - answer.sentAt),
        ),
        refused: percentiles(outcomes.latency.refused),
        all: percentiles([...outcomes.latency.answered, ...outcomes.latency.refused]),
        interactionAck: percentiles(outcomes.latency.ack),
      },
      modes,
      gateway: {
        disruptions,
        resumes: fake.stats.resumes,
        // The first identify is the login.
        identifies: fake.stats.identifies - 1,
        invalidSessions: fake.stats.invalidSessions,
      },
      rest: {
        requests: rest.requests,
        injected: { planned: options.failures, served429: rest.served429, served5xx: rest.served5xx },
        clientWaits,
        otherErrors: rest.otherErrors,
      },
      memory: {
        beforeFakeRssMb,
        startRssMb: startMemory.rss / 2 ** 20,
        midRssMb: mid?.rssMb ?? endMemory.rss / 2 ** 20,
        endRssMb: endMemory.rss / 2 ** 20,
        samples,
        afterGc: typeof globalThis.gc === 'function',
        startHeapUsedMb: startMemory.heapUsed / 2 ** 20,
        endHeapUsedMb: endMemory.heapUsed / 2 ** 20,
      },
      openHandles: { after: handlesAfter, added: addedResources(handlesBefore, handlesAfter) },
      bot: botLog,
      lostQuestions,
      unmatched,
      specViolations,
    };
  } finally {
    // Only when the run failed part way: destroy the client before closing the server, or it keeps reconnecting.
    work.close();
    if (client) {
      await work.drain(DRAIN_MS);
      await client.destroy();
    }
    if (fakeOpen) await fake.close().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

function totalRefused(outcomes: Outcomes): number {
  return SOAK_KINDS.reduce((sum, kind) => sum + outcomes.byKind[kind].refused, 0);
}

function buttonKind(customId: string): SoakKind {
  if (customId.startsWith('cb:more:')) return 'more';
  if (customId.startsWith('cb:vote:')) return 'vote';
  return 'context';
}

function customIdsOf(message: APIMessage | undefined): string[] {
  const rows = (message?.components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>;
  return rows.flatMap((row) => (row.components ?? []).flatMap((component) => (component.custom_id ? [component.custom_id] : [])));
}

const PREFIXES = ['', '', '', 'hey, ', 'quick question: ', 'does anyone know ', 'so ', 'ok but '];
const SUFFIXES = ['', '', '', '?', ' thanks', ' 🙏', ' (asking for a friend)', '??'];

/** The same question as somebody else types it: a prefix, a suffix, another case. */
export function vary(question: string, random: () => number): string {
  const pickOne = (items: string[]) => items[Math.floor(random() * items.length)]!;
  const cased = random() < 0.2 ? question.toLowerCase() : random() < 0.1 ? question.toUpperCase() : question;
  return `${pickOne(PREFIXES)}${cased}${pickOne(SUFFIXES)}`.slice(0, MAX_QUESTION_CHARS);
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN };
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.reduce((max, value) => Math.max(max, value), 0),
  };
}

/** Memory use, after a full GC when the process allows one (`node --expose-gc`). */
function memoryNow(): NodeJS.MemoryUsage {
  globalThis.gc?.();
  return process.memoryUsage();
}

function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Active resources once nothing more closes (or after 2 s): what the run left open stays. */
async function settledResources(before: Record<string, number>): Promise<Record<string, number>> {
  const deadline = performance.now() + 2_000;
  let now = activeResources();
  while (addedResources(before, now).length > 0 && performance.now() < deadline) {
    await sleep(20);
    now = activeResources();
  }
  return now;
}

function addedResources(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.entries(after).flatMap(([type, count]) => {
    const added = count - (before[type] ?? 0);
    return added > 0 ? [`${type} × ${added}`] : [];
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A counting semaphore: at most `size` holders at once, the rest wait in turn. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) =>
  Number.isNaN(value) ? '–' : value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);

function describeLimits(result: SoakResult): string {
  if (result.config.limits === 'off') return 'rate limits: off (limits no run reaches): every question goes through retrieval';
  const { user, channel } = result.config.rateLimits;
  return (
    `rate limits: the bot's defaults (${user.limit} question per user per ${user.windowMs / 1000} s, ${channel.limit} per channel per ${channel.windowMs / 1000} s); ` +
    `users are not paced to them (mean think time ${int(result.config.thinkMs)} ms), so most questions are refused, and counted`
  );
}

/** The summary a person reads. */
export function formatSoak(result: SoakResult): string {
  const { config } = result;
  const lines: string[] = [];
  lines.push('citebot soak: the real bot against the fake Discord');
  lines.push(
    `  ${config.users} users in ${config.channels} channels (${config.answerChannels} answer channel${config.answerChannels === 1 ? '' : 's'}), ${int(config.count)} questions, at most ${config.concurrency} in flight, seed ${config.seed}`,
  );
  lines.push(`  ${describeLimits(result)}`);
  lines.push(
    `  injected: ${config.drops} gateway disruptions, ${config.failures} REST failures (429 with Retry-After ${RETRY_AFTER_SECONDS} s, one in seven global, and 500) on the reply routes`,
  );
  lines.push('');
  const refused = result.refused;
  lines.push(
    `questions   sent ${int(result.sent)} · answered ${int(result.answered)} · refused by the rate limiter ${int(refused.total)} ` +
      `(told ${int(refused.told)}, silent ${int(refused.silent)}; per user ${int(refused.user)}, per channel ${int(refused.channel)}) · failed ${int(result.failed)} · lost ${int(result.lost)}`,
  );
  for (const kind of SOAK_KINDS) {
    const counts = result.byKind[kind];
    if (counts.sent === 0) continue;
    lines.push(
      `  ${kind.padEnd(15)} ${int(counts.sent).padStart(7)} sent, ${int(counts.answered).padStart(7)} answered, ${int(counts.refused).padStart(7)} refused, ${counts.failed} failed, ${counts.lost} lost`,
    );
  }
  const { answered, undisturbed, refused: refusals, interactionAck } = result.latencyMs;
  lines.push(
    `latency     answers p50 ${ms(answered.p50)} ms, p95 ${ms(answered.p95)}, p99 ${ms(answered.p99)}, max ${ms(answered.max)} (${int(answered.count)}); ` +
      `untouched by the injected trouble p50 ${ms(undisturbed.p50)}, p95 ${ms(undisturbed.p95)}, p99 ${ms(undisturbed.p99)} (${int(undisturbed.count)})`,
  );
  lines.push(
    `            refusal notices p50 ${ms(refusals.p50)} ms, p99 ${ms(refusals.p99)} (${int(refusals.count)}); interactions acknowledged p50 ${ms(interactionAck.p50)}, p99 ${ms(interactionAck.p99)}, max ${ms(interactionAck.max)}`,
  );
  lines.push(
    `retrieval   ${
      Object.entries(result.modes)
        .map(([mode, count]) => `${mode} ${int(count)}`)
        .join(', ') || 'none'
    }`,
  );
  const reconnects = result.gateway.disruptions.map((d) => d.reconnectMs).filter((value): value is number => value !== null);
  lines.push(
    `gateway     ${result.gateway.disruptions.length} disruptions (${[...new Set(result.gateway.disruptions.map((d) => d.kind))].join(', ')}): ` +
      `${result.gateway.resumes} resumes, ${result.gateway.identifies} new sessions, ${result.gateway.invalidSessions} invalid sessions; back after ${reconnects.map((value) => `${ms(value)}`).join(', ')} ms`,
  );
  const { injected, clientWaits } = result.rest;
  lines.push(
    `REST        ${int(result.rest.requests)} requests; injected ${injected.planned}, served ${injected.served429} × 429 and ${injected.served5xx} × 500 (all retried by discord.js); ` +
      `discord.js held requests ${clientWaits.route} times for a route limit, ${clientWaits.global} for the global one; other errors: ${result.rest.otherErrors.length === 0 ? 'none' : result.rest.otherErrors.map((e) => `${e.route} ${e.status}${e.code ? ` (${e.code})` : ''}`).join(', ')}`,
  );
  const { memory } = result;
  const series = (value: (sample: SoakResult['memory']['samples'][number]) => number) =>
    memory.samples.map((sample) => value(sample).toFixed(0)).join(' ');
  lines.push(
    `memory      RSS ${memory.beforeFakeRssMb.toFixed(0)} MB before the fake Discord, ${memory.startRssMb.toFixed(0)} MB at start, ${memory.midRssMb.toFixed(0)} MB half way, ${memory.endRssMb.toFixed(0)} MB at the end; heap used ${memory.startHeapUsedMb.toFixed(0)} → ${memory.endHeapUsedMb.toFixed(0)} MB`,
  );
  lines.push(
    `            every tenth${memory.afterGc ? ', after a full GC' : ''}: RSS ${series((sample) => sample.rssMb)} MB; ` +
      `heap used ${series((sample) => sample.heapUsedMb)} of ${series((sample) => sample.heapTotalMb)} MB; external ${series((sample) => sample.externalMb)} MB`,
  );
  lines.push(
    `handles     after shutdown: ${
      Object.entries(result.openHandles.after)
        .map(([type, count]) => `${type} × ${count}`)
        .join(', ') || 'none'
    }; added by the run: ${result.openHandles.added.join(', ') || 'none'}`,
  );
  lines.push(`bot log     ${result.bot.errors} errors, ${result.bot.warnings} warnings`);
  lines.push(`duration    ${(result.durationMs / 1000).toFixed(1)} s, ${result.questionsPerSecond.toFixed(1)} questions/s`);
  if (result.unmatched.responses + result.unmatched.refusalLogs > 0)
    lines.push(
      `unmatched   ${result.unmatched.responses} responses and ${result.unmatched.refusalLogs} refusal logs matched no question in flight`,
    );
  for (const line of result.bot.firstErrors) lines.push(`  bot error: ${line}`);
  for (const lostQuestion of result.lostQuestions.slice(0, MAX_LISTED)) lines.push(`  lost: ${JSON.stringify(lostQuestion)}`);
  for (const violation of result.specViolations) lines.push(`  spec violation: ${violation}`);
  return lines.join('\n');
}

/** Exit status: 1 when a question was lost or failed, or a request broke Discord's API description. */
export function soakExitCode(result: SoakResult): number {
  return result.lost > 0 || result.failed > 0 || result.specViolations.length > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

const USAGE =
  'usage: npm run soak [-- --questions N] [--users N] [--channels N] [--concurrency N] [--think-ms N] [--limits default|off] ' +
  '[--drops N] [--failures N] [--deadline-ms N] [--seed N] [--json]';

/** The seeds' questions (answerable and not), from the retrieval check's question set. */
export async function seedQuestions(file = path.join(PROJECT_ROOT, 'eval', 'seeds-questions.jsonl')): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { question: string }).question);
}

/**
 * The seeds indexed with the offline model into a temporary folder (the project's index/ is left alone)
 * by `npm run index` in a child process, then loaded here, as `npm start` finds an index already built:
 * the build's garbage is not in this process's RSS.
 */
async function seedsLibrary(dir: string): Promise<LibrarySource> {
  const settings = {
    SEEDS_DIR: path.join(PROJECT_ROOT, 'seeds'),
    INDEX_DIR: path.join(dir, 'index'),
    EMBEDDING_MODEL: GLOVE_MODEL_ID,
    MODELS_DIR: PROJECT_MODELS_DIR,
    MODEL_CACHE_DIR: path.join(dir, 'model-cache'),
    ALLOW_REMOTE_MODELS: 'false',
  };
  await promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'run.mjs'), 'app/build-index', '--json'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...settings },
  });
  const embedder = await createTransformersEmbedder({
    model: GLOVE_MODEL_ID,
    modelsDir: PROJECT_MODELS_DIR,
    cacheDir: settings.MODEL_CACHE_DIR,
    allowRemote: false,
  });
  const index = await localStore(settings.INDEX_DIR).load();
  index.wordVectors = (await readWordVectors(PROJECT_MODELS_DIR)).table;
  return { index, embedder };
}

function wholeNumber(name: string, value: string, minimum: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum)
    throw new UsageError(`--${name} must be a whole number ≥ ${minimum}, got ${value}.\n${USAGE}`);
  return number;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        questions: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.count) },
        users: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.users) },
        channels: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.channels) },
        concurrency: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.concurrency) },
        'think-ms': { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.thinkMs) },
        limits: { type: 'string', default: DEFAULT_SOAK_OPTIONS.limits },
        drops: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.drops) },
        failures: { type: 'string' },
        'deadline-ms': { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.deadlineMs) },
        seed: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.seed) },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.limits !== 'default' && values.limits !== 'off')
    throw new UsageError(`--limits is default or off, got ${values.limits}.\n${USAGE}`);
  const count = wholeNumber('questions', values.questions, 1);
  const options = {
    count,
    users: wholeNumber('users', values.users, 1),
    channels: wholeNumber('channels', values.channels, 1),
    concurrency: wholeNumber('concurrency', values.concurrency, 1),
    thinkMs: wholeNumber('think-ms', values['think-ms'], 0),
    limits: values.limits as SoakLimits,
    drops: wholeNumber('drops', values.drops, 0),
    failures: values.failures === undefined ? defaultFailures(count) : wholeNumber('failures', values.failures, 0),
    deadlineMs: wholeNumber('deadline-ms', values['deadline-ms'], 1),
    refusalGraceMs: DEFAULT_SOAK_OPTIONS.refusalGraceMs,
    seed: wholeNumber('seed', values.seed, 0),
  };
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'citebot-soak-library-'));
  try {
    log('soak: indexing the seeds with the offline model…');
    const library = await seedsLibrary(dir);
    const result = await runSoak({ ...options, library, questions: await seedQuestions(), log });
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${formatSoak(result)}\n`);
    return soakExitCode(result);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain(main);

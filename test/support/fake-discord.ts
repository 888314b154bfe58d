/**
 * A fake Discord for tests.
 *
 * It speaks the real protocols on 127.0.0.1 (random port) so that an UNMODIFIED discord.js `Client`
 * can log in to it: REST v10 over HTTP and the gateway over WebSocket (JSON encoding, no compression).
 * Tests drive it from the "Discord side" (a user posts a message, clicks a button, runs a slash
 * command…) and assert on the REST calls the bot makes in return.
 *
 * Fidelity goals, in order:
 * 1. Everything discord.js 14 needs to behave exactly as it does against Discord (READY + GUILD_CREATE
 *    with channels, sequence numbers, RESUME with replay, interaction callbacks, webhook routes).
 * 2. The Discord rules a bot most often trips over are enforced instead of silently accepted: the
 *    2000 character content limit and embed limits, empty messages, replies to unknown messages,
 *    double-acknowledged interactions, the 3 second interaction deadline, intents (no GuildMessages →
 *    no messages; no MessageContent → empty content unless the bot is mentioned).
 * 3. Failures can be injected (429 with real rate-limit headers, 5xx, any Discord error code).
 * 4. Every REST request is checked against Discord's own OpenAPI description plus the limits it leaves
 *    out (`discord-spec.ts`, `discord-limits.ts`): a request that breaks them is answered 400 (404 for a
 *    route Discord does not have) like Discord would, AND recorded, and `close()` then throws with the
 *    list — so the test that caused it fails even if the bot swallowed the 400. With `FAKE_DISCORD_LOG`
 *    set, every request is also appended to that file as a JSON line (`request-log.ts`).
 *
 * One guild is modelled, with two text channels and a public thread; see `FakeDiscord` for the ids.
 * `addGuild` adds more (one text channel each), for sharding: the fake recommends `shards` shards in
 * GET /gateway/bot, checks each IDENTIFY's `shard: [id, count]` against it (4010 Invalid shard), and
 * sends a guild's events only to the session of shard `(guild_id >> 22) % count` (`shardOfGuild`).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import {
  AllowedMentionsTypes,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationFlags,
  ApplicationIntegrationType,
  ChannelType,
  Client,
  ComponentType,
  EmbedType,
  Events,
  GatewayCloseCodes,
  GatewayDispatchEvents,
  GatewayIntentBits,
  GatewayOpcodes,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  Locale,
  MessageFlags,
  MessageReferenceType,
  MessageType,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  ThreadAutoArchiveDuration,
} from 'discord.js';
import type {
  APIAllowedMentions,
  APIApplication,
  APIApplicationCommand,
  APIApplicationCommandAutocompleteGuildInteraction,
  APIApplicationCommandInteractionDataOption,
  APIAttachment,
  APIChatInputApplicationCommandGuildInteraction,
  APIEmbed,
  APIGatewayBotInfo,
  APIGuildMember,
  APIInteraction,
  APIInteractionGuildMember,
  APIMessage,
  APIMessageApplicationCommandGuildInteraction,
  APIMessageComponentButtonInteraction,
  APIMessageReference,
  APIRole,
  APITextChannel,
  APIThreadChannel,
  APIUser,
  ClientOptions,
  GatewayGuildCreateDispatchData,
  GatewayIdentifyData,
  GatewayMessageCreateDispatchData,
  GatewayReadyDispatchData,
  GatewayRequestGuildMembersData,
  GatewayResumeData,
  ChannelFlags,
  GuildMemberFlags,
  GuildSystemChannelFlags,
  RESTPostAPIApplicationCommandsJSONBody,
  RoleFlags,
  UserFlags,
} from 'discord.js';
import { DiscordSpec, type SpecCheck, type SpecProblem } from './discord-spec.js';
import { appendRequestLog, redactTokens } from './request-log.js';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface FakeDiscordOptions {
  /** Bot token the fake accepts. Default: a random token shaped like a real one. */
  token?: string;
  /** Sent in HELLO. Default 41_250 ms like Discord; lower it to exercise heartbeats in a test. */
  heartbeatIntervalMs?: number;
  /**
   * Discord rejects an interaction callback that arrives 3 s or more after the interaction was
   * created (10062 Unknown interaction). Default 3_000; `Infinity` disables the check; 0 makes every
   * callback late (to test the bot's error path deterministically).
   */
  interactionResponseDeadlineMs?: number;
  /**
   * Privileged intents enabled "in the developer portal" (bitfield of GuildMembers, GuildPresences,
   * MessageContent). Identifying with a privileged intent not listed closes the gateway with 4014.
   * Default: all three.
   */
  privilegedIntents?: number;
  /**
   * Discord echoes the bot's own messages back over the gateway as MESSAGE_CREATE (and edits as
   * MESSAGE_UPDATE). Default true, so a bot that forgets to ignore its own messages loops in tests too.
   */
  echoBotMessages?: boolean;
  /** Username of the bot user. Default "citebot". */
  botUsername?: string;
  /**
   * Append every REST request to this file as one JSON line (see `request-log.ts`). Default: the
   * `FAKE_DISCORD_LOG` environment variable; null or '' logs nothing.
   */
  requestLog?: string | null;
  /**
   * Check every REST request against Discord's OpenAPI description and documented limits (default
   * true). Off, requests reach the fake's routes unchecked, as before the check existed.
   */
  checkRequests?: boolean;
  /**
   * What the fake keeps, for long runs such as the soak benchmark: only the most recent N of each (see
   * `RetentionLimits`). Default: everything, as a test expects.
   */
  retain?: RetentionLimits;
  /**
   * The shard count GET /gateway/bot recommends (default 1). An IDENTIFY must use it as its count, with
   * a shard id below it, or the gateway closes with 4010 Invalid shard. (Discord itself accepts more
   * shards than it recommends; the fake is stricter on purpose, so a shard that identifies with a count
   * of its own is caught.)
   */
  shards?: number;
  /** `session_start_limit.max_concurrency` of GET /gateway/bot: identifies allowed per 5 s (default 1). */
  maxConcurrency?: number;
}

/** A guild added with `addGuild`: its id, its one text channel and the bot's managed role in it. */
export interface FakeGuild {
  id: string;
  name: string;
  channelId: string;
  botRoleId: string;
}

/**
 * Bounds on the fake's memory: each keeps the most recent N, the oldest going first. A bound left out
 * keeps everything.
 */
export interface RetentionLimits {
  /** Entries of `fake.requests` (`waitForRequest` only finds older requests while they are kept). */
  requests?: number;
  /** Stored messages, ephemeral ones included: a forgotten message is unknown, as if it had been deleted silently. */
  messages?: number;
  /** Interactions whose token still works (Discord's last 15 minutes); a forgotten token is an unknown webhook. */
  interactions?: number;
  /**
   * Dispatches kept per gateway session for RESUME to replay. A RESUME from before the oldest one kept
   * is answered INVALID_SESSION (not resumable), as Discord does once its buffer has moved on.
   */
  replayFrames?: number;
}

/** A REST request that broke Discord's API description or a documented limit. */
export interface SpecViolation {
  /** `RecordedRequest.seq` of the request. */
  seq: number;
  method: string;
  /** Path after `/api/v10`, as the request log shows it (tokens replaced by `:token`). */
  path: string;
  /** The description's route template, null when the path is none of Discord's routes. */
  route: string | null;
  /** What the fake answered: 400, 404 or 405, like Discord. */
  status: number;
  problems: SpecProblem[];
}

/** Thrown by `close()` when requests broke Discord's API description; `violations` lists them. */
export class SpecViolationError extends Error {
  constructor(readonly violations: SpecViolation[]) {
    super(
      [
        `${violations.length} REST request(s) broke Discord's API description (../shared/discord-api-spec) or a documented limit:`,
        ...violations.map(describeViolation),
        'Fix the request; a test that sends one on purpose takes it with fake.takeSpecViolations().',
      ].join('\n'),
    );
    this.name = 'SpecViolationError';
  }
}

/** One violation on a few lines: request, route, then each problem's body path and message. */
function describeViolation(violation: SpecViolation): string {
  const route = violation.route ? `${violation.method} ${violation.route}` : 'no such route';
  const lines = violation.problems.map((problem) => `      ${problem.at === '' ? '(body)' : problem.at}: ${problem.message}`);
  return [`  #${violation.seq} ${violation.method} ${violation.path} (${route}) → ${violation.status}`, ...lines].join('\n');
}

export interface UploadedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedRequest<TBody = unknown> {
  /** Monotonic number of this request; pass `fake.cursor()` to `waitForRequest` to skip older ones. */
  seq: number;
  method: string;
  /** Decoded path after `/api/v10`, e.g. `/webhooks/123/tok/messages/@original`. */
  path: string;
  /** Raw request URL as received (still percent-encoded, with query string). */
  rawUrl: string;
  /** Route template that handled the request (`POST /channels/:channelId/messages`), null if unknown. */
  route: string | null;
  query: Record<string, string>;
  /** Parsed JSON body, or the parsed `payload_json` part of a multipart body; null when empty. */
  body: TBody;
  files: UploadedFile[];
  headers: IncomingHttpHeaders;
  /** `Date.now()` when the request arrived. */
  time: number;
  /** Status code the fake answered with. */
  status: number;
  /** JSON body the fake answered with (undefined for 204). */
  response: unknown;
}

export interface FailureRule {
  /** HTTP method to match (case-insensitive). Default: any. */
  method?: string;
  /** Matched against the decoded path after `/api/v10`. Default: any path. */
  pathPattern?: RegExp;
  /** Default 429. */
  status?: number;
  /** For 429: value of the Retry-After header and `retry_after`. Default 0.1 s (real Discord sends whole seconds). */
  retryAfterSeconds?: number;
  /** For 429: a global rate limit (`X-RateLimit-Global`, scope "global"). */
  global?: boolean;
  /** Discord JSON error code for non-429 failures (e.g. 50013 Missing Permissions). Default 0. */
  code?: number;
  /** Error message for non-429 failures. */
  message?: string;
  /** How many matching requests fail. Default 1. */
  times?: number;
}

export interface FakeDiscordStats {
  /** WebSocket connections opened (any path). */
  connections: number;
  identifies: number;
  /** Successful RESUMEs (RESUMED was sent). */
  resumes: number;
  heartbeats: number;
  /** INVALID_SESSION (op 9) payloads sent. */
  invalidSessions: number;
  /** Close codes of connections the client closed itself. */
  clientCloseCodes: number[];
}

export interface GatewayConnectionInfo {
  path: string;
  query: Record<string, string>;
  time: number;
}

/** A payload the client sent on the gateway (heartbeats excluded). */
export interface ReceivedGatewayPayload {
  op: number;
  d: unknown;
  time: number;
}

export interface SendMessageOptions {
  content: string;
  /** Default: `fake.human`. */
  author?: APIUser;
  /** Default: `fake.channelId`. */
  channelId?: string;
  /** Prefix the content with a mention of the bot (`<@botId> `). */
  mentionBot?: boolean;
  /** Users mentioned in addition to the `<@id>` mentions parsed from `content`. */
  mentions?: APIUser[];
  /** Make this message a reply (type 19) to a known message, by id or object. */
  referencedMessage?: string | APIMessage;
  /** Raw message_reference, e.g. to reference a deleted message (`referenced_message` becomes null). */
  message_reference?: APIMessageReference;
  /** Whether a reply pings the replied-to author (the Discord client's default is yes). Default true. */
  pingRepliedAuthor?: boolean;
  mention_roles?: string[];
  mention_everyone?: boolean;
  embeds?: APIEmbed[];
  attachments?: APIAttachment[];
}

export interface InteractionContext {
  /** Default: `fake.human`. */
  user?: APIUser;
  /** Default: `fake.channelId`. */
  channelId?: string;
  /** Default en-US. */
  locale?: Locale;
}

/**
 * Command options, either raw or as a shorthand record:
 * strings → String, booleans → Boolean, integers → Integer, other numbers → Number.
 */
export type CommandOptionsInput = APIApplicationCommandInteractionDataOption[] | Record<string, string | number | boolean>;

export interface InteractionHandle {
  id: string;
  token: string;
  payload: APIInteraction;
  /** Decoded request path of the interaction callback (what `RecordedRequest.path` will be). */
  callbackPath: string;
  /** Decoded request path of the original response (`…/messages/@original`). */
  originalPath: string;
  /** Decoded request path for follow-up messages. */
  followupPath: string;
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const API_VERSION = 10;
const API_PREFIX = `/api/v${API_VERSION}`;
const DISCORD_EPOCH = 1_420_070_400_000n;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250;
const DEFAULT_INTERACTION_DEADLINE_MS = 3_000;
const DEFAULT_RETRY_AFTER_SECONDS = 0.1;
const RESUME_PATH = '/resume';

const PRIVILEGED_INTENTS = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

// Discord's documented limits (https://discord.com/developers/docs/resources/message#create-message).
const MAX_CONTENT_LENGTH = 2000;
const MAX_EMBEDS = 10;
const MAX_EMBED_TOTAL_CHARS = 6000;
const MAX_ACTION_ROWS = 5;
const MAX_AUTOCOMPLETE_CHOICES = 25;

const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.CreateInstantInvite |
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.ChangeNickname;

// What a typical invite link for a Q&A bot grants: no moderation permissions, so deleting somebody
// else's message fails with 50013 like it would in production.
const BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | PermissionFlagsBits.ManageThreads;

const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

// ---------------------------------------------------------------------------
// Snowflakes and small helpers
// ---------------------------------------------------------------------------

/** Generates strictly increasing, timestamp-based snowflakes so SnowflakeUtil.timestampFrom() is meaningful. */
class SnowflakeGenerator {
  #lastMs = 0n;
  #increment = 0n;

  next(): string {
    let now = BigInt(Date.now());
    if (now <= this.#lastMs) {
      now = this.#lastMs;
      this.#increment += 1n;
      if (this.#increment > 0xfffn) {
        now += 1n;
        this.#increment = 0n;
      }
    } else {
      this.#increment = 0n;
    }
    this.#lastMs = now;
    const workerId = 1n;
    const processId = 1n;
    return (((now - DISCORD_EPOCH) << 22n) | (workerId << 17n) | (processId << 12n) | this.#increment).toString();
  }

  /** The next snowflake whose guild events go to shard `shard` of `count` (its millisecond picks the shard). */
  nextOnShard(shard: number, count: number): string {
    for (;;) {
      const id = this.next();
      if (shardOfGuild(id, count) === shard) return id;
      // Move on to the next millisecond rather than through the 4096 ids of this one.
      this.#increment = 0xfffn;
    }
  }
}

function snowflakeTimestamp(id: string): string {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH)).toISOString();
}

/** A message with nothing but text: the fields every message has, at their plain values; `fields` override them. */
export function plainMessage(fields: Pick<APIMessage, 'id' | 'channel_id' | 'author' | 'content'> & Partial<APIMessage>): APIMessage {
  return {
    timestamp: snowflakeTimestamp(fields.id),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    ...fields,
  } as APIMessage;
}

function compareSnowflakes(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function queryToRecord(params: URLSearchParams): Record<string, string> {
  return Object.fromEntries(params.entries());
}

function hasIntent(intents: number, intent: GatewayIntentBits): boolean {
  return (intents & intent) === intent;
}

/**
 * The shard that receives a guild's events, as Discord routes them: `(guild_id >> 22) % shard_count`.
 * Events outside any guild (DMs) go to shard 0.
 */
export function shardOfGuild(guildId: string | null | undefined, shardCount: number): number {
  if (!guildId) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** Poll `condition` until it is truthy. Handy for gateway state such as `fake.stats.resumes`. */
export async function waitUntil(
  condition: () => boolean,
  { timeoutMs = 2_000, intervalMs = 5, description = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// ---------------------------------------------------------------------------
// Discord-shaped errors
// ---------------------------------------------------------------------------

type FieldErrors = { [key: string]: FieldErrors | { code: string; message: string }[] };

class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FieldErrors,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

const errors = {
  unauthorized: () => new DiscordApiError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordApiError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new DiscordApiError(405, 0, '405: Method Not Allowed'),
  unknownChannel: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownChannel, 'Unknown Channel'),
  unknownGuild: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownGuild, 'Unknown Guild'),
  unknownMember: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownMember, 'Unknown Member'),
  unknownMessage: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownMessage, 'Unknown Message'),
  unknownUser: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownUser, 'Unknown User'),
  unknownWebhook: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownWebhook, 'Unknown Webhook'),
  unknownApplication: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownApplication, 'Unknown Application'),
  unknownCommand: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownApplicationCommand, 'Unknown application command'),
  unknownInteraction: () => new DiscordApiError(404, RESTJSONErrorCodes.UnknownInteraction, 'Unknown interaction'),
  alreadyAcknowledged: () =>
    new DiscordApiError(400, RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged, 'Interaction has already been acknowledged.'),
  emptyMessage: () => new DiscordApiError(400, RESTJSONErrorCodes.CannotSendAnEmptyMessage, 'Cannot send an empty message'),
  cannotEditOthers: () =>
    new DiscordApiError(403, RESTJSONErrorCodes.CannotEditMessageAuthoredByAnotherUser, 'Cannot edit a message authored by another user'),
  missingPermissions: () => new DiscordApiError(403, RESTJSONErrorCodes.MissingPermissions, 'Missing Permissions'),
  invalidJson: () => new DiscordApiError(400, RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, 'The request body contains invalid JSON.'),
  invalidApiVersion: () => new DiscordApiError(400, RESTJSONErrorCodes.InvalidAPIVersion, 'Invalid API version provided.'),
  invalidFormBody: (fieldErrors: FieldErrors) =>
    new DiscordApiError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType, 'Invalid Form Body', fieldErrors),
};

function fieldError(code: string, message: string): { code: string; message: string }[] {
  return [{ code, message }];
}

// ---------------------------------------------------------------------------
// Payload validation (the limits bots most often exceed)
// ---------------------------------------------------------------------------

interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: unknown[];
  flags?: number;
  allowed_mentions?: APIAllowedMentions;
  message_reference?: APIMessageReference & { fail_if_not_exists?: boolean };
  attachments?: { id: string | number; description?: string; filename?: string }[];
  sticker_ids?: string[];
  poll?: unknown;
  tts?: boolean;
  nonce?: string | number;
}

function asMessageBody(body: unknown): MessageBody {
  if (body === null || body === undefined) return {};
  if (!isRecord(body)) {
    throw errors.invalidFormBody({
      _errors: fieldError('DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType'),
    });
  }
  return body as MessageBody;
}

function embedErrors(embed: APIEmbed): { errors: FieldErrors; chars: number } {
  const found: FieldErrors = {};
  const tooLong = (value: string | undefined, max: number): boolean => value !== undefined && value.length > max;
  const maxLength = (max: number) => fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  if (tooLong(embed.title, 256)) found.title = maxLength(256);
  if (tooLong(embed.description, 4096)) found.description = maxLength(4096);
  if (tooLong(embed.footer?.text, 2048)) found.footer = { text: maxLength(2048) };
  if (tooLong(embed.author?.name, 256)) found.author = { name: maxLength(256) };
  const fields = embed.fields ?? [];
  if (fields.length > 25) found.fields = maxLength(25);
  const fieldProblems: FieldErrors = {};
  fields.forEach((field, index) => {
    const problems: FieldErrors = {};
    if (!field.name) problems.name = fieldError('BASE_TYPE_REQUIRED', 'This field is required');
    else if (field.name.length > 256) problems.name = maxLength(256);
    if (!field.value) problems.value = fieldError('BASE_TYPE_REQUIRED', 'This field is required');
    else if (field.value.length > 1024) problems.value = maxLength(1024);
    if (Object.keys(problems).length > 0) fieldProblems[String(index)] = problems;
  });
  if (Object.keys(fieldProblems).length > 0 && !found.fields) found.fields = fieldProblems;
  const chars =
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    fields.reduce((sum, field) => sum + (field.name?.length ?? 0) + (field.value?.length ?? 0), 0);
  return { errors: found, chars };
}

/** Throws the 400 Discord would return for an invalid message payload. */
function validateMessageBody(body: MessageBody): void {
  const found: FieldErrors = {};
  if (body.content !== undefined && body.content !== null && typeof body.content !== 'string') {
    found.content = fieldError('BASE_TYPE_STRING', 'Must be a string.');
  } else if (typeof body.content === 'string' && body.content.length > MAX_CONTENT_LENGTH) {
    found.content = fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT_LENGTH} or fewer in length.`);
  }
  if (Array.isArray(body.embeds)) {
    if (body.embeds.length > MAX_EMBEDS) {
      found.embeds = fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${MAX_EMBEDS} or fewer in length.`);
    } else {
      const perEmbed: FieldErrors = {};
      let total = 0;
      body.embeds.forEach((embed, index) => {
        const result = embedErrors(embed);
        total += result.chars;
        if (Object.keys(result.errors).length > 0) perEmbed[String(index)] = result.errors;
      });
      if (Object.keys(perEmbed).length > 0) found.embeds = perEmbed;
      else if (total > MAX_EMBED_TOTAL_CHARS) {
        found.embeds = {
          _errors: fieldError('MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${MAX_EMBED_TOTAL_CHARS}`),
        };
      }
    }
  }
  const isComponentsV2 = ((body.flags ?? 0) & MessageFlags.IsComponentsV2) !== 0;
  if (!isComponentsV2 && Array.isArray(body.components) && body.components.length > MAX_ACTION_ROWS) {
    found.components = fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${MAX_ACTION_ROWS} or fewer in length.`);
  }
  const allowed = body.allowed_mentions;
  if (allowed?.parse?.includes(AllowedMentionsTypes.User) && allowed.users?.length) {
    found.allowed_mentions = {
      _errors: fieldError('MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', 'parse:["users"] and users: [ids] are mutually exclusive.'),
    };
  }
  if (Object.keys(found).length > 0) throw errors.invalidFormBody(found);
}

type MessageContentFields = 'content' | 'embeds' | 'attachments' | 'components' | 'sticker_items' | 'poll';

function hasVisibleContent(message: Pick<APIMessage, MessageContentFields>): boolean {
  return (
    message.content.trim().length > 0 ||
    message.embeds.length > 0 ||
    message.attachments.length > 0 ||
    (message.components?.length ?? 0) > 0 ||
    (message.sticker_items?.length ?? 0) > 0 ||
    message.poll !== undefined
  );
}

// ---------------------------------------------------------------------------
// Internal state shapes
// ---------------------------------------------------------------------------

interface DispatchFrame {
  op: GatewayOpcodes.Dispatch;
  t: string;
  s: number;
  d: unknown;
}

interface GatewaySession {
  readonly id: string;
  readonly intents: number;
  readonly shard: [number, number];
  sequence: number;
  /** Every dispatch of the session, kept so a RESUME can replay what the client missed. */
  readonly log: DispatchFrame[];
  socket: WebSocket | null;
  /** The client closed with 1000/1001, which invalidates the session on Discord too. */
  ended: boolean;
}

/** A guild of the modelled world: the first one (`fake.guildId`) and any added with `addGuild`. */
interface GuildState {
  readonly id: string;
  readonly name: string;
  readonly roles: APIRole[];
  readonly botRoleId: string;
  readonly createdAt: string;
}

interface GatewayConnection {
  readonly socket: WebSocket;
  session: GatewaySession | null;
}

interface StoredMessage {
  message: APIMessage;
  /** Ephemeral messages are never dispatched nor listed in the channel. */
  ephemeral: boolean;
}

interface InteractionState {
  readonly id: string;
  readonly token: string;
  readonly type: InteractionType;
  readonly createdAt: number;
  readonly payload: APIInteraction;
  readonly channelId: string;
  /** For component interactions: the message the component is on. */
  readonly componentMessageId: string | null;
  responseType: InteractionResponseType | null;
  /** Message id of the original response (`@original`). */
  originalMessageId: string | null;
  /** True between a deferred reply (type 5) and its first edit / follow-up. */
  loading: boolean;
  autocompleteChoices: unknown[] | null;
  readonly followupIds: string[];
}

interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
}

interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteDefinition {
  method: string;
  template: string;
  pattern: RegExp;
  /** Bot routes require `Authorization: Bot <token>`; webhook and interaction routes send no header. */
  auth: boolean;
  handler: (ctx: RouteContext) => RouteResult | Promise<RouteResult>;
}

type RouteMatch = { route: RouteDefinition; params: Record<string, string> } | { route: null; error: DiscordApiError };

interface ActiveFailureRule extends Required<Omit<FailureRule, 'method' | 'pathPattern' | 'message'>> {
  method: string | undefined;
  pathPattern: RegExp | undefined;
  message: string | undefined;
}

interface RequestWaiter {
  predicate: (request: RecordedRequest) => boolean;
  since: number;
  resolve: (request: RecordedRequest) => void;
}

const json = (body: unknown, status = 200): RouteResult => ({ status, body });
const noContent = (): RouteResult => ({ status: 204 });

function compileRoute(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `(?<${segment.slice(1)}>[^/]+)` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

function param(ctx: RouteContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`Route parameter ${name} missing`);
  return value;
}

// ---------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------

export class FakeDiscord {
  // --- connection details -------------------------------------------------
  /** Pass as ClientOptions `rest: { api: restUrl }` (discord.js appends `/v10`). */
  readonly restUrl: string;
  /** What GET /gateway/bot returns; discord.js appends `?v=10&encoding=json`. */
  readonly gatewayUrl: string;
  /** READY's resume_gateway_url: a different path, so tests can tell a resume used it. */
  readonly resumeGatewayUrl: string;
  readonly token: string;

  // --- the modelled world ---------------------------------------------------
  readonly applicationId: string;
  readonly botUser: APIUser;
  /** A regular member without special permissions. */
  readonly human: APIUser;
  /** Another bot in the guild (its messages should be ignored by most bots). */
  readonly otherBot: APIUser;
  /** The guild owner (has every permission). */
  readonly owner: APIUser;
  readonly guildId: string;
  /** GUILD_TEXT channel "general". */
  readonly channelId: string;
  /** GUILD_TEXT channel "random". */
  readonly secondChannelId: string;
  /** Public thread "a-thread" in "general". */
  readonly threadId: string;
  readonly botRoleId: string;

  // --- observation ------------------------------------------------------------
  /** Every REST request, in arrival order (recorded when answered). */
  readonly requests: RecordedRequest[] = [];
  readonly stats: FakeDiscordStats = {
    connections: 0,
    identifies: 0,
    resumes: 0,
    heartbeats: 0,
    invalidSessions: 0,
    clientCloseCodes: [],
  };
  readonly gatewayConnections: GatewayConnectionInfo[] = [];
  /** Gateway payloads received from clients, except heartbeats. */
  readonly gatewayPayloads: ReceivedGatewayPayload[] = [];
  /** Errors emitted by clients made with `createTestClient` (`error` and `shardError` events). */
  readonly clientErrors: Error[] = [];

  readonly #options: Required<Omit<FakeDiscordOptions, 'token' | 'botUsername' | 'requestLog' | 'checkRequests' | 'retain'>>;
  /** Close codes for the next IDENTIFYs, by shard id (`-1`: any shard): see `refuseIdentify`. */
  readonly #refusedIdentify = new Map<number, number>();
  readonly #retain: Required<RetentionLimits>;
  /** Discord's API description, or null when `checkRequests` is false. */
  readonly #spec: DiscordSpec | null;
  #requestLog: string | null;
  readonly #violations: SpecViolation[] = [];
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #snowflakes: SnowflakeGenerator;
  readonly #routes: RouteDefinition[] = [];
  readonly #users = new Map<string, APIUser>();
  readonly #members = new Map<string, APIGuildMember>();
  /** Every guild by id, the first guild first. */
  readonly #guilds = new Map<string, GuildState>();
  readonly #channels = new Map<string, APITextChannel | APIThreadChannel>();
  readonly #messages = new Map<string, StoredMessage>();
  readonly #interactions = new Map<string, InteractionState>();
  readonly #commands = new Map<string, APIApplicationCommand[]>();
  readonly #commandIdsByName = new Map<string, string>();
  readonly #sessions: GatewaySession[] = [];
  readonly #connections = new Set<GatewayConnection>();
  readonly #failureRules: ActiveFailureRule[] = [];
  readonly #waiters = new Set<RequestWaiter>();
  readonly #requestListeners = new Set<(request: RecordedRequest) => void>();
  readonly #verifyKey = randomBytes(32).toString('hex');
  #requestSeq = 0;

  private constructor(server: Server, port: number, options: FakeDiscordOptions, snowflakes: SnowflakeGenerator) {
    this.#server = server;
    this.#snowflakes = snowflakes;
    this.#options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      interactionResponseDeadlineMs: options.interactionResponseDeadlineMs ?? DEFAULT_INTERACTION_DEADLINE_MS,
      privilegedIntents: options.privilegedIntents ?? PRIVILEGED_INTENTS,
      echoBotMessages: options.echoBotMessages ?? true,
      shards: options.shards ?? 1,
      maxConcurrency: options.maxConcurrency ?? 1,
    };
    if (!Number.isInteger(this.#options.shards) || this.#options.shards < 1) throw new Error('shards must be a whole number, 1 or more');
    const bound = (limit: number | undefined) => (limit === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(limit)));
    this.#retain = {
      requests: bound(options.retain?.requests),
      messages: bound(options.retain?.messages),
      interactions: bound(options.retain?.interactions),
      replayFrames: bound(options.retain?.replayFrames),
    };
    // The description lives beside the checkout (../shared); a clone without it runs the tests unchecked, and says so once.
    this.#spec =
      options.checkRequests === false ? null : options.checkRequests === true || DiscordSpec.available() ? DiscordSpec.load() : null;
    this.#requestLog = (options.requestLog === undefined ? process.env.FAKE_DISCORD_LOG : options.requestLog) || null;
    this.restUrl = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}`;
    this.resumeGatewayUrl = `ws://127.0.0.1:${port}${RESUME_PATH}`;

    const id = () => this.#snowflakes.next();
    this.applicationId = id();
    this.token = options.token ?? `${Buffer.from(this.applicationId).toString('base64url')}.${randomToken(5)}.${randomToken(28)}`;
    this.botUser = this.#user(this.applicationId, options.botUsername ?? 'citebot', { bot: true });
    this.human = this.#user(id(), 'alice', { global_name: 'Alice' });
    this.otherBot = this.#user(id(), 'otherbot', { bot: true });
    this.owner = this.#user(id(), 'guild-owner', { global_name: 'Owner' });
    this.guildId = id();
    this.botRoleId = id();
    this.channelId = id();
    this.secondChannelId = id();
    this.threadId = id();

    this.#addGuildState(this.guildId, 'Fake Guild', this.botRoleId);
    this.#addMember(this.owner, []);
    this.#addMember(this.human, []);
    this.#addMember(this.otherBot, []);
    this.#addMember(this.botUser, [this.botRoleId]);

    this.#channels.set(this.channelId, this.#textChannel(this.channelId, 'general', 0));
    this.#channels.set(this.secondChannelId, this.#textChannel(this.secondChannelId, 'random', 1));
    this.#channels.set(this.threadId, this.#thread(this.threadId, 'a-thread', this.channelId, this.human.id));

    this.#wss = new WebSocketServer({ noServer: true });
    this.#registerRoutes();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handleHttp(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#handleUpgrade(req, socket, head));
  }

  /** Starts a fake on 127.0.0.1 with a random port. */
  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return new FakeDiscord(server, port, options, new SnowflakeGenerator());
  }

  // =========================================================================
  // Test-facing API: observing REST
  // =========================================================================

  /** Sequence number the next recorded request will get; use as `since` for `waitForRequest`. */
  cursor(): number {
    return this.#requestSeq;
  }

  /**
   * Resolves with the first request (already recorded with `seq >= since`, or arriving later) that
   * matches `predicate`. The request is recorded once the fake has answered it.
   */
  waitForRequest<TBody = unknown>(
    predicate: (request: RecordedRequest) => boolean,
    timeoutMs = 2_000,
    since = 0,
  ): Promise<RecordedRequest<TBody>> {
    const existing = this.requests.find((request) => request.seq >= since && predicate(request));
    if (existing) return Promise.resolve(existing as RecordedRequest<TBody>);
    return new Promise((resolve, reject) => {
      const waiter: RequestWaiter = {
        predicate,
        since,
        resolve: (request) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(request as RecordedRequest<TBody>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.requests.map((r) => `  ${r.method} ${r.path} → ${r.status}`).join('\n') || '  (none)';
        reject(new Error(`No matching request within ${timeoutMs} ms. Requests seen:\n${seen}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Requests matching a method and an exact decoded path or a pattern. */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((request) => matchesRequest(request, method, path));
  }

  /** Requests that hit no known route (answered 404/405). */
  unknownRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.route === null);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /**
   * Calls `listener` with every request once it is answered and recorded (after `waitForRequest`'s
   * waiters), whatever `retain` keeps. Returns the function that stops it.
   */
  onRequest(listener: (request: RecordedRequest) => void): () => void {
    this.#requestListeners.add(listener);
    return () => void this.#requestListeners.delete(listener);
  }

  /** Requests so far that broke Discord's API description or a documented limit; `close()` throws if any. */
  get specViolations(): readonly SpecViolation[] {
    return [...this.#violations];
  }

  /** Returns the violations so far and forgets them: for a test that sends a bad request on purpose. */
  takeSpecViolations(): SpecViolation[] {
    return this.#violations.splice(0);
  }

  /** The next request(s) matching the rule fail (default: one 429 with Retry-After). */
  failNext(rule: FailureRule = {}): void {
    this.#failureRules.push({
      method: rule.method?.toUpperCase(),
      pathPattern: rule.pathPattern,
      status: rule.status ?? 429,
      retryAfterSeconds: rule.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
      global: rule.global ?? false,
      code: rule.code ?? 0,
      message: rule.message,
      times: rule.times ?? 1,
    });
  }

  // =========================================================================
  // Test-facing API: state lookups
  // =========================================================================

  getMessage(messageId: string): APIMessage | undefined {
    return this.#messages.get(messageId)?.message;
  }

  /** Non-ephemeral messages of a channel, oldest first. */
  messagesIn(channelId: string): APIMessage[] {
    return [...this.#messages.values()]
      .filter((stored) => !stored.ephemeral && stored.message.channel_id === channelId)
      .map((stored) => stored.message)
      .sort((a, b) => compareSnowflakes(a.id, b.id));
  }

  /** The current original response of an interaction (after reply/defer/edit), if any. */
  getInteractionReply(handle: Pick<InteractionHandle, 'token'>): APIMessage | undefined {
    const state = this.#interactions.get(handle.token);
    return state?.originalMessageId ? this.getMessage(state.originalMessageId) : undefined;
  }

  /** Follow-up messages of an interaction, oldest first. */
  getInteractionFollowups(handle: Pick<InteractionHandle, 'token'>): APIMessage[] {
    const state = this.#interactions.get(handle.token);
    return (state?.followupIds ?? []).flatMap((id) => this.getMessage(id) ?? []);
  }

  /** Registered application commands: global ones, or a guild's. */
  applicationCommands(guildId?: string): APIApplicationCommand[] {
    return [...(this.#commands.get(guildId ?? 'global') ?? [])];
  }

  /** Number of gateway connections currently attached to a live session. */
  get activeGatewayConnections(): number {
    return [...this.#connections].filter((connection) => connection.session !== null).length;
  }

  // =========================================================================
  // Test-facing API: things that happen on Discord
  // =========================================================================

  /**
   * A new member joins the guild: a user without roles (so with `@everyone`'s permissions). Added before
   * the bot logs in, the member is in GUILD_CREATE; later, GUILD_MEMBER_ADD goes to sessions with the
   * GuildMembers intent, as on Discord.
   */
  addUser(username: string, extra: Partial<APIUser> = {}): APIUser {
    const user = this.#user(this.#snowflakes.next(), username, extra);
    this.#addMember(user, []);
    for (const guildId of this.#guilds.keys()) {
      const member = this.#memberIn(guildId, user.id);
      for (const session of this.#sessionsOf(guildId)) {
        if (hasIntent(session.intents, GatewayIntentBits.GuildMembers)) {
          this.#dispatchTo(session, GatewayDispatchEvents.GuildMemberAdd, { ...member, guild_id: guildId });
        }
      }
    }
    return user;
  }

  /**
   * A new text channel in a guild (default: the first); returns its id. Added before the bot logs in, it
   * is in GUILD_CREATE; later, CHANNEL_CREATE goes to sessions with the Guilds intent.
   */
  addTextChannel(name: string, guildId = this.guildId): string {
    this.#guild(guildId);
    const id = this.#snowflakes.next();
    const position = this.#channelsOf(guildId, 'text').length;
    const channel = this.#textChannel(id, name, position, guildId);
    this.#channels.set(id, channel);
    for (const session of this.#sessionsOf(guildId)) {
      if (hasIntent(session.intents, GatewayIntentBits.Guilds)) this.#dispatchTo(session, GatewayDispatchEvents.ChannelCreate, channel);
    }
    return id;
  }

  /**
   * Another guild with one text channel ("general"); every user is a member, the bot with its managed role.
   * `onShard: [id, count]` picks an id whose events go to that shard of that many (`shardOfGuild`).
   * Added before the bot logs in, it is in READY and GUILD_CREATE; later, GUILD_CREATE goes to its shard.
   */
  addGuild(name: string, options: { onShard?: [number, number] } = {}): FakeGuild {
    const [shard, count] = options.onShard ?? [0, 1];
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(shard) || shard < 0 || shard >= count) {
      throw new Error(`onShard must be [id, count] with 0 <= id < count (got [${shard}, ${count}])`);
    }
    const id = options.onShard ? this.#snowflakes.nextOnShard(shard, count) : this.#snowflakes.next();
    const guild = this.#addGuildState(id, name, this.#snowflakes.next());
    const channelId = this.#snowflakes.next();
    this.#channels.set(channelId, this.#textChannel(channelId, 'general', 0, id));
    for (const session of this.#sessionsOf(id)) {
      if (hasIntent(session.intents, GatewayIntentBits.Guilds))
        this.#dispatchTo(session, GatewayDispatchEvents.GuildCreate, this.#guildObject(id));
    }
    return { id, name, channelId, botRoleId: guild.botRoleId };
  }

  /**
   * The next IDENTIFYs of shard `shardId` (of any shard when left out) are answered by closing the
   * gateway with `code`, e.g. 4004 Authentication failed, until `acceptIdentify()`.
   */
  refuseIdentify(code: number, shardId?: number): void {
    this.#refusedIdentify.set(shardId ?? -1, code);
  }

  acceptIdentify(): void {
    this.#refusedIdentify.clear();
  }

  /** The `[shard id, shard count]` of every session that received a dispatch about the message or interaction `id`, in order. */
  receivedBy(id: string): Array<[number, number]> {
    return this.#sessions
      .filter((session) =>
        session.log.some(
          (frame) =>
            (frame.t === GatewayDispatchEvents.MessageCreate || frame.t === GatewayDispatchEvents.InteractionCreate) &&
            isRecord(frame.d) &&
            frame.d.id === id,
        ),
      )
      .map((session) => session.shard);
  }

  /** The `[shard id, shard count]` of every IDENTIFY the fake accepted, in order. */
  get identifiedShards(): Array<[number, number]> {
    return this.#sessions.map((session) => session.shard);
  }

  /** A user posts a message: dispatches MESSAGE_CREATE and returns the message. */
  sendMessage(options: SendMessageOptions): APIMessage {
    const channelId = options.channelId ?? this.channelId;
    if (!this.#channels.has(channelId)) throw new Error(`Unknown channel ${channelId}`);
    const author = options.author ?? this.human;
    const content = options.mentionBot ? `<@${this.botUser.id}> ${options.content}` : options.content;

    const reference = this.#resolveUserReference(options, channelId);
    const mentions = new Map<string, APIUser>();
    for (const user of this.#parseUserMentions(content)) mentions.set(user.id, user);
    for (const user of options.mentions ?? []) mentions.set(user.id, user);
    if (reference.referenced && (options.pingRepliedAuthor ?? true)) {
      mentions.set(reference.referenced.author.id, reference.referenced.author);
    }

    const message = plainMessage({
      id: this.#snowflakes.next(),
      channel_id: channelId,
      author,
      content,
      mention_everyone: options.mention_everyone ?? false,
      mentions: [...mentions.values()],
      mention_roles: options.mention_roles ?? this.#parseRoleMentions(content),
      attachments: options.attachments ?? [],
      embeds: options.embeds ?? [],
      type: reference.messageReference ? MessageType.Reply : MessageType.Default,
      flags: 0 as MessageFlags,
      components: [],
      ...(reference.messageReference
        ? { message_reference: reference.messageReference, referenced_message: reference.referenced ?? null }
        : {}),
    });
    this.#storeMessage(message, false);
    this.#broadcastMessageEvent(GatewayDispatchEvents.MessageCreate, message);
    return message;
  }

  /** A user edits one of their messages: dispatches MESSAGE_UPDATE. */
  editUserMessage(messageId: string, content: string): APIMessage {
    const stored = this.#messages.get(messageId);
    if (!stored) throw new Error(`Unknown message ${messageId}`);
    stored.message = {
      ...stored.message,
      content,
      mentions: this.#parseUserMentions(content),
      edited_timestamp: new Date().toISOString(),
    };
    this.#broadcastMessageEvent(GatewayDispatchEvents.MessageUpdate, stored.message);
    return stored.message;
  }

  /** A message disappears: dispatches MESSAGE_DELETE. */
  deleteMessage(messageId: string): void {
    const stored = this.#messages.get(messageId);
    if (!stored) throw new Error(`Unknown message ${messageId}`);
    this.#messages.delete(messageId);
    this.#broadcastMessageDelete(stored);
  }

  /**
   * Dispatches an arbitrary event (no intent filtering): to the live sessions of the shard of its
   * `guild_id`, or of shard 0 when it has none (a DM), as Discord routes events.
   */
  dispatch(event: string, data: unknown): void {
    const guildId = isRecord(data) && typeof data.guild_id === 'string' ? data.guild_id : null;
    for (const session of this.#sessionsOf(guildId)) this.#dispatchTo(session, event, data);
  }

  /** Dispatches INTERACTION_CREATE for a complete interaction payload. */
  sendInteraction(payload: APIInteraction): InteractionHandle {
    const componentMessageId = payload.type === InteractionType.MessageComponent ? payload.message.id : null;
    const channelId = payload.channel?.id ?? this.channelId;
    this.#interactions.set(payload.token, {
      id: payload.id,
      token: payload.token,
      type: payload.type,
      createdAt: Date.now(),
      payload,
      channelId,
      componentMessageId,
      responseType: null,
      originalMessageId: null,
      loading: false,
      autocompleteChoices: null,
      followupIds: [],
    });
    forgetOldest(this.#interactions, this.#retain.interactions);
    this.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
    return {
      id: payload.id,
      token: payload.token,
      payload,
      callbackPath: `/interactions/${payload.id}/${payload.token}/callback`,
      originalPath: `/webhooks/${this.applicationId}/${payload.token}/messages/@original`,
      followupPath: `/webhooks/${this.applicationId}/${payload.token}`,
    };
  }

  /** A user runs a slash command. */
  chatInputCommand(name: string, options: CommandOptionsInput = [], context: InteractionContext = {}): InteractionHandle {
    const guildId = this.#guildIdOf(context.channelId ?? this.channelId);
    const payload: APIChatInputApplicationCommandGuildInteraction = {
      ...this.#interactionBase(InteractionType.ApplicationCommand, context),
      type: InteractionType.ApplicationCommand,
      data: {
        id: this.#commandId(name, ApplicationCommandType.ChatInput),
        name,
        type: ApplicationCommandType.ChatInput,
        options: toCommandOptions(options),
        guild_id: this.#isGuildCommand(name, guildId) ? guildId : undefined,
      },
    };
    return this.sendInteraction(payload);
  }

  /** A user types into an autocomplete option: `focused` names the option being typed. */
  autocomplete(name: string, options: CommandOptionsInput, focused: string, context: InteractionContext = {}): InteractionHandle {
    const resolvedOptions = toCommandOptions(options).map((option) => (option.name === focused ? { ...option, focused: true } : option));
    if (!resolvedOptions.some((option) => 'focused' in option)) throw new Error(`No option named ${focused}`);
    const payload: APIApplicationCommandAutocompleteGuildInteraction = {
      ...this.#interactionBase(InteractionType.ApplicationCommandAutocomplete, context),
      type: InteractionType.ApplicationCommandAutocomplete,
      data: {
        id: this.#commandId(name, ApplicationCommandType.ChatInput),
        name,
        type: ApplicationCommandType.ChatInput,
        options: resolvedOptions as APIApplicationCommandAutocompleteGuildInteraction['data']['options'],
      },
    };
    return this.sendInteraction(payload);
  }

  /** A user clicks a button on a known message (usually one the bot posted). */
  button(customId: string, message: string | APIMessage, context: InteractionContext = {}): InteractionHandle {
    const target = this.#requireMessage(message);
    const payload: APIMessageComponentButtonInteraction = {
      ...this.#interactionBase(InteractionType.MessageComponent, { channelId: target.channel_id, ...context }),
      type: InteractionType.MessageComponent,
      message: target,
      data: { custom_id: customId, component_type: ComponentType.Button },
    } as APIMessageComponentButtonInteraction;
    return this.sendInteraction(payload);
  }

  /** A user runs a message context-menu command ("Apps → <name>") on a known message. */
  messageContextMenu(name: string, targetMessage: string | APIMessage, context: InteractionContext = {}): InteractionHandle {
    const target = this.#requireMessage(targetMessage);
    const guildId = this.#guildIdOf(target.channel_id);
    const payload: APIMessageApplicationCommandGuildInteraction = {
      ...this.#interactionBase(InteractionType.ApplicationCommand, { channelId: target.channel_id, ...context }),
      type: InteractionType.ApplicationCommand,
      data: {
        id: this.#commandId(name, ApplicationCommandType.Message),
        name,
        type: ApplicationCommandType.Message,
        target_id: target.id,
        resolved: { messages: { [target.id]: target } },
        guild_id: this.#isGuildCommand(name, guildId) ? guildId : undefined,
      },
    };
    return this.sendInteraction(payload);
  }

  // =========================================================================
  // Test-facing API: gateway disruptions
  // =========================================================================

  /**
   * Closes every gateway connection. A number is sent as the close code (default 4000, after which
   * discord.js resumes); `'terminate'` drops the TCP connection without a close frame (client sees 1006).
   * Dispatches made while disconnected are kept and replayed on RESUME.
   */
  dropConnection(code: number | 'terminate' = 4000): void {
    for (const connection of this.#connections) {
      this.#detach(connection);
      if (code === 'terminate') connection.socket.terminate();
      else connection.socket.close(code, 'fake-discord dropped the connection');
    }
  }

  /** Sends op 7 RECONNECT: the client should close and RESUME. */
  requestReconnect(): void {
    for (const connection of this.#connections) this.#send(connection.socket, { op: GatewayOpcodes.Reconnect, d: null });
  }

  /** Sends op 9 INVALID_SESSION to every connection; non-resumable sessions are ended. */
  invalidateSession(resumable = false): void {
    for (const connection of this.#connections) {
      if (!resumable && connection.session) connection.session.ended = true;
      this.#send(connection.socket, { op: GatewayOpcodes.InvalidSession, d: resumable });
      this.stats.invalidSessions += 1;
    }
  }

  /**
   * Stops the HTTP and WebSocket servers. Destroy clients first so they do not try to reconnect.
   * Then throws a `SpecViolationError` if any request broke Discord's API description: every test
   * that closes its fake in `afterEach` fails on a bad request without asking.
   */
  async close(): Promise<void> {
    for (const connection of this.#connections) connection.socket.terminate();
    this.#connections.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
    const violations = this.takeSpecViolations();
    if (violations.length > 0) throw new SpecViolationError(violations);
  }

  // =========================================================================
  // World construction
  // =========================================================================

  #user(id: string, username: string, extra: Partial<APIUser> = {}): APIUser {
    const user: APIUser = {
      id,
      username,
      discriminator: '0',
      global_name: null,
      avatar: null,
      public_flags: 0 as UserFlags,
      ...extra,
    };
    this.#users.set(id, user);
    return user;
  }

  #role(id: string, name: string, permissions: bigint, position: number): APIRole {
    return {
      id,
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: permissions.toString(),
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    };
  }

  #addGuildState(id: string, name: string, botRoleId: string): GuildState {
    const guild: GuildState = {
      id,
      name,
      botRoleId,
      createdAt: snowflakeTimestamp(id),
      roles: [
        this.#role(id, '@everyone', EVERYONE_PERMISSIONS, 0),
        {
          ...this.#role(botRoleId, this.botUser.username, BOT_ROLE_PERMISSIONS, 1),
          managed: true,
          tags: { bot_id: this.botUser.id },
        },
      ],
    };
    this.#guilds.set(id, guild);
    return guild;
  }

  #guild(guildId: string): GuildState {
    const guild = this.#guilds.get(guildId);
    if (!guild) throw new Error(`Unknown guild ${guildId}`);
    return guild;
  }

  /** The guild a channel belongs to (the first guild for a channel the fake does not know). */
  #guildIdOf(channelId: string): string {
    return this.#channels.get(channelId)?.guild_id ?? this.guildId;
  }

  /**
   * A user's membership of a guild. Every user is a member of every guild; in the first guild with the
   * roles given when they joined, in the others with the bot's managed role for the bot and none else.
   */
  #memberIn(guildId: string, userId: string): APIGuildMember | undefined {
    const member = this.#members.get(userId);
    if (!member || guildId === this.guildId) return member;
    const guild = this.#guild(guildId);
    return { ...member, roles: userId === this.botUser.id ? [guild.botRoleId] : [], joined_at: guild.createdAt };
  }

  #addMember(user: APIUser, roles: string[]): void {
    this.#members.set(user.id, {
      user,
      nick: null,
      avatar: null,
      banner: null,
      roles,
      joined_at: snowflakeTimestamp(this.guildId),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      pending: false,
      communication_disabled_until: null,
    });
  }

  #textChannel(id: string, name: string, position: number, guildId = this.guildId): APITextChannel {
    return {
      id,
      type: ChannelType.GuildText,
      guild_id: guildId,
      name,
      position,
      permission_overwrites: [],
      parent_id: null,
      topic: null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: 0 as ChannelFlags,
    };
  }

  #thread(id: string, name: string, parentId: string, ownerId: string): APIThreadChannel {
    const created = snowflakeTimestamp(id);
    return {
      id,
      type: ChannelType.PublicThread,
      guild_id: this.#guildIdOf(parentId),
      name,
      parent_id: parentId,
      owner_id: ownerId,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0 as ChannelFlags,
      thread_metadata: {
        archived: false,
        auto_archive_duration: ThreadAutoArchiveDuration.OneDay,
        archive_timestamp: created,
        locked: false,
        create_timestamp: created,
      },
    };
  }

  #memberPermissions(userId: string, guildId = this.guildId): bigint {
    if (userId === this.owner.id) return ALL_PERMISSIONS;
    const member = this.#memberIn(guildId, userId);
    const roleIds = new Set([guildId, ...(member?.roles ?? [])]);
    const permissions = this.#guild(guildId)
      .roles.filter((role) => roleIds.has(role.id))
      .reduce((all, role) => all | BigInt(role.permissions), 0n);
    return (permissions & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : permissions;
  }

  /** A guild's channels: its text channels, or its threads. */
  #channelsOf(guildId: string, kind: 'text' | 'threads'): Array<APITextChannel | APIThreadChannel> {
    return [...this.#channels.values()].filter(
      (channel) => channel.guild_id === guildId && (channel.type === ChannelType.GuildText) === (kind === 'text'),
    );
  }

  #guildObject(guildId = this.guildId): GatewayGuildCreateDispatchData {
    const guild = this.#guild(guildId);
    const textChannels = this.#channelsOf(guildId, 'text');
    const threads = this.#channelsOf(guildId, 'threads');
    const members = [...this.#members.keys()].flatMap((userId) => this.#memberIn(guildId, userId) ?? []);
    return {
      id: guildId,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: this.owner.id,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 1,
      explicit_content_filter: 0,
      roles: guild.roles,
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: textChannels[0]?.id ?? null,
      system_channel_flags: 0 as GuildSystemChannelFlags,
      rules_channel_id: null,
      vanity_url_code: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: Locale.EnglishUS,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      hub_type: null,
      incidents_data: null,
      max_members: 500_000,
      max_video_channel_users: 25,
      // Gateway-only fields of GUILD_CREATE.
      joined_at: this.#memberIn(guildId, this.botUser.id)?.joined_at ?? guild.createdAt,
      large: false,
      unavailable: false,
      member_count: members.length,
      voice_states: [],
      members,
      channels: textChannels as GatewayGuildCreateDispatchData['channels'],
      threads: threads as GatewayGuildCreateDispatchData['threads'],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  #applicationObject(): APIApplication {
    const enabled = this.#options.privilegedIntents;
    let flags = 0;
    if (hasIntent(enabled, GatewayIntentBits.GuildPresences)) flags |= ApplicationFlags.GatewayPresence;
    if (hasIntent(enabled, GatewayIntentBits.GuildMembers)) flags |= ApplicationFlags.GatewayGuildMembers;
    if (hasIntent(enabled, GatewayIntentBits.MessageContent)) flags |= ApplicationFlags.GatewayMessageContent;
    return {
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: '',
      summary: '',
      bot_public: true,
      bot_require_code_grant: false,
      bot: this.botUser,
      owner: this.owner,
      verify_key: this.#verifyKey,
      team: null,
      flags,
      flags_new: String(flags),
      approximate_guild_count: this.#guilds.size,
    } as APIApplication;
  }

  // =========================================================================
  // Messages
  // =========================================================================

  #storeMessage(message: APIMessage, ephemeral: boolean): void {
    this.#messages.set(message.id, { message, ephemeral });
    forgetOldest(this.#messages, this.#retain.messages);
    if (ephemeral) return;
    const channel = this.#channels.get(message.channel_id);
    if (channel) {
      channel.last_message_id = message.id;
      if (channel.type !== ChannelType.GuildText) {
        channel.message_count = (channel.message_count ?? 0) + 1;
        channel.total_message_sent = (channel.total_message_sent ?? 0) + 1;
      }
    }
  }

  #requireMessage(message: string | APIMessage): APIMessage {
    const id = typeof message === 'string' ? message : message.id;
    const stored = this.#messages.get(id);
    if (!stored) throw new Error(`Unknown message ${id}; post it through the fake first`);
    return stored.message;
  }

  #resolveUserReference(
    options: SendMessageOptions,
    channelId: string,
  ): { messageReference?: APIMessageReference; referenced?: APIMessage } {
    if (options.message_reference) {
      const id = options.message_reference.message_id;
      const referenced = id ? this.#messages.get(id)?.message : undefined;
      return { messageReference: options.message_reference, referenced: referenced && withoutNestedReference(referenced) };
    }
    if (!options.referencedMessage) return {};
    const referenced = this.#requireMessage(options.referencedMessage);
    return {
      messageReference: {
        type: MessageReferenceType.Default,
        message_id: referenced.id,
        channel_id: channelId,
        guild_id: this.#guildIdOf(channelId),
      },
      referenced: withoutNestedReference(referenced),
    };
  }

  #parseUserMentions(content: string): APIUser[] {
    const ids = [...content.matchAll(/<@!?(\d{17,20})>/g)].map((match) => match[1] ?? '');
    return [...new Set(ids)].flatMap((id) => this.#users.get(id) ?? []);
  }

  #parseRoleMentions(content: string): string[] {
    const ids = [...content.matchAll(/<@&(\d{17,20})>/g)].map((match) => match[1] ?? '');
    const known = new Set([...this.#guilds.values()].flatMap((guild) => guild.roles.map((role) => role.id)));
    return [...new Set(ids)].filter((id) => known.has(id));
  }

  /** Resolves `message_reference` of a bot-sent message; Discord 400s on unknown messages unless told not to. */
  #resolveBotReference(body: MessageBody, channelId: string): { messageReference?: APIMessageReference; referenced?: APIMessage } {
    const reference = body.message_reference;
    if (!reference?.message_id) return {};
    const stored = this.#messages.get(reference.message_id);
    const referenceChannel = reference.channel_id ?? channelId;
    if (!stored || stored.ephemeral || stored.message.channel_id !== referenceChannel) {
      if (reference.fail_if_not_exists === false) return {};
      throw errors.invalidFormBody({
        message_reference: { _errors: fieldError('MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message') },
      });
    }
    return {
      messageReference: {
        type: MessageReferenceType.Default,
        message_id: stored.message.id,
        channel_id: stored.message.channel_id,
        guild_id: this.#guildIdOf(stored.message.channel_id),
      },
      referenced: withoutNestedReference(stored.message),
    };
  }

  /** Which users a bot message actually pings, honouring allowed_mentions like Discord does. */
  #botMessageMentions(content: string, allowed: APIAllowedMentions | undefined, replied: APIMessage | undefined) {
    const parse = new Set<string>(allowed?.parse ?? []);
    const userAllowed = (id: string) => !allowed || parse.has('users') || (allowed.users ?? []).includes(id);
    const roleAllowed = (id: string) => !allowed || parse.has('roles') || (allowed.roles ?? []).includes(id);
    const mentions = new Map<string, APIUser>();
    for (const user of this.#parseUserMentions(content)) if (userAllowed(user.id)) mentions.set(user.id, user);
    // Without allowed_mentions Discord pings the replied-to author; with it, only if replied_user is true.
    if (replied && (!allowed || allowed.replied_user === true)) mentions.set(replied.author.id, replied.author);
    return {
      mentions: [...mentions.values()],
      mention_roles: this.#parseRoleMentions(content).filter(roleAllowed),
      mention_everyone: /@(everyone|here)\b/.test(content) && (!allowed || parse.has('everyone')),
    };
  }

  #attachments(body: MessageBody, files: UploadedFile[], existing: APIAttachment[] = []): APIAttachment[] {
    const filesByIndex = new Map(files.map((file, index) => [String(/\[(\d+)\]/.exec(file.field)?.[1] ?? index), file]));
    const toAttachment = (file: UploadedFile, description?: string): APIAttachment => {
      const id = this.#snowflakes.next();
      const url = `${this.restUrl.replace(/\/api$/, '')}/attachments/${id}/${encodeURIComponent(file.filename)}`;
      return {
        id,
        filename: file.filename,
        size: file.data.length,
        url,
        proxy_url: url,
        content_type: file.contentType,
        ...(description ? { description } : {}),
      };
    };
    if (!body.attachments) return [...existing, ...files.map((file) => toAttachment(file))];
    return body.attachments.flatMap((entry) => {
      const kept = existing.find((attachment) => attachment.id === String(entry.id));
      if (kept) return [kept];
      const file = filesByIndex.get(String(entry.id));
      return file ? [toAttachment(file, entry.description)] : [];
    });
  }

  /** Builds a message authored by the bot from a REST body (channel message, interaction reply, follow-up). */
  #buildBotMessage(channelId: string, body: MessageBody, files: UploadedFile[], extra: Partial<APIMessage> = {}): APIMessage {
    validateMessageBody(body);
    const reference = this.#resolveBotReference(body, channelId);
    const content = body.content ?? '';
    const id = this.#snowflakes.next();
    const message: APIMessage = {
      id,
      channel_id: channelId,
      author: this.botUser,
      content,
      timestamp: snowflakeTimestamp(id),
      edited_timestamp: null,
      tts: body.tts ?? false,
      ...this.#botMessageMentions(content, body.allowed_mentions, reference.referenced),
      attachments: this.#attachments(body, files),
      embeds: (body.embeds ?? []).map(normalizeEmbed),
      pinned: false,
      type: reference.messageReference ? MessageType.Reply : MessageType.Default,
      flags: body.flags ?? 0,
      components: (body.components ?? []) as APIMessage['components'],
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...(reference.messageReference
        ? { message_reference: reference.messageReference, referenced_message: reference.referenced ?? null }
        : {}),
      ...extra,
    };
    if (!hasVisibleContent(message)) throw errors.emptyMessage();
    return message;
  }

  /** Applies a PATCH body to a message (only the fields present change, like Discord). */
  #applyEdit(message: APIMessage, body: MessageBody, files: UploadedFile[]): APIMessage {
    validateMessageBody(body);
    const edited: APIMessage = { ...message, edited_timestamp: new Date().toISOString() };
    if (body.content !== undefined) {
      edited.content = body.content ?? '';
      Object.assign(edited, this.#botMessageMentions(edited.content, body.allowed_mentions, undefined));
    }
    if (body.embeds !== undefined) edited.embeds = (body.embeds ?? []).map(normalizeEmbed);
    if (body.components !== undefined) edited.components = (body.components ?? []) as APIMessage['components'];
    if (body.flags !== undefined) edited.flags = ((message.flags ?? 0) & ~MessageFlags.SuppressEmbeds) | (body.flags ?? 0);
    if (body.attachments !== undefined || files.length > 0) {
      edited.attachments = this.#attachments(body, files, message.attachments);
    }
    if (!hasVisibleContent(edited)) throw errors.emptyMessage();
    return edited;
  }

  // =========================================================================
  // Gateway fan-out
  // =========================================================================

  #liveSessions(): GatewaySession[] {
    return this.#sessions.filter((session) => !session.ended);
  }

  /** The live sessions that receive a guild's events: those of its shard (`shardOfGuild`; shard 0 for none). */
  #sessionsOf(guildId: string | null): GatewaySession[] {
    return this.#liveSessions().filter((session) => session.shard[0] === shardOfGuild(guildId, session.shard[1]));
  }

  /** The guilds a session's shard receives. */
  #guildsOfSession(session: GatewaySession): GuildState[] {
    return [...this.#guilds.values()].filter((guild) => shardOfGuild(guild.id, session.shard[1]) === session.shard[0]);
  }

  #dispatchTo(session: GatewaySession, event: string, data: unknown): void {
    session.sequence += 1;
    const frame: DispatchFrame = { op: GatewayOpcodes.Dispatch, t: event, s: session.sequence, d: data };
    session.log.push(frame);
    if (session.log.length > this.#retain.replayFrames) session.log.splice(0, session.log.length - this.#retain.replayFrames);
    if (session.socket) this.#send(session.socket, frame);
  }

  /** Gateway form of a message: adds guild_id, the author's member and members of mentioned users. */
  #gatewayMessage(message: APIMessage): GatewayMessageCreateDispatchData {
    const guildId = this.#guildIdOf(message.channel_id);
    const partialMember = (userId: string) => {
      const member = this.#memberIn(guildId, userId);
      if (!member) return undefined;
      const { user: _user, ...rest } = member;
      return rest;
    };
    const channelType = this.#channels.get(message.channel_id)?.type;
    return {
      ...message,
      guild_id: guildId,
      ...(channelType === undefined ? {} : { channel_type: channelType }),
      ...(message.webhook_id ? {} : { member: partialMember(message.author.id) }),
      mentions: message.mentions.map((user) => ({ ...user, member: partialMember(user.id) })),
    };
  }

  /**
   * Sends a message event to each session that subscribed to it. Without GuildMessages nothing is
   * sent; without MessageContent, content is emptied unless the bot is the author or is mentioned.
   */
  #broadcastMessageEvent(event: GatewayDispatchEvents, message: APIMessage): void {
    const payload = this.#gatewayMessage(message);
    for (const session of this.#sessionsOf(payload.guild_id ?? null)) {
      if (!hasIntent(session.intents, GatewayIntentBits.GuildMessages)) continue;
      const redacted = !hasIntent(session.intents, GatewayIntentBits.MessageContent) && !this.#contentExempt(message);
      this.#dispatchTo(session, event, redacted ? redactContent(payload) : payload);
    }
  }

  /** The bot always sees content of its own messages and of messages that mention it. */
  #contentExempt(message: APIMessage): boolean {
    return message.author.id === this.botUser.id || message.mentions.some((user) => user.id === this.botUser.id);
  }

  /** REST follows the portal setting: without MessageContent enabled there, content is emptied too. */
  #restMessage(message: APIMessage): APIMessage {
    const portalAllows = hasIntent(this.#options.privilegedIntents, GatewayIntentBits.MessageContent);
    return portalAllows || this.#contentExempt(message) ? message : redactContent(message);
  }

  #broadcastMessageDelete(stored: StoredMessage): void {
    if (stored.ephemeral) return;
    const guildId = this.#guildIdOf(stored.message.channel_id);
    const data = { id: stored.message.id, channel_id: stored.message.channel_id, guild_id: guildId };
    for (const session of this.#sessionsOf(guildId)) {
      if (hasIntent(session.intents, GatewayIntentBits.GuildMessages)) {
        this.#dispatchTo(session, GatewayDispatchEvents.MessageDelete, data);
      }
    }
  }

  #echoBotMessage(event: GatewayDispatchEvents, stored: StoredMessage): void {
    if (this.#options.echoBotMessages && !stored.ephemeral) this.#broadcastMessageEvent(event, stored.message);
  }

  // =========================================================================
  // Gateway protocol
  // =========================================================================

  #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/' && url.pathname !== RESUME_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onGatewayConnection(ws, url));
  }

  #onGatewayConnection(socket: WebSocket, url: URL): void {
    const connection: GatewayConnection = { socket, session: null };
    this.#connections.add(connection);
    this.stats.connections += 1;
    this.gatewayConnections.push({ path: url.pathname, query: queryToRecord(url.searchParams), time: Date.now() });

    socket.on('close', (code) => {
      this.#connections.delete(connection);
      if (connection.session?.socket === socket) {
        this.stats.clientCloseCodes.push(code);
        // Closing with 1000/1001 tells Discord the session is over; other codes keep it resumable.
        if (code === 1000 || code === 1001) connection.session.ended = true;
      }
      this.#detach(connection);
    });
    socket.on('error', () => {
      // A client vanishing mid-frame is normal during reconnect tests; 'close' follows.
    });

    if (url.searchParams.get('v') !== String(API_VERSION)) {
      socket.close(GatewayCloseCodes.InvalidAPIVersion, 'Invalid API version');
      return;
    }
    if (url.searchParams.get('encoding') !== 'json') {
      // Only JSON is implemented; ETF clients would not understand us anyway.
      socket.close(GatewayCloseCodes.DecodeError, 'Unsupported encoding');
      return;
    }
    socket.on('message', (data: RawData) => this.#onGatewayMessage(connection, data));
    this.#send(socket, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.#options.heartbeatIntervalMs } });
  }

  #onGatewayMessage(connection: GatewayConnection, data: RawData): void {
    let payload: unknown;
    try {
      payload = JSON.parse(rawDataToString(data));
    } catch {
      connection.socket.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    if (!isRecord(payload) || typeof payload.op !== 'number') {
      connection.socket.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    const { op, d } = payload;
    if (op === GatewayOpcodes.Heartbeat) {
      this.stats.heartbeats += 1;
      this.#send(connection.socket, { op: GatewayOpcodes.HeartbeatAck });
      return;
    }
    this.gatewayPayloads.push({ op, d, time: Date.now() });
    switch (op) {
      case GatewayOpcodes.Identify:
        this.#onIdentify(connection, d as GatewayIdentifyData);
        return;
      case GatewayOpcodes.Resume:
        this.#onResume(connection, d as GatewayResumeData);
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        if (!connection.session) connection.socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
        return;
      case GatewayOpcodes.RequestGuildMembers:
        if (!connection.session) connection.socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
        else this.#onRequestGuildMembers(connection.session, d as GatewayRequestGuildMembersData);
        return;
      default:
        connection.socket.close(GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
    }
  }

  #onIdentify(connection: GatewayConnection, identify: GatewayIdentifyData): void {
    if (connection.session) {
      connection.socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
      return;
    }
    const shard: [number, number] = identify.shard ?? [0, 1];
    const refused = this.#refusedIdentify.get(shard[0]) ?? this.#refusedIdentify.get(-1);
    if (refused !== undefined) {
      connection.socket.close(refused, 'fake-discord refused the identify.');
      return;
    }
    if (identify.token !== this.token) {
      connection.socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    const [shardId, shardCount] = shard;
    if (!Number.isInteger(shardId) || shardId < 0 || shardId >= shardCount || shardCount !== this.#options.shards) {
      connection.socket.close(GatewayCloseCodes.InvalidShard, 'Invalid shard.');
      return;
    }
    if (typeof identify.intents !== 'number') {
      connection.socket.close(GatewayCloseCodes.InvalidIntents, 'Invalid intent(s).');
      return;
    }
    const privileged = identify.intents & PRIVILEGED_INTENTS;
    if ((privileged & ~this.#options.privilegedIntents) !== 0) {
      connection.socket.close(GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    this.stats.identifies += 1;
    const session: GatewaySession = {
      id: randomToken(16),
      intents: identify.intents,
      shard: [shardId, shardCount],
      sequence: 0,
      log: [],
      socket: connection.socket,
      ended: false,
    };
    this.#sessions.push(session);
    connection.session = session;

    const application = this.#applicationObject();
    const ready: GatewayReadyDispatchData = {
      v: API_VERSION,
      user: { ...this.botUser, verified: true, mfa_enabled: false, email: null, flags: 0 as UserFlags },
      guilds: this.#guildsOfSession(session).map((guild) => ({ id: guild.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.resumeGatewayUrl,
      shard: session.shard,
      application: { id: this.applicationId, flags: application.flags, flags_new: application.flags_new },
    };
    this.#dispatchTo(session, GatewayDispatchEvents.Ready, ready);
    // Without the Guilds intent Discord sends no GUILD_CREATE; discord.js then never caches channels.
    if (hasIntent(session.intents, GatewayIntentBits.Guilds)) {
      for (const guild of this.#guildsOfSession(session))
        this.#dispatchTo(session, GatewayDispatchEvents.GuildCreate, this.#guildObject(guild.id));
    }
  }

  #onResume(connection: GatewayConnection, resume: GatewayResumeData): void {
    if (connection.session) {
      connection.socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
      return;
    }
    if (resume.token !== this.token) {
      connection.socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    const session = this.#sessions.find((candidate) => candidate.id === resume.session_id && !candidate.ended);
    if (!session) {
      this.stats.invalidSessions += 1;
      this.#send(connection.socket, { op: GatewayOpcodes.InvalidSession, d: false });
      return;
    }
    if (resume.seq > session.sequence) {
      connection.socket.close(GatewayCloseCodes.InvalidSeq, 'Invalid seq.');
      return;
    }
    // Dispatches the client missed are no longer kept (see `retain.replayFrames`): it must identify anew.
    const oldestKept = session.log[0];
    if (oldestKept && resume.seq < oldestKept.s - 1) {
      session.ended = true;
      this.stats.invalidSessions += 1;
      this.#send(connection.socket, { op: GatewayOpcodes.InvalidSession, d: false });
      return;
    }
    // A stale socket may still be attached if the client noticed the drop before we did.
    for (const other of this.#connections) {
      if (other !== connection && other.session === session) {
        this.#detach(other);
        other.socket.terminate();
      }
    }
    connection.session = session;
    session.socket = connection.socket;
    for (const frame of session.log) if (frame.s > resume.seq) this.#send(connection.socket, frame);
    this.stats.resumes += 1;
    this.#dispatchTo(session, GatewayDispatchEvents.Resumed, { _trace: ['fake-discord'] });
  }

  #onRequestGuildMembers(session: GatewaySession, request: GatewayRequestGuildMembersData): void {
    const query = 'query' in request ? (request.query ?? '').toLowerCase() : '';
    const userIds = 'user_ids' in request && request.user_ids ? [request.user_ids].flat() : null;
    const guildId = this.#guilds.has(request.guild_id) ? request.guild_id : this.guildId;
    const members = [...this.#members.keys()]
      .flatMap((userId) => this.#memberIn(guildId, userId) ?? [])
      .filter((member) => (userIds ? userIds.includes(member.user.id) : member.user.username.toLowerCase().startsWith(query)));
    const requestedLimit = 'limit' in request ? request.limit : 0;
    const limit = requestedLimit > 0 ? requestedLimit : members.length;
    this.#dispatchTo(session, GatewayDispatchEvents.GuildMembersChunk, {
      guild_id: guildId,
      members: members.slice(0, limit),
      chunk_index: 0,
      chunk_count: 1,
      not_found: userIds ? userIds.filter((id) => !this.#members.has(id)) : [],
      ...(request.nonce ? { nonce: request.nonce } : {}),
    });
  }

  #detach(connection: GatewayConnection): void {
    if (connection.session?.socket === connection.socket) connection.session.socket = null;
    connection.session = null;
  }

  #send(socket: WebSocket, payload: { op: number; d?: unknown; s?: number | null; t?: string | null }): void {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ s: null, t: null, d: null, ...payload }));
  }

  // =========================================================================
  // Interactions
  // =========================================================================

  #interactionBase(type: InteractionType, context: InteractionContext) {
    const channelId = context.channelId ?? this.channelId;
    const channel = this.#channels.get(channelId);
    if (!channel) throw new Error(`Unknown channel ${channelId}`);
    const user = context.user ?? this.human;
    const guildId = this.#guildIdOf(channelId);
    const member = this.#memberIn(guildId, user.id);
    const interactionMember: APIInteractionGuildMember = {
      ...(member ?? { roles: [], joined_at: this.#guild(guildId).createdAt, deaf: false, mute: false, flags: 0 }),
      user,
      permissions: this.#memberPermissions(user.id, guildId).toString(),
    } as APIInteractionGuildMember;
    const appPermissions = this.#memberPermissions(this.botUser.id, guildId).toString();
    return {
      id: this.#snowflakes.next(),
      application_id: this.applicationId,
      type,
      token: `aW50ZXJhY3Rpb246${randomToken(96)}`,
      version: 1 as const,
      guild: { id: guildId, locale: Locale.EnglishUS, features: [] },
      guild_id: guildId,
      channel: { ...channel, permissions: interactionMember.permissions },
      channel_id: channelId,
      member: interactionMember,
      app_permissions: appPermissions,
      locale: context.locale ?? Locale.EnglishUS,
      guild_locale: Locale.EnglishUS,
      entitlements: [],
      authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId },
      context: InteractionContextType.Guild,
      attachment_size_limit: 10 * 1024 * 1024,
    };
  }

  #commandId(name: string, type: ApplicationCommandType): string {
    for (const commands of this.#commands.values()) {
      const registered = commands.find((command) => command.name === name && command.type === type);
      if (registered) return registered.id;
    }
    const key = `${type}:${name}`;
    let id = this.#commandIdsByName.get(key);
    if (!id) {
      id = this.#snowflakes.next();
      this.#commandIdsByName.set(key, id);
    }
    return id;
  }

  #isGuildCommand(name: string, guildId: string): boolean {
    return (this.#commands.get(guildId) ?? []).some((command) => command.name === name);
  }

  #interactionByToken(applicationId: string, token: string): InteractionState {
    const state = this.#interactions.get(token);
    if (applicationId !== this.applicationId || !state) throw errors.unknownWebhook();
    return state;
  }

  #interactionMessageExtra(state: InteractionState): Pick<APIMessage, 'webhook_id' | 'application_id' | 'type' | 'interaction_metadata'> {
    const user = state.payload.member?.user ?? state.payload.user ?? this.human;
    const isCommand = state.type === InteractionType.ApplicationCommand;
    const commandType = isCommand && state.payload.data && 'type' in state.payload.data ? state.payload.data.type : null;
    return {
      webhook_id: this.applicationId,
      application_id: this.applicationId,
      type:
        commandType === ApplicationCommandType.ChatInput
          ? MessageType.ChatInputCommand
          : commandType !== null
            ? MessageType.ContextMenuCommand
            : MessageType.Default,
      interaction_metadata: {
        id: state.id,
        type: state.type,
        user,
        authorizing_integration_owners: state.payload.authorizing_integration_owners,
      } as APIMessage['interaction_metadata'],
    };
  }

  #createInteractionMessage(state: InteractionState, body: MessageBody, files: UploadedFile[], flags: number): StoredMessage {
    const message = this.#buildBotMessage(state.channelId, { ...body, flags }, files, this.#interactionMessageExtra(state));
    const stored = { message, ephemeral: (flags & MessageFlags.Ephemeral) !== 0 };
    this.#storeMessage(message, stored.ephemeral);
    this.#echoBotMessage(GatewayDispatchEvents.MessageCreate, stored);
    return stored;
  }

  #interactionCallback(ctx: RouteContext): RouteResult {
    const state = this.#interactions.get(param(ctx, 'token'));
    if (!state || state.id !== param(ctx, 'interactionId')) throw errors.unknownInteraction();
    if (Date.now() - state.createdAt >= this.#options.interactionResponseDeadlineMs) throw errors.unknownInteraction();
    if (state.responseType !== null) throw errors.alreadyAcknowledged();
    if (!isRecord(ctx.body) || typeof ctx.body.type !== 'number') {
      throw errors.invalidFormBody({ type: fieldError('BASE_TYPE_REQUIRED', 'This field is required') });
    }
    const type = ctx.body.type as InteractionResponseType;
    const data = asMessageBody(ctx.body.data);
    const isAutocomplete = state.type === InteractionType.ApplicationCommandAutocomplete;
    const isComponent = state.type === InteractionType.MessageComponent || state.type === InteractionType.ModalSubmit;
    const invalidType = () =>
      errors.invalidFormBody({
        type: fieldError('INTERACTION_RESPONSE_TYPE_INVALID', 'Interaction response type is invalid for this interaction'),
      });

    let resourceMessage: APIMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource: {
        if (isAutocomplete) throw invalidType();
        const stored = this.#createInteractionMessage(state, data, ctx.files, data.flags ?? 0);
        state.originalMessageId = stored.message.id;
        resourceMessage = stored.message;
        break;
      }
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        if (isAutocomplete) throw invalidType();
        const id = this.#snowflakes.next();
        const flags = MessageFlags.Loading | ((data.flags ?? 0) & MessageFlags.Ephemeral);
        const message = plainMessage({
          id,
          channel_id: state.channelId,
          author: this.botUser,
          content: '',
          components: [],
          ...this.#interactionMessageExtra(state),
          flags,
        });
        const stored = { message, ephemeral: (flags & MessageFlags.Ephemeral) !== 0 };
        this.#storeMessage(message, stored.ephemeral);
        this.#echoBotMessage(GatewayDispatchEvents.MessageCreate, stored);
        state.originalMessageId = id;
        state.loading = true;
        resourceMessage = message;
        break;
      }
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage: {
        if (!isComponent || !state.componentMessageId) throw invalidType();
        const stored = this.#messages.get(state.componentMessageId);
        if (!stored) throw errors.unknownMessage();
        if (type === InteractionResponseType.UpdateMessage) {
          stored.message = this.#applyEdit(stored.message, data, ctx.files);
          this.#echoBotMessage(GatewayDispatchEvents.MessageUpdate, stored);
        }
        state.originalMessageId = stored.message.id;
        resourceMessage = stored.message;
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult: {
        if (!isAutocomplete) throw invalidType();
        const choices = isRecord(ctx.body.data) && Array.isArray(ctx.body.data.choices) ? ctx.body.data.choices : [];
        if (choices.length > MAX_AUTOCOMPLETE_CHOICES) {
          throw errors.invalidFormBody({
            data: { choices: fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${MAX_AUTOCOMPLETE_CHOICES} or fewer in length.`) },
          });
        }
        state.autocompleteChoices = choices;
        break;
      }
      case InteractionResponseType.Modal:
        if (isAutocomplete || state.type === InteractionType.ModalSubmit) throw invalidType();
        break;
      default:
        throw invalidType();
    }
    state.responseType = type;

    if (ctx.query.get('with_response') !== 'true') return noContent();
    const resourceIsEphemeral = ((resourceMessage?.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
    return json({
      interaction: {
        id: state.id,
        type: state.type,
        ...(resourceMessage
          ? {
              response_message_id: resourceMessage.id,
              response_message_loading: state.loading,
              response_message_ephemeral: resourceIsEphemeral,
            }
          : {}),
      },
      resource: { type, ...(resourceMessage ? { message: resourceMessage } : {}) },
    });
  }

  /** Resolves `@original` or a follow-up id of an interaction to its stored message. */
  #interactionMessage(state: InteractionState, messageId: string): StoredMessage {
    const id = messageId === '@original' ? state.originalMessageId : messageId;
    const isOwn = id !== null && (id === state.originalMessageId || state.followupIds.includes(id));
    const stored = isOwn ? this.#messages.get(id) : undefined;
    if (!stored) throw errors.unknownMessage();
    return stored;
  }

  #editInteractionMessage(ctx: RouteContext): RouteResult {
    const state = this.#interactionByToken(param(ctx, 'applicationId'), param(ctx, 'token'));
    const stored = this.#interactionMessage(state, param(ctx, 'messageId'));
    const wasLoading = stored.message.id === state.originalMessageId && state.loading;
    const edited = this.#applyEdit(stored.message, asMessageBody(ctx.body), ctx.files);
    if (wasLoading) {
      edited.flags = (edited.flags ?? 0) & ~MessageFlags.Loading;
      // Editing the "thinking…" placeholder is not shown as an edit.
      edited.edited_timestamp = null;
      state.loading = false;
    }
    stored.message = edited;
    this.#echoBotMessage(GatewayDispatchEvents.MessageUpdate, stored);
    return json(edited);
  }

  #createFollowup(ctx: RouteContext): RouteResult {
    const state = this.#interactionByToken(param(ctx, 'applicationId'), param(ctx, 'token'));
    if (state.responseType === null) throw errors.unknownWebhook();
    const body = asMessageBody(ctx.body);
    // Discord quirk: the first follow-up after a deferred reply replaces the "thinking…" placeholder
    // (and keeps the defer's ephemeral setting) instead of creating a new message.
    if (state.loading && state.originalMessageId) {
      const stored = this.#messages.get(state.originalMessageId);
      if (stored) {
        const edited = this.#applyEdit(stored.message, { ...body, flags: undefined }, ctx.files);
        edited.flags = (stored.message.flags ?? 0) & ~MessageFlags.Loading;
        edited.edited_timestamp = null;
        stored.message = edited;
        state.loading = false;
        this.#echoBotMessage(GatewayDispatchEvents.MessageUpdate, stored);
        return json(edited);
      }
    }
    const stored = this.#createInteractionMessage(state, body, ctx.files, body.flags ?? 0);
    state.followupIds.push(stored.message.id);
    return json(stored.message);
  }

  // =========================================================================
  // REST
  // =========================================================================

  #route(method: string, template: string, handler: RouteDefinition['handler'], auth = true): void {
    this.#routes.push({ method, template, pattern: compileRoute(template), auth, handler });
  }

  #registerRoutes(): void {
    const channel = (ctx: RouteContext) => {
      const found = this.#channels.get(param(ctx, 'channelId'));
      if (!found) throw errors.unknownChannel();
      return found;
    };
    const channelMessage = (ctx: RouteContext) => {
      const stored = this.#messages.get(param(ctx, 'messageId'));
      if (!stored || stored.ephemeral || stored.message.channel_id !== channel(ctx).id) throw errors.unknownMessage();
      return stored;
    };
    const guild = (ctx: RouteContext) => {
      const id = param(ctx, 'guildId');
      if (!this.#guilds.has(id)) throw errors.unknownGuild();
      return id;
    };
    const ownApplication = (ctx: RouteContext) => {
      if (param(ctx, 'applicationId') !== this.applicationId) throw errors.unknownApplication();
    };

    // Gateway discovery. No query string: discord.js appends ?v=10&encoding=json itself.
    this.#route('GET', '/gateway', () => json({ url: this.gatewayUrl }), false);
    this.#route('GET', '/gateway/bot', () =>
      json({
        url: this.gatewayUrl,
        shards: this.#options.shards,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: this.#options.maxConcurrency },
      } satisfies APIGatewayBotInfo),
    );

    // Users and application.
    this.#route('GET', '/users/@me', () => json({ ...this.botUser, verified: true, mfa_enabled: false, flags: 0 }));
    this.#route('GET', '/users/:userId', (ctx) => json(this.#users.get(param(ctx, 'userId')) ?? raise(errors.unknownUser())));
    this.#route('GET', '/applications/@me', () => json(this.#applicationObject()));
    this.#route('GET', '/oauth2/applications/@me', () => json(this.#applicationObject()));

    // Guild.
    this.#route('GET', '/guilds/:guildId', (ctx) => {
      // REST guilds lack the gateway-only collections.
      const { channels: _c, threads: _t, members: _m, presences: _p, voice_states: _v, ...rest } = this.#guildObject(guild(ctx));
      return json(rest);
    });
    this.#route('GET', '/guilds/:guildId/channels', (ctx) => json(this.#channelsOf(guild(ctx), 'text')));
    this.#route('GET', '/guilds/:guildId/roles', (ctx) => json(this.#guild(guild(ctx)).roles));
    this.#route('GET', '/guilds/:guildId/members/:userId', (ctx) =>
      json(this.#memberIn(guild(ctx), param(ctx, 'userId')) ?? raise(errors.unknownMember())),
    );

    // Channels and messages.
    this.#route('GET', '/channels/:channelId', (ctx) => json(channel(ctx)));
    this.#route('POST', '/channels/:channelId/typing', (ctx) => {
      channel(ctx);
      return noContent();
    });
    this.#route('GET', '/channels/:channelId/messages', (ctx) =>
      json(this.#listMessages(channel(ctx).id, ctx.query).map((message) => this.#restMessage(message))),
    );
    this.#route('GET', '/channels/:channelId/messages/:messageId', (ctx) => json(this.#restMessage(channelMessage(ctx).message)));
    this.#route('POST', '/channels/:channelId/messages', (ctx) => {
      const target = channel(ctx);
      const message = this.#buildBotMessage(target.id, asMessageBody(ctx.body), ctx.files);
      const stored = { message, ephemeral: false };
      this.#storeMessage(message, false);
      this.#echoBotMessage(GatewayDispatchEvents.MessageCreate, stored);
      return json(message);
    });
    this.#route('PATCH', '/channels/:channelId/messages/:messageId', (ctx) => {
      const stored = channelMessage(ctx);
      if (stored.message.author.id !== this.botUser.id) throw errors.cannotEditOthers();
      stored.message = this.#applyEdit(stored.message, asMessageBody(ctx.body), ctx.files);
      this.#echoBotMessage(GatewayDispatchEvents.MessageUpdate, stored);
      return json(stored.message);
    });
    this.#route('DELETE', '/channels/:channelId/messages/:messageId', (ctx) => {
      const stored = channelMessage(ctx);
      const guildId = this.#guildIdOf(stored.message.channel_id);
      const canManage = (this.#memberPermissions(this.botUser.id, guildId) & PermissionFlagsBits.ManageMessages) !== 0n;
      if (stored.message.author.id !== this.botUser.id && !canManage) throw errors.missingPermissions();
      this.#messages.delete(stored.message.id);
      this.#broadcastMessageDelete(stored);
      return noContent();
    });
    const reaction = (ctx: RouteContext) => {
      channelMessage(ctx);
      return noContent();
    };
    this.#route('PUT', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', reaction);
    this.#route('DELETE', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', reaction);
    this.#route('POST', '/channels/:channelId/messages/:messageId/threads', (ctx) => {
      const parent = channel(ctx);
      const stored = channelMessage(ctx);
      return json(this.#startThread(parent.id, ctx.body, stored.message.id));
    });
    this.#route('POST', '/channels/:channelId/threads', (ctx) => json(this.#startThread(channel(ctx).id, ctx.body, null), 201));

    // Application commands (global and guild).
    const putCommands = (ctx: RouteContext, scope: string) => {
      ownApplication(ctx);
      if (!Array.isArray(ctx.body)) {
        throw errors.invalidFormBody({ _errors: fieldError('BASE_TYPE_ARRAY', 'Must be an array.') });
      }
      const body = ctx.body as RESTPostAPIApplicationCommandsJSONBody[];
      const found: FieldErrors = {};
      body.forEach((command, index) => {
        const problems = commandErrors(command);
        if (problems) found[String(index)] = problems;
      });
      if (Object.keys(found).length > 0) throw errors.invalidFormBody(found);
      const previous = this.#commands.get(scope) ?? [];
      const commands = body.map((command) => this.#commandObject(command, scope, previous));
      this.#commands.set(scope, commands);
      return json(commands);
    };
    const postCommand = (ctx: RouteContext, scope: string) => {
      ownApplication(ctx);
      const command = ctx.body as RESTPostAPIApplicationCommandsJSONBody;
      const problems = commandErrors(command);
      if (problems) throw errors.invalidFormBody(problems);
      const previous = this.#commands.get(scope) ?? [];
      const created = this.#commandObject(command, scope, previous);
      this.#commands.set(scope, [...previous.filter((c) => c.id !== created.id), created]);
      return json(created, previous.some((c) => c.id === created.id) ? 200 : 201);
    };
    const deleteCommand = (ctx: RouteContext, scope: string) => {
      ownApplication(ctx);
      const previous = this.#commands.get(scope) ?? [];
      if (!previous.some((c) => c.id === param(ctx, 'commandId'))) throw errors.unknownCommand();
      this.#commands.set(
        scope,
        previous.filter((c) => c.id !== param(ctx, 'commandId')),
      );
      return noContent();
    };
    const guildScope = guild;
    this.#route('GET', '/applications/:applicationId/commands', (ctx) => {
      ownApplication(ctx);
      return json(this.applicationCommands());
    });
    this.#route('PUT', '/applications/:applicationId/commands', (ctx) => putCommands(ctx, 'global'));
    this.#route('POST', '/applications/:applicationId/commands', (ctx) => postCommand(ctx, 'global'));
    this.#route('DELETE', '/applications/:applicationId/commands/:commandId', (ctx) => deleteCommand(ctx, 'global'));
    this.#route('GET', '/applications/:applicationId/guilds/:guildId/commands', (ctx) => {
      ownApplication(ctx);
      return json(this.applicationCommands(guildScope(ctx)));
    });
    this.#route('PUT', '/applications/:applicationId/guilds/:guildId/commands', (ctx) => putCommands(ctx, guildScope(ctx)));
    this.#route('POST', '/applications/:applicationId/guilds/:guildId/commands', (ctx) => postCommand(ctx, guildScope(ctx)));
    this.#route('DELETE', '/applications/:applicationId/guilds/:guildId/commands/:commandId', (ctx) => deleteCommand(ctx, guildScope(ctx)));

    // Interactions: authenticated by their token, so no Authorization header.
    this.#route('POST', '/interactions/:interactionId/:token/callback', (ctx) => this.#interactionCallback(ctx), false);
    this.#route('POST', '/webhooks/:applicationId/:token', (ctx) => this.#createFollowup(ctx), false);
    this.#route(
      'GET',
      '/webhooks/:applicationId/:token/messages/:messageId',
      (ctx) => {
        const state = this.#interactionByToken(param(ctx, 'applicationId'), param(ctx, 'token'));
        return json(this.#interactionMessage(state, param(ctx, 'messageId')).message);
      },
      false,
    );
    this.#route('PATCH', '/webhooks/:applicationId/:token/messages/:messageId', (ctx) => this.#editInteractionMessage(ctx), false);
    this.#route(
      'DELETE',
      '/webhooks/:applicationId/:token/messages/:messageId',
      (ctx) => {
        const state = this.#interactionByToken(param(ctx, 'applicationId'), param(ctx, 'token'));
        const stored = this.#interactionMessage(state, param(ctx, 'messageId'));
        this.#messages.delete(stored.message.id);
        this.#broadcastMessageDelete(stored);
        return noContent();
      },
      false,
    );
  }

  #listMessages(channelId: string, query: URLSearchParams): APIMessage[] {
    const limit = Math.min(Math.max(Number(query.get('limit') ?? 50) || 50, 1), 100);
    const newestFirst = this.messagesIn(channelId).reverse();
    const before = query.get('before');
    const after = query.get('after');
    const around = query.get('around');
    if (before) return newestFirst.filter((m) => compareSnowflakes(m.id, before) < 0).slice(0, limit);
    if (after) return newestFirst.filter((m) => compareSnowflakes(m.id, after) > 0).slice(-limit);
    if (around) {
      const index = newestFirst.findIndex((m) => compareSnowflakes(m.id, around) <= 0);
      const start = Math.max(0, (index === -1 ? newestFirst.length : index) - Math.floor(limit / 2));
      return newestFirst.slice(start, start + limit);
    }
    return newestFirst.slice(0, limit);
  }

  #startThread(parentId: string, body: unknown, messageId: string | null): APIThreadChannel {
    const name = isRecord(body) && typeof body.name === 'string' ? body.name : '';
    if (name.length < 1 || name.length > 100) {
      throw errors.invalidFormBody({ name: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.') });
    }
    // A thread started from a message shares the message's id, as on Discord.
    const thread = this.#thread(messageId ?? this.#snowflakes.next(), name, parentId, this.botUser.id);
    thread.member_count = 1;
    this.#channels.set(thread.id, thread);
    for (const session of this.#sessionsOf(thread.guild_id ?? null)) {
      if (hasIntent(session.intents, GatewayIntentBits.Guilds)) {
        this.#dispatchTo(session, GatewayDispatchEvents.ThreadCreate, { ...thread, newly_created: true });
      }
    }
    return thread;
  }

  #commandObject(command: RESTPostAPIApplicationCommandsJSONBody, scope: string, previous: APIApplicationCommand[]): APIApplicationCommand {
    const type = command.type ?? ApplicationCommandType.ChatInput;
    const existing = previous.find((c) => c.name === command.name && c.type === type);
    return {
      ...(command as object),
      id: existing?.id ?? this.#commandId(command.name, type),
      application_id: this.applicationId,
      version: this.#snowflakes.next(),
      type,
      name: command.name,
      description: 'description' in command ? (command.description ?? '') : '',
      default_member_permissions: command.default_member_permissions ?? null,
      nsfw: command.nsfw ?? false,
      ...(scope === 'global' ? {} : { guild_id: scope }),
    } as APIApplicationCommand;
  }

  async #handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = Date.now();
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      seq: this.#requestSeq++,
      method,
      path: url.pathname,
      rawUrl,
      route: null,
      query: queryToRecord(url.searchParams),
      body: null,
      files: [],
      headers: req.headers,
      time,
      status: 0,
      response: undefined,
    };

    let result: RouteResult;
    let multipart = false;
    let violation: SpecViolation | null = null;
    // Until the request has passed the check, a Discord error is the request's own fault (not under
    // /api/v10, invalid JSON) and, with checking on, a violation like any other.
    let checking = true;
    try {
      const raw = await readBody(req);
      record.path = decodePath(url.pathname);
      if (!record.path.startsWith('/api/')) throw errors.notFound();
      if (!record.path.startsWith(`${API_PREFIX}/`)) throw errors.invalidApiVersion();
      record.path = record.path.slice(API_PREFIX.length);
      multipart = isMultipart(req.headers['content-type']);
      const parsed = await parseBody(raw, req.headers['content-type']);
      record.body = parsed.body;
      record.files = parsed.files;
      const check = this.#spec?.check({ method, path: record.path, body: record.body, multipart });
      checking = false;
      // Resolve the route first so injected failures are still attributed to it.
      const match = this.#matchRoute(method, record.path);
      if (match.route) record.route = `${match.route.method} ${match.route.template}`;
      if (check?.status) {
        violation = this.#recordViolation(record, check.route, check.status, check.problems);
        throw specError(check);
      }
      result = this.#injectedFailure(method, record.path) ?? (await this.#runRoute(match, record, url.searchParams));
    } catch (error) {
      if (checking && this.#spec && error instanceof DiscordApiError) {
        const at = error.code === RESTJSONErrorCodes.RequestBodyContainsInvalidJSON ? '' : 'path';
        violation = this.#recordViolation(record, null, error.status, [{ at, code: String(error.code), message: error.message }]);
      }
      result = errorResult(error);
    }

    record.status = result.status;
    record.response = result.body;
    if (result.status === 204) {
      res.writeHead(204, result.headers);
      res.end();
    } else {
      res.writeHead(result.status, { 'content-type': 'application/json', ...result.headers });
      res.end(JSON.stringify(result.body ?? null));
    }
    // Logged before the request is recorded, so a test that waited for it finds its line.
    this.#logRequest(record, multipart, violation);
    this.requests.push(record);
    if (this.requests.length > this.#retain.requests) this.requests.splice(0, this.requests.length - this.#retain.requests);
    for (const waiter of [...this.#waiters]) {
      if (record.seq >= waiter.since && waiter.predicate(record)) waiter.resolve(record);
    }
    for (const listener of [...this.#requestListeners]) listener(record);
  }

  #recordViolation(record: RecordedRequest, route: string | null, status: number, problems: SpecProblem[]): SpecViolation {
    const violation: SpecViolation = { seq: record.seq, method: record.method, path: redactTokens(record.path), route, status, problems };
    this.#violations.push(violation);
    return violation;
  }

  #logRequest(record: RecordedRequest, multipart: boolean, violation: SpecViolation | null): void {
    if (!this.#requestLog) return;
    const line = {
      method: record.method,
      path: record.path,
      query: record.query,
      body: record.body,
      multipart,
      ...(multipart ? { files: record.files.map((file) => file.field) } : {}),
      status: record.status,
      ...(violation ? { violations: violation.problems.map((problem) => `${problem.at}: ${problem.message}`) } : {}),
    };
    try {
      appendRequestLog(this.#requestLog, line, [this.token]);
    } catch (error) {
      // A log that cannot be written must not crash the test run from inside the HTTP server.
      console.error(`fake-discord: cannot append to the request log ${this.#requestLog}; logging stops`, error);
      this.#requestLog = null;
    }
  }

  #matchRoute(method: string, path: string): RouteMatch {
    let pathMatched = false;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (route.method === method) return { route, params: { ...match.groups } };
    }
    return { route: null, error: pathMatched ? errors.methodNotAllowed() : errors.notFound() };
  }

  async #runRoute(match: RouteMatch, record: RecordedRequest, query: URLSearchParams): Promise<RouteResult> {
    if (!match.route) throw match.error;
    if (match.route.auth && record.headers.authorization !== `Bot ${this.token}`) throw errors.unauthorized();
    return match.route.handler({ params: match.params, query, body: record.body, files: record.files });
  }

  #injectedFailure(method: string, path: string): RouteResult | null {
    const index = this.#failureRules.findIndex(
      (rule) => (!rule.method || rule.method === method) && (!rule.pathPattern || rule.pathPattern.test(path)),
    );
    const rule = this.#failureRules[index];
    if (!rule) return null;
    rule.times -= 1;
    if (rule.times <= 0) this.#failureRules.splice(index, 1);
    if (rule.status !== 429) {
      return json({ message: rule.message ?? `${rule.status}: Injected failure`, code: rule.code }, rule.status);
    }
    const retryAfter = rule.retryAfterSeconds;
    const headers: Record<string, string> = {
      'Retry-After': String(retryAfter),
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Date.now() / 1000 + retryAfter),
      'X-RateLimit-Reset-After': String(retryAfter),
      'X-RateLimit-Bucket': `fake-${method}-${path.split('/')[1] ?? ''}`,
      'X-RateLimit-Scope': rule.global ? 'global' : 'user',
      ...(rule.global ? { 'X-RateLimit-Global': 'true' } : {}),
    };
    const body = { message: 'You are being rate limited.', retry_after: retryAfter, global: rule.global, code: 0 };
    return { status: 429, headers, body };
  }
}

/** Starts a fake Discord on 127.0.0.1 with a random port. */
export function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return FakeDiscord.start(options);
}

// ---------------------------------------------------------------------------
// Module-private helpers used by the class
// ---------------------------------------------------------------------------

function raise(error: Error): never {
  throw error;
}

/** Deletes a map's oldest entries (insertion order) until at most `max` are left. */
function forgetOldest(map: Map<string, unknown>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}

function matchesRequest(request: RecordedRequest, method: string, path: string | RegExp): boolean {
  if (request.method !== method.toUpperCase()) return false;
  return typeof path === 'string' ? request.path === path : path.test(request.path);
}

/** Predicate for `waitForRequest`: method plus exact decoded path or pattern. */
export function isRequest(method: string, path: string | RegExp): (request: RecordedRequest) => boolean {
  return (request) => matchesRequest(request, method, path);
}

function redactContent<T extends Pick<APIMessage, MessageContentFields>>(message: T): T {
  return { ...message, content: '', embeds: [], attachments: [], components: [], poll: undefined };
}

function withoutNestedReference(message: APIMessage): APIMessage {
  const { referenced_message: _nested, ...rest } = message;
  return rest;
}

function normalizeEmbed(embed: APIEmbed): APIEmbed {
  return { type: EmbedType.Rich, ...embed };
}

function toCommandOptions(options: CommandOptionsInput): APIApplicationCommandInteractionDataOption[] {
  if (Array.isArray(options)) return options;
  return Object.entries(options).map(([name, value]): APIApplicationCommandInteractionDataOption => {
    if (typeof value === 'string') return { name, type: ApplicationCommandOptionType.String, value };
    if (typeof value === 'boolean') return { name, type: ApplicationCommandOptionType.Boolean, value };
    return Number.isInteger(value)
      ? { name, type: ApplicationCommandOptionType.Integer, value }
      : { name, type: ApplicationCommandOptionType.Number, value };
  });
}

/** The command-registration mistakes Discord rejects; returns null when the command is valid. */
function commandErrors(command: RESTPostAPIApplicationCommandsJSONBody): FieldErrors | null {
  const found: FieldErrors = {};
  const type = command.type ?? ApplicationCommandType.ChatInput;
  const chatInput = type === ApplicationCommandType.ChatInput;
  const namePattern = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
  if (typeof command.name !== 'string' || command.name.length < 1 || command.name.length > 32) {
    found.name = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.');
  } else if (chatInput && (!namePattern.test(command.name) || command.name !== command.name.toLowerCase())) {
    found.name = fieldError('APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  }
  if (chatInput) {
    const description = 'description' in command ? command.description : undefined;
    if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
      found.description = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    const options = ('options' in command ? command.options : undefined) ?? [];
    if (options.length > 25) found.options = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    let sawOptional = false;
    options.forEach((option, index) => {
      const required = 'required' in option && option.required === true;
      if (required && sawOptional) {
        found.options = {
          [String(index)]: {
            required: fieldError(
              'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
              'Required options must be placed before non-required options',
            ),
          },
        };
      }
      if (!required) sawOptional = true;
    });
  }
  return Object.keys(found).length > 0 ? found : null;
}

/** The 400/404/405 Discord answers for a request that failed the check. */
function specError(check: SpecCheck): DiscordApiError {
  if (check.status === 404) return errors.notFound();
  if (check.status === 405) return errors.methodNotAllowed();
  return errors.invalidFormBody(specFieldErrors(check.problems));
}

/**
 * Problems in Discord's `errors` shape: nested by body path down to `_errors`
 * (`{ data: { choices: { _errors: [...] } } }`); a path parameter is keyed by its name, as Discord does.
 */
function specFieldErrors(problems: SpecProblem[]): FieldErrors {
  const root: FieldErrors = {};
  for (const { at, code, message } of problems) {
    const parameter = /^\{(.+)\}$/.exec(at)?.[1];
    const keys = parameter
      ? [parameter]
      : at
          .split('/')
          .slice(1)
          .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    let node = root;
    for (const key of keys) {
      const next = node[key];
      if (next === undefined || Array.isArray(next)) {
        const created: FieldErrors = {};
        node[key] = created;
        node = created;
      } else {
        node = next;
      }
    }
    const existing = node._errors;
    node._errors = [...(Array.isArray(existing) ? existing : []), { code, message }];
  }
  return root;
}

function isMultipart(contentType: string | undefined): boolean {
  return contentType?.startsWith('multipart/form-data') ?? false;
}

function decodePath(pathname: string): string {
  // Decode per segment so an encoded "/" inside a segment could not change the route shape.
  try {
    return pathname
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw errors.notFound();
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseBody(raw: Buffer, contentType: string | undefined): Promise<{ body: unknown; files: UploadedFile[] }> {
  if (raw.length === 0) return { body: null, files: [] };
  if (contentType !== undefined && isMultipart(contentType)) {
    // discord.js sends multipart when files are attached; undici's parser (behind Response) handles it.
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: UploadedFile[] = [];
    let body: unknown = null;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = parseJson(value);
        continue;
      }
      files.push({
        field,
        filename: value.name,
        contentType: value.type || 'application/octet-stream',
        data: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { body, files };
  }
  return { body: parseJson(raw.toString('utf8')), files: [] };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidJson();
  }
}

function errorResult(error: unknown): RouteResult {
  if (error instanceof DiscordApiError) return json(error.toJSON(), error.status);
  // A bug in the fake itself: answer like Discord's own 500s, but make it visible.
  console.error('fake-discord internal error', error);
  return json({ message: '500: Internal Server Error', code: 0 }, 500);
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

// ---------------------------------------------------------------------------
// discord.js client helpers
// ---------------------------------------------------------------------------

/** Intents a typical message-reading bot needs. */
export const DEFAULT_TEST_INTENTS: ClientOptions['intents'] = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
];

/**
 * A discord.js Client pointed at the fake. Errors it emits are collected in `fake.clientErrors`
 * (an `error` listener is mandatory: without one, an emitted error crashes the test process).
 */
export function createTestClient(
  fake: FakeDiscord,
  intents: ClientOptions['intents'] = DEFAULT_TEST_INTENTS,
  overrides: Partial<ClientOptions> = {},
): Client {
  const client = new Client({
    intents,
    // The fake sends GUILD_CREATE right after READY; a short timeout only matters when it does not.
    waitGuildTimeout: 200,
    ...overrides,
    rest: { ...overrides.rest, api: fake.restUrl },
  });
  client.on(Events.Error, (error) => fake.clientErrors.push(error));
  client.on(Events.ShardError, (error) => fake.clientErrors.push(error));
  return client;
}

/** Logs in and resolves once the client is ready AND the fake's guild is available in its cache. */
export async function loginTestClient(client: Client, fake: FakeDiscord, timeoutMs = 5_000): Promise<Client<true>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`Client not ready within ${timeoutMs} ms`)), timeoutMs);
  // Listen before logging in: clientReady can fire before login() resolves.
  const ready = once(client, Events.ClientReady, { signal: controller.signal });
  ready.catch(() => undefined); // awaited below; this only prevents an unhandled rejection if login throws
  try {
    await client.login(fake.token);
    await ready;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  await waitUntil(() => client.guilds.cache.get(fake.guildId)?.available === true, {
    timeoutMs,
    description: `guild ${fake.guildId} to become available`,
  });
  if (!client.isReady()) throw new Error('Client is not ready after login');
  return client;
}

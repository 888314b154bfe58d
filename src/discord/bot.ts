/**
 * The Discord adapter: `createBot(options)` returns a discord.js Client with every event wired to the
 * retrieval core. Everything it depends on (library, config, logger, clock, limits) is a parameter, so
 * tests run the real bot against a fake Discord.
 */
import {
  Client,
  Events,
  GatewayIntentBits,
  OAuth2Scopes,
  Partials,
  PermissionFlagsBits,
  type ClientOptions,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Logger } from 'pino';
import { CitebotError } from '../errors.js';
import { FeedbackLog } from '../eval/feedback.js';
import { MAX_QUESTION_CHARS } from '../retrieval/answer.js';
import { AnswerMemory, type AnswerState, type MemoryOptions } from './answer-memory.js';
import { parseCustomId } from './custom-id.js';
import { questionOfTitle } from './drafts.js';
import { followUpOf } from '../retrieval/follow-up.js';
import type { EarlierQuestion } from '../retrieval/question-terms.js';
import { handleButton } from './buttons.js';
import { commandsByName } from './commands/index.js';
import { libraryOf, type BotContext, type LibrarySource, type Via } from './context.js';
import { AppendLog } from '../storage/append-log.js';
import type { AddedLink } from '../web/add-pages.js';
import { InFlight } from './in-flight.js';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimitSettings } from './rate-limit.js';
import { renderNotice } from './render/answer-view.js';
import { forEdit, forInteraction, forReply } from './render/fit.js';
import { replyToMessage, respondToQuestion } from './respond.js';

/** What the bot needs to read and answer in a channel. */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.ReadMessageHistory;

export const BOT_SCOPES = [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands];

/** Each /add fetches pages and updates the index: a few a minute is plenty for people, and bounds the load. */
const DEFAULT_ADDITION_LIMITS: RateLimitSettings = {
  user: { limit: 3, windowMs: 60_000 },
  channel: { limit: 10, windowMs: 60_000 },
};

/** Results per answer to a mention or in an answer channel. */
const MESSAGE_RESULTS = 3;

export interface BotOptions {
  /**
   * The loaded index and embedder (a Runtime from openRuntime fits), or a function that returns the
   * current one when the index is updated while the bot runs (LiveLibrary.current).
   */
  library: LibrarySource | (() => LibrarySource);
  config: { discord: { answerChannelIds: readonly string[] }; feedbackFile: string; additionsFile?: string };
  /** Fetches, saves and indexes pages from links, for /add; without it /add says it is not available. */
  addLinks?: (links: string[]) => Promise<AddedLink[]>;
  /** Limits on /add (default: 3 a minute per user, 10 a minute per channel). */
  additionLimits?: RateLimitSettings;
  logger: Logger;
  clock?: () => number;
  limits?: RateLimitSettings;
  /** Shared with the caller, which closes and drains it on shutdown. */
  work?: InFlight;
  memory?: Omit<MemoryOptions, 'clock'>;
  /** Articles per /sources page (default 10). */
  sourcesPageSize?: number;
  /** Extra discord.js options, e.g. `rest.api` for tests. */
  clientOptions?: Partial<ClientOptions>;
}

export function createBot(options: BotOptions): Client {
  const clock = options.clock ?? Date.now;
  const logger = options.logger;
  const work = options.work ?? new InFlight();
  const currentLibrary = libraryOf(options.library);
  const additionsFile = options.config.additionsFile;
  const ctx: BotContext = {
    get library() {
      return currentLibrary();
    },
    logger,
    clock,
    limiter: new RateLimiter(options.limits ?? DEFAULT_RATE_LIMITS, clock),
    memory: new AnswerMemory({ ...options.memory, clock }),
    feedback: new FeedbackLog(options.config.feedbackFile),
    sourcesPageSize: options.sourcesPageSize ?? 10,
    ...(options.addLinks && additionsFile
      ? {
          additions: {
            add: options.addLinks,
            log: new AppendLog(additionsFile),
            limiter: new RateLimiter(options.additionLimits ?? DEFAULT_ADDITION_LIMITS, clock),
          },
        }
      : {}),
  };
  const answerChannels = new Set(options.config.discord.answerChannelIds);

  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    // DM channels are not cached before their first message; without this partial, DMs are dropped.
    partials: [Partials.Channel],
    allowedMentions: { parse: [], repliedUser: false },
    failIfNotExists: false,
    ...options.clientOptions,
  });

  client.once(Events.ClientReady, (ready) => {
    const invite = ready.generateInvite({ scopes: BOT_SCOPES, permissions: BOT_PERMISSIONS });
    logger.info({ event: 'ready', user: ready.user.tag, guilds: ready.guilds.cache.size, invite }, 'logged in to Discord');
  });
  client.on(Events.Error, (error) => logger.error({ event: 'client-error', err: loggableError(error) }, 'discord.js error'));
  client.on(Events.Warn, (message) => logger.warn({ event: 'client-warning' }, message));
  client.on(Events.ShardError, (error, shardId) =>
    logger.error({ event: 'shard-error', shardId, err: loggableError(error) }, 'gateway error'),
  );
  client.on(Events.ShardDisconnect, (event, shardId) =>
    logger.warn({ event: 'shard-disconnect', shardId, code: event.code }, 'gateway disconnected'),
  );
  client.on(Events.ShardReconnecting, (shardId) => logger.info({ event: 'shard-reconnecting', shardId }, 'gateway reconnecting'));
  client.on(Events.ShardResume, (shardId, replayedEvents) =>
    logger.info({ event: 'shard-resume', shardId, replayedEvents }, 'gateway resumed'),
  );
  client.on(Events.Invalidated, () =>
    logger.error({ event: 'session-invalidated' }, 'the gateway session was invalidated; restart the bot'),
  );

  // Handlers catch their own errors; this is the last resort, so no rejection goes unhandled.
  const lastResort = (error: unknown) => logger.error({ event: 'handler-crashed', err: loggableError(error) }, 'an event handler failed');
  client.on(Events.MessageCreate, (message) => {
    work.track(onMessage(message, client, ctx, answerChannels, work)).catch(lastResort);
  });
  client.on(Events.InteractionCreate, (interaction) => {
    work.track(onInteraction(interaction, ctx, work)).catch(lastResort);
  });
  return client;
}

/**
 * A login that failed for a reason the owner can fix; its message says how. `retryable` when trying
 * again later may work (Discord unreachable or slow), not when the owner has to change something.
 */
export class BotLoginError extends CitebotError {
  readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super('BotLoginError', message, undefined, options);
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * Logs in. Turns the two mistakes every new bot owner makes (a wrong token, the Message Content intent
 * left off) into a sentence that says what to do.
 */
export async function loginBot(client: Client, token: string): Promise<void> {
  try {
    await client.login(token);
  } catch (error) {
    throw loginFailure(error) ?? error;
  }
}

/** The BotLoginError a failed login (or gateway lookup) stands for; undefined for an unexpected error. */
export function loginFailure(error: unknown): BotLoginError | undefined {
  const code = (error as { code?: unknown }).code;
  const message = String((error as Error).message);
  // TokenInvalid: REST answered 401; "Authentication failed": the gateway closed with 4004.
  if (code === 'TokenInvalid' || (error as { status?: unknown }).status === 401 || /^authentication failed/i.test(message)) {
    return new BotLoginError(
      'Discord rejected DISCORD_TOKEN. Copy a fresh one from the Developer Portal (your application → Bot → Reset Token) into .env.',
      { cause: error },
    );
  }
  if (code === 'DisallowedIntents' || /disallowed intents/i.test(message)) {
    return new BotLoginError(
      'Discord refused the Message Content intent. Enable it in the Developer Portal: your application → Bot → Privileged Gateway Intents → Message Content Intent.',
      { cause: error },
    );
  }
  // The gateway closed with 4010 or 4011: the shard count does not suit the bot (SHARDS).
  if (/^(invalid shard|sharding is required)/i.test(message)) {
    return new BotLoginError(
      `Discord refused the shard (${message}). Set SHARDS=auto to use the number of shards Discord recommends for this bot.`,
      { cause: error },
    );
  }
  if ((error as Error).name === 'AbortError') {
    return new BotLoginError(
      'Discord took the connection but did not answer in time. Check the network connection, or DISCORD_API_URL if you set it.',
      { cause: error, retryable: true },
    );
  }
  const network = (error as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? code;
  if (
    typeof network === 'string' &&
    ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT'].includes(network)
  ) {
    return new BotLoginError(`Could not reach Discord (${message}). Check the network connection, or DISCORD_API_URL if you set it.`, {
      cause: error,
      retryable: true,
    });
  }
  return undefined;
}

/** Stops taking new questions, lets answers in progress finish (up to `timeoutMs`), then disconnects. */
export async function stopBot(client: Client, work: InFlight, logger: Logger, timeoutMs = 10_000): Promise<void> {
  work.close();
  logger.info({ event: 'stopping', inFlight: work.size }, 'stopping: finishing answers in progress');
  const drained = await work.drain(timeoutMs);
  if (!drained)
    logger.warn({ event: 'stopping', inFlight: work.size }, `answers still in progress after ${timeoutMs} ms; disconnecting anyway`);
  await client.destroy();
}

// ---------------------------------------------------------------------------
// Messages: mentions, replies to the bot, answer channels, DMs
// ---------------------------------------------------------------------------

/** How long after an answer the next question in the same thread or DM is read as following it. */
const THREAD_FOLLOW_UP_MS = 10 * 60_000;

/** The remembered answer behind a message of the bot: its buttons carry the memory's key. */
function answerStateOf(message: Message, memory: AnswerMemory): AnswerState | undefined {
  for (const row of message.components) {
    const json = row.toJSON() as { components?: Array<{ custom_id?: unknown }> };
    for (const component of json.components ?? []) {
      const action = typeof component.custom_id === 'string' ? parseCustomId(component.custom_id) : null;
      if (action && (action.kind === 'more' || action.kind === 'vote')) {
        const state = memory.recall(action.key);
        if (state) return state;
      }
    }
  }
  return undefined;
}

/**
 * The questions a message follows: those of the bot's answer it replies to, or, in a thread or DM, of
 * the latest answer there, if recent. A reply to an answer the memory forgot follows the question its
 * title shows.
 */
async function earlierQuestionsOf(message: Message, via: Via, botId: string, ctx: BotContext): Promise<EarlierQuestion[]> {
  if (via === 'reply') {
    const referenced = await message.fetchReference().catch(() => null);
    if (!referenced || referenced.author.id !== botId) return [];
    const state = answerStateOf(referenced, ctx.memory);
    if (state) return followUpOf(state);
    const question = questionOfTitle(referenced.embeds[0]?.title);
    return question ? followUpOf({ question }) : [];
  }
  const channel = message.channel;
  if (!channel.isThread() && !channel.isDMBased()) return [];
  const latest = ctx.memory.latestIn(channel.id, THREAD_FOLLOW_UP_MS);
  return latest ? followUpOf(latest) : [];
}

/** Why a message is for the bot, or null when it is not. */
function triggerOf(message: Message, botId: string, answerChannels: ReadonlySet<string>): Via | null {
  if (!message.inGuild()) return 'dm';
  if (message.mentions.repliedUser?.id === botId) return 'reply';
  // users.has, not mentions.has: the latter is also true for @everyone and @here.
  if (message.mentions.users.has(botId)) return 'mention';
  // Discord's mention picker sometimes offers the bot's managed role instead of the bot itself.
  const botRole = message.guild.members.me?.roles.botRole;
  if (botRole && message.mentions.roles.has(botRole.id)) return 'mention';
  const channel = message.channel;
  if (answerChannels.has(channel.id) || (channel.isThread() && channel.parentId !== null && answerChannels.has(channel.parentId)))
    return 'answer-channel';
  return null;
}

async function onMessage(
  message: Message,
  client: Client,
  ctx: BotContext,
  answerChannels: ReadonlySet<string>,
  work: InFlight,
): Promise<void> {
  // Never answer bots (including itself), webhooks or system messages: two bots can loop forever.
  if (message.author.bot || message.webhookId !== null || message.system) return;
  const botId = client.user?.id;
  if (!botId || message.author.id === botId) return;
  const via = triggerOf(message, botId, answerChannels);
  if (!via || !work.accepting) return;

  try {
    await respondToQuestion(
      ctx,
      {
        text: message.content,
        via,
        userId: message.author.id,
        channelId: message.channelId,
        k: MESSAGE_RESULTS,
        earlier: await earlierQuestionsOf(message, via, botId, ctx),
        postedIn: message.channelId,
        // In an answer channel, chatter without words (images, emoji) is not a question.
        unusable: (reason) => (via === 'answer-channel' && message.content.length <= MAX_QUESTION_CHARS ? null : reason),
      },
      replyToMessage(message),
    );
  } catch (error) {
    ctx.logger.error(
      { event: 'message-failed', via, channelId: message.channelId, messageId: message.id, err: loggableError(error) },
      'could not answer a message',
    );
    await message
      .reply(
        forReply(renderNotice('Sorry, something went wrong while answering. The error has been logged; please try again in a moment.')),
      )
      .catch((replyError: unknown) =>
        ctx.logger.warn({ event: 'message-failed', err: loggableError(replyError) }, 'could not send the apology either'),
      );
  }
}

// ---------------------------------------------------------------------------
// Interactions: commands, autocomplete, buttons
// ---------------------------------------------------------------------------

const UNKNOWN_COMMAND = 'I do not know this command any more. An admin can update the list with `npm run deploy-commands`.';
const STOPPING = 'I am restarting and not taking new questions. Please try again in a minute.';

async function onInteraction(interaction: Interaction, ctx: BotContext, work: InFlight): Promise<void> {
  const started = ctx.clock();
  const name =
    interaction.isCommand() || interaction.isAutocomplete()
      ? interaction.commandName
      : interaction.isButton()
        ? interaction.customId
        : String(interaction.type);
  try {
    if (interaction.isAutocomplete()) {
      const command = commandsByName.get(interaction.commandName);
      if (command?.kind === 'chat-input' && command.autocomplete && work.accepting) await command.autocomplete(interaction, ctx);
      else await interaction.respond([]);
      return;
    }
    if (!interaction.isRepliable()) return;
    if (!work.accepting) {
      await interaction.reply(forInteraction(renderNotice(STOPPING), { ephemeral: true }));
      return;
    }
    if (interaction.isChatInputCommand()) {
      const command = commandsByName.get(interaction.commandName);
      if (command?.kind === 'chat-input') await command.execute(interaction, ctx);
      else await interaction.reply(forInteraction(renderNotice(UNKNOWN_COMMAND), { ephemeral: true }));
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = commandsByName.get(interaction.commandName);
      if (command?.kind === 'message') await command.execute(interaction, ctx);
      else await interaction.reply(forInteraction(renderNotice(UNKNOWN_COMMAND), { ephemeral: true }));
    } else if (interaction.isButton()) {
      await handleButton(interaction, ctx);
    }
  } catch (error) {
    ctx.logger.error({ event: 'interaction-failed', interaction: name, err: loggableError(error) }, 'an interaction failed');
    await apologise(interaction).catch((replyError: unknown) =>
      ctx.logger.warn({ event: 'interaction-failed', interaction: name, err: loggableError(replyError) }, 'could not tell the user either'),
    );
  } finally {
    ctx.logger.debug({ event: 'interaction', interaction: name, latencyMs: ctx.clock() - started }, 'handled an interaction');
  }
}

async function apologise(interaction: Interaction): Promise<void> {
  if (!interaction.isRepliable()) return;
  const sorry = renderNotice('Sorry, something went wrong. The error has been logged; please try again in a moment.');
  if (interaction.deferred && interaction.ephemeral) await interaction.editReply(forEdit(sorry));
  else if (interaction.deferred) {
    // A public "thinking…" cannot turn private: remove it and apologise privately.
    await interaction.deleteReply();
    await interaction.followUp(forInteraction(sorry, { ephemeral: true }));
  } else if (interaction.replied) await interaction.followUp(forInteraction(sorry, { ephemeral: true }));
  else await interaction.reply(forInteraction(sorry, { ephemeral: true }));
}

/**
 * An error as logged: name, message, code, status and stack. Not the whole object: discord.js errors
 * carry the request URL, which for interactions contains the interaction token.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, status, method } = error as Error & { code?: unknown; status?: unknown; method?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    ...(method === undefined ? {} : { method }),
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: loggableError(error.cause) }),
  };
}

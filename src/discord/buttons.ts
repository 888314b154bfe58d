/**
 * The buttons under the bot's messages: what their custom ids carry, the bounded memory of recent
 * answers they refer to, and what clicking them does.
 *
 * Custom ids are at most 100 characters, too short for a question; "More" and the votes therefore
 * carry a short key into an LRU of recent answers (expired key → a polite note), while "Context" and
 * the /sources pages carry all they need (a passage label, a page number) and work after a restart.
 */
import { randomBytes } from 'node:crypto';
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import { MAX_RESULTS, type Answer } from '../retrieval/answer.js';
import { askLibrary, type BotContext, type Via } from './context.js';
import { hashUser, type Vote } from '../eval/feedback.js';
import { describeRefusal } from './rate-limit.js';
import { forEdit, forInteraction, renderAnswer, renderContext, renderNotice, renderSources, type ButtonSpec, type Draft } from './render/answer-view.js';

// ---------------------------------------------------------------------------
// Custom ids
// ---------------------------------------------------------------------------

export type ComponentAction =
  | { kind: 'more'; key: string }
  | { kind: 'vote'; key: string; vote: Vote }
  | { kind: 'context'; label: number }
  | { kind: 'sources'; page: number };

const PREFIX = 'cb';

export function customId(action: ComponentAction): string {
  switch (action.kind) {
    case 'more':
      return `${PREFIX}:more:${action.key}`;
    case 'vote':
      return `${PREFIX}:vote:${action.key}:${action.vote}`;
    case 'context':
      return `${PREFIX}:ctx:${action.label}`;
    case 'sources':
      return `${PREFIX}:src:${action.page}`;
  }
}

/** The action a custom id stands for; null for ids that are not ours or are malformed. */
export function parseCustomId(id: string): ComponentAction | null {
  const [prefix, kind, first, second] = id.split(':');
  if (prefix !== PREFIX || first === undefined) return null;
  if (kind === 'more' && /^[\w-]{1,32}$/.test(first)) return { kind: 'more', key: first };
  if (kind === 'vote' && /^[\w-]{1,32}$/.test(first) && (second === 'up' || second === 'down')) return { kind: 'vote', key: first, vote: second };
  if (kind === 'ctx' && /^\d{1,9}$/.test(first)) return { kind: 'context', label: Number(first) };
  if (kind === 'src' && /^-?\d{1,6}$/.test(first)) return { kind: 'sources', page: Number(first) };
  return null;
}

// ---------------------------------------------------------------------------
// Recent answers
// ---------------------------------------------------------------------------

export interface AnswerState {
  question: string;
  /** Results asked for per page. */
  pageSize: number;
  /** Passage ids of every result shown so far, across pages. */
  shown: string[];
  mode: Answer['mode'];
  answered: boolean;
  top: { file: string; paragraph: number; quote: string } | null;
  /** Votes already recorded, by hashed user. */
  votes: Map<string, Vote>;
}

export interface MemoryOptions {
  capacity?: number;
  ttlMs?: number;
  clock?: () => number;
}

/** A bounded, expiring map of recent answers, keyed by short random ids. */
export class AnswerMemory {
  readonly #entries = new Map<string, { state: AnswerState; storedAt: number }>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #clock: () => number;

  constructor(options: MemoryOptions = {}) {
    this.#capacity = options.capacity ?? 2_000;
    this.#ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.#clock = options.clock ?? Date.now;
  }

  remember(state: AnswerState): string {
    let key = randomBytes(6).toString('base64url');
    while (this.#entries.has(key)) key = randomBytes(6).toString('base64url');
    this.#entries.set(key, { state, storedAt: this.#clock() });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return key;
  }

  recall(key: string): AnswerState | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#clock() - entry.storedAt > this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    // Refresh its place: a used answer is the last to be forgotten.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.state;
  }

  get size(): number {
    return this.#entries.size;
  }
}

// ---------------------------------------------------------------------------
// Drafts with buttons
// ---------------------------------------------------------------------------

/**
 * Renders an answer with its buttons, remembering what they need: More (when more results may
 * exist), 👍 / 👎, and one Context button per result.
 */
export function answerDraft(
  ctx: BotContext,
  answer: Answer,
  options: { pageSize: number; shownBefore?: string[]; title?: string },
): Draft {
  if (answer.results.length === 0) return renderAnswer(answer, { title: options.title });
  const shown = [...(options.shownBefore ?? []), ...answer.results.map((result) => result.passageId)];
  const first = answer.results[0];
  const key = ctx.memory.remember({
    question: answer.question,
    pageSize: options.pageSize,
    shown,
    mode: answer.mode,
    answered: answer.answered,
    top: first ? { file: first.article.file, paragraph: first.paragraph, quote: first.quote } : null,
    votes: new Map(),
  });
  const actions: ButtonSpec[] = [];
  const mayHaveMore = answer.answered && answer.results.length >= options.pageSize && shown.length < MAX_RESULTS;
  if (mayHaveMore) actions.push({ customId: customId({ kind: 'more', key }), label: 'More', emoji: '➕', style: 'primary' });
  actions.push(
    { customId: customId({ kind: 'vote', key, vote: 'up' }), label: 'Helpful', emoji: '👍' },
    { customId: customId({ kind: 'vote', key, vote: 'down' }), label: 'Not helpful', emoji: '👎' },
  );
  const contexts: ButtonSpec[] = [];
  if (answer.answered) {
    for (const result of answer.results) {
      const label = ctx.library.labelOf(result.passageId);
      if (label !== undefined) contexts.push({ customId: customId({ kind: 'context', label }), label: `Context ${result.rank}`, emoji: '📄' });
    }
  }
  return renderAnswer(answer, { title: options.title, rows: contexts.length > 0 ? [actions, contexts] : [actions] });
}

export function sourcesDraft(ctx: BotContext, page: number): Draft {
  const entries = ctx.library.articles.map((article) => ({
    file: article.file,
    title: article.title,
    outlet: article.outlet,
    date: article.date,
    url: article.url,
    passages: ctx.library.passageCount(article.file),
  }));
  return renderSources(entries, { page, pageSize: ctx.sourcesPageSize, pageId: (target) => customId({ kind: 'sources', page: target }) });
}

// ---------------------------------------------------------------------------
// Clicks
// ---------------------------------------------------------------------------

const EXPIRED =
  'These buttons belong to an answer I no longer remember (I keep recent answers for a day, and forget them when I restart). Ask again for fresh buttons.';

const EPHEMERAL = { flags: MessageFlags.Ephemeral } as const;

/** Handles a click on one of the bot's buttons. */
export async function handleButton(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
  const action = parseCustomId(interaction.customId);
  if (!action) {
    await interaction.reply(forInteraction(renderNotice('This button is not one I know any more. Ask again for fresh buttons.'), { ephemeral: true }));
    return;
  }
  switch (action.kind) {
    case 'sources':
      await interaction.update(forEdit(sourcesDraft(ctx, action.page)));
      return;
    case 'context':
      await showContext(interaction, ctx, action.label);
      return;
    case 'more':
      await showMore(interaction, ctx, action.key);
      return;
    case 'vote':
      await recordVote(interaction, ctx, action.key, action.vote);
      return;
  }
}

async function showContext(interaction: ButtonInteraction, ctx: BotContext, label: number): Promise<void> {
  const passage = ctx.library.index.passages.get(label);
  const article = passage ? ctx.library.index.articles.get(passage.file) : undefined;
  if (!passage || !article) {
    await interaction.reply(forInteraction(renderNotice('That passage is no longer in the index (it has been rebuilt since). Ask again to get fresh buttons.'), { ephemeral: true }));
    return;
  }
  const paragraphs = ctx.library.paragraphs(passage.file, passage.paragraph - 1, passage.paragraph + 1);
  await interaction.reply(forInteraction(renderContext(article, paragraphs, passage.paragraph), { ephemeral: true }));
}

async function showMore(interaction: ButtonInteraction, ctx: BotContext, key: string): Promise<void> {
  const state = ctx.memory.recall(key);
  if (!state) {
    await interaction.reply(forInteraction(renderNotice(EXPIRED), { ephemeral: true }));
    return;
  }
  const decision = ctx.limiter.take(interaction.user.id, interaction.channelId ?? 'dm');
  if (!decision.ok) {
    await interaction.reply(forInteraction(renderNotice(describeRefusal(decision)), { ephemeral: true }));
    return;
  }
  await interaction.deferReply(EPHEMERAL);
  const k = Math.min(MAX_RESULTS, state.shown.length + state.pageSize);
  const via: Via = 'more';
  const answer = await askLibrary(ctx, state.question, { k, via, userId: interaction.user.id, channelId: interaction.channelId });
  const seen = new Set(state.shown);
  const fresh = answer.results.filter((result) => !seen.has(result.passageId));
  if (fresh.length === 0) {
    await interaction.editReply(forEdit(renderNotice('That was everything: the indexed articles hold no further passages on this question.')));
    return;
  }
  const draft = answerDraft(ctx, { ...answer, results: fresh }, { pageSize: state.pageSize, shownBefore: state.shown, title: `More: ${state.question}` });
  await interaction.editReply(forEdit(draft));
}

async function recordVote(interaction: ButtonInteraction, ctx: BotContext, key: string, vote: Vote): Promise<void> {
  const state = ctx.memory.recall(key);
  if (!state) {
    await interaction.reply(forInteraction(renderNotice(EXPIRED), { ephemeral: true }));
    return;
  }
  const user = hashUser(interaction.user.id);
  const emoji = vote === 'up' ? '👍' : '👎';
  if (state.votes.get(user) === vote) {
    await interaction.reply(forInteraction(renderNotice(`You already gave this answer a ${emoji}.`), { ephemeral: true }));
    return;
  }
  await interaction.deferReply(EPHEMERAL);
  await ctx.feedback.append({
    time: new Date(ctx.clock()).toISOString(),
    question: state.question,
    vote,
    user,
    mode: state.mode,
    answered: state.answered,
    top: state.top,
  });
  state.votes.set(user, vote);
  ctx.logger.info({ event: 'feedback', vote, user, question: state.question }, 'recorded feedback');
  await interaction.editReply(forEdit(renderNotice(`Thanks, your ${emoji} is recorded. It helps tune which passages come first.`)));
}

/**
 * The one way a question becomes a reply, whichever way it reached the bot (a mention, /ask, "Find
 * sources", the More button): check the question, take the rate limit, acknowledge, answer, present.
 * What differs between them is only how they reply, given as a ReplyTarget.
 */
import type { ArticleFilter } from '../retrieval/filters.js';
import type { EarlierQuestion } from '../retrieval/question-terms.js';
import type { ButtonInteraction, ChatInputCommandInteraction, Message, MessageContextMenuCommandInteraction } from 'discord.js';
import { MessageFlags } from 'discord.js';
import { hashUser } from '../eval/feedback.js';
import { checkQuestion, type Answer } from '../retrieval/answer.js';
import { askLibrary, type BotContext, type Via } from './context.js';
import { answerDraft } from './drafts.js';
import { describeRefusal } from './rate-limit.js';
import { renderNotice } from './render/answer-view.js';
import { forEdit, forInteraction, forReply, type Draft } from './render/fit.js';

/** How one kind of trigger replies. */
export interface ReplyTarget {
  /**
   * Says no at once (an unusable question, a rate limit), privately where Discord allows. `repeated`:
   * the user was already told so moments ago.
   */
  refuse(notice: Draft, repeated: boolean): Promise<void>;
  /** Acknowledges while the answer is looked up (Discord wants an interaction answered within 3 s). */
  acknowledge(): Promise<void>;
  /** Sends the answer. */
  send(draft: Draft): Promise<void>;
}

export interface QuestionRequest {
  /** The text as the user wrote it; it is cleaned and checked here. */
  text: string;
  via: Via;
  userId: string;
  channelId: string | null;
  /** Results wanted. */
  k: number;
  /** Only articles of this outlet or date range answer (/ask's options). */
  filter?: ArticleFilter;
  /** The questions this one follows (it replies to an answer, or comes next in its thread), most recent first. */
  earlier?: readonly EarlierQuestion[];
  /** The channel where the answer is posted for everyone, so that the next question there can follow it. */
  postedIn?: string;
  /**
   * What to say when the text holds no usable question: the checker's reason by default; return null to
   * say nothing (chatter in an answer channel).
   */
  unusable?: (reason: string) => string | null;
  /** How the answer is shown: an answer with its buttons, `k` per page, by default. */
  present?: (answer: Answer) => Draft | Promise<Draft>;
}

export async function respondToQuestion(ctx: BotContext, request: QuestionRequest, target: ReplyTarget): Promise<void> {
  const checked = checkQuestion(request.text);
  if (!checked.ok) {
    const notice = request.unusable ? request.unusable(checked.reason) : checked.reason;
    if (notice !== null) await target.refuse(renderNotice(notice), false);
    return;
  }
  const decision = ctx.limiter.take(request.userId, request.channelId ?? 'dm');
  if (!decision.ok) {
    ctx.logger.info(
      { event: 'rate-limited', via: request.via, scope: decision.scope, user: hashUser(request.userId), channelId: request.channelId },
      'question refused by the rate limit',
    );
    await target.refuse(renderNotice(describeRefusal(decision)), !decision.firstRefusal);
    return;
  }
  await target.acknowledge();
  const answer = await askLibrary(ctx, checked.question, {
    k: request.k,
    via: request.via,
    userId: request.userId,
    channelId: request.channelId,
    filter: request.filter,
    earlier: request.earlier,
  });
  const asked = { earlier: request.earlier, filter: request.filter, postedIn: request.postedIn };
  await target.send(await (request.present ? request.present(answer) : answerDraft(ctx, answer, { pageSize: request.k, asked })));
}

/** Replies to a message: refusals only once per burst, so a spammer is not answered for every message. */
export function replyToMessage(message: Message): ReplyTarget {
  return {
    refuse: async (notice, repeated) => {
      if (!repeated) await message.reply(forReply(notice));
    },
    acknowledge: async () => {},
    send: async (draft) => {
      await message.reply(forReply(draft));
    },
  };
}

type AnswerableInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction;

/** Replies to an interaction: refusals privately at once; the answer after a deferred reply. */
export function replyToInteraction(interaction: AnswerableInteraction, options: { ephemeral: boolean }): ReplyTarget {
  return {
    refuse: async (notice) => {
      await interaction.reply(forInteraction(notice, { ephemeral: true }));
    },
    acknowledge: async () => {
      await interaction.deferReply(options.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    },
    send: async (draft) => {
      await interaction.editReply(forEdit(draft));
    },
  };
}

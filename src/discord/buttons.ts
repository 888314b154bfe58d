/** What clicking one of the bot's buttons does: page the sources, show a quote in context, more results, a vote. */
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import { hashUser, type Vote } from '../eval/feedback.js';
import type { BotContext } from './context.js';
import { parseCustomId } from './custom-id.js';
import { MAX_RESULTS } from '../retrieval/answer.js';
import { answerDraft, moreTitle, sourcesDraft } from './drafts.js';
import { respondToQuestion, replyToInteraction } from './respond.js';
import { renderNotice } from './render/answer-view.js';
import { renderContext } from './render/catalog-views.js';
import { forEdit, forInteraction } from './render/fit.js';

const EXPIRED =
  'These buttons belong to an answer I no longer remember (I keep recent answers for a day, and forget them when I restart). Ask again for fresh buttons.';

const EPHEMERAL = { flags: MessageFlags.Ephemeral } as const;

/** Handles a click on one of the bot's buttons. */
export async function handleButton(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
  const action = parseCustomId(interaction.customId);
  if (!action) {
    await interaction.reply(
      forInteraction(renderNotice('This button is not one I know any more. Ask again for fresh buttons.'), { ephemeral: true }),
    );
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
  const passage = await ctx.library.passage(label);
  const article = passage ? ctx.library.index.articles.get(passage.file) : undefined;
  if (!passage || !article) {
    await interaction.reply(
      forInteraction(renderNotice('That passage is no longer in the index (it has been rebuilt since). Ask again to get fresh buttons.'), {
        ephemeral: true,
      }),
    );
    return;
  }
  const paragraphs = await ctx.library.paragraphs(passage.file, passage.paragraph - 1, passage.paragraph + 1);
  await interaction.reply(forInteraction(renderContext(article, paragraphs, passage.paragraph), { ephemeral: true }));
}

async function showMore(interaction: ButtonInteraction, ctx: BotContext, key: string): Promise<void> {
  const state = ctx.memory.recall(key);
  if (!state) {
    await interaction.reply(forInteraction(renderNotice(EXPIRED), { ephemeral: true }));
    return;
  }
  const seen = new Set(state.shown);
  await respondToQuestion(
    ctx,
    {
      text: state.question,
      via: 'more',
      userId: interaction.user.id,
      channelId: interaction.channelId,
      k: Math.min(MAX_RESULTS, state.shown.length + state.pageSize),
      // The same question as first asked: with its filter and the questions it followed.
      filter: state.filter,
      earlier: state.earlier,
      present: (answer) => {
        const fresh = answer.results.filter((result) => !seen.has(result.passageId));
        if (fresh.length === 0) return renderNotice('That was everything: the indexed articles hold no further passages on this question.');
        return answerDraft(
          ctx,
          { ...answer, results: fresh },
          {
            pageSize: state.pageSize,
            shownBefore: state.shown,
            title: moreTitle(state.question),
            asked: { earlier: state.earlier, filter: state.filter },
          },
        );
      },
    },
    replyToInteraction(interaction, { ephemeral: true }),
  );
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

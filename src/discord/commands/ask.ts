/** `/ask question:<text> [results:1–5] [private:true]`: a verbatim answer with its sources. */
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { MAX_QUESTION_CHARS, checkQuestion } from '../../retrieval/answer.js';
import { answerDraft } from '../buttons.js';
import { askLibrary, type Command } from '../context.js';
import { describeRefusal } from '../rate-limit.js';
import { forEdit, forInteraction, renderNotice } from '../render/answer-view.js';

const DEFAULT_RESULTS = 3;
const MAX_ASK_RESULTS = 5;

export const ask = {
  kind: 'chat-input',
  data: new SlashCommandBuilder()
    .setName('ask')
    .setDescription('Answer a question from the indexed news articles, with verbatim quotes and sources')
    .addStringOption((option) =>
      option.setName('question').setDescription('What you want to know').setRequired(true).setMaxLength(MAX_QUESTION_CHARS),
    )
    .addIntegerOption((option) =>
      option.setName('results').setDescription(`How many passages to show (1–${MAX_ASK_RESULTS}, default ${DEFAULT_RESULTS})`).setMinValue(1).setMaxValue(MAX_ASK_RESULTS),
    )
    .addBooleanOption((option) => option.setName('private').setDescription('Show the answer only to you')),

  async execute(interaction, ctx) {
    const question = interaction.options.getString('question', true);
    const k = Math.min(MAX_ASK_RESULTS, Math.max(1, interaction.options.getInteger('results') ?? DEFAULT_RESULTS));
    const ephemeral = interaction.options.getBoolean('private') ?? false;

    // Both checks are instant, so refusing here still answers within Discord's 3 seconds, and privately.
    const checked = checkQuestion(question);
    if (!checked.ok) {
      await interaction.reply(forInteraction(renderNotice(checked.reason), { ephemeral: true }));
      return;
    }
    const decision = ctx.limiter.take(interaction.user.id, interaction.channelId ?? 'dm');
    if (!decision.ok) {
      await interaction.reply(forInteraction(renderNotice(describeRefusal(decision)), { ephemeral: true }));
      return;
    }

    await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    const answer = await askLibrary(ctx, checked.question, { k, via: 'ask', userId: interaction.user.id, channelId: interaction.channelId });
    await interaction.editReply(forEdit(answerDraft(ctx, answer, { pageSize: k })));
  },
} satisfies Command;

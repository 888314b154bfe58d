/** `/ask question:<text> [results:1–5] [private:true] [outlet:<name>] [since:<date>] [until:<date>]`: a verbatim answer with its sources. */
import { SlashCommandBuilder } from 'discord.js';
import { MAX_QUESTION_CHARS } from '../../retrieval/answer.js';
import { parseArticleFilter } from '../../retrieval/filters.js';
import { replyToInteraction, respondToQuestion } from '../respond.js';
import { renderNotice } from '../render/answer-view.js';
import type { Command } from './command.js';

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
      option
        .setName('results')
        .setDescription(`How many passages to show (1–${MAX_ASK_RESULTS}, default ${DEFAULT_RESULTS})`)
        .setMinValue(1)
        .setMaxValue(MAX_ASK_RESULTS),
    )
    .addBooleanOption((option) => option.setName('private').setDescription('Show the answer only to you'))
    .addStringOption((option) => option.setName('outlet').setDescription('Only articles from this outlet or site').setMaxLength(100))
    .addStringOption((option) =>
      option
        .setName('since')
        .setDescription('Only articles published on or after this date (2019, 2019-03 or 2019-03-14)')
        .setMaxLength(10),
    )
    .addStringOption((option) =>
      option
        .setName('until')
        .setDescription('Only articles published on or before this date (2019, 2019-03 or 2019-03-14)')
        .setMaxLength(10),
    ),

  async execute(interaction, ctx) {
    const question = interaction.options.getString('question', true);
    const k = Math.min(MAX_ASK_RESULTS, Math.max(1, interaction.options.getInteger('results') ?? DEFAULT_RESULTS));
    const ephemeral = interaction.options.getBoolean('private') ?? false;
    const parsed = parseArticleFilter({
      outlet: interaction.options.getString('outlet'),
      since: interaction.options.getString('since'),
      until: interaction.options.getString('until'),
    });
    if (!parsed.ok) {
      await replyToInteraction(interaction, { ephemeral: true }).refuse(renderNotice(parsed.reason), false);
      return;
    }

    // The question check and the rate limit are instant: a refusal still comes within Discord's 3 seconds, privately.
    await respondToQuestion(
      ctx,
      {
        text: question,
        via: 'ask',
        userId: interaction.user.id,
        channelId: interaction.channelId,
        k,
        filter: parsed.filter,
        // A public answer in a thread or DM can be followed by the next question there.
        ...(ephemeral ? {} : { postedIn: interaction.channelId }),
      },
      replyToInteraction(interaction, { ephemeral }),
    );
  },
} satisfies Command;

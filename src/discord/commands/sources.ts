/** `/sources`: the indexed articles (headline, outlet, date, passages), paged with Prev/Next buttons. */
import { SlashCommandBuilder } from 'discord.js';
import { forInteraction } from '../render/fit.js';
import { sourcesDraft } from '../drafts.js';
import type { Command } from './command.js';

export const sources = {
  kind: 'chat-input',
  data: new SlashCommandBuilder().setName('sources').setDescription('List the news articles the answers come from'),

  async execute(interaction, ctx) {
    // A listing is for the person who asked for it: keep the channel clean.
    await interaction.reply(forInteraction(sourcesDraft(ctx, 0), { ephemeral: true }));
  },
} satisfies Command;

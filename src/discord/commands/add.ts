/**
 * `/add url:<link> [more links]`: fetches news pages and indexes them, for members allowed to manage
 * messages (Discord hides the command from the others). Answered privately with what was indexed;
 * every link is written to the audit log with the adder's hashed id.
 */
import { InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { hashUser } from '../../eval/feedback.js';
import { displayUrl } from '../../web/fetch.js';
import { renderNotice } from '../render/answer-view.js';
import { renderAdditions } from '../render/catalog-views.js';
import { forEdit, forInteraction } from '../render/fit.js';
import type { Command } from './command.js';

/** Links per /add: each is a fetch and a page to read. */
export const MAX_LINKS_PER_ADD = 5;

/** Discord's longest string option; a link longer than this is not a news page. */
const MAX_OPTION_CHARS = 1500;

/** The links in what was typed: whitespace-separated, `<…>` (Discord's embed suppression) unwrapped. */
export function linksIn(text: string): string[] {
  return text
    .split(/\s+/)
    .map((part) => part.replace(/^<(.*)>$/, '$1').trim())
    .filter((part) => part !== '');
}

export const add = {
  kind: 'chat-input',
  data: new SlashCommandBuilder()
    .setName('add')
    .setDescription('Add news articles from their links (up to 5, separated by spaces)')
    .addStringOption((option) =>
      option
        .setName('url')
        .setDescription("The article's link, e.g. https://example.com/news/story")
        .setRequired(true)
        .setMaxLength(MAX_OPTION_CHARS),
    )
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageMessages)
    .setContexts(InteractionContextType.Guild),

  async execute(interaction, ctx) {
    const additions = ctx.additions;
    if (!additions) {
      await interaction.reply(
        forInteraction(renderNotice('Adding articles from links is not switched on for this bot.'), { ephemeral: true }),
      );
      return;
    }
    const links = linksIn(interaction.options.getString('url', true));
    if (links.length === 0) {
      await interaction.reply(
        forInteraction(renderNotice('Give the link of a news article, e.g. `/add url:https://example.com/news/story`.'), {
          ephemeral: true,
        }),
      );
      return;
    }
    if (links.length > MAX_LINKS_PER_ADD) {
      await interaction.reply(
        forInteraction(renderNotice(`At most ${MAX_LINKS_PER_ADD} links at a time, please (you gave ${links.length}).`), {
          ephemeral: true,
        }),
      );
      return;
    }
    const decision = additions.limiter.take(interaction.user.id, interaction.channelId);
    if (!decision.ok) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      await interaction.reply(
        forInteraction(
          renderNotice(
            `Articles are being added quickly right now. Please wait ${seconds} second${seconds === 1 ? '' : 's'} before the next /add.`,
          ),
          {
            ephemeral: true,
          },
        ),
      );
      return;
    }
    // Fetching and indexing take longer than Discord's 3 seconds.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const outcomes = await additions.add(links);
    const user = hashUser(interaction.user.id);
    const time = new Date(ctx.clock()).toISOString();
    for (const outcome of outcomes) {
      const record = {
        time,
        user,
        guild: interaction.guildId,
        channel: interaction.channelId,
        link: displayUrl(outcome.link),
        status: outcome.status,
        ...(outcome.status === 'added' ? { file: outcome.file, title: outcome.article.title, passages: outcome.passages } : {}),
        ...(outcome.status === 'already-indexed' ? { file: outcome.file } : {}),
        ...(outcome.status === 'failed' ? { reason: outcome.reason } : {}),
      };
      await additions.log
        .append(record)
        .catch((error: unknown) =>
          ctx.logger.error({ event: 'audit-failed', err: { message: (error as Error).message } }, 'could not write the additions log'),
        );
    }
    ctx.logger.info(
      { event: 'add', user, links: outcomes.length, added: outcomes.filter((outcome) => outcome.status === 'added').length },
      'links added',
    );
    await interaction.editReply(forEdit(renderAdditions(outcomes)));
  },
} satisfies Command;

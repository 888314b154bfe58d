/** `/article title:<autocomplete>`: one article's headline, outlet, date, link and opening paragraphs. */
import { SlashCommandBuilder } from 'discord.js';
import { sha256 } from '../../hash.js';
import type { Library } from '../context.js';
import { quoteUserText, renderNotice } from '../render/answer-view.js';
import type { ArticleRecord } from '../../model.js';
import { DISCORD_LIMITS, forChoices, forInteraction } from '../render/fit.js';
import { renderArticle } from '../render/catalog-views.js';
import type { Command } from './command.js';

const OPENING_PARAGRAPHS = 3;

/** The value an autocomplete choice carries: the file name, or a hash of it when it is too long. */
export function articleKey(file: string): string {
  return file.length <= DISCORD_LIMITS.choiceValue ? file : `sha:${sha256(file).slice(0, 24)}`;
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Articles whose headline (or outlet) matches what was typed, best first. */
export function matchArticles(library: Library, typed: string): ArticleRecord[] {
  const query = words(typed);
  if (query.length === 0) return library.articles;
  const needle = typed.trim().toLowerCase();
  const scored = library.articles.flatMap((article) => {
    const haystack = `${article.title} ${article.outlet ?? ''}`;
    const titleWords = words(haystack);
    const matched = query.filter((word) => titleWords.some((candidate) => candidate.startsWith(word))).length;
    if (matched < query.length) return [];
    return [{ article, score: haystack.toLowerCase().includes(needle) ? 2 : 1 }];
  });
  return scored.sort((a, b) => b.score - a.score).map((entry) => entry.article);
}

function resolveArticle(library: Library, value: string): ArticleRecord | undefined {
  const byKey = library.articles.find((article) => articleKey(article.file) === value || article.file === value);
  return byKey ?? matchArticles(library, value)[0];
}

export const article = {
  kind: 'chat-input',
  data: new SlashCommandBuilder()
    .setName('article')
    .setDescription('Show one indexed article: headline, outlet, date, link and opening paragraphs')
    .addStringOption((option) =>
      option.setName('title').setDescription('Start typing a headline').setRequired(true).setAutocomplete(true).setMaxLength(200),
    ),

  async execute(interaction, ctx) {
    const value = interaction.options.getString('title', true);
    const found = resolveArticle(ctx.library, value);
    if (!found) {
      await interaction.reply(
        forInteraction(
          renderNotice(
            `No indexed article matches ${quoteUserText(value)}. Start typing a headline and pick one from the list, or see /sources.`,
          ),
          { ephemeral: true },
        ),
      );
      return;
    }
    const opening = await ctx.library.paragraphs(found.file, 1, OPENING_PARAGRAPHS);
    await interaction.reply(forInteraction(renderArticle(found, opening), { ephemeral: true }));
  },

  async autocomplete(interaction, ctx) {
    const typed = interaction.options.getFocused();
    const choices = matchArticles(ctx.library, typed).map((found) => ({
      name: found.outlet ? `${found.title} — ${found.outlet}` : found.title,
      value: articleKey(found.file),
    }));
    await interaction.respond(forChoices(choices));
  },
} satisfies Command;

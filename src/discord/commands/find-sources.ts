/** Message context menu "Find sources": the passages that bear on the selected message's text. */
import { ApplicationCommandType, ContextMenuCommandBuilder } from 'discord.js';
import { MAX_QUESTION_CHARS } from '../../retrieval/answer.js';
import { answerDraft, SOURCES_TITLE } from '../drafts.js';
import { replyToInteraction, respondToQuestion } from '../respond.js';
import type { Command } from './command.js';

const RESULTS = 3;

/** A long message is looked up by its beginning rather than refused. */
function leadingText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return space > max * 0.8 ? cut.slice(0, space) : cut;
}

export const findSources = {
  kind: 'message',
  data: new ContextMenuCommandBuilder().setName('Find sources').setType(ApplicationCommandType.Message),

  async execute(interaction, ctx) {
    const text = interaction.targetMessage.content;
    await respondToQuestion(
      ctx,
      {
        text: leadingText(text, MAX_QUESTION_CHARS),
        via: 'find-sources',
        userId: interaction.user.id,
        channelId: interaction.channelId,
        k: RESULTS,
        unusable: () => 'That message has no words to look up (only mentions, emoji, embeds or attachments).',
        present: (answer) => answerDraft(ctx, answer, { pageSize: RESULTS, title: SOURCES_TITLE }),
      },
      replyToInteraction(interaction, { ephemeral: true }),
    );
  },
} satisfies Command;

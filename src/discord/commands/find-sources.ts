/** Message context menu "Find sources": the passages that bear on the selected message's text. */
import { ApplicationCommandType, ContextMenuCommandBuilder, MessageFlags } from 'discord.js';
import { MAX_QUESTION_CHARS, checkQuestion } from '../../retrieval/answer.js';
import { answerDraft } from '../buttons.js';
import { askLibrary, type Command } from '../context.js';
import { describeRefusal } from '../rate-limit.js';
import { forEdit, forInteraction, renderNotice } from '../render/answer-view.js';

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
    const checked = checkQuestion(leadingText(text, MAX_QUESTION_CHARS));
    if (!checked.ok) {
      await interaction.reply(
        forInteraction(renderNotice('That message has no words to look up (only mentions, emoji, embeds or attachments).'), { ephemeral: true }),
      );
      return;
    }
    const decision = ctx.limiter.take(interaction.user.id, interaction.channelId ?? 'dm');
    if (!decision.ok) {
      await interaction.reply(forInteraction(renderNotice(describeRefusal(decision)), { ephemeral: true }));
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const answer = await askLibrary(ctx, checked.question, { k: RESULTS, via: 'find-sources', userId: interaction.user.id, channelId: interaction.channelId });
    await interaction.editReply(forEdit(answerDraft(ctx, answer, { pageSize: RESULTS, title: 'Sources for this message' })));
  },
} satisfies Command;

/**
 * The last word on everything citebot sends to Discord. Views produce Drafts; one of the `for…`
 * functions here turns a draft into what discord.js sends, with every Discord limit applied, mentions
 * neutralised and `allowedMentions: { parse: [] }` set. Adapters only pick the function for the kind of
 * send they make.
 */
import { ButtonStyle, ComponentType, MessageFlags } from 'discord.js';
import type {
  APIActionRowComponent,
  APIApplicationCommandOptionChoice,
  APIButtonComponentWithCustomId,
  APIEmbed,
  InteractionEditReplyOptions,
  InteractionReplyOptions,
  MessageReplyOptions,
} from 'discord.js';
import { neutraliseMentions } from './escape.js';
import { clipMarkdown, clipPlain, oneLine, safeUrl } from './text.js';

/** Discord's documented limits, in UTF-16 code units (never more than Discord's own count). */
export const DISCORD_LIMITS = {
  content: 2000,
  embedsPerMessage: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Content plus every embed's title, description, fields, footer and author. */
  messageTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
} as const;

export interface ButtonSpec {
  customId: string;
  label: string;
  emoji?: string;
  style?: 'primary' | 'secondary' | 'success' | 'danger';
  disabled?: boolean;
}

export interface Draft {
  content?: string;
  embeds?: APIEmbed[];
  /** Rows of buttons, top to bottom. */
  rows?: ButtonSpec[][];
}

type ButtonRow = APIActionRowComponent<APIButtonComponentWithCustomId>;

/** A draft with every limit applied. */
export interface FittedMessage {
  content?: string;
  embeds: APIEmbed[];
  components: ButtonRow[];
}

const NO_MENTIONS = { parse: [] as never[] };

/** A reply to a user's message: pings nobody, not even the author, and survives the message's deletion. */
export function forReply(draft: Draft): MessageReplyOptions {
  return { ...fit(draft), allowedMentions: { ...NO_MENTIONS, repliedUser: false }, failIfNotExists: false };
}

/** The first response to an interaction (reply). */
export function forInteraction(draft: Draft, options: { ephemeral?: boolean } = {}): InteractionReplyOptions {
  return { ...fit(draft), allowedMentions: NO_MENTIONS, ...(options.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
}

/**
 * Replaces a message: editReply after deferReply, or update() from a button. Content is always set so
 * that nothing of the previous message survives.
 */
export function forEdit(draft: Draft): InteractionEditReplyOptions & { content: string } {
  const fitted = fit(draft);
  return { ...fitted, content: fitted.content ?? '', allowedMentions: NO_MENTIONS };
}

/** Autocomplete choices: at most 25, names of 1–100 characters, values that fit. Plain text, no Markdown. */
export function forChoices(choices: Array<{ name: string; value: string }>): APIApplicationCommandOptionChoice<string>[] {
  return choices
    .filter((choice) => choice.value.length >= 1 && choice.value.length <= DISCORD_LIMITS.choiceValue)
    .slice(0, DISCORD_LIMITS.choices)
    .map((choice) => ({ name: clipPlain(oneLine(choice.name) || choice.value, DISCORD_LIMITS.choiceName), value: choice.value }));
}

/** Applies every Discord limit to a draft and neutralises mentions everywhere. */
export function fit(draft: Draft): FittedMessage {
  let content = draft.content === undefined ? undefined : clipMarkdown(neutraliseMentions(draft.content), DISCORD_LIMITS.content);
  const embeds = (draft.embeds ?? []).slice(0, DISCORD_LIMITS.embedsPerMessage).map(fitEmbed);
  shrinkToTotal(embeds, content?.length ?? 0);
  const overflow = messageChars(content, embeds) - DISCORD_LIMITS.messageTotal;
  if (overflow > 0 && content !== undefined) content = clipMarkdown(content, Math.max(1, content.length - overflow));
  if ((content === undefined || content.trim() === '') && embeds.length === 0) content = '(nothing to show)';
  return { ...(content === undefined || content === '' ? {} : { content }), embeds, components: fitRows(draft.rows ?? []) };
}

function fitEmbed(embed: APIEmbed): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  if (fitted.title !== undefined) fitted.title = clipMarkdown(neutraliseMentions(fitted.title), DISCORD_LIMITS.embedTitle);
  if (fitted.description !== undefined)
    fitted.description = clipMarkdown(neutraliseMentions(fitted.description), DISCORD_LIMITS.embedDescription);
  if (fitted.url !== undefined && !safeUrl(fitted.url)) delete fitted.url;
  if (fitted.footer)
    fitted.footer = { ...fitted.footer, text: clipPlain(neutraliseMentions(fitted.footer.text), DISCORD_LIMITS.footerText) || '\u200b' };
  if (fitted.author)
    fitted.author = { ...fitted.author, name: clipPlain(neutraliseMentions(fitted.author.name), DISCORD_LIMITS.authorName) || '\u200b' };
  if (fitted.fields) {
    fitted.fields = fitted.fields.slice(0, DISCORD_LIMITS.embedFields).map((field) => ({
      ...field,
      name: clipMarkdown(neutraliseMentions(field.name), DISCORD_LIMITS.fieldName) || '\u200b',
      value: clipMarkdown(neutraliseMentions(field.value), DISCORD_LIMITS.fieldValue) || '\u200b',
    }));
  }
  return fitted;
}

function embedChars(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

function messageChars(content: string | undefined, embeds: APIEmbed[]): number {
  return (content?.length ?? 0) + embeds.reduce((sum, embed) => sum + embedChars(embed), 0);
}

/** Keeps content plus embeds within the per-message total: last embeds' fields go first, then descriptions. */
function shrinkToTotal(embeds: APIEmbed[], contentChars: number): void {
  const over = () => contentChars + embeds.reduce((sum, embed) => sum + embedChars(embed), 0) - DISCORD_LIMITS.messageTotal;
  for (let index = embeds.length - 1; index >= 0 && over() > 0; index -= 1) {
    const embed = embeds[index]!;
    while (over() > 0 && embed.fields && embed.fields.length > 0) embed.fields = embed.fields.slice(0, -1);
    if (over() > 0 && embed.description) {
      const target = embed.description.length - over();
      if (target >= 1) embed.description = clipMarkdown(embed.description, target);
      else delete embed.description;
    }
    if (over() > 0 && index > 0) embeds.splice(index, 1);
  }
}

const BUTTON_STYLES = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
} as const;

function fitRows(rows: ButtonSpec[][]): ButtonRow[] {
  const seen = new Set<string>();
  const fitted: ButtonRow[] = [];
  for (const row of rows) {
    if (fitted.length >= DISCORD_LIMITS.actionRows) break;
    const buttons: APIButtonComponentWithCustomId[] = [];
    for (const spec of row) {
      if (buttons.length >= DISCORD_LIMITS.buttonsPerRow) break;
      // An over-long or repeated custom id would make Discord refuse the whole message.
      if (spec.customId.length === 0 || spec.customId.length > DISCORD_LIMITS.customId || seen.has(spec.customId)) continue;
      seen.add(spec.customId);
      const label = clipPlain(oneLine(spec.label), DISCORD_LIMITS.buttonLabel);
      buttons.push({
        type: ComponentType.Button,
        style: BUTTON_STYLES[spec.style ?? 'secondary'],
        custom_id: spec.customId,
        ...(label ? { label } : {}),
        ...(spec.emoji ? { emoji: { name: spec.emoji } } : {}),
        ...(spec.disabled ? { disabled: true } : {}),
      });
    }
    if (buttons.length > 0) fitted.push({ type: ComponentType.ActionRow, components: buttons });
  }
  return fitted;
}

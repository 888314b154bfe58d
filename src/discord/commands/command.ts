/** The shape of a command module: one file each, `{ kind, data, execute }` checked with `satisfies Command`. */
import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { BotContext } from '../context.js';

/** A slash command: one file each, `{ kind, data, execute }` checked with `satisfies Command`. */
export interface ChatInputCommand {
  kind: 'chat-input';
  data: { readonly name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
}

/** A message context-menu command ("Apps → …" on a message). */
export interface MessageMenuCommand {
  kind: 'message';
  data: { readonly name: string; toJSON(): RESTPostAPIContextMenuApplicationCommandsJSONBody };
  execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void>;
}

export type Command = ChatInputCommand | MessageMenuCommand;

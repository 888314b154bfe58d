/** Every command the bot has: a static list, registered by `npm run deploy-commands`. */
import { add } from './add.js';
import { article } from './article.js';
import { ask } from './ask.js';
import { findSources } from './find-sources.js';
import { sources } from './sources.js';
import type { Command } from './command.js';

export const commands: readonly Command[] = [ask, sources, article, findSources, add];

export const commandsByName: ReadonlyMap<string, Command> = new Map(commands.map((command) => [command.data.name, command]));

/**
 * The JSON bodies Discord registers. discord.js writes default_member_permissions as a string; Discord's
 * API description types it as an integer (Discord takes both), so it is sent as the number it is.
 */
export function commandData() {
  return commands.map((command) => {
    const data = command.data.toJSON();
    const permissions = data.default_member_permissions;
    return typeof permissions === 'string' ? { ...data, default_member_permissions: Number(permissions) as unknown as string } : data;
  });
}

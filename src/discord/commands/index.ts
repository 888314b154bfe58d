/** Every command the bot has: a static list, registered by `npm run deploy-commands`. */
import { add } from './add.js';
import { article } from './article.js';
import { ask } from './ask.js';
import { findSources } from './find-sources.js';
import { sources } from './sources.js';
import type { Command } from './command.js';

export const commands: readonly Command[] = [ask, sources, article, findSources, add];

export const commandsByName: ReadonlyMap<string, Command> = new Map(commands.map((command) => [command.data.name, command]));

/** The JSON bodies Discord registers. */
export function commandData() {
  return commands.map((command) => command.data.toJSON());
}

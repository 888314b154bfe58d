/**
 * `npm run deploy-commands`: registers the bot's commands with Discord, for the guild in DISCORD_GUILD_ID
 * or globally. See src/discord/deploy-commands.ts.
 */
import { deployCommands, missingDeploySettings } from '../discord/deploy-commands.js';
import { configFromEnvironment, runMain, UsageError } from './cli.js';

async function main(): Promise<number> {
  const config = configFromEnvironment();
  const { token, applicationId, guildId } = config.discord;
  if (!token || !applicationId) {
    const missing = missingDeploySettings(config.discord);
    throw new UsageError(
      `deploy-commands needs these settings in .env (see .env.example):\n${missing.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  const report = await deployCommands({ token, applicationId, guildId, api: config.discord.apiUrl });
  const where =
    report.scope === 'guild' ? `guild ${guildId} (available now)` : 'every server (global commands can take up to an hour to appear)';
  console.log(`Registered ${report.names.length} commands for ${where}: ${report.names.join(', ')}`);
  return 0;
}

runMain(main);

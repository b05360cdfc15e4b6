// `vmbot discord register [--guild ID | --global]`: puts the `/vm` command on Discord through its
// REST API (PUT replaces the whole set, so it is safe to run again after changing distros or
// sizes). `vmbot discord invite`: the URL that adds the bot with exactly the scopes and
// permissions it needs. Carried by the platform description (platform.ts), so the CLI
// learns them from the platform list. Everything else is loaded when a command runs: the
// config schema imports the platform list, which imports this file, so a static import of the
// config loader here would be a cycle; and discord.js is not loaded for other commands.
import type { Command } from 'commander';

async function commandDeps() {
  const [{ loadConfigFor }, { ConfigError }, { readSecrets, SecretError }] = await Promise.all([
    import('../../commands/context.js'),
    import('../../config/load.js'),
    import('../../config/secrets.js'),
  ]);
  return { loadConfigFor, ConfigError, readSecrets, SecretError };
}

export function registerDiscordCommands(program: Command): void {
  const discord = program.command('discord').description('Discord set-up: register the /vm command, print the invite URL');

  discord
    .command('register')
    .description('register the /vm command in the configured guild (instant), another guild, or globally (up to an hour to appear)')
    .option('--guild <id>', 'guild (server) ID; default: discord.guildId from the config')
    .option('--global', 'register globally instead of in one guild')
    .action(async (opts: { guild?: string; global?: boolean }, cmd: Command) => {
      const { loadConfigFor, ConfigError, readSecrets, SecretError } = await commandDeps();
      let apiUrl = 'discord.apiUrl';
      try {
        const { config } = await loadConfigFor(cmd);
        apiUrl = config.discord?.apiUrl ?? apiUrl;
        if (!config.discord) {
          fail('the config has no discord section (applicationId, guildId, adminChannel, adminRoles): add it first, see docs/discord.md');
          return;
        }
        const token = readSecrets().DISCORD_TOKEN;
        if (!token) {
          fail('DISCORD_TOKEN (or DISCORD_TOKEN_FILE) is not set: it is the bot token from the Developer Portal, Bot page');
          return;
        }
        if (opts.global && opts.guild) {
          fail('give either --guild or --global, not both');
          return;
        }
        if (opts.guild !== undefined && !/^\d{15,22}$/.test(opts.guild)) {
          fail(`--guild ${JSON.stringify(opts.guild)} is not a Discord guild ID (digits; Developer Mode → right-click the server → Copy Server ID)`);
          return;
        }
        const guildId = opts.global ? undefined : (opts.guild ?? config.discord.guildId);
        const { registerCommands } = await import('./register.js');
        const result = await registerCommands({
          apiUrl: config.discord.apiUrl,
          token,
          applicationId: config.discord.applicationId,
          ...(guildId ? { guildId } : {}),
          catalogue: config,
        });
        const where = result.scope === 'guild' ? `guild ${result.guildId}` : 'globally (may take up to an hour to show up)';
        console.log(`Registered ${result.commands.map((c) => `/${c.name}`).join(', ')} ${where}.`);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof SecretError) return fail(err.message);
        const { DiscordAPIError } = await import('discord.js');
        if (err instanceof DiscordAPIError) {
          const hint =
            err.status === 401
              ? 'the token was refused: copy it again from the Developer Portal (Bot → Reset Token)'
              : err.code === 50001
                ? 'missing access: invite the bot to that guild with the applications.commands scope (vmbot discord invite), and check discord.applicationId'
                : 'see the message above';
          return fail(`Discord refused the commands: ${err.message} (HTTP ${err.status}, code ${err.code}): ${hint}`);
        }
        // No answer at all (DNS, refused connection, timeout): say where we tried, not a stack trace.
        const network = networkFailure(err);
        if (network) return fail(`cannot reach Discord at ${apiUrl}: ${network}: check this machine's network and DNS (and discord.apiUrl if you changed it), then run it again`);
        throw err;
      }
    });

  discord
    .command('invite')
    .description('print the URL that adds the bot to a server (scopes bot + applications.commands, and only the channel permissions it needs)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { loadConfigFor, ConfigError } = await commandDeps();
      try {
        const { config } = await loadConfigFor(cmd);
        if (!config.discord) return fail('the config has no discord section: set discord.applicationId first');
        const { inviteUrl } = await import('./invite.js');
        console.log(inviteUrl(config.discord.applicationId, config.discord.guildId));
      } catch (err) {
        if (err instanceof ConfigError) return fail(err.message);
        throw err;
      }
    });
}

/** The code and message of a connection-level failure (fetch wraps it in `cause`), or undefined. */
function networkFailure(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return `${code} (${e.message})`;
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return `no answer in time (${e.message})`;
  }
  return undefined;
}

function fail(message: string): void {
  console.error(`vmbot discord: ${message}`);
  process.exitCode = 1;
}

// `vmbot doctor`'s lines for Slack: the bot token (auth.test), its scopes, the admin group or
// admin list, and the admin channel. Reads only; asks once (no retries) and says what to fix.
import { webApi } from '@slack/bolt';
import { checkFailed as fail, checkOk as ok, checkSkipped as skip, type CheckResult } from '../../components.js';
import type { SlackSection } from './platform.js';

/** Slack scopes vmbot's calls need (chat.postMessage/update/postEphemeral, conversations.open, slash commands). */
export const SLACK_SCOPES = ['commands', 'chat:write', 'im:write'] as const;

export async function checkSlack(slack: SlackSection, token: string | undefined, timeoutMs: number): Promise<CheckResult[]> {
  if (!token) return [skip('slack: API', 'not checked: SLACK_BOT_TOKEN is not set')];
  const client = new webApi.WebClient(token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, timeout: timeoutMs, logLevel: webApi.LogLevel.ERROR });
  const out: CheckResult[] = [];
  let botName = 'vmbot';
  try {
    const auth = await client.auth.test();
    botName = auth.user ?? botName;
    out.push(ok('slack: bot token', `authenticated as ${auth.user ?? auth.user_id ?? '?'} in ${auth.team ?? auth.team_id ?? '?'}`));
    // @slack/web-api reads the x-oauth-scopes response header into response_metadata.scopes.
    const scopes = auth.response_metadata?.scopes;
    const needed = [...SLACK_SCOPES, ...(slack.adminGroup ? ['usergroups:read'] : [])];
    if (scopes === undefined) out.push(skip('slack: scopes', 'Slack did not report the token\'s scopes'));
    else {
      const missing = needed.filter((s) => !scopes.includes(s));
      out.push(missing.length === 0 ? ok('slack: scopes', needed.join(', ')) : fail('slack: scopes', `missing ${missing.join(', ')}`, 'add them under OAuth & Permissions in the Slack app settings, then reinstall the app'));
    }
  } catch (err) {
    return [fail('slack: bot token', `auth.test failed: ${slackError(err)}`, 'check SLACK_BOT_TOKEN (a bot token, xoxb-…) and slack.apiUrl')];
  }
  if (slack.adminGroup) {
    try {
      const group = await client.usergroups.users.list({ usergroup: slack.adminGroup });
      const n = group.users?.length ?? 0;
      out.push(n > 0 ? ok('slack: admin group', `${slack.adminGroup}: ${n} member${n > 1 ? 's' : ''}`) : fail('slack: admin group', `${slack.adminGroup} has no members`, 'add the admins to the user group, or list their user IDs in slack.admins'));
    } catch (err) {
      out.push(fail('slack: admin group', `${slack.adminGroup}: ${slackError(err)}`, 'set slack.adminGroup to the user group ID (S…), and give the app usergroups:read'));
    }
  } else if (slack.admins.length === 0) {
    out.push(fail('slack: admins', 'no slack.admins and no slack.adminGroup: nobody can approve', 'list admin user IDs (U…) in slack.admins, or a user group in slack.adminGroup'));
  }
  try {
    const info = await client.conversations.info({ channel: slack.adminChannel });
    const member = info.channel?.is_member;
    out.push(member === false
      ? fail('slack: admin channel', `${slack.adminChannel} (#${info.channel?.name ?? '?'}) exists but the bot is not in it`, `invite the bot: /invite @${botName} in #${info.channel?.name ?? slack.adminChannel}`)
      : ok('slack: admin channel', `${slack.adminChannel} (#${info.channel?.name ?? '?'})`));
  } catch (err) {
    const code = slackError(err);
    // vmbot itself never reads channel info, so its manifest does not ask for channels:read.
    if (code === 'missing_scope') out.push(skip('slack: admin channel', `${slack.adminChannel} not checked: conversations.info needs the channels:read (or groups:read) scope, which vmbot itself does not use`));
    else out.push(fail('slack: admin channel', `${slack.adminChannel}: ${code}`, 'set slack.adminChannel to the channel ID (C…, from the channel\'s details) and invite the bot to it'));
  }
  return out;
}

function slackError(err: unknown): string {
  const data = (err as { data?: { error?: string } }).data;
  return data?.error ?? (err as Error).message;
}

// Slack inbound → workflow calls. Each handler acks first (Slack's 3-second rule) and does
// the slow work after, except view submissions, whose ack *is* the answer (inline errors):
// those wait for the workflow up to a deadline and fall back to a DM if it is slower.
// Authorization is the workflow's: every press goes through it with the presser's Actor.
import type { App, RespondFn } from '@slack/bolt';
import type { Result } from '../../domain/problem.js';
import type { Actor } from '../../domain/request.js';
import type { Logger } from '../../log.js';
import type { VmWorkflow } from '../../workflow/api.js';
import { ACTION_WORDING, UNKNOWN_BUTTON, type Wording } from '../../workflow/notices.js';
import { ACTION_KINDS, ACTIONS, type ActionKind, type VmSummaryView } from '../../workflow/views.js';
import type { ActorResolver } from './actor.js';
import { ACTION_PREFIX, NOTICE_ACTIONS_BLOCK, confirmOfferMessage, decodeAction, mrkdwnOf, problemsText, replyMessage, type SlackMessage } from './blocks.js';
import { helpText, parseCommand, type SlashCommand } from './commands.js';
import { slackError } from './slack-error.js';
import { REASON_BLOCK, REQUEST_CALLBACK, REQUEST_FIELDS, problemsToErrors, readDenyMetadata, readDenyReason, readRequestSubmission, reasonCallback, reasonModal, requestModal } from './modals.js';

type WebClient = App['client'];

export interface HandlerDeps {
  workflow: VmWorkflow;
  actors: ActorResolver;
  logger: Logger;
  /** Sends a DM (used when a form outlives its ack deadline). */
  dm(userId: string, message: SlackMessage): Promise<void>;
  /** How long a view submission may wait for the workflow before acking without it. */
  submitDeadlineMs?: number;
}

export function registerHandlers(app: App, deps: HandlerDeps): void {
  const { workflow, actors, logger } = deps;
  const deadline = deps.submitDeadlineMs ?? 2_500;

  // A re-delivery (X-Slack-Retry-Num over HTTP, retry_attempt in Socket Mode) is acked and
  // dropped: the first delivery already did the work, and a second modal or decision
  // must not follow from Slack's own retry.
  app.use(async (args) => {
    if (args.context.retryNum !== undefined && args.context.retryNum > 0) {
      logger.info({ retryNum: args.context.retryNum, reason: args.context.retryReason }, 'ignoring a Slack re-delivery');
      const ack = (args as { ack?: () => Promise<void> }).ack;
      if (ack) await ack();
      return;
    }
    await args.next();
  });

  app.command('/vm', async ({ command, ack, respond, client }) => {
    await ack();
    const parsed = parseCommand(command.text ?? '');
    let answer: SlackMessage | undefined;
    try {
      const actor = await actors.actorFor(command.user_id, command.user_name);
      answer = await runCommand(parsed, actor, (view) => client.views.open({ trigger_id: command.trigger_id, view }));
    } catch (err) {
      logger.error({ err, command: parsed.kind, slackError: slackError(err) }, 'slash command failed');
      answer = textMessage(
        slackError(err) === 'expired_trigger_id'
          ? ':hourglass: Slack\'s window for opening the form passed. Type `/vm request` again.'
          : ':warning: Something went wrong on vmbot\'s side. Try again in a minute; if it keeps failing, tell an admin.',
      );
    }
    if (answer) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: answer.text, blocks: answer.blocks }).catch((err: unknown) => logger.warn({ err }, 'could not answer through response_url'));
    }
  });

  /** One slash command → its private answer (undefined when a modal opened instead). */
  async function runCommand(parsed: SlashCommand, actor: Actor, openModal: (view: ReturnType<typeof requestModal>) => Promise<unknown>): Promise<SlackMessage | undefined> {
    switch (parsed.kind) {
      case 'help':
        return helpMessage(parsed.hint);
      case 'request':
        await openModal(requestModal(await workflow.requestForm(actor)));
        return undefined;
      case 'list':
        return fromResult(await workflow.list(actor), (vms) => replyMessage({ kind: 'list', vms, scope: workflow.isAdmin(actor) ? 'all' : 'mine' }));
      case 'ip':
        return fromResult(await workflow.ip(actor, parsed.name), (vm) => replyMessage({ kind: 'vm', vm }));
      case 'status':
        return fromResult(await workflow.status(actor, parsed.name), (vm) => replyMessage({ kind: 'vm', vm }));
      case 'logs':
        return fromResult(await workflow.logs(actor, parsed.name), (log) => replyMessage({ kind: 'logs', log }));
      case 'cancel':
        return fromResult(await workflow.act(actor, { kind: 'cancel', requestId: parsed.name }), (vm) => textMessage(mrkdwnOf(ACTION_WORDING.cancel.done(vm.name))));
      case 'delete':
        // The deletion itself waits for a confirmed press of the offered button; a refusal is the workflow's (audited).
        return fromResult(await workflow.canAct(actor, { kind: 'delete', requestId: parsed.name }), (vm) => confirmOfferMessage('delete', vm));
      case 'renew':
        return fromResult(await workflow.act(actor, { kind: 'renew', requestId: parsed.name }), (vm) => textMessage(mrkdwnOf(ACTION_WORDING.renew.done(vm.name))));
      case 'stop':
      case 'start':
      case 'reboot': {
        const kind = parsed.kind;
        return fromResult(await workflow.act(actor, { kind, requestId: parsed.name }), (vm) => textMessage(mrkdwnOf(ACTION_WORDING[kind].done(vm.name))));
      }
      case 'rebuild':
        // Like delete: the rebuild waits for a confirmed press of the offered button.
        return fromResult(await workflow.canAct(actor, { kind: 'rebuild', requestId: parsed.name }), (vm) => confirmOfferMessage('rebuild', vm));
      case 'expire':
        return fromResult(await workflow.setExpiry(actor, parsed.name, parsed.date), (vm) => replyMessage({ kind: 'vm', vm }));
    }
  }

  // Every button vmbot draws is `vm:<kind>` (blocks.ts); one handler routes them all, from
  // the kind's spec (views.ts ACTIONS): a reason opens its modal first, anything else goes
  // straight to workflow.act (a confirmation was already asked by Slack's confirm dialog).
  app.action({ type: 'block_actions', action_id: new RegExp(`^${ACTION_PREFIX}`) }, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (action.type !== 'button') return;
    const channel = body.channel?.id;
    const fromEphemeral = body.container?.['is_ephemeral'] === true;
    const tell = (message: SlackMessage) => tellPresser(client, respond, { channel: fromEphemeral ? undefined : channel, user: body.user.id }, message);
    const pressed = decodeAction(action.action_id, action.value);
    if (!pressed) {
      logger.warn({ actionId: action.action_id.slice(0, 40) }, 'a press of a button vmbot does not know');
      await tell(textMessage(mrkdwnOf(UNKNOWN_BUTTON))).catch((err: unknown) => logger.warn({ err }, 'could not answer an unknown button'));
      return;
    }
    const { kind, requestId } = pressed;
    try {
      const actor = await actors.actorFor(body.user.id, body.user.name);
      if (ACTIONS[kind].needs === 'reason') {
        // The workflow refuses (and audits) before any modal opens.
        const allowed = await workflow.canAct(actor, { kind, requestId });
        if (!allowed.ok) return void (await tell(textMessage(problemsText(allowed.problems))));
        await client.views.open({ trigger_id: body.trigger_id, view: reasonModal(kind, { requestId, ...(channel ? { channel } : {}) }, allowed.value.name) });
        return;
      }
      const result = await workflow.act(actor, { kind, requestId });
      if (!result.ok) await tell(textMessage(problemsText(result.problems)));
      // A card is redrawn by the workflow; an ephemeral offer is replaced by the outcome; a notice's button is answered below it.
      else if (fromEphemeral) await respond({ replace_original: true, text: mrkdwnOf(ACTION_WORDING[kind].done(result.value.name)) });
      else if (action.block_id === NOTICE_ACTIONS_BLOCK) await respond({ replace_original: false, text: mrkdwnOf(ACTION_WORDING[kind].done(result.value.name)) });
    } catch (err) {
      logger.error({ err, kind, requestId }, 'button press failed');
      await tell(textMessage(':warning: Something went wrong on vmbot\'s side; the card was not changed. Try again in a minute.')).catch(() => undefined);
    }
  });

  app.view(REQUEST_CALLBACK, async ({ ack, body, view }) => {
    const input = readRequestSubmission(view.state.values);
    const userId = body.user.id;
    let submitted: Promise<Result<VmSummaryView>>;
    try {
      const actor = await actors.actorFor(userId, body.user.name);
      submitted = workflow.submitRequest(actor, input);
    } catch (err) {
      submitted = Promise.reject(err);
    }
    const outcome = await within(submitted, deadline);
    if (outcome === 'late') {
      await ack();
      submitted.then(
        (r) => (r.ok ? undefined : deps.dm(userId, textMessage(`Your VM request was not sent:\n${problemsText(r.problems)}\nRun \`/vm request\` again.`))),
        (err: unknown) => logger.error({ err }, 'request submission failed after the ack'),
      ).catch((err: unknown) => logger.warn({ err }, 'could not DM the outcome of a late submission'));
      return;
    }
    if (outcome.ok && outcome.value.ok) return void (await ack());
    if (outcome.ok && !outcome.value.ok) {
      return void (await ack({ response_action: 'errors', errors: problemsToErrors(outcome.value.problems, REQUEST_FIELDS, 'name') }));
    }
    logger.error({ err: outcome.ok ? undefined : outcome.error }, 'request submission failed');
    await ack({ response_action: 'errors', errors: { name: 'vmbot could not store your request (an error on our side). Try again in a minute.' } });
  });

  // One view handler per kind that asks for a reason (Deny's callback is `vm:deny`).
  for (const kind of ACTION_KINDS.filter((k) => ACTIONS[k].needs === 'reason')) app.view(reasonCallback(kind), reasonSubmitted(kind));

  function reasonSubmitted(kind: ActionKind): Parameters<App['view']>[1] {
    return async ({ ack, body, view }) => {
      const meta = readDenyMetadata(view.private_metadata);
      if (!meta) return void (await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: `This form is out of date; press ${ACTION_WORDING[kind].label} on the card again.` } }));
      const reason = readDenyReason(view.state.values);
      try {
        const actor = await actors.actorFor(body.user.id, body.user.name);
        const outcome = await within(workflow.act(actor, { kind, requestId: meta.requestId, reason }), deadline);
        if (outcome === 'late') return void (await ack());
        if (!outcome.ok) throw outcome.error;
        if (outcome.value.ok) return void (await ack());
        await ack({ response_action: 'errors', errors: problemsToErrors(outcome.value.problems, [REASON_BLOCK], REASON_BLOCK) });
      } catch (err) {
        logger.error({ err, kind, requestId: meta.requestId }, 'a press with a reason failed');
        await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: 'vmbot could not record the decision (an error on our side). Try again in a minute.' } });
      }
    };
  }

  app.error(async (err) => {
    logger.error({ err: err.message, code: (err as { code?: string }).code }, 'unhandled error in a Slack handler');
  });
}

/** Refusals and errors go to the presser only: chat.postEphemeral in the card's channel, or response_url for ephemeral messages. */
async function tellPresser(client: WebClient, respond: RespondFn, to: { channel: string | undefined; user: string }, message: SlackMessage): Promise<void> {
  if (to.channel) {
    await client.chat.postEphemeral({ channel: to.channel, user: to.user, text: message.text, blocks: message.blocks });
  } else {
    await respond({ response_type: 'ephemeral', replace_original: false, text: message.text, blocks: message.blocks });
  }
}

function fromResult<T>(result: Result<T>, draw: (value: T) => SlackMessage): SlackMessage {
  return result.ok ? draw(result.value) : replyMessage({ kind: 'problems', problems: result.problems });
}

/** Already-escaped mrkdwn as a one-section message. */
function textMessage(escaped: string): SlackMessage {
  return { text: escaped, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escaped.slice(0, 3000) } }] };
}

function helpMessage(hint?: Wording): SlackMessage {
  return textMessage(helpText(hint));
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown } | 'late';

/** Waits for `promise` at most `ms`; never rejects. */
async function within<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), late]);
  } finally {
    clearTimeout(timer);
  }
}

// Routes interactions to the workflow. Everything needed to act is in the interaction itself
// (command options, or a custom_id holding the request id) and the store behind the workflow:
// no in-memory collectors, so a card drawn before a restart keeps working after it.
// Authorization is the workflow's: every press goes to it with the presser's Actor.
import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIEmbed,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { Logger } from '../../log.js';
import type { Result } from '../../domain/problem.js';
import { validateVmName } from '../../domain/validation.js';
import type { VmWorkflow } from '../../workflow/api.js';
import { ACTION_WORDING, UNKNOWN_BUTTON } from '../../workflow/notices.js';
import { ACTIONS, type ActionKind, type VmSummaryView } from '../../workflow/views.js';
import { actorFrom } from './actor.js';
import { COMMAND_NAME, FORM_FIELDS, reasonModal, requestModal } from './commands.js';
import { buttonId, parseCustomId, requestFormModalId } from './custom-ids.js';
import { consoleLogMessage, helpText, listEmbed, markdownOf, problemsText, vmEmbed, type ButtonRow } from './draw.js';
import { clip, inert, noPings } from './mentions.js';
import { within, withDeferral } from './respond.js';

export interface RouterDeps {
  workflow: VmWorkflow;
  logger: Logger;
  /** Work slower than this is deferred (Discord's deadline is 3 s). */
  deferAfterMs: number;
}

/** What an ephemeral answer holds. */
interface Answer {
  content?: string;
  embeds?: APIEmbed[];
  components?: ButtonRow[];
}

/** A modal must be the first answer, so its prefill cannot wait long. */
const PREFILL_WAIT_MS = 1_500;
/** Discord shows at most 25 autocomplete choices. */
const MAX_SUGGESTIONS = 25;

/** "Delete VM x?" with a confirmation button, for a kind that needs one (the action itself happens on that press). */
function confirmOffer(kind: ActionKind, vm: VmSummaryView): Answer {
  const wording = ACTION_WORDING[kind];
  const question = wording.confirm ? wording.confirm.question(vm.name) : [{ text: `${wording.label}: ` }, { strong: vm.name }];
  const style = ACTIONS[kind].style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Primary;
  const yes = clip(wording.confirm?.yes ?? wording.label, 80);
  const confirm: ButtonRow = { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style, label: yes, custom_id: buttonId(kind, vm.requestId, { confirmed: true }) }] };
  return { content: markdownOf(question), components: [confirm] };
}

const done = (kind: ActionKind) => (vm: VmSummaryView): Answer => ({ content: markdownOf(ACTION_WORDING[kind].done(vm.name)) });

export function createInteractionRouter(deps: RouterDeps): (interaction: Interaction) => Promise<void> {
  const { workflow, logger, deferAfterMs } = deps;

  /** Answers the actor only: directly when fast, else deferReply(ephemeral) + editReply. */
  async function answerPrivately(interaction: ChatInputCommandInteraction | ModalSubmitInteraction | ButtonInteraction, work: Promise<Answer>): Promise<void> {
    const { value, deferred } = await withDeferral(work, deferAfterMs, () => interaction.deferReply({ flags: MessageFlags.Ephemeral }));
    if (deferred) await interaction.editReply({ content: value.content ?? '', embeds: value.embeds ?? [], components: value.components ?? [], allowedMentions: noPings() });
    else await interaction.reply({ ...value, flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
  }

  /**
   * A press on the admin card. Success: acknowledge without touching the message; the workflow
   * redraws the card through drawCard (one writer, so no stale card can win). Refusal: ephemeral.
   */
  async function answerOnCard(interaction: ButtonInteraction | ModalSubmitInteraction, work: Promise<Result<unknown>>): Promise<void> {
    const { value, deferred } = await withDeferral(work, deferAfterMs, () => interaction.deferUpdate());
    if (value.ok) {
      if (!deferred) await interaction.deferUpdate();
      return;
    }
    const refusal = { content: problemsText(value.problems), flags: MessageFlags.Ephemeral, allowedMentions: noPings() } as const;
    if (deferred) await interaction.followUp(refusal);
    else await interaction.reply(refusal);
  }

  const summary = (result: Result<VmSummaryView>, ok: (vm: VmSummaryView) => Answer): Answer => (result.ok ? ok(result.value) : { content: problemsText(result.problems) });

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    if (interaction.commandName !== COMMAND_NAME) {
      await interaction.reply({ content: `Unknown command /${inert(interaction.commandName)}: run \`vmbot discord register\` again.`, flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
      return;
    }
    const actor = actorFrom(interaction);
    const sub = interaction.options.getSubcommand(true);
    const name = () => interaction.options.getString('name', true).trim();
    switch (sub) {
      case 'request': {
        const vmName = name();
        const distro = interaction.options.getString('distro', true);
        const size = interaction.options.getString('size', true);
        // Check the name before the member fills in the form (the workflow checks it again,
        // with the job prefix): a modal's values are lost when its answer is a refusal.
        const nameProblem = validateVmName(vmName, '');
        const customId = nameProblem ? undefined : requestFormModalId(vmName, distro, size);
        if (!customId) {
          const why = nameProblem ?? { code: 'invalid_name' as const, message: 'That VM name is too long: use at most 31 lower-case letters, digits and dashes.', field: 'name' };
          await interaction.reply({ content: problemsText([why]), flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
          return;
        }
        const form = await within(workflow.requestForm(actor), PREFILL_WAIT_MS, { distros: [], sizes: [], prefill: {} });
        await interaction.showModal(requestModal(customId, vmName, form));
        return;
      }
      case 'ip':
        return answerPrivately(interaction, workflow.ip(actor, name()).then((r) => summary(r, (vm) => ({ content: vm.ssh ? `\`${vm.ssh}\`` : `**${inert(vm.name)}** has no address yet (${inert(vm.stateLabel)}).`, embeds: [vmEmbed(vm)] }))));
      case 'status':
        return answerPrivately(interaction, workflow.status(actor, name()).then((r) => summary(r, (vm) => ({ embeds: [vmEmbed(vm)] }))));
      case 'logs':
        return answerPrivately(interaction, workflow.logs(actor, name()).then((r) => (r.ok ? consoleLogMessage(r.value) : { content: problemsText(r.problems) })));
      case 'list':
        return answerPrivately(
          interaction,
          workflow.list(actor).then((r) => (r.ok ? { embeds: [listEmbed(r.value, workflow.isAdmin(actor) ? 'all' : 'mine')] } : { content: problemsText(r.problems) })),
        );
      case 'delete':
        // As on Slack, deleting waits for a confirmed press; the workflow refuses (and audits) first.
        return answerPrivately(interaction, workflow.canAct(actor, { kind: 'delete', requestId: name() }).then((r) => summary(r, (vm) => confirmOffer('delete', vm))));
      case 'cancel':
        return answerPrivately(interaction, workflow.act(actor, { kind: 'cancel', requestId: name() }).then((r) => summary(r, done('cancel'))));
      case 'renew':
        return answerPrivately(interaction, workflow.act(actor, { kind: 'renew', requestId: name() }).then((r) => summary(r, done('renew'))));
      case 'stop':
      case 'start':
      case 'reboot': {
        const kind = sub;
        return answerPrivately(interaction, workflow.act(actor, { kind, requestId: name() }).then((r) => summary(r, done(kind))));
      }
      case 'rebuild':
        // Like delete: the rebuild waits for a confirmed press; the workflow refuses (and audits) first.
        return answerPrivately(interaction, workflow.canAct(actor, { kind: 'rebuild', requestId: name() }).then((r) => summary(r, (vm) => confirmOffer('rebuild', vm))));
      case 'expire':
        return answerPrivately(interaction, workflow.setExpiry(actor, name(), interaction.options.getString('date', true)).then((r) => summary(r, (vm) => ({ embeds: [vmEmbed(vm)] }))));
      case 'help':
        await interaction.reply({ content: helpText(), flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
        return;
      default:
        await interaction.reply({ content: `Unknown subcommand ${inert(sub)}: see \`/vm help\`.`, flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
    }
  }

  /**
   * Every button is `vm:<kind>[-confirm]:<id>` (custom-ids.ts), routed from the kind's spec
   * (views.ts ACTIONS): a reason opens its modal, a confirmation is offered privately first,
   * anything else goes to workflow.act. Refusals are the workflow's (and audited there).
   */
  async function onButton(interaction: ButtonInteraction): Promise<void> {
    const parsed = parseCustomId(interaction.customId);
    if (!parsed || parsed.kind !== 'button') {
      await interaction.reply({ content: markdownOf(UNKNOWN_BUTTON), flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
      return;
    }
    const actor = actorFrom(interaction);
    const { action: kind, requestId } = parsed;
    if (parsed.confirmed) {
      // The confirmation lives on an ephemeral message: replace it with the outcome.
      const work = workflow.act(actor, { kind, requestId }).then((r) => summary(r, done(kind)));
      const { value, deferred } = await withDeferral(work, deferAfterMs, () => interaction.deferUpdate());
      const body = { content: value.content ?? '', embeds: [], components: [], allowedMentions: noPings() };
      if (deferred) await interaction.editReply(body);
      else await interaction.update(body);
      return;
    }
    switch (ACTIONS[kind].needs) {
      case 'reason': {
        // Only who may act gets the reason form: the workflow refuses (and audits) anyone else.
        // A modal must be the first answer, so the check cannot be deferred.
        const allowed = await workflow.canAct(actor, { kind, requestId });
        if (!allowed.ok) return answerOnCard(interaction, Promise.resolve(allowed));
        await interaction.showModal(reasonModal(kind, requestId, allowed.value.name));
        return;
      }
      case 'confirmation':
        // Anyone who sees the button can press it: the workflow decides before the confirmation is offered.
        return answerPrivately(interaction, workflow.canAct(actor, { kind, requestId }).then((r) => summary(r, (vm) => confirmOffer(kind, vm))));
      case undefined:
        // In a DM (a notice's button) no card is redrawn: the presser is told the outcome there.
        if (!interaction.inGuild()) return answerPrivately(interaction, workflow.act(actor, { kind, requestId }).then((r) => summary(r, done(kind))));
        return answerOnCard(interaction, workflow.act(actor, { kind, requestId }));
    }
  }

  async function onModal(interaction: ModalSubmitInteraction): Promise<void> {
    const parsed = parseCustomId(interaction.customId);
    const actor = actorFrom(interaction);
    if (parsed?.kind === 'request-form') {
      const input = {
        name: parsed.name,
        distro: parsed.distro,
        size: parsed.size,
        login: interaction.fields.getTextInputValue(FORM_FIELDS.login).trim(),
        sshKeys: interaction.fields.getTextInputValue(FORM_FIELDS.sshKeys),
        reason: interaction.fields.getTextInputValue(FORM_FIELDS.reason).trim(),
      };
      return answerPrivately(
        interaction,
        workflow.submitRequest(actor, input).then((r) => summary(r, (vm) => ({ content: `Your request for VM **${inert(vm.name)}** is with the admins. You will get a direct message when it is decided and when the VM is up.` }))),
      );
    }
    if (parsed?.kind === 'reason') {
      const reason = interaction.fields.getTextInputValue(FORM_FIELDS.actionReason).trim();
      return answerOnCard(interaction, workflow.act(actor, { kind: parsed.action, requestId: parsed.requestId, reason }));
    }
    await interaction.reply({ content: 'This form is not one vmbot knows; start again with `/vm request`.', flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
  }

  /**
   * Suggests the member's VMs (an admin's: all) matching what they typed. Discord allows no
   * deferral here, so a slow list gives no suggestions rather than a late answer.
   */
  async function onAutocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const actor = actorFrom(interaction);
    const typed = interaction.options.getFocused().trim().toLowerCase();
    const sub = interaction.options.getSubcommand(false);
    const listed = await within(workflow.list(actor), PREFILL_WAIT_MS, { ok: true as const, value: [] as VmSummaryView[] });
    const vms = listed.ok ? listed.value : [];
    const choices = vms
      .filter((vm) => (sub === 'cancel' ? vm.state === 'pending' : true) && vm.name.includes(typed))
      .slice(0, MAX_SUGGESTIONS)
      .map((vm) => ({ name: clip(`${vm.name} — ${vm.stateLabel}`, 100), value: vm.name }));
    await interaction.respond(choices);
  }

  return async (interaction) => {
    // What came in and from whom; never the token, never member text.
    logger.debug(
      {
        interactionId: interaction.id,
        userId: interaction.user.id,
        ...(interaction.isChatInputCommand() || interaction.isAutocomplete() ? { command: `${interaction.commandName} ${interaction.options.getSubcommand(false) ?? ''}`.trim() } : {}),
        ...(interaction.isButton() || interaction.isModalSubmit() ? { customId: interaction.customId.slice(0, 40) } : {}),
      },
      'discord interaction',
    );
    try {
      if (interaction.isAutocomplete()) await onAutocomplete(interaction);
      else if (interaction.isChatInputCommand()) await onCommand(interaction);
      else if (interaction.isButton()) await onButton(interaction);
      else if (interaction.isModalSubmit()) await onModal(interaction);
    } catch (err) {
      logger.error({ err, interactionId: interaction.id }, 'discord interaction failed');
      if (!interaction.isRepliable()) return;
      const sorry = { content: 'Something went wrong on vmbot’s side (internal). Try again in a minute; if it keeps failing, tell an admin.', flags: MessageFlags.Ephemeral, allowedMentions: noPings() } as const;
      await (interaction.replied || interaction.deferred ? interaction.followUp(sorry) : interaction.reply(sorry)).catch((e: unknown) => logger.warn({ err: e }, 'could not tell the member about the failure'));
    }
  };
}

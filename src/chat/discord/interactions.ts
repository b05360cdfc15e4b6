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
import type { VmSummaryView } from '../../workflow/views.js';
import { actorFrom } from './actor.js';
import { COMMAND_NAME, FORM_FIELDS, denyModal, requestModal } from './commands.js';
import { buttonId, parseCustomId, requestFormModalId } from './custom-ids.js';
import { HELP_TEXT, listEmbed, problemsText, vmEmbed, type ButtonRow } from './draw.js';
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

/** "Delete VM x?" with a confirmation button (the deletion itself happens on the press). */
function deleteOffer(requestId: string, vmName: string): Answer {
  const confirm: ButtonRow = { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Delete it', custom_id: buttonId('delete-confirm', requestId) }] };
  return { content: `Delete VM **${inert(vmName)}**? Its job is stopped and purged and its address freed. This cannot be undone.`, components: [confirm] };
}

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
      case 'list':
        return answerPrivately(
          interaction,
          workflow.list(actor).then((r) => (r.ok ? { embeds: [listEmbed(r.value, workflow.isAdmin(actor) ? 'all' : 'mine')] } : { content: problemsText(r.problems) })),
        );
      case 'delete':
        // As on Slack, deleting waits for a confirmed press; status also checks the member may see it.
        return answerPrivately(interaction, workflow.status(actor, name()).then((r) => summary(r, (vm) => deleteOffer(vm.requestId, vm.name))));
      case 'cancel':
        return answerPrivately(interaction, workflow.cancel(actor, name()).then((r) => summary(r, (vm) => ({ content: `Your request for **${inert(vm.name)}** is cancelled.` }))));
      case 'help':
        await interaction.reply({ content: HELP_TEXT, flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
        return;
      default:
        await interaction.reply({ content: `Unknown subcommand ${inert(sub)}: see \`/vm help\`.`, flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
    }
  }

  async function onButton(interaction: ButtonInteraction): Promise<void> {
    const parsed = parseCustomId(interaction.customId);
    if (!parsed || parsed.kind !== 'button') {
      await interaction.reply({ content: 'This button is not one vmbot knows (the card may be from an older version). Use `/vm status` instead.', flags: MessageFlags.Ephemeral, allowedMentions: noPings() });
      return;
    }
    const actor = actorFrom(interaction);
    const { requestId } = parsed;
    switch (parsed.action) {
      case 'approve':
        return answerOnCard(interaction, workflow.approve(actor, requestId));
      case 'retry':
        return answerOnCard(interaction, workflow.retry(actor, requestId));
      case 'cancel':
        return answerOnCard(interaction, workflow.cancel(actor, requestId));
      case 'deny': {
        // Only an admin gets the reason form; anyone else is refused by the workflow itself,
        // which also records the refused attempt in the audit log.
        if (!workflow.isAdmin(actor)) return answerOnCard(interaction, workflow.deny(actor, requestId, ''));
        const card = await within(workflow.card(requestId), PREFILL_WAIT_MS, undefined);
        await interaction.showModal(denyModal(requestId, card?.name ?? requestId));
        return;
      }
      case 'delete':
        // Anyone in the admin channel can press it: the workflow decides (and audits a refusal)
        // before the confirmation is offered, as /vm delete does.
        return answerPrivately(interaction, workflow.status(actor, requestId).then((r) => summary(r, (vm) => deleteOffer(requestId, vm.name))));
      case 'delete-confirm': {
        // The confirmation lives on an ephemeral message: replace it with the outcome.
        const work = workflow.delete(actor, requestId).then((r) => summary(r, (vm) => ({ content: `VM **${inert(vm.name)}** is being deleted.` })));
        const { value, deferred } = await withDeferral(work, deferAfterMs, () => interaction.deferUpdate());
        const body = { content: value.content ?? '', embeds: [], components: [], allowedMentions: noPings() };
        if (deferred) await interaction.editReply(body);
        else await interaction.update(body);
        return;
      }
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
    if (parsed?.kind === 'deny-reason') {
      return answerOnCard(interaction, workflow.deny(actor, parsed.requestId, interaction.fields.getTextInputValue(FORM_FIELDS.denyReason).trim()));
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

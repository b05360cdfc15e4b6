// Quotas in the workflow: which of a member's requests count against their quota, the check
// the request form runs before a request is stored, and the line the admin card shows. The
// rules themselves (limits, groups, messages) are src/domain/quota.ts's.
import type { Problem } from '../domain/problem.js';
import { checkQuota, effectiveQuota, quotaSummary, quotaUsage, type QuotaLimits, type QuotaUsage } from '../domain/quota.js';
import type { MemberRef, VmRequest } from '../domain/request.js';
import { NAME_HOLDING_STATES, type RequestState } from '../domain/states.js';
import type { WorkflowContext } from './context.js';
import type { RequestCardView } from './views.js';

type QuotaContext = Pick<WorkflowContext, 'config' | 'store'>;

/**
 * What counts against a quota: requests waiting for approval and every VM that exists or is
 * being made, stopped and failed ones included (they keep their MAC and can be started or
 * retried). A VM being deleted does not: the member already gave it up, and a deletion the
 * cluster delays must not keep them from asking for its replacement.
 */
export const QUOTA_STATES: readonly RequestState[] = NAME_HOLDING_STATES.filter((s) => s !== 'deleting');

/** The member's limits with their groups' overrides (config.policy.quota, policy.maxVmsPerMember). */
export function memberQuota(ctx: QuotaContext, groups: readonly string[]): QuotaLimits {
  return effectiveQuota(ctx.config.policy, groups);
}

/** What the member holds now; `except` leaves one request out (the one a card is about). */
export async function memberUsage(ctx: QuotaContext, member: MemberRef, except?: string): Promise<QuotaUsage> {
  const held = await ctx.store.requests.list({ requester: member, states: QUOTA_STATES });
  return quotaUsage(
    held.filter((r) => r.id !== except),
    ctx.config.sizes,
  );
}

/**
 * Problems of a new request of `size` by this member: CPU and memory on the `size` field,
 * the VM count without a field (the forms show it on their first field). Empty when it fits.
 * `size` must be a configured size (validateRequest checked it).
 */
export async function quotaProblems(ctx: QuotaContext, member: MemberRef, groups: readonly string[], size: string): Promise<Problem[]> {
  const quota = memberQuota(ctx, groups);
  if (quota.vms === undefined && quota.cpu === undefined && quota.memory === undefined) return [];
  const resources = ctx.config.sizes.find((s) => s.name === size);
  if (!resources) return [];
  return checkQuota(quota, await memberUsage(ctx, member), resources);
}

/** The requester's use before this request against their quota (e.g. "2 of 3 VMs, 8000/12000 MHz, 6144/8192 MiB"). */
export async function cardQuotaLine(ctx: QuotaContext, req: Pick<VmRequest, 'id' | 'requester' | 'requesterGroups'>): Promise<string> {
  const quota = memberQuota(ctx, req.requesterGroups ?? []);
  return quotaSummary(quota, await memberUsage(ctx, req.requester, req.id));
}

/** Whether the configuration sets any quota (without one, cards say nothing about it). */
function quotasOn(ctx: QuotaContext): boolean {
  const { quota, maxVmsPerMember } = ctx.config.policy;
  return maxVmsPerMember > 0 || quota.vms !== undefined || quota.cpu !== undefined || quota.memory !== undefined || quota.groups.length > 0;
}

/**
 * The card with the requester's use against their quota while the request waits for the
 * admins (what they decide on); other cards, and every card when no quota is set, as they are.
 */
export async function withQuotaLine(ctx: QuotaContext, req: VmRequest, card: RequestCardView): Promise<RequestCardView> {
  if (req.state !== 'pending' || !quotasOn(ctx)) return card;
  return { ...card, quota: await cardQuotaLine(ctx, req) };
}

// Progress writes of the background work: store.update guarded by the states the step
// expects. When the request left them (a Delete pressed mid-way) the write is refused and
// the step stops with Superseded instead of carrying on.
import type { VmRequest } from '../domain/request.js';
import type { RequestState } from '../domain/states.js';
import type { RequestPatch } from '../store/types.js';
import type { WorkflowContext } from './context.js';

export const PROVISIONING_STATES: readonly RequestState[] = ['approved', 'provisioning'];

/** Thrown when the request left the state a step expects (e.g. deleted meanwhile). */
export class Superseded extends Error {}

/** The card redraws from the store's change event (bookkeeping such as the console offset emits none). */
export async function saveProgress(
  ctx: Pick<WorkflowContext, 'store'>,
  id: string,
  patch: RequestPatch,
  states: readonly RequestState[] = PROVISIONING_STATES,
): Promise<VmRequest> {
  const updated = await ctx.store.requests.update(id, states, patch);
  if (!updated) throw new Superseded(`request ${id} is no longer in ${states.join('/')}`);
  return updated;
}

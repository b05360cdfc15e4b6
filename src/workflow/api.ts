// The use cases the chat adapters call (one normalised inbound command each). Every
// method decides authorization itself from the Actor; adapters only translate.
import type { Actor, RequestInput } from '../domain/request.js';
import type { Result } from '../domain/problem.js';
import type { ActionCommand, ChatSurface, ConsoleLogView, RequestCardView, RequestFormView, VmSummaryView } from './views.js';

export interface VmWorkflow {
  /** Form choices and the member's prefill (last login and keys). */
  requestForm(actor: Actor): Promise<RequestFormView>;
  /** Validates every field (problems carry the field), stores a pending request, draws the admin card. */
  submitRequest(actor: Actor, input: RequestInput): Promise<Result<VmSummaryView>>;
  /**
   * Every button press (views.ts ACTION_KINDS), whatever the adapter: runs the kind's use case
   * below. An unknown kind is refused and audited. Adapters call this, not the methods below.
   */
  act(actor: Actor, command: ActionCommand): Promise<Result<VmSummaryView>>;
  /**
   * Would `act` be allowed now? For presses that ask something first (a reason, a confirmation):
   * a refusal is audited and returned before any form opens; nothing changes either way.
   */
  canAct(actor: Actor, command: Omit<ActionCommand, 'reason'>): Promise<Result<VmSummaryView>>;
  /** Admin only; idempotent; starts provisioning in the background. */
  approve(actor: Actor, requestId: string): Promise<Result<VmSummaryView>>;
  /** Admin only; a reason is required. */
  deny(actor: Actor, requestId: string, reason: string): Promise<Result<VmSummaryView>>;
  /** The requester, while pending. `ref` is a request id or a VM name. */
  cancel(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Admin only, from `failed`: same MAC, same job. */
  retry(actor: Actor, requestId: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin. Stops + purges the job, unpublishes, releases the MAC when the allocation stopped. */
  delete(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /**
   * The owner only (an admin uses setExpiry): extends the lease by policy.lease; the first
   * autoRenewals at once (a VM stopped for its lease starts again), later ones ask the admins.
   */
  renew(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Admin only, authorized like approve (policy.allowSelfApproval): a renewal the owner asked for past the automatic ones. */
  decideRenewal(actor: Actor, requestId: string, verb: 'approve' | 'deny'): Promise<Result<VmSummaryView>>;
  /** Admin only: the VM's lease ends at the end (24:00 UTC) of `date` (YYYY-MM-DD); the member is told. */
  setExpiry(actor: Actor, ref: string, date: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin, running: the job stopped without purge (name, MAC, address and cloud-init files kept). */
  stop(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin, stopped: the same job again (same MAC, same seed URL), watched until the address shows. */
  start(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin, running: Nomad's in-place restart of the current allocation (same disk); stays running. */
  reboot(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin, running or stopped (adapters confirm first): a fresh disk and a new cloud-init instance-id, same name, MAC and address. */
  rebuild(actor: Actor, ref: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin. */
  ip(actor: Actor, name: string): Promise<Result<VmSummaryView>>;
  status(actor: Actor, name: string): Promise<Result<VmSummaryView>>;
  /** Owner or admin: the last 40 console lines of the VM's current allocation, fit to show (secrets removed). */
  logs(actor: Actor, name: string): Promise<Result<ConsoleLogView>>;
  /** Mine; all for admins. */
  list(actor: Actor): Promise<Result<VmSummaryView[]>>;
  /** The card as it stands (for redraws). */
  card(requestId: string): Promise<RequestCardView | undefined>;
  isAdmin(actor: Actor): boolean;
  /** Chat adapters register themselves; a request's card and notices go to the surface of its platform. */
  attachSurface(surface: ChatSurface): void;
  /** Every card change (coalesced), whatever the platform: the web console's live view listens here. */
  onCard(listener: (card: RequestCardView) => void): () => void;
  /** Picks up every request left in approved/provisioning/deleting (called once at start). */
  resume(): Promise<void>;
  /** Stops watchers and timers; waits for in-flight work to settle. */
  close(): Promise<void>;
}

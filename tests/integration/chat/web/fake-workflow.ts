// A small in-memory VmWorkflow for the console's HTTP tests: it records who called what and
// emits cards like the real one, so these tests exercise the console alone. The browser test
// (tests/e2e) runs the real workflow on the simulated cluster.
import type { Actor, MemberRef, RequestInput, VmRequest } from '../../../../src/domain/request.js';
import { fail, ok, problem, type Result } from '../../../../src/domain/problem.js';
import type { ActionCommand, ChatSurface, ConsoleLogView, RequestCardView, RequestFormView, VmSummaryView } from '../../../../src/workflow/views.js';
import { actThrough } from '../../../support/views.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import type { WebConsoleStore } from '../../../../src/chat/web/index.js';
import type { AuditRow, MacUsage } from '../../../../src/store/types.js';

export interface Call {
  method: string;
  actor: Actor;
  args: unknown[];
}

export class FakeWorkflow implements VmWorkflow {
  readonly calls: Call[] = [];
  readonly requests = new Map<string, VmRequest>();
  private readonly listeners = new Set<(card: RequestCardView) => void>();
  private readonly versions = new Map<string, number>();
  private nextId = 1;

  constructor(private readonly admins: string[]) {}

  async requestForm(actor: Actor): Promise<RequestFormView> {
    this.calls.push({ method: 'requestForm', actor, args: [] });
    return { distros: [{ value: 'debian-12', label: 'Debian 12' }], sizes: [{ value: 'small', label: '2 GB' }], prefill: { login: 'alice' } };
  }

  async submitRequest(actor: Actor, input: RequestInput): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'submitRequest', actor, args: [input] });
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(input.name)) return fail(problem('invalid_name', 'Use lower-case letters, digits and dashes for the name.', 'name'));
    const now = new Date().toISOString();
    const request: VmRequest = {
      id: `req${this.nextId++}`, name: input.name, distro: input.distro, size: input.size, login: input.login, sshKeys: [input.sshKeys], reason: input.reason,
      requester: { platform: actor.platform, userId: actor.userId }, state: 'pending', mac: null, jobId: null, cluster: null, seedToken: null, evalId: null, allocId: null,
      logOffset: 0, progress: null, address: null, decision: null, failure: null, createdAt: now, updatedAt: now, approvedAt: null, stopReason: null, rebuilds: 0, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null,
    };
    this.requests.set(request.id, request);
    this.emit(request);
    return ok(this.summary(request));
  }

  async approve(actor: Actor, requestId: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'approve', actor, args: [requestId] });
    if (!this.isAdmin(actor)) return fail(problem('forbidden', 'Only admins can approve requests.'));
    const r = this.requests.get(requestId);
    if (!r) return fail(problem('not_found', `No request ${requestId}.`));
    r.state = 'provisioning';
    r.approvedAt = new Date().toISOString();
    this.emit(r);
    return ok(this.summary(r));
  }

  async deny(actor: Actor, requestId: string, reason: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'deny', actor, args: [requestId, reason] });
    return this.simple(requestId, 'denied');
  }
  async cancel(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'cancel', actor, args: [ref] });
    return this.simple(ref, 'cancelled');
  }
  async retry(actor: Actor, requestId: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'retry', actor, args: [requestId] });
    return this.simple(requestId, 'provisioning');
  }
  async delete(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'delete', actor, args: [ref] });
    return this.simple(ref, 'deleted');
  }
  async renew(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'renew', actor, args: [ref] });
    return this.simple(ref, 'running');
  }
  async decideRenewal(actor: Actor, requestId: string, verb: 'approve' | 'deny'): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'decideRenewal', actor, args: [requestId, verb] });
    return this.simple(requestId, 'running');
  }
  async stop(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'stop', actor, args: [ref] });
    return this.simple(ref, 'stopped');
  }
  async start(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'start', actor, args: [ref] });
    return this.simple(ref, 'provisioning');
  }
  async reboot(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'reboot', actor, args: [ref] });
    return this.simple(ref, 'running');
  }
  async rebuild(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'rebuild', actor, args: [ref] });
    return this.simple(ref, 'provisioning');
  }
  async setExpiry(actor: Actor, ref: string, date: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'setExpiry', actor, args: [ref, date] });
    return this.simple(ref, 'running');
  }
  act(actor: Actor, command: ActionCommand): Promise<Result<VmSummaryView>> {
    return actThrough(this, actor, command);
  }
  async canAct(actor: Actor, command: Omit<ActionCommand, 'reason'>): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'canAct', actor, args: [command.kind, command.requestId] });
    const r = this.requests.get(command.requestId);
    return r ? ok(this.summary(r)) : fail(problem('not_found', `No request ${command.requestId}.`));
  }
  async ip(actor: Actor, name: string): Promise<Result<VmSummaryView>> {
    this.calls.push({ method: 'ip', actor, args: [name] });
    const r = [...this.requests.values()].find((x) => x.name === name);
    return r ? ok(this.summary(r)) : fail(problem('not_found', `No VM named ${name}.`, 'name'));
  }
  async status(actor: Actor, name: string): Promise<Result<VmSummaryView>> {
    return this.ip(actor, name);
  }
  async logs(actor: Actor, name: string): Promise<Result<ConsoleLogView>> {
    this.calls.push({ method: 'logs', actor, args: [name] });
    const found = await this.ip(actor, name);
    return found.ok ? ok({ requestId: found.value.requestId, name: found.value.name, allocation: 'a1b2c3d4', lines: ['debian login: '] }) : found;
  }
  async list(actor: Actor): Promise<Result<VmSummaryView[]>> {
    this.calls.push({ method: 'list', actor, args: [] });
    return ok([...this.requests.values()].filter((r) => this.isAdmin(actor) || r.requester.userId === actor.userId).map((r) => this.summary(r)));
  }
  async card(requestId: string): Promise<RequestCardView | undefined> {
    const r = this.requests.get(requestId);
    return r ? this.cardOf(r) : undefined;
  }
  isAdmin(actor: Actor): boolean {
    return this.admins.includes(actor.userId);
  }
  attachSurface(_surface: ChatSurface): void {}
  onCard(listener: (card: RequestCardView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async resume(): Promise<void> {}
  async close(): Promise<void> {}

  /** Adds a request as if another member had filed it. */
  addForeign(requester: MemberRef, name: string): VmRequest {
    const now = new Date().toISOString();
    const r: VmRequest = { id: `req${this.nextId++}`, name, requester, state: 'pending', distro: 'debian-12', size: 'small', login: 'bob', sshKeys: [], reason: '', mac: null, jobId: null, cluster: null, seedToken: null, evalId: null, allocId: null, logOffset: 0, progress: null, address: null, decision: null, failure: null, createdAt: now, updatedAt: now, approvedAt: null, stopReason: null, rebuilds: 0, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null };
    this.requests.set(r.id, r);
    this.emit(r);
    return r;
  }

  emit(r: VmRequest): void {
    const card = this.cardOf(r);
    for (const l of this.listeners) l(card);
  }

  private simple(id: string, state: VmRequest['state']): Result<VmSummaryView> {
    const r = this.requests.get(id) ?? [...this.requests.values()].find((x) => x.name === id);
    if (!r) return fail(problem('not_found', `No request ${id}.`));
    r.state = state;
    this.emit(r);
    return ok(this.summary(r));
  }

  private summary(r: VmRequest): VmSummaryView {
    return { requestId: r.id, name: r.name, owner: r.requester, state: r.state, stateLabel: r.state, distroLabel: 'Debian 12', sizeLabel: '2 GB' };
  }

  private cardOf(r: VmRequest): RequestCardView {
    const version = (this.versions.get(r.id) ?? 0) + 1;
    this.versions.set(r.id, version);
    return {
      requestId: r.id, name: r.name, requester: r.requester, distroLabel: 'Debian 12', sizeLabel: '2 GB', login: r.login, reason: r.reason, state: r.state,
      stateLabel: r.state, progress: [], actions: r.state === 'pending' ? [{ kind: 'approve', requestId: r.id, label: 'Approve', style: 'primary' }] : [], version,
      ...(r.address ? { address: { ...r.address, ssh: `ssh ${r.login}@${r.address.ipv4 ?? ''}` } } : {}),
      ...(r.failure ? { failure: r.failure } : {}),
    };
  }
}

/** The read-only store surface the console uses, backed by the fake's requests. */
export function fakeStore(workflow: FakeWorkflow, audit: AuditRow[] = []): WebConsoleStore & { requests: { get(id: string): Promise<VmRequest | undefined> } } {
  const usage: MacUsage = { total: 256, used: 1, reserved: 1, external: 0, free: 254, holders: [{ mac: '52:54:84:ba:49:01', holder: { kind: 'reserved', note: 'distro-vm' } }] };
  return {
    requests: {
      async list(filter) {
        return [...workflow.requests.values()].filter((r) => !filter?.requester || (r.requester.platform === filter.requester.platform && r.requester.userId === filter.requester.userId));
      },
      async get(id) {
        return workflow.requests.get(id);
      },
    },
    macs: { usage: async () => usage },
    audit: { list: async () => audit },
  };
}

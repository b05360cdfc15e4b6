// The last stretch of provisioning: the submitted job is followed by the Watcher until the
// guest prints its address (one Watcher per cluster: its port, poll interval and ip timeout). This part turns the watcher's events into store changes:
// progress (allocation, console offset), provisioning → running with the 'up' notice, or
// a failure for the recorder. A VM that went up without its SSH host keys stays watched
// for them until nomad.hostKeysTimeout: they are stored and sent in one follow-up notice
// ('host_keys'); after a restart in that window, resumeHostKeys() picks the wait up again.
import { knownHostsLines, type HostKeys } from '../domain/hostkeys.js';
import type { VmRequest } from '../domain/request.js';
import { sshCommand } from './cards.js';
import { SYSTEM, type Step, type WorkflowContext } from './context.js';
import type { FailureRecorder } from './failure-recorder.js';
import { clusterOf } from './nomad-target.js';
import { saveProgress, Superseded } from './progress.js';
import type { HostKeysView } from './views.js';
import { Watcher, type WatchProgress } from './watcher.js';

/** What the store holds of a VM that may still be waiting for its host keys. */
type KeysCandidate = Pick<VmRequest, 'state' | 'address' | 'hostKeys'>;

/** The keys for the up notice: fingerprints, and known_hosts lines for the address the ssh command uses. */
export function hostKeysView(keys: HostKeys, host: string): HostKeysView {
  let knownHosts: string[] = [];
  try {
    knownHosts = knownHostsLines(host, keys.publicKeys);
  } catch {
    // Not an address known_hosts can hold: the fingerprints alone still verify the login.
  }
  return { fingerprints: keys.fingerprints.map((f) => ({ type: f.type, fingerprint: f.fingerprint })), knownHosts };
}

export class BootWatch {
  /** By cluster name. maxConcurrentReads applies per cluster (each has its own connection). */
  private readonly watchers = new Map<string, Watcher>();

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly opts: { maxConcurrentReads: number; failures: () => FailureRecorder },
  ) {
    for (const cluster of ctx.clusters.names) {
      const settings = ctx.clusters.settings(cluster);
      this.watchers.set(
        cluster,
        new Watcher({
          nomad: ctx.clusters.port(cluster),
          logger: ctx.logger.child({ part: 'watcher', cluster }),
          pollIntervalMs: settings.pollInterval,
          ipTimeoutMs: settings.ipTimeout,
          maxConcurrent: opts.maxConcurrentReads,
          hostKeyWaitMs: ctx.config.nomad.hostKeyWait,
          hostKeysTimeoutMs: ctx.config.nomad.hostKeysTimeout,
          events: {
            onProgress: (id, patch) => this.onProgress(id, patch),
            onAddress: (id, address, hostKeys) => this.onAddress(id, address, hostKeys),
            onFailure: (id, failure) => opts.failures().record(id, failure),
            onLateHostKeys: (id, allocId, hostKeys) => this.onLateHostKeys(id, allocId, hostKeys),
            onHostKeysMissing: async (id, why) => this.ctx.logger.debug({ requestId: id, why }, 'no host keys on the console; no follow-up notice'),
          },
        }),
      );
    }
  }

  /** Whether a VM's console is being watched (on whichever cluster). */
  isWatching(requestId: string): boolean {
    return [...this.watchers.values()].some((w) => w.isWatching(requestId));
  }

  /** VMs watched on every cluster together. */
  get size(): number {
    return [...this.watchers.values()].reduce((n, w) => n + w.size, 0);
  }

  watch(req: VmRequest): void {
    if (!req.jobId || !req.mac) return;
    const cluster = clusterOf(this.ctx, req);
    const watcher = this.watchers.get(cluster);
    if (!watcher) {
      // Recorded under a cluster that is no longer configured: nothing can watch it.
      void this.opts.failures().record(req.id, {
        code: 'nomad_rejected',
        message: `The VM is on Nomad cluster "${cluster}", which is no longer configured (nomad.clusters): add it back and restart vmbot, or delete the VM.`,
      }).catch((err: unknown) => this.ctx.logger.error({ err, requestId: req.id }, 'could not record the failure'));
      return;
    }
    watcher.watch({ requestId: req.id, jobId: req.jobId, mac: req.mac, allocId: req.allocId, logOffset: req.logOffset, progress: req.progress });
  }

  unwatch(requestId: string): void {
    for (const watcher of this.watchers.values()) watcher.unwatch(requestId);
  }

  /** Whether a VM that is up is still watched for its late host keys. */
  isFollowingKeys(requestId: string): boolean {
    return [...this.watchers.values()].some((w) => w.isFollowingKeys(requestId));
  }

  /**
   * After a restart: running VMs that went up without host keys less than
   * nomad.hostKeysTimeout ago are read for them again, from the stored allocation and
   * console offset (where the address was found), until what is left of the window.
   */
  async resumeHostKeys(): Promise<void> {
    const timeout = this.ctx.config.nomad.hostKeysTimeout;
    for (const req of await this.ctx.store.requests.list({ states: ['running'] })) {
      const left = this.keysWindowLeft(req, timeout);
      const watcher = this.watchers.get(clusterOf(this.ctx, req));
      if (left <= 0 || !watcher || !req.jobId || !req.mac || !req.allocId) continue;
      watcher.followKeys({ requestId: req.id, jobId: req.jobId, mac: req.mac, allocId: req.allocId, logOffset: req.logOffset, timeoutMs: left });
    }
  }

  private keysWindowLeft(req: KeysCandidate, timeout: number): number {
    if (req.state !== 'running' || req.hostKeys !== null || !req.address) return 0;
    const seen = Date.parse(req.address.seenAt);
    return Number.isNaN(seen) ? 0 : seen + timeout - this.ctx.now().getTime();
  }

  async close(): Promise<void> {
    await Promise.all([...this.watchers.values()].map((w) => w.close()));
  }

  private step(step: Step, requestId: string): void {
    this.ctx.hooks.step?.(step, requestId);
  }

  private async onProgress(id: string, patch: WatchProgress): Promise<void> {
    const first = patch.allocId !== undefined && patch.logOffset === 0;
    await saveProgress(this.ctx, id, patch, ['provisioning']).catch((err: unknown) => {
      if (err instanceof Superseded) this.unwatch(id);
      else throw err;
    });
    if (first) this.step('after_allocation', id);
  }

  private async onAddress(id: string, found: { ipv4?: string; ipv6: string[] }, hostKeys?: HostKeys): Promise<void> {
    const address = { ...(found.ipv4 ? { ipv4: found.ipv4 } : {}), ipv6: found.ipv6, seenAt: this.ctx.now().toISOString() };
    const shown = found.ipv4 ?? found.ipv6[0] ?? '';
    // This boot's keys, or none known (a fresh disk's keys replace whatever an older one had).
    const fingerprints = hostKeys?.fingerprints.length ? hostKeys.fingerprints : null;
    // A VM that ran before (start, rebuild, a move to another node) says why its keys changed.
    const bootCause = (await this.ctx.store.requests.get(id))?.bootCause ?? null;
    const req = await this.ctx.store.requests.transition(id, 'provisioning', 'running', { address, progress: 'address', failure: null, hostKeys: fingerprints, bootCause: null }, {
      actor: SYSTEM,
      action: 'state:provisioning->running',
      detail: `address ${shown}`,
    });
    if (!req) return;
    this.step('after_address', id);
    await this.ctx.notifier.notify(req.requester, {
      kind: 'up',
      requestId: id,
      name: req.name,
      ...(address.ipv4 ? { ipv4: address.ipv4 } : {}),
      ...(address.ipv6.length ? { ipv6: address.ipv6 } : {}),
      ssh: sshCommand(req.login, address) ?? '',
      ...(hostKeys ? { hostKeys: hostKeysView(hostKeys, shown) } : {}),
      ...(bootCause ? { after: bootCause } : {}),
    });
  }

  /**
   * The keys of a VM that went up without them: stored, and sent once, while it is still
   * running on the allocation they were read from with no keys recorded (a stop, rebuild,
   * move or delete in between ends the watch or fails these checks: nothing is sent).
   */
  private async onLateHostKeys(id: string, allocId: string, hostKeys: HostKeys): Promise<void> {
    const before = await this.ctx.store.requests.get(id);
    if (!before || before.state !== 'running' || before.allocId !== allocId || before.hostKeys !== null || !before.address) return;
    const req = await this.ctx.store.requests.update(id, ['running'], { hostKeys: hostKeys.fingerprints });
    if (!req?.address) return;
    const shown = req.address.ipv4 ?? req.address.ipv6?.[0] ?? '';
    await this.ctx.store.audit.append({ actor: SYSTEM, action: 'host_keys_late', requestId: id, vmName: req.name, detail: `${hostKeys.fingerprints.length} fingerprints printed after the up notice; sent to the member` });
    await this.ctx.notifier.notify(req.requester, { kind: 'host_keys', requestId: id, name: req.name, hostKeys: hostKeysView(hostKeys, shown) });
  }
}

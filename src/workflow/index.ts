// The workflow's composition: createWorkflow wires the use cases to the ports it is given.
// It imports no adapter (DESIGN §3): only domain/, the port types and the logger type.
import type { VmWorkflow } from './api.js';
import { toCard } from './cards.js';
import type { WorkflowHooks, WorkflowPorts } from './context.js';
import { Notifier } from './notifier.js';
import { withQuotaLine } from './quota.js';
import { Workflow } from './workflow.js';

export type { VmWorkflow } from './api.js';
export { DELETE_STEPS, PROVISION_STEPS, STEPS, type Step, type WorkflowHooks } from './context.js';

export interface WorkflowDeps extends WorkflowPorts {
  now?: () => Date;
  newSeedToken: () => string;
  /** Trailing window for card redraws, ms (default 250). */
  coalesceMs?: number;
  /** How long deletion waits for allocations to stop before backing off (default 5 min). */
  deleteTimeoutMs?: number;
  /** Concurrent log reads across all watched VMs (default 4). */
  maxConcurrentReads?: number;
  /** Provisionings talking to Nomad at once (default 4). */
  maxConcurrentProvisions?: number;
  /** How often running VMs are checked for a vanished job, ms (default 5 min; 0 = only at start). */
  liveCheckMs?: number;
  hooks?: WorkflowHooks;
}

export function createWorkflow(deps: WorkflowDeps): VmWorkflow {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ part: 'workflow' });
  const notifier = new Notifier({
    store: deps.store,
    logger,
    coalesceMs: deps.coalesceMs ?? 250,
    now,
    toCard: (req, version) => withQuotaLine(deps, req, toCard(deps.config, req, version, now())),
  });
  return new Workflow(
    {
      config: deps.config,
      store: deps.store,
      clusters: deps.clusters,
      publisher: deps.publisher,
      renderer: deps.renderer,
      logger,
      isAdmin: (actor) => deps.isAdmin(actor),
      now,
      newSeedToken: deps.newSeedToken,
      notifier,
      hooks: deps.hooks ?? {},
    },
    { deleteTimeoutMs: deps.deleteTimeoutMs ?? 300_000, maxConcurrentReads: deps.maxConcurrentReads ?? 4, maxConcurrentProvisions: deps.maxConcurrentProvisions ?? 4, liveCheckMs: deps.liveCheckMs ?? 300_000 },
  );
}

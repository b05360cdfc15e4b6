// What every part of the workflow shares: the ports, the configuration, the notifier and
// the watcher, plus the test hook that marks each provisioning step.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Actor, MemberRef } from '../domain/request.js';
import type { NomadClusters } from '../nomad/port.js';
import type { Publisher } from '../cloudinit/port.js';
import type { Renderer } from '../render/types.js';
import type { Store } from '../store/types.js';
import type { Notifier } from './notifier.js';

/** The points between provisioning steps, in order; a crash test kills the process at each. */
export const PROVISION_STEPS = [
  'after_approve',
  'after_provisioning',
  'after_mac_allocate',
  'after_mac',
  'after_render',
  'after_publish',
  'after_job_check',
  'after_submit',
  'after_submit_recorded',
  'after_allocation',
  'after_address',
] as const;
/** The points between deletion steps, in order. */
export const DELETE_STEPS = ['after_stop', 'after_unpublish', 'after_release'] as const;
export const STEPS = [...PROVISION_STEPS, ...DELETE_STEPS] as const;
export type Step = (typeof STEPS)[number];

export interface WorkflowHooks {
  /** Called synchronously at each step (tests use it to simulate a crash there). */
  step?(step: Step, requestId: string): void;
}

/** vmbot itself, in audit rows of automatic changes. */
export const SYSTEM: MemberRef = { platform: 'cli', userId: 'system', displayName: 'vmbot' };

/** What the workflow is given from outside: the configuration, the ports and the logger. */
export interface WorkflowPorts {
  config: Config;
  store: Store;
  /** Every Nomad cluster; a request's job lives on the one it recorded (nomad-target.ts). */
  clusters: NomadClusters;
  publisher: Publisher;
  renderer: Renderer;
  logger: Logger;
  /** Who is an admin: decided outside the workflow from the chat platforms' rules (src/config/platforms.ts adminDecision). */
  isAdmin(actor: Actor): boolean;
}

export interface WorkflowContext extends WorkflowPorts {
  now: () => Date;
  newSeedToken: () => string;
  notifier: Notifier;
  hooks: WorkflowHooks;
}

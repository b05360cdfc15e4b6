// The one way vmbot's long-running parts are started and stopped. Every part that holds a
// port, a connection or a timer (the NoCloud server, the simulated cluster, each chat
// adapter, the web console, the core itself) is a Component; a process is an ordered list
// of them. Starting goes front to back and stops at the first failure (undoing what was
// started); stopping goes back to front, so nothing is torn down while a later part still
// uses it. Nothing starts a server behind this list's back: that is how one port was once
// bound twice (a publisher started the NoCloud server and so did the composition root).
import type { Logger } from './log.js';

export type CheckStatus = 'ok' | 'fail' | 'skip';

/** One line of `vmbot doctor`: a component's check says what it found and what to do about it. */
export interface CheckResult {
  status: CheckStatus;
  /** What was checked, e.g. "database", "slack: admin channel". */
  what: string;
  /** What was found. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export const checkOk = (what: string, detail: string): CheckResult => ({ status: 'ok', what, detail });
export const checkFailed = (what: string, detail: string, fix: string): CheckResult => ({ status: 'fail', what, detail, fix });
export const checkSkipped = (what: string, detail: string): CheckResult => ({ status: 'skip', what, detail });

export interface Component {
  /** Short, for logs and errors: "nocloud server", "slack", "web console". */
  readonly name: string;
  /** Starts the part; resolves with a line for the start-up summary, if it has one to say. */
  start(): Promise<string | void>;
  /** Stops it; must be safe to call once after a successful start. */
  stop(): Promise<void>;
  /**
   * `vmbot doctor`: checks what the part needs (reachable, authorised, writable) without
   * starting it; one result per step, failures say what to fix. Absent: nothing to check.
   */
  check?(timeoutMs: number): Promise<CheckResult[]>;
}

export interface Started {
  /** One line per component that had something to say (where it listens, what it talks to). */
  describe: string[];
  /** Stops every started component in reverse order; later calls return the same promise. */
  stop(): Promise<void>;
}

/** Starts components in order; on a failure stops those already started and rethrows. */
export async function startComponents(components: readonly Component[], logger: Logger): Promise<Started> {
  const started: Component[] = [];
  const describe: string[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const component of started.splice(0).reverse()) {
        await component.stop().catch((err: unknown) => logger.warn({ err, component: component.name }, 'error while stopping'));
      }
    })());
  for (const component of components) {
    try {
      const line = await component.start();
      started.push(component);
      if (line) describe.push(line);
    } catch (err) {
      logger.debug({ err, component: component.name }, 'could not start');
      await stop();
      throw err;
    }
  }
  return { describe, stop };
}

/** A component from two functions (for parts whose start and stop are a single call each). */
export function component(name: string, start: () => Promise<string | void>, stop: () => Promise<void>): Component {
  return { name, start, stop };
}

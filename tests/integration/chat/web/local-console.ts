// The web console in local mode on the real workflow and the simulated cluster, as
// src/process.ts wires it (the console is the web members' surface), plus the two requests
// its tests make: a POST as the member or the admin (X-Vmbot-As, local mode's view switch)
// and a GET of the JSON API.
import { afterEach } from 'vitest';
import { silentLogger } from '../../../../src/log.js';
import { startWebConsole, type WebConsole } from '../../../../src/chat/web/index.js';
import { startHarness, type Harness, type HarnessOptions } from '../../../support/harness.js';

export interface LocalConsole {
  h: Harness;
  web: WebConsole;
}

let running: LocalConsole[] = [];
afterEach(async () => {
  const closing = running;
  running = [];
  for (const { web, h } of closing) {
    await web.stop();
    await h.close();
  }
});

/** Started for one test; stopped after it. */
export async function startLocalConsole(options: HarnessOptions): Promise<LocalConsole> {
  const h = await startHarness(options);
  const web = await startWebConsole({ workflow: h.core.workflow, store: h.core.store, config: h.config, mode: 'local', host: '127.0.0.1', port: 0, logger: silentLogger, simulated: true });
  h.core.workflow.attachSurface(web);
  running.push({ h, web });
  return { h, web };
}

export const post = (console: WebConsole, path: string, body: unknown, as: 'member' | 'admin'): Promise<Response> =>
  fetch(new URL(path, console.url), { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Vmbot-As': as }, body: JSON.stringify(body) });

export interface ApiAnswer<T> {
  status: number;
  body: { ok: boolean; value?: T; problems?: Array<{ code: string; message: string; field?: string }> };
}

export async function get<T>(console: WebConsole, path: string): Promise<ApiAnswer<T>> {
  const res = await fetch(new URL(path, console.url));
  return { status: res.status, body: (await res.json()) as ApiAnswer<T>['body'] };
}

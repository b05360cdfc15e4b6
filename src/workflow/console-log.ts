// `/vm logs NAME`: the last lines of a VM's console, read from the current allocation on
// the request's cluster and made fit to show (domain/console-text.ts: terminal controls
// stripped, private keys, user-data-like lines and the NoCloud seed token removed). The
// caller (Workflow.logs) has already decided the actor may see this VM.
import { consoleTail } from '../domain/console-text.js';
import { fail, ok, problem, type Result } from '../domain/problem.js';
import type { VmRequest } from '../domain/request.js';
import { NomadError, VM_TASK_NAME } from '../nomad/port.js';
import { stateLabel } from './cards.js';
import type { WorkflowContext } from './context.js';
import { nomadTarget } from './nomad-target.js';
import type { ConsoleLogView } from './views.js';
import { currentAllocation } from './watcher.js';

/** Lines a member is shown. */
export const CONSOLE_LOG_LINES = 40;
/**
 * Bytes read from the end of the console: 40 lines of a boot (tables ~100 characters a
 * line) fit many times over, and a guest printing very long lines still shows its last ones.
 */
export const CONSOLE_LOG_BYTES = 32 * 1024;

type ConsoleLogContext = Pick<WorkflowContext, 'clusters' | 'logger'>;

export async function readConsoleLog(ctx: ConsoleLogContext, req: VmRequest): Promise<Result<ConsoleLogView>> {
  const label = stateLabel(req).toLowerCase();
  if (!req.jobId || req.state === 'pending' || req.state === 'deleted') {
    return fail(problem('wrong_state', `"${req.name}" is ${label}: it has no console until it is approved and started on the cluster.`, 'name'));
  }
  const notYet = fail<ConsoleLogView>(
    problem('wrong_state', `"${req.name}" has no allocation on the cluster yet (${label}): its console starts when Nomad places it. Try again in a minute.`, 'name'),
  );
  try {
    const { nomad } = nomadTarget(ctx, req);
    const alloc = currentAllocation(await nomad.listAllocations(req.jobId), req.allocId);
    if (!alloc) return notYet;
    const tail = await nomad.readLogTail(alloc.id, VM_TASK_NAME, CONSOLE_LOG_BYTES);
    const lines = consoleTail(tail.toString('utf8'), {
      lines: CONSOLE_LOG_LINES,
      secrets: req.seedToken ? [req.seedToken] : [],
      // A full read began somewhere inside the log, most likely inside a line.
      startsMidLine: tail.length >= CONSOLE_LOG_BYTES,
    });
    return ok({ requestId: req.id, name: req.name, allocation: alloc.id.slice(0, 8), lines });
  } catch (err) {
    if (err instanceof NomadError && err.code === 'task_not_started') return notYet;
    if (err instanceof NomadError && err.code === 'not_found') {
      return fail(problem('wrong_state', `The cluster no longer has the console of "${req.name}" (its allocation is gone). /vm status shows its state.`, 'name'));
    }
    if (err instanceof NomadError) {
      ctx.logger.warn({ err, requestId: req.id }, 'could not read the console log');
      return fail(problem(err.code === 'unreachable' || err.code === 'timeout' ? 'nomad_unreachable' : 'nomad_error', `The cluster could not be asked for the console of "${req.name}" (${err.code}). Try again in a minute; if it keeps failing, tell an admin.`));
    }
    throw err;
  }
}

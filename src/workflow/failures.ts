// Maps what adapters throw to the Problem stored on a failed request and shown to admins.
// Expected failures (VmbotError, NomadError) keep their meaning; anything else is 'internal'.
import { problem, VmbotError, type Problem } from '../domain/problem.js';
import { NomadError } from '../nomad/port.js';

/** SQLite codes that mean the database cannot take writes now (disk full, I/O error, read-only). */
const UNWRITABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN)/;

export function toProblem(err: unknown): Problem {
  if (err instanceof VmbotError) return err.toProblem();
  const sqlite = (err as { code?: unknown } | null)?.code;
  if (typeof sqlite === 'string' && UNWRITABLE.test(sqlite)) {
    const what = sqlite.startsWith('SQLITE_FULL') ? 'the disk holding the database is full' : `the database cannot be written (${sqlite})`;
    return problem('store_unwritable', `vmbot could not save this request's progress: ${what}. Free space (or fix the disk) where database.path lives, then press Retry.`, 'database.path');
  }
  if (err instanceof NomadError) {
    switch (err.code) {
      case 'unreachable':
      case 'timeout':
        return problem('nomad_unreachable', `Nomad could not be reached (${err.message}). Check the cluster and the connection, then press Retry.`);
      case 'rejected':
        return problem('nomad_rejected', `Nomad refused the job: ${err.message}. Fix the template or the configuration, then press Retry.`);
      case 'forbidden':
        return problem('nomad_error', `Nomad refused vmbot's token (${err.message}). Check that token and its ACL policy, then press Retry.`);
      default:
        return problem('nomad_error', `Nomad answered with an error (${err.message}). Press Retry once the cluster is healthy.`);
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return problem('internal', `Something unexpected went wrong in vmbot (${message}). Press Retry; if it happens again, check vmbot's log.`);
}

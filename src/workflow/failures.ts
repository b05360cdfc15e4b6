// Maps what adapters throw to the Problem stored on a failed request and shown to admins.
// Expected failures (VmbotError, NomadError) keep their meaning; anything else is 'internal'.
import { problem, VmbotError, type Problem } from '../domain/problem.js';
import { NomadError } from '../nomad/port.js';

export function toProblem(err: unknown): Problem {
  if (err instanceof VmbotError) return err.toProblem();
  if (err instanceof NomadError) {
    switch (err.code) {
      case 'unreachable':
      case 'timeout':
        return problem('nomad_unreachable', `Nomad could not be reached (${err.message}). Check the cluster and the connection, then press Retry.`);
      case 'rejected':
        return problem('nomad_rejected', `Nomad refused the job: ${err.message}. Fix the template or the configuration, then press Retry.`);
      case 'forbidden':
        return problem('nomad_error', `Nomad refused vmbot's token (${err.message}). Check NOMAD_TOKEN and its ACL policy, then press Retry.`);
      default:
        return problem('nomad_error', `Nomad answered with an error (${err.message}). Press Retry once the cluster is healthy.`);
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return problem('internal', `Something unexpected went wrong in vmbot (${message}). Press Retry; if it happens again, check vmbot's log.`);
}

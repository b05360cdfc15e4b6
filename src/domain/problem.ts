// Expected failures are values with a stable code (DESIGN §6), not thrown strings.
// A Problem is what a user sees: what went wrong, what to do, and the field it concerns.

export type ProblemCode =
  // validation (domain/validation)
  | 'invalid_name'
  | 'invalid_login'
  | 'invalid_ssh_key'
  | 'private_key_pasted'
  | 'unknown_distro'
  | 'unknown_size'
  | 'invalid_reason'
  | 'invalid_mac'
  | 'invalid_date'
  // workflow
  | 'name_taken'
  | 'not_found'
  | 'forbidden'
  | 'self_approval'
  | 'wrong_state'
  | 'reason_required'
  | 'quota_exceeded'
  // infrastructure, reported to admins and turned into `failed` requests
  | 'pool_exhausted'
  | 'mac_in_use'
  | 'nomad_unreachable'
  | 'nomad_rejected'
  | 'nomad_error'
  | 'template_error'
  | 'publish_failed'
  | 'store_unwritable'
  | 'task_failed'
  | 'ip_timeout'
  | 'config_invalid'
  | 'internal';

export interface Problem {
  code: ProblemCode;
  /** A sentence a member understands: what went wrong and what to do. */
  message: string;
  /** The form field or config key it concerns, when there is one. */
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(...problems: Problem[]): Result<T> => ({ ok: false, problems });
export const problem = (code: ProblemCode, message: string, field?: string): Problem =>
  field === undefined ? { code, message } : { code, message, field };

/** Thrown by adapters and the store for expected failures; the workflow turns it into a Problem. */
export class VmbotError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VmbotError';
  }
  toProblem(): Problem {
    return problem(this.code, this.message, this.field);
  }
}

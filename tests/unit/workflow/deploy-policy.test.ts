// The deploy policy: what provisioning does with the job id, from what Nomad has under it.
import { describe, expect, it } from 'vitest';
import { decideDeploy, notOursDetail, ownedBy, type DeployDecision, type ExistingJob } from '../../../src/workflow/deploy-policy.js';

const REQ = 'req-1';
const job = (over: Partial<ExistingJob> & { owner?: string } = {}): ExistingJob => ({
  status: over.status ?? 'running',
  stop: over.stop ?? false,
  meta: over.meta ?? (over.owner === undefined ? { vmbot_request: REQ } : over.owner === '' ? {} : { vmbot_request: over.owner }),
});

describe('decideDeploy', () => {
  it.each<[string, ExistingJob | null, boolean, DeployDecision]>([
    ['nothing under the job id → submit', null, false, { kind: 'submit' }],
    ['nothing under the job id, on a Retry → submit', null, true, { kind: 'submit' }],
    ['our job, running → adopt', job(), false, { kind: 'adopt' }],
    ['our job, pending → adopt', job({ status: 'pending' }), false, { kind: 'adopt' }],
    ['our job, running, on a Retry → purge and resubmit', job(), true, { kind: 'purge-and-resubmit' }],
    ['our job, dead → purge and resubmit', job({ status: 'dead' }), false, { kind: 'purge-and-resubmit' }],
    ['our job, stopped (/vm stop) → registered again, not purged', job({ stop: true }), false, { kind: 'resubmit' }],
    ['our job, stopped, on a Retry or a rebuild → purge and resubmit', job({ stop: true }), true, { kind: 'purge-and-resubmit' }],
    ["another request's job → refuse", job({ owner: 'req-2' }), false, { kind: 'refuse-foreign', owner: 'req-2' }],
    ["another request's job, dead, on a Retry → refuse", job({ owner: 'req-2', status: 'dead' }), true, { kind: 'refuse-foreign', owner: 'req-2' }],
    ['a hand-made job (no meta) → refuse', job({ owner: '' }), false, { kind: 'refuse-foreign', owner: undefined }],
    ['a hand-made job, stopped → refuse', job({ owner: '', stop: true }), true, { kind: 'refuse-foreign', owner: undefined }],
  ])('%s', (_name, existing, fresh, expected) => {
    expect(decideDeploy(existing, REQ, { fresh })).toEqual(expected);
  });
});

describe('job ownership', () => {
  it('is meta.vmbot_request naming the request, nothing else', () => {
    expect(ownedBy(job(), REQ)).toBe(true);
    expect(ownedBy(job({ owner: 'req-2' }), REQ)).toBe(false);
    expect(ownedBy(job({ owner: '' }), REQ)).toBe(false);
  });

  it('names the owner (or its absence) and what was left in the audit line', () => {
    expect(notOursDetail('uservm-a', job({ owner: 'req-2' }))).toBe("job uservm-a is not vmbot's (meta.vmbot_request is req-2): left running");
    expect(notOursDetail('uservm-a', job({ owner: '', status: 'dead' }))).toBe("job uservm-a is not vmbot's (meta.vmbot_request missing): left alone");
  });
});

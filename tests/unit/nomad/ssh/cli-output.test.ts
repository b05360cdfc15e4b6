// What the SSH adapter reads from the `nomad` CLI and writes on its command lines: error
// mapping from stderr, -verbose status lines, quoting and the token preamble.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { NomadCommands, quoteJobId, shQuote } from '../../../../src/nomad/ssh/commands.js';
import { fingerprintOf } from '../../../../src/nomad/ssh/hostkey.js';
import { errorForExit, errorForStatus, parseAllocations, parseEvalId, parseJob, parseVerbose, redactRequestHeaders } from '../../../../src/nomad/ssh/parse.js';

describe('errorForExit', () => {
  const cases: Array<[number, string, string]> = [
    [1, 'No job(s) with prefix or id "uservm-a" found', 'not_found'],
    [1, 'Error querying job prefix "x": Unexpected response code: 403 (Permission denied)', 'forbidden'],
    [1, 'Error submitting job: Put "http://127.0.0.1:4646/v1/jobs": dial tcp 127.0.0.1:4646: connect: connection refused', 'unreachable'],
    [1, 'Error getting job struct: Error parsing job file from -:\nerror parsing: job.hcl:3,1-2: Unclosed configuration block', 'rejected'],
    [1, 'Error submitting job: Unexpected response code: 400 (1 error occurred:\n\t* Task "vm": missing driver)', 'rejected'],
    [1, 'Error submitting job: Unexpected response code: 500 (No cluster leader)', 'server_error'],
    [127, 'sh: 1: exec: nomad: not found', 'unreachable'],
    [3, 'vmbot: cannot read the Nomad token file ~/.nomad-token', 'forbidden'],
    [1, 'Failed to restart allocation:\n\nUnexpected response code: 500 (Task not running)', 'rejected'],
    [1, 'Could not find task named: web, found:\n* vm', 'rejected'],
    [1, 'No allocation(s) with prefix or id "0b8e4c52" found', 'not_found'],
    [1, 'Error reading stdout file: Unexpected response code: 404 (task "vm" not started yet)', 'task_not_started'],
  ];
  it.each(cases)('exit %i with %j → %s', (code, stderr, expected) => {
    const err = errorForExit(code, stderr, 'the command');
    expect(err.code).toBe(expected);
    expect(err.message.length).toBeGreaterThan(20);
  });

  it('says what to do when the CLI is missing', () => {
    expect(errorForExit(127, 'sh: 1: exec: nomad: not found', 'x').message).toContain('nomadPath');
  });
});

describe('operator api -verbose', () => {
  const stderr = ['* Reading request body from stdin.', '> GET http://127.0.0.1:4646/v1/client/fs/logs/x', '> X-Nomad-Token: s3cr3t', '* Sending request and receiving response...', '< HTTP/1.1 404 Not Found', '< Content-Type: text/plain'].join('\n');

  it('reads the status and drops every header line (the token among them)', () => {
    const parsed = parseVerbose(stderr);
    expect(parsed.status).toBe(404);
    expect(parsed.stderr).not.toContain('s3cr3t');
    expect(redactRequestHeaders(stderr)).not.toContain('s3cr3t');
    expect(redactRequestHeaders('Error performing request: dial tcp\n> X-Nomad-Token: s3cr3t')).toBe('Error performing request: dial tcp');
  });

  it('maps statuses: task not started, not found, forbidden', () => {
    expect(errorForStatus(404, 'task "vm" not started yet', 'logs').code).toBe('task_not_started');
    expect(errorForStatus(404, 'Unknown allocation', 'logs').code).toBe('not_found');
    expect(errorForStatus(403, 'Permission denied', 'logs').code).toBe('forbidden');
    expect(errorForStatus(500, 'boom', 'logs').code).toBe('server_error');
  });
});

describe('parsing CLI output', () => {
  it('finds the evaluation ID whatever hints surround it', () => {
    const out = 'Job Warnings:\n1 warning\n\nJob registration successful\nEvaluation ID: 0f7a4b4e-2f0c-4f5d-9d7b-1c2d3e4f5a6b\n==> View this job in the Web UI: http://x/ui/jobs/a@default\n';
    expect(parseEvalId(out)).toBe('0f7a4b4e-2f0c-4f5d-9d7b-1c2d3e4f5a6b');
    expect(() => parseEvalId('Job registration successful\n')).toThrow(/evaluation ID/);
  });

  it('sorts allocations newest first and converts nanoseconds', () => {
    const list = JSON.stringify([
      { ID: 'a', JobID: 'j', TaskGroup: 'g', ClientStatus: 'complete', DesiredStatus: 'stop', CreateIndex: 5, CreateTime: 1_700_000_000_000_000_000, NextAllocation: 'b', TaskStates: null },
      { ID: 'b', JobID: 'j', TaskGroup: 'g', ClientStatus: 'running', DesiredStatus: 'run', CreateIndex: 9, CreateTime: 1_700_000_001_000_000_000, TaskStates: { vm: { State: 'running', Failed: false, Events: [{ Type: 'Started', DisplayMessage: 'Task started by client', Time: 1_700_000_001_500_000_000 }] } } },
    ]);
    const allocs = parseAllocations(list);
    expect(allocs.map((a) => a.id)).toEqual(['b', 'a']);
    expect(allocs[0]!.taskStates.vm!.events[0]).toEqual({ type: 'Started', message: 'Task started by client', time: 1_700_000_001_500 });
    expect(allocs[1]!.nextAllocation).toBe('b');
    expect(parseAllocations('null')).toEqual([]);
  });

  it('reads a job bare (-json) or wrapped ({"Job": ...}), collecting qemu args only', () => {
    const job = { ID: 'x', Status: 'running', Stop: false, Meta: { vmbot_request: 'r1' }, TaskGroups: [{ Tasks: [{ Driver: 'qemu', Config: { args: ['-device', 'mac=52:54:84:ba:49:22'] } }, { Driver: 'docker', Config: { args: ['mac=00:00:00:00:00:01'] } }] }] };
    for (const text of [JSON.stringify(job), JSON.stringify({ Job: job })]) {
      const { info, summary } = parseJob(text);
      expect(info).toEqual({ id: 'x', status: 'running', stop: false, meta: { vmbot_request: 'r1' } });
      expect(summary.qemuArgs).toEqual(['-device', 'mac=52:54:84:ba:49:22']);
    }
  });
});

describe('command lines', () => {
  it('single-quotes validated IDs and refuses anything else', () => {
    expect(quoteJobId('uservm-alice')).toBe("'uservm-alice'");
    for (const bad of ["a'b", 'A-upper', 'x y', '$(id)', '-rf', 'a'.repeat(64), '']) expect(() => quoteJobId(bad)).toThrow(/not a valid name/);
    expect(quoteJobId('Distro_VM.2', { foreign: true })).toBe("'Distro_VM.2'");
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('reads the token on the remote side: the value is never in the command', () => {
    const commands = new NomadCommands({ tokenFile: '~/.nomad-token', nomadPath: '/usr/local/bin/nomad' });
    const line = commands.allocs('uservm-a');
    expect(line).toBe(
      `NOMAD_TOKEN="$(cat "$HOME"/'.nomad-token')" || { echo 'vmbot: cannot read the Nomad token file ~/.nomad-token' >&2; exit 3; }; export NOMAD_TOKEN; exec '/usr/local/bin/nomad' job allocs -json 'uservm-a'`,
    );
    expect(new NomadCommands().run()).toBe(`exec 'nomad' job run -detach -`);
    expect(commands.logsPath('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1', 'vm', 42)).toBe('/v1/client/fs/logs/0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1?task=vm&type=stdout&origin=start&offset=42&plain=true');
    expect(() => commands.logsPath('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1', 'vm', -1)).toThrow();
  });

  it('builds the power and tail commands from validated values only', () => {
    const commands = new NomadCommands();
    const alloc = '0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1';
    expect(commands.stop('uservm-a')).toBe(`exec 'nomad' job stop -purge -detach 'uservm-a'`);
    expect(commands.stop('uservm-a', { purge: false })).toBe(`exec 'nomad' job stop -detach 'uservm-a'`);
    expect(commands.restart(alloc, 'vm')).toBe(`exec 'nomad' alloc restart '${alloc}' 'vm'`);
    expect(commands.restart(alloc)).toBe(`exec 'nomad' alloc restart '${alloc}'`);
    expect(commands.logsTail(alloc, 'vm', 4096)).toBe(`exec 'nomad' alloc logs -stdout -tail -c 4096 '${alloc}' 'vm'`);
    expect(() => commands.restart('0b8e4c52; id')).toThrow(/not a UUID/);
    expect(() => commands.restart(alloc, 'vm; id')).toThrow(/not valid/);
    for (const bad of [0, -5, 1.5, Number.NaN]) expect(() => commands.logsTail(alloc, 'vm', bad)).toThrow(/positive integer/);
  });
});

describe('host key fingerprints', () => {
  it('match what ssh-keygen -l prints', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmbot-fp-'));
    try {
      for (const type of ['ed25519', 'ecdsa', 'rsa']) {
        const key = join(dir, type);
        // RSA at 1024 bits: the default 3072-bit prime search takes seconds on a busy CI core,
        // and the fingerprint does not depend on the key size.
        execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '1024'] : []), '-N', '', '-f', key]);
        const listed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', key + '.pub']).toString().split(' ')[1];
        const parsed = ssh2.utils.parseKey(readFileSync(key + '.pub', 'utf8')) as ParsedKey;
        expect(fingerprintOf(parsed.getPublicSSH())).toBe(listed);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

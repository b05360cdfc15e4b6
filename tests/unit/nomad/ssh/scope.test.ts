// A cluster's namespace and region reach the nomad CLI as -namespace/-region, right after
// the subcommand, single-quoted; without them the command lines are exactly as before.
import { describe, expect, it } from 'vitest';
import { NomadCommands } from '../../../../src/nomad/ssh/commands.js';
import { NomadError } from '../../../../src/nomad/port.js';

const ALLOC = '0f3c2a9e-1b2c-4d5e-8f90-1234567890ab';

describe('NomadCommands with a namespace and region', () => {
  const scoped = new NomadCommands({ namespace: 'vms', region: 'west' });
  const plain = new NomadCommands();

  it('puts -namespace and -region after the subcommand of every nomad command', () => {
    expect(scoped.run()).toBe(`exec 'nomad' job run -namespace='vms' -region='west' -detach -`);
    expect(scoped.inspect('uservm-a')).toBe(`exec 'nomad' job inspect -namespace='vms' -region='west' -json 'uservm-a'`);
    expect(scoped.allocs('uservm-a')).toBe(`exec 'nomad' job allocs -namespace='vms' -region='west' -json 'uservm-a'`);
    expect(scoped.stop('uservm-a')).toBe(`exec 'nomad' job stop -namespace='vms' -region='west' -purge -detach 'uservm-a'`);
    expect(scoped.apiGet('/v1/jobs')).toBe(`exec 'nomad' operator api -namespace='vms' -region='west' -verbose -X GET '/v1/jobs'`);
    expect(scoped.restart(ALLOC)).toBe(`exec 'nomad' alloc restart -namespace='vms' -region='west' '${ALLOC}'`);
  });

  it('leaves the command lines unchanged without them', () => {
    expect(plain.run()).toBe(`exec 'nomad' job run -detach -`);
    expect(plain.stop('uservm-a')).toBe(`exec 'nomad' job stop -purge -detach 'uservm-a'`);
    expect(new NomadCommands({ region: 'east' }).inspect('uservm-a')).toBe(`exec 'nomad' job inspect -region='east' -json 'uservm-a'`);
  });

  it('refuses a name that is not a Nomad namespace or region before it reaches a command line', () => {
    expect(() => new NomadCommands({ namespace: "vms'; reboot; '" })).toThrow(NomadError);
    expect(() => new NomadCommands({ region: 'eu west' })).toThrow(/region "eu west" is not a valid name/);
  });
});

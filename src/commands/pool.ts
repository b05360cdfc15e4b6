// `vmbot pool`: how the MAC pool is used and by whom; `pool reserve` / `pool release`
// for the admins' own MACs; `pool sync` (pool-sync.ts) marks MACs of hand-made jobs.
import { InvalidArgumentError, type Command } from 'commander';
import { normaliseMac, parseMacRange, rangeContains } from '../domain/mac.js';
import type { MacHolder, MacUsage } from '../store/index.js';
import { addPoolSyncSubcommand } from './pool-sync.js';
import { cliActor, processIO, withStore, type CommandIO } from './store-command.js';
import { formatTable } from './text-table.js';

function macArgument(value: string): string {
  try {
    return normaliseMac(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function describeHolder(holder: MacHolder): { kind: string; by: string } {
  switch (holder.kind) {
    case 'request':
      return { kind: 'vm', by: `${holder.vmName} (${holder.state}, request ${holder.requestId})` };
    case 'reserved':
      return { kind: 'reserved', by: holder.note || '(no note)' };
    case 'external':
      return { kind: 'external', by: `Nomad job ${holder.jobId}` };
  }
}

/** The report `vmbot pool` prints. */
export function formatPoolUsage(usage: MacUsage, ranges: readonly string[], next: string | null): string {
  const parsed = ranges.map((r) => parseMacRange(r));
  const summary: Array<[string, string]> = [
    ['used', `${usage.used} by VMs`],
    ['reserved', String(usage.reserved)],
    ['external', `${usage.external} by hand-made Nomad jobs`],
    ['free', String(usage.free)],
    ['next', next ?? 'none: extend macPool.ranges or free MACs with `vmbot pool release`'],
  ];
  const lines = [
    `MAC pool: ${usage.total} MACs in ${ranges.length === 1 ? '1 range' : `${ranges.length} ranges`} (${ranges.join(', ')})`,
    ...summary.map(([label, value]) => `  ${label.padEnd(10)}${value}`),
  ];
  if (usage.holders.length > 0) {
    const rows = usage.holders.map(({ mac, holder }) => {
      const { kind, by } = describeHolder(holder);
      return [mac, kind, rangeContains(parsed, mac) ? by : `${by} [outside macPool.ranges]`];
    });
    lines.push('', formatTable(['MAC', 'KIND', 'HELD BY'], rows));
  }
  return lines.join('\n');
}

export function registerPoolCommands(program: Command, io: CommandIO = processIO): void {
  const pool = program
    .command('pool')
    .description('show the MAC pool: how many MACs are used, reserved, external and free, and who holds each')
    .option('--json', 'print the usage as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, io, async (store, config) => {
        const usage = await store.macs.usage();
        if (opts.json) io.out(JSON.stringify(usage, null, 2));
        else io.out(formatPoolUsage(usage, config.macPool.ranges, await store.macs.peekNext()));
      });
    });

  pool
    .command('reserve')
    .description('keep a MAC out of the pool (e.g. one used by a machine vmbot does not manage)')
    .argument('<mac>', 'the MAC address, e.g. 52:54:84:ba:49:01', macArgument)
    .requiredOption('--note <text>', 'why it is reserved (shown by `vmbot pool`)')
    .action(async (mac: string, opts: { note: string }, cmd: Command) => {
      await withStore(cmd, io, async (store, config) => {
        const before = (await store.macs.usage()).holders.find((h) => h.mac === mac)?.holder;
        await store.macs.reserve(mac, opts.note);
        await store.audit.append({ actor: cliActor(), action: 'mac_reserved', detail: `${mac}: ${opts.note}` });
        io.out(before?.kind === 'reserved' ? `${mac} was reserved already (${before.note || 'no note'}); note now: ${opts.note}.` : `Reserved ${mac} (${opts.note}).`);
        // Allowed (the ranges may grow later), but say it: today vmbot would never hand it out anyway.
        if (!rangeContains(config.macPool.ranges.map((r) => parseMacRange(r)), mac)) {
          io.err(`Note: ${mac} is outside macPool.ranges (${config.macPool.ranges.join(', ')}), so vmbot would not hand it out anyway. Check the address if you meant one of the pool.`);
        }
      });
    });

  pool
    .command('release')
    .description('free a reserved, external or leftover MAC')
    .argument('<mac>', 'the MAC address', macArgument)
    .option('--force', 'also free the MAC of a live VM (only if its Nomad job is really gone)')
    .action(async (mac: string, opts: { force?: boolean }, cmd: Command) => {
      await withStore(cmd, io, async (store) => {
        const held = (await store.macs.usage()).holders.find((h) => h.mac === mac);
        await store.macs.release(mac, { force: opts.force === true });
        const was = held ? describeHolder(held.holder) : undefined;
        const holder = held?.holder;
        await store.audit.append({
          actor: cliActor(),
          action: 'mac_released',
          requestId: holder?.kind === 'request' ? holder.requestId : null,
          vmName: holder?.kind === 'request' ? holder.vmName : null,
          detail: `${mac}${was ? ` was ${was.kind}: ${was.by}` : ''}${opts.force ? ' (--force)' : ''}`,
        });
        io.out(`Released ${mac}${was ? ` (was ${was.kind}: ${was.by})` : ''}.`);
      });
    });

  addPoolSyncSubcommand(pool, io);
}

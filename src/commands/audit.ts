// `vmbot audit`: who did what, when and why — a table, or JSON lines for scripts.
import { InvalidArgumentError, type Command } from 'commander';
import type { AuditRow } from '../store/index.js';
import { processIO, withStore, type CommandIO } from './store-command.js';
import { formatTable } from './text-table.js';

export const DEFAULT_AUDIT_ROWS = 50;
const MAX_AUDIT_ROWS = 100_000;

function limitArgument(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_AUDIT_ROWS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_AUDIT_ROWS}, got ${JSON.stringify(value)}.`);
  }
  return n;
}

function who(row: AuditRow): string {
  const id = `${row.actor.platform}:${row.actor.userId}`;
  return row.actor.displayName ? `${id} (${row.actor.displayName})` : id;
}

/** The table `vmbot audit` prints (text from members is made terminal-safe by formatTable). */
export function formatAuditTable(rows: readonly AuditRow[]): string {
  if (rows.length === 0) return 'No audit entries match.';
  return formatTable(
    ['WHEN', 'WHO', 'WHAT', 'VM', 'REQUEST', 'WHY'],
    rows.map((r) => [r.at, who(r), r.action, r.vmName ?? '', r.requestId ?? '', r.detail ?? '']),
  );
}

export function registerAuditCommand(program: Command, io: CommandIO = processIO): void {
  program
    .command('audit')
    .description('print the audit log: who did what, when and why (newest last)')
    .option('--vm <name>', 'only entries about this VM name (every request that used it)')
    .option('--request <id>', 'only entries about this request id')
    .option('--limit <n>', 'show the newest N entries', limitArgument, DEFAULT_AUDIT_ROWS)
    .option('--json', 'one JSON object per line, for scripts')
    .action(async (opts: { vm?: string; request?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withStore(
        cmd,
        io,
        async (store) => {
          const filter: { vmName?: string; requestId?: string; limit: number } = { limit: opts.limit };
          if (opts.vm !== undefined) filter.vmName = opts.vm;
          if (opts.request !== undefined) filter.requestId = opts.request;
          const rows = await store.audit.list(filter);
          if (opts.json) {
            if (rows.length > 0) io.out(rows.map((r) => JSON.stringify(r)).join('\n'));
          } else {
            io.out(formatAuditTable(rows));
          }
        },
        { mustExist: true },
      );
    });
}

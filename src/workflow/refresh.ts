// `vmbot ip --refresh`: reads the current allocation's console again from the start and
// takes the address the guest printed (e.g. after an admin rebooted the VM by hand and the
// router handed out another lease). Ports only; the CLI builds them.
import { ConsoleScanner } from '../domain/ciinfo.js';
import type { VmAddress, VmRequest } from '../domain/request.js';
import { VM_TASK_NAME, type NomadPort } from '../nomad/port.js';
import type { Store } from '../store/types.js';
import { currentAllocation } from './watcher.js';

export interface RefreshResult {
  allocId: string | null;
  /** The address the console shows now, or null if it shows none. */
  address: VmAddress | null;
  /** True when the stored address was replaced. */
  updated: boolean;
}

/** Reads at most this much console per refresh (a VM up for months prints a lot). */
const MAX_BYTES = 16 * 1024 * 1024;

export async function refreshAddress(deps: { nomad: NomadPort; store: Store; now?: () => Date }, req: VmRequest): Promise<RefreshResult> {
  if (!req.jobId || !req.mac) return { allocId: null, address: null, updated: false };
  const alloc = currentAllocation(await deps.nomad.listAllocations(req.jobId), req.allocId);
  if (!alloc) return { allocId: null, address: null, updated: false };
  const scanner = new ConsoleScanner(req.mac);
  let offset = 0;
  while (offset < MAX_BYTES) {
    const chunk = await deps.nomad.readLogs(alloc.id, VM_TASK_NAME, offset);
    if (chunk.data.length === 0) break;
    scanner.push(chunk.data);
    offset = chunk.nextOffset;
  }
  const found = scanner.address;
  if (!found) return { allocId: alloc.id, address: null, updated: false };
  const address: VmAddress = { ...(found.ipv4 ? { ipv4: found.ipv4 } : {}), ipv6: found.ipv6, seenAt: (deps.now ?? (() => new Date()))().toISOString() };
  const same = req.address?.ipv4 === address.ipv4 && JSON.stringify(req.address?.ipv6 ?? []) === JSON.stringify(address.ipv6);
  if (same) return { allocId: alloc.id, address: req.address, updated: false };
  const written = await deps.store.requests.update(req.id, ['running'], { address, allocId: alloc.id, logOffset: offset });
  if (written) await deps.store.audit.append({ actor: { platform: 'cli', userId: 'system', displayName: 'vmbot ip --refresh' }, action: 'address_refreshed', requestId: req.id, vmName: req.name, detail: `${req.address?.ipv4 ?? 'none'} -> ${address.ipv4 ?? address.ipv6?.[0] ?? 'none'}` });
  return { allocId: alloc.id, address, updated: written !== undefined };
}

// A Nomad port with one allocation whose console is whatever the test has appended so far:
// for the watcher tests, which script a boot line by line. Only what the watcher calls
// answers; the rest refuses, so a watcher that starts calling more fails loudly.
import { NomadError, type AllocationInfo, type NomadPort } from '../../src/nomad/port.js';

/** One allocation whose console is whatever the test appended; counts reads and listings; the test may change its status. */
export function consoleNomad() {
  let text = '';
  let reads = 0;
  let listings = 0;
  const alloc: AllocationInfo = {
    id: 'alloc-0001',
    jobId: 'uservm-keys',
    taskGroup: 'vm',
    clientStatus: 'running',
    desiredStatus: 'run',
    createIndex: 1,
    createTime: 0,
    nextAllocation: null,
    taskStates: { vm: { state: 'running', failed: false, events: [] } },
  };
  const refuse = async (): Promise<never> => {
    throw new NomadError('rejected', 'not used by the watcher');
  };
  const nomad: NomadPort = {
    submitJob: refuse,
    getJob: refuse,
    listAllocations: async () => {
      listings += 1;
      return [{ ...alloc }];
    },
    readLogs: async (_alloc, _task, offset) => {
      reads += 1;
      const bytes = Buffer.from(text);
      return { data: bytes.subarray(offset), nextOffset: bytes.length };
    },
    stopJob: refuse,
    restartAllocation: refuse,
    readLogTail: refuse,
    listJobs: refuse,
    close: async () => undefined,
  };
  return {
    nomad,
    alloc,
    append: (more: string) => (text += more),
    get reads() {
      return reads;
    },
    get listings() {
      return listings;
    },
  };
}

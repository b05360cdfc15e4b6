// The simulated Nomad cluster: THE Nomad double of every test, and what local mode runs.
// See docs/simulated-cluster.md for what it checks and its controls.
export { startSimCluster, DEFAULT_FAILURE, type SimCluster, type SimControl, type SimOptions } from './server.js';
export { SIM_NODES, type SimJobView } from './cluster.js';
export type { SimHostKey } from './hostkeys.js';
export type { NomadAllocStub, NomadJob, NomadJobListStub, NomadStreamFrame, NomadTaskEvent, NomadTaskState } from './types.js';

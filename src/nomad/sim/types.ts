// The subset of Nomad's JSON (api.Job, api.AllocationListStub, ...) the simulated cluster
// speaks. Field names are Nomad's own (PascalCase), so an adapter written against the
// sim reads a real cluster's answers the same way.

export interface NomadArtifact {
  GetterSource: string;
  RelativeDest?: string;
  GetterMode?: string;
  GetterOptions?: Record<string, string>;
}

export interface NomadResources {
  CPU?: number;
  MemoryMB?: number;
}

export interface NomadConstraint {
  LTarget?: string;
  RTarget?: string;
  Operand?: string;
}

export interface NomadTask {
  Name: string;
  Driver: string;
  Config?: Record<string, unknown>;
  Resources?: NomadResources;
  Artifacts?: NomadArtifact[];
  Meta?: Record<string, string>;
  Env?: Record<string, string>;
  Constraints?: NomadConstraint[];
}

export interface NomadNetwork {
  Mode?: string;
}

export interface NomadService {
  Name: string;
  PortLabel?: string;
  Provider?: string;
}

export interface NomadTaskGroup {
  Name: string;
  Count?: number;
  Networks?: NomadNetwork[];
  Services?: NomadService[];
  Constraints?: NomadConstraint[];
  Meta?: Record<string, string>;
  Tasks: NomadTask[];
}

export interface NomadJob {
  ID: string;
  Name?: string;
  Namespace?: string;
  Region?: string;
  Type?: string;
  Priority?: number;
  Datacenters?: string[];
  Meta?: Record<string, string>;
  Constraints?: NomadConstraint[];
  TaskGroups?: NomadTaskGroup[];
  // Server-side fields, present on GET /v1/job/:id.
  Status?: string;
  Stop?: boolean;
  Version?: number;
  CreateIndex?: number;
  ModifyIndex?: number;
  JobModifyIndex?: number;
  SubmitTime?: number;
}

export interface NomadTaskEvent {
  Type: string;
  /** Unix nanoseconds. */
  Time: number;
  DisplayMessage: string;
  Message: string;
  DriverError: string;
  FailsTask: boolean;
}

export interface NomadTaskState {
  State: 'pending' | 'running' | 'dead';
  Failed: boolean;
  Restarts: number;
  StartedAt: string | null;
  FinishedAt: string | null;
  Events: NomadTaskEvent[];
}

export interface NomadAllocStub {
  ID: string;
  EvalID: string;
  Name: string;
  Namespace: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  JobVersion: number;
  TaskGroup: string;
  DesiredStatus: 'run' | 'stop' | 'evict';
  DesiredDescription: string;
  ClientStatus: 'pending' | 'running' | 'complete' | 'failed' | 'lost';
  ClientDescription: string;
  TaskStates: Record<string, NomadTaskState>;
  PreviousAllocation: string;
  NextAllocation: string;
  FollowupEvalID: string;
  CreateIndex: number;
  ModifyIndex: number;
  /** Unix nanoseconds. */
  CreateTime: number;
  ModifyTime: number;
}

export interface NomadJobListStub {
  ID: string;
  ParentID: string;
  Name: string;
  Namespace: string;
  Datacenters: string[];
  Type: string;
  Priority: number;
  Status: string;
  StatusDescription: string;
  Stop: boolean;
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
  JobModifyIndex: number;
  SubmitTime: number;
}

export interface NomadRegisterResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Warnings: string;
  Index: number;
}

/** One frame of the log stream (Nomad's StreamFrame); `{}` is a heartbeat. */
export interface NomadStreamFrame {
  Offset?: number;
  Data?: string;
  File?: string;
  FileEvent?: string;
}

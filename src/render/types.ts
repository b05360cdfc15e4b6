// Rendering is pure: templates + variables -> text (like nomad-pack render).

export interface RenderVars {
  requestId: string;
  /** What the cloud-init instance-id is made from: requestId, or `<requestId>-r<n>` after n rebuilds (a new instance, so cloud-init runs again). */
  instanceId: string;
  /** The VM name (RFC 1123 label). */
  name: string;
  /** jobPrefix + name */
  jobId: string;
  datacenters: string[];
  mac: string;
  seedUrl: string;
  distro: { name: string; label: string; image: string };
  size: { name: string; label: string; cpu: number; memory: number };
  login: string;
  sshKeys: string[];
  /** Task name inside the job (VM_TASK_NAME). */
  taskName: string;
}

export interface RenderedVm {
  /** HCL of the Nomad job. */
  job: string;
  userData: string;
  metaData: string;
}

export interface Renderer {
  /** Throws VmbotError('template_error') naming the template and the problem. */
  render(vars: RenderVars): RenderedVm;
}

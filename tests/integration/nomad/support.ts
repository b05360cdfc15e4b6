// Helpers shared by the Nomad integration tests: a VM job in the admins' shape, a
// deadline poll, and a decoder for Nomad's framed log stream.
import { waitFor } from '../../support/wait.js';

export interface VmJobOptions {
  id: string;
  mac?: string;
  cpu?: number;
  memory?: number;
  datacenters?: string;
  /** The job's meta.vmbot_request; null leaves the meta block out (a hand-made job). */
  requestId?: string | null;
  extraTask?: string;
}

/** A job shaped like the admins' hand-written ones (DESIGN §2), task named "vm". */
export function vmJobHcl(o: VmJobOptions): string {
  const mac = o.mac ?? '52:54:84:ba:49:22';
  return `job "${o.id}" {
  datacenters = ${o.datacenters ?? '["aperture"]'}
  type = "service"
${o.requestId === null ? '' : `  meta {\n    vmbot_request = "${o.requestId ?? 'req-1'}"\n  }\n`}  group "${o.id}" {
    network {
      mode = "host"
    }
    service {
      name = "${o.id}"
    }
    task "vm" {
      driver = "qemu"
      resources {
        cpu    = ${o.cpu ?? 2000}
        memory = ${o.memory ?? 2048}
      }
      artifact {
        source      = "http://vm-resources.service.consul:8000/base-images/debian-12-genericcloud-amd64-30G.qcow2"
        destination = "local/${o.id}.qcow2"
        mode        = "file"
      }
      config {
        image_path      = "local/${o.id}.qcow2"
        accelerator     = "kvm"
        drive_interface = "virtio"
        args = ["-netdev", "bridge,id=hn0", "-device", "virtio-net-pci,netdev=hn0,id=nic1,mac=${mac}", "-smbios", "type=1,serial=ds=nocloud-net;s=http://10.10.0.5:8000/nocloud/abc/"]
      }
    }${o.extraTask ?? ''}
  }
}
`;
}

/** Polls until fn returns a truthy value or the deadline passes (no fixed sleeps in tests). */
export function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 5_000): Promise<T> {
  return waitFor(fn, { what, timeoutMs });
}

export interface Frame {
  Offset?: number;
  Data?: string;
  File?: string;
  FileEvent?: string;
}

/**
 * Splits Nomad's framed stream — JSON objects back to back with no separator — into
 * frames. Incremental: feed text as it arrives, get back the complete frames.
 */
export class FrameDecoder {
  private buffer = '';
  push(text: string): Frame[] {
    this.buffer += text;
    const frames: Frame[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth += 1;
      else if (c === '}') {
        depth -= 1;
        if (depth === 0) {
          frames.push(JSON.parse(this.buffer.slice(start, i + 1)) as Frame);
          start = i + 1;
        }
      }
    }
    this.buffer = this.buffer.slice(start);
    return frames;
  }
}

// A job as the admins write it by hand for the ownership tests: under a VM's job id, with no
// meta.vmbot_request unless `meta` names one (a restored backup carrying another request's).
// The MAC, when given, is on the NIC as vmbot's own jobs put it, so pool sync sees it.

export function handMadeHcl(jobId: string, mac?: string, meta?: string): string {
  return [
    `job "${jobId}" {`,
    '  datacenters = ["aperture"]',
    ...(meta ? ['  meta {', `    vmbot_request = "${meta}"`, '  }'] : []),
    '  group "hand" {',
    '    task "hand" {',
    '      driver = "qemu"',
    '      config {',
    '        image_path = "local/hand.qcow2"',
    ...(mac ? [`        args = ["-netdev", "bridge,id=hn0", "-device", "virtio-net-pci,netdev=hn0,id=nic1,mac=${mac}"]`] : []),
    '      }',
    '    }',
    '  }',
    '}',
  ].join('\n');
}

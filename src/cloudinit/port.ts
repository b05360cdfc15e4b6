// Publishing the NoCloud files (DESIGN §3, "The seed URL"). Adapters: builtin.ts
// (vmbot's own HTTP server, token paths) and sftp.ts (upload to the admins' nginx folder).

export interface CloudInitFiles {
  metaData: string;
  userData: string;
  vendorData?: string;
}

export interface PublishTarget {
  requestId: string;
  vmName: string;
  /** Random per VM (>= 128 bits); the builtin publisher puts it in the path. */
  seedToken: string;
}

export interface Publisher {
  /** The `s=` URL handed to the template; always ends in `/`. */
  seedUrl(target: PublishTarget): string;
  /** Makes the files available at seedUrl (idempotent; replaces older copies atomically). */
  publish(target: PublishTarget, files: CloudInitFiles): Promise<void>;
  /** Removes them (idempotent). */
  unpublish(target: PublishTarget): Promise<void>;
  close(): Promise<void>;
}

// Temporary directories for tests: each test gets its own folder under the OS temp dir
// and removes it afterwards, so parallel test files never share state.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `vmbot-${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
  return {
    dir,
    // maxRetries: SQLite or a child process may still be closing a file on slow CI disks.
    cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

// The synchronous micro-benchmark line every bench prints: ops, total ms and µs per op.

/** Runs `work` `ops` times and prints one aligned line (labels padded to `labelWidth`). */
export function timed(label: string, ops: number, work: () => void, labelWidth = 56): void {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${label.padEnd(labelWidth)} ${ops.toString().padStart(6)} ops ${ms.toFixed(0).padStart(6)} ms  (${((ms * 1000) / ops).toFixed(1)} µs/op)`);
}

// GET /v1/client/fs/logs/:alloc — Nomad's log endpoint. plain=true gives raw bytes;
// otherwise a stream of JSON StreamFrames with NO separator between them, Data in
// base64, Offset = the file offset after the frame's data, and `{}` heartbeats while
// following. follow=true keeps the response open until the task's log closes (the
// allocation stopped), the client goes away, or the sim closes.
import type { ServerResponse } from 'node:http';
import type { SimClusterState } from './cluster.js';
import type { LogFile } from './logfile.js';
import type { NomadStreamFrame } from './types.js';

/** Nomad's streamFrameSize. */
const FRAME_SIZE = 64 * 1024;

export interface LogRouteOptions {
  heartbeatMs: number;
  /** Tracks open follow streams so close() can end them. */
  track(res: ServerResponse): void;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}

function frames(data: Buffer, endOffset: number, file: string): string {
  let out = '';
  let start = endOffset - data.length;
  for (let at = 0; at < data.length; at += FRAME_SIZE) {
    const part = data.subarray(at, at + FRAME_SIZE);
    start += part.length;
    const frame: NomadStreamFrame = { Offset: start, Data: part.toString('base64'), File: file };
    out += JSON.stringify(frame);
  }
  return out;
}

export function handleLogs(state: SimClusterState, res: ServerResponse, allocId: string, query: URLSearchParams, opts: LogRouteOptions): void {
  const alloc = state.alloc(allocId);
  if (!alloc) return text(res, 404, `Unknown allocation "${allocId}"`);
  const task = query.get('task') ?? '';
  if (!task) return text(res, 400, 'must provide task name');
  const type = query.get('type') ?? '';
  if (type !== 'stdout' && type !== 'stderr') return text(res, 400, 'must provide log type (stdout/stderr)');
  const origin = query.get('origin') ?? 'start';
  if (origin !== 'start' && origin !== 'end') return text(res, 400, 'origin must be start or end');
  const offsetParam = query.get('offset') ?? '0';
  const offset = Number(offsetParam);
  if (!/^\d+$/.test(offsetParam) || !Number.isSafeInteger(offset)) return text(res, 400, `failed to parse offset "${offsetParam}"`);
  const logs = alloc.logs.get(task);
  const taskState = alloc.stub.TaskStates[task];
  if (!logs || !taskState) return text(res, 400, `unknown task name "${task}"`);
  if (!taskState.StartedAt) return text(res, 404, `task "${task}" not started yet`);

  const file: LogFile = logs[type];
  const fileName = `alloc/logs/${task}.${type}.0`;
  const plain = query.get('plain') === 'true';
  const follow = query.get('follow') === 'true';
  const start = origin === 'start' ? offset : Math.max(0, file.size - offset);
  const existing = file.read(start);
  const encode = (data: Buffer, end: number) => (plain ? data : frames(data, end, fileName));

  res.writeHead(200, { 'Content-Type': plain ? 'text/plain; charset=utf-8' : 'application/json' });
  if (existing.length) res.write(encode(existing, file.size));
  if (!follow) {
    res.end();
    return;
  }
  opts.track(res);
  // Heartbeats keep proxies from closing an idle stream; plain streams have none.
  const heartbeat = plain ? undefined : setInterval(() => res.write('{}'), opts.heartbeatMs);
  let stop = () => {};
  const finish = () => {
    if (heartbeat) clearInterval(heartbeat);
    stop();
    if (!res.writableEnded) res.end();
  };
  stop = file.follow((ev) => {
    if (ev.type === 'closed') finish();
    else res.write(encode(ev.data, ev.end));
  });
  // 'close' on the response also fires when the client hangs up.
  res.on('close', finish);
}

// A chat adapter is a receiver (bolt-js habit: init/start/stop) plus a ChatSurface.
// main.ts builds one per configured platform and hands each the same VmWorkflow.
import type { ChatSurface } from '../workflow/views.js';

export interface ChatAdapter extends ChatSurface {
  start(): Promise<void>;
  stop(): Promise<void>;
}

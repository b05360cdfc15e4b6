// Slack Web API failures arrive as WebAPIPlatformError with the API's `error` code in
// `data.error` (e.g. "channel_not_found"); callers decide on that code, never on messages.

/** The `error` code of a Slack Web API failure, if it is one. */
export function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

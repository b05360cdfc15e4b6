// `--timeout <seconds>` of the commands that reach the network (doctor, nomad check).
import { InvalidArgumentError } from 'commander';

export const DEFAULT_TIMEOUT_SECONDS = 10;

/** Parses the option; a typo is refused (instead of quietly waiting the default). Returns milliseconds. */
export function secondsArgument(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new InvalidArgumentError(`expected a number of seconds from 0.1 to 3600, e.g. 30; got ${JSON.stringify(value)}.`);
  }
  return Math.round(seconds * 1000);
}

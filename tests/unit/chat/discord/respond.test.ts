// Deferral decisions (fake timers: no real waiting) and the Actor built from an interaction.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BaseInteraction } from 'discord.js';
import { within, withDeferral } from '../../../../src/chat/discord/respond.js';
import { actorFrom } from '../../../../src/chat/discord/actor.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('withDeferral', () => {
  it('answers directly when the work beats the deadline, never deferring', async () => {
    const defer = vi.fn(async () => undefined);
    await expect(withDeferral(Promise.resolve(42), 1_000, defer)).resolves.toEqual({ value: 42, deferred: false });
    expect(defer).not.toHaveBeenCalled();
  });

  it('defers once when the work is slower, then hands over its value', async () => {
    vi.useFakeTimers();
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const defer = vi.fn(async () => undefined);
    const answer = withDeferral(work, 1_000, defer);
    await vi.advanceTimersByTimeAsync(999);
    expect(defer).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(defer).toHaveBeenCalledTimes(1);
    finish('done');
    await expect(answer).resolves.toEqual({ value: 'done', deferred: true });
  });

  it('passes a failure of the work on (the router answers it), deferred or not', async () => {
    await expect(withDeferral(Promise.reject(new Error('db gone')), 1_000, async () => undefined)).rejects.toThrow('db gone');
  });
});

describe('within', () => {
  it('falls back when the work is late or fails', async () => {
    vi.useFakeTimers();
    const late = within(new Promise<string>(() => undefined), 1_500, 'fallback');
    await vi.advanceTimersByTimeAsync(1_500);
    await expect(late).resolves.toBe('fallback');
    await expect(within(Promise.reject(new Error('x')), 1_500, 'fallback')).resolves.toBe('fallback');
    await expect(within(Promise.resolve('real'), 1_500, 'fallback')).resolves.toBe('real');
  });
});

describe('actorFrom', () => {
  const user = { id: '300000000000000011', username: 'alice', globalName: 'Alice A.' };
  it('takes the role IDs of a raw API member, without @everyone', () => {
    const interaction = { guildId: '100000000000000002', user, member: { roles: ['100000000000000002', '200000000000000010'] } } as unknown as BaseInteraction;
    expect(actorFrom(interaction)).toEqual({ platform: 'discord', userId: user.id, displayName: 'Alice A.', groups: ['200000000000000010'] });
  });

  it('takes the role IDs of a cached guild member', () => {
    const roles = new Map([['100000000000000002', {}], ['200000000000000011', {}]]);
    const interaction = { guildId: '100000000000000002', user, member: { roles: { cache: roles } } } as unknown as BaseInteraction;
    expect(actorFrom(interaction).groups).toEqual(['200000000000000011']);
  });

  it('has no groups outside a guild', () => {
    const interaction = { guildId: null, user: { ...user, globalName: null }, member: null } as unknown as BaseInteraction;
    expect(actorFrom(interaction)).toEqual({ platform: 'discord', userId: user.id, displayName: 'alice', groups: [] });
  });
});

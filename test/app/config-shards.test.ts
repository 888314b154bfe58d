/**
 * SHARDS: unset is one process; `auto` or a number runs the shard manager; anything else says what is
 * wrong (with or without a token). `auto` runs Discord's count, capped at MAX_SHARDS as a number is.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, MAX_SHARDS, shardCountFor } from '../../src/app/config.js';
import { configProblems } from '../helpers.js';

describe('SHARDS', () => {
  it('unset or empty: one process, no manager', async () => {
    expect(loadConfig({}, '/project').shards).toBeUndefined();
    expect(loadConfig({ SHARDS: '' }, '/project').shards).toBeUndefined();
    expect(loadConfig({ SHARDS: '  ' }, '/project').shard).toBeUndefined();
  });

  it('auto (any case) or a whole number of shards', async () => {
    expect(loadConfig({ SHARDS: 'auto' }, '/project').shards).toBe('auto');
    expect(loadConfig({ SHARDS: 'AUTO' }, '/project').shards).toBe('auto');
    expect(loadConfig({ SHARDS: '1' }, '/project').shards).toBe(1);
    expect(loadConfig({ SHARDS: ' 4 ' }, '/project').shards).toBe(4);
    expect(loadConfig({ SHARDS: '128' }, '/project').shards).toBe(128);
  });

  it.each([
    [
      '0',
      'SHARDS: expected auto or a whole number of shards from 1 to 128; 0 would run no shard (leave SHARDS unset to run the bot in one process)',
    ],
    [
      '-1',
      'SHARDS: expected auto or a whole number of shards from 1 to 128; -1 would run no shard (leave SHARDS unset to run the bot in one process)',
    ],
    ['abc', 'SHARDS: expected auto or a whole number of shards from 1 to 128, got "abc"'],
    ['1.5', 'SHARDS: expected auto or a whole number of shards from 1 to 128; 1.5 is not a whole number'],
    ['0x10', 'SHARDS: expected auto or a whole number of shards from 1 to 128, got "0x10"'],
    ['129', 'SHARDS: expected auto or a whole number of shards from 1 to 128; 129 shard processes are more than one machine should run'],
  ])('SHARDS=%s is refused with a message that says why', async (value, message) => {
    expect(await configProblems({ SHARDS: value })).toEqual([message]);
  });

  it('is reported together with the other bad keys', async () => {
    expect(await configProblems({ SHARDS: 'two', LOG_LEVEL: 'loud' })).toEqual([
      expect.stringMatching(/^LOG_LEVEL: /),
      'SHARDS: expected auto or a whole number of shards from 1 to 128, got "two"',
    ]);
  });

  it("inside a shard process, SHARDS and SHARD_COUNT are discord.js' shard id and count", async () => {
    const config = loadConfig({ SHARDING_MANAGER: 'true', SHARDS: '0', SHARD_COUNT: '2' }, '/project');
    expect(config.shard).toEqual({ id: 0, count: 2 });
    expect(config.shards).toBeUndefined();
    expect(await configProblems({ SHARDING_MANAGER: 'true', SHARDS: '2', SHARD_COUNT: '2' })).toEqual([
      expect.stringMatching(
        /^SHARDS, SHARD_COUNT: a shard process needs its id and the shard count from the shard manager \(got "2" of "2"\)/,
      ),
    ]);
  });

  it('is checked without DISCORD_TOKEN too, where a valid value is only ignored', async () => {
    expect(loadConfig({ SHARDS: '2' }, '/project').discord.token).toBeUndefined();
    expect(await configProblems({ SHARDS: 'two' })).toEqual(['SHARDS: expected auto or a whole number of shards from 1 to 128, got "two"']);
  });
});

describe('the number of shards the manager runs', () => {
  it('SHARDS=N: N, whatever Discord recommends', async () => {
    expect(shardCountFor(4, 2)).toEqual({ count: 4, capped: false });
    expect(shardCountFor(1, 300)).toEqual({ count: 1, capped: false });
  });

  it("SHARDS=auto: Discord's count, at most MAX_SHARDS, and says when it capped it", () => {
    expect(MAX_SHARDS).toBe(128);
    expect(shardCountFor('auto', 1)).toEqual({ count: 1, capped: false });
    expect(shardCountFor('auto', 128)).toEqual({ count: 128, capped: false });
    expect(shardCountFor('auto', 129)).toEqual({ count: 128, capped: true });
    expect(shardCountFor('auto', 5_000)).toEqual({ count: 128, capped: true });
  });
});

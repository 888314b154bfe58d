/**
 * Follow-ups in Discord: a reply to one of the bot's answers, or the next question in a thread, is read
 * with the question it follows. Through the fake Discord, on the seeds index.
 */
import { describe, expect, it } from 'vitest';
import type { APIMessage } from 'discord.js';
import { useBotHarness, waitForReply } from './harness.js';

const { setup } = useBotHarness();

const FOLLOWING = '↪ following: how many US troops are in Syria?';

describe('follow-ups', () => {
  it('reads a reply to an answer with the question it answered, and says so', async () => {
    const { fake, clock, logs } = await setup();
    const first = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });
    const answer = await waitForReply(fake, first);
    expect(answer.body.embeds?.[0]?.author).toBeUndefined();
    clock.advance(10_000);

    const followUp = fake.sendMessage({
      content: 'and what does Russia want them to do?',
      referencedMessage: (answer.response as APIMessage).id,
    });
    const reply = await waitForReply(fake, followUp);
    const embed = reply.body.embeds?.[0];
    expect(embed?.title).toBe('and what does Russia want them to do?');
    expect(embed?.author?.name).toBe(FOLLOWING);
    expect(embed?.description).toMatch(/depart|leave|withdraw/);
    expect(logs.some((line) => line.event === 'answer' && line.follows === 'how many US troops are in Syria?')).toBe(true);
  });

  it('carries a chain on: a reply to a follow-up still knows the first question', async () => {
    const { fake, clock, logs } = await setup();
    const first = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });
    const answer = await waitForReply(fake, first);
    clock.advance(5_000);
    const second = fake.sendMessage({ content: 'and what does Russia want?', referencedMessage: (answer.response as APIMessage).id });
    const secondAnswer = await waitForReply(fake, second);
    clock.advance(5_000);
    const third = fake.sendMessage({ content: 'and Iran?', referencedMessage: (secondAnswer.response as APIMessage).id });
    const reply = await waitForReply(fake, third);
    expect(reply.body.embeds?.[0]?.author?.name).toBe('↪ following: and what does Russia want?');
    expect(logs.filter((line) => line.event === 'answer').map((line) => line.follows)).toEqual([
      undefined,
      'how many US troops are in Syria?',
      'and what does Russia want?',
    ]);
  });

  it('falls back on the question an answer shows once the memory has forgotten it', async () => {
    const { fake, clock } = await setup({ bot: { memory: { ttlMs: 60_000 } } });
    const first = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });
    const answer = await waitForReply(fake, first);
    clock.advance(120_000);
    const followUp = fake.sendMessage({ content: 'and what does Russia want?', referencedMessage: (answer.response as APIMessage).id });
    const reply = await waitForReply(fake, followUp);
    expect(reply.body.embeds?.[0]?.author?.name).toBe(FOLLOWING);
  });

  it('reads the next question in a thread as following the latest answer there, for ten minutes', async () => {
    const { fake, clock } = await setup();
    const first = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId: fake.threadId });
    await waitForReply(fake, first);
    clock.advance(60_000);
    const next = fake.sendMessage({ content: 'and what does Russia want?', mentionBot: true, channelId: fake.threadId });
    expect((await waitForReply(fake, next)).body.embeds?.[0]?.author?.name).toBe(FOLLOWING);

    clock.advance(11 * 60_000);
    const later = fake.sendMessage({ content: 'who is Sergei Lavrov?', mentionBot: true, channelId: fake.threadId });
    expect((await waitForReply(fake, later)).body.embeds?.[0]?.author).toBeUndefined();
  });

  it('does not read a mention in a channel as a follow-up of the answer before it', async () => {
    const { fake, clock } = await setup();
    const first = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });
    await waitForReply(fake, first);
    clock.advance(10_000);
    const next = fake.sendMessage({ content: 'what did Zakharova say?', mentionBot: true });
    expect((await waitForReply(fake, next)).body.embeds?.[0]?.author).toBeUndefined();
  });

  it('does not take a reply to a notice of the bot (no answer in it) as a follow-up', async () => {
    const { fake, clock } = await setup();
    const empty = fake.sendMessage({ content: '🙂', mentionBot: true });
    const notice = await waitForReply(fake, empty);
    expect(notice.body.embeds ?? []).toEqual([]);
    clock.advance(10_000);
    const followUp = fake.sendMessage({
      content: 'how many US troops are in Syria?',
      referencedMessage: (notice.response as APIMessage).id,
    });
    const reply = await waitForReply(fake, followUp);
    expect(reply.body.embeds?.[0]?.author).toBeUndefined();
    expect(reply.body.embeds?.[0]?.title).toBe('how many US troops are in Syria?');
  });
});

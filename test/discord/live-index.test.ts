/**
 * The live index through the real bot on the fake Discord: a page dropped into the seeds folder of a
 * running bot is answered from within seconds and forgotten once removed; /add fetches a page from a
 * (local) web server, indexes it, answers privately with what it indexed and writes the audit log.
 */
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/app/config.js';
import { LiveLibrary } from '../../src/app/live-library.js';
import { openRuntime } from '../../src/app/runtime.js';
import { commandData } from '../../src/discord/commands/index.js';
import { hashUser } from '../../src/eval/feedback.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { isRequest, waitUntil } from '../support/fake-discord.js';
import { newsPage, startWebServer, type WebServer } from '../support/web-server.js';
import { repoRoot, useBotHarness, visibleText, waitForReply } from './harness.js';

const BRIDGE = {
  title: 'Council votes to rebuild the old river bridge',
  byline: 'Ana Lopez',
  date: '2026-11-30T10:00:00Z',
  site: 'Example Times',
  canonical: 'https://example.org/news/bridge',
  paragraphs: [
    'The city council voted on Monday to rebuild the old river bridge, which has been closed to traffic since the spring floods damaged its piers.',
    'The work will cost about 40 million euros and should take two years, the mayor said after the vote.',
    '"We cannot leave the east bank cut off any longer," she told reporters outside the town hall.',
  ],
};

const FERRY = {
  title: 'Island ferry service suspended after engine fire',
  byline: 'Tom Berg',
  date: '2026-12-01T08:00:00Z',
  site: 'Harbour News',
  canonical: 'https://harbour.example/ferry-fire',
  paragraphs: [
    'The ferry between the harbour and the island was suspended on Tuesday after a small engine fire broke out during the morning crossing.',
    'All 64 passengers were brought back to port safely, the ferry operator said in a statement.',
  ],
};

describe('a live index in the running bot', () => {
  const { setup } = useBotHarness();
  let tmp: string;
  let config: Config;
  let live: LiveLibrary;
  let web: WebServer;
  const warnings: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-live-'));
    await cp(path.join(repoRoot, 'seeds'), path.join(tmp, 'seeds'), {
      recursive: true,
      filter: (file) => !file.includes(`${path.sep}web`),
    });
    config = loadConfig({ SEEDS_DIR: 'seeds', INDEX_DIR: 'index', ALLOW_PRIVATE_URLS: 'true', FEED_STATE_FILE: 'feeds.json' }, tmp);
    const runtime = await openRuntime(config, { warn: (message) => warnings.push(message) });
    live = new LiveLibrary({ config, runtime, warn: (message) => warnings.push(message), debounceMs: 150 });
    await live.watchSeeds();
    web = await startWebServer({
      '/news/bridge': { body: newsPage(BRIDGE) },
      '/about': { body: '<html><body><form><input name="q"></form></body></html>' },
    });
  }, 120_000);

  afterAll(async () => {
    await live?.close();
    await web?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const hasArticle = (file: string) => live.current.index.articles.has(file);

  it('answers from a page dropped into the seeds folder within seconds, and forgets it once it is removed', async () => {
    const h = await setup({ bot: { library: () => live.current } });
    const page = path.join(config.seedsDir, 'ferry.html');
    await writeFile(page, newsPage(FERRY));
    await waitUntil(() => hasArticle('ferry.html'), { timeoutMs: 15_000, description: 'the dropped page is indexed' });

    const question = h.fake.sendMessage({ content: `<@${h.fake.botUser.id}> why was the island ferry suspended?` });
    const reply = await waitForReply(h.fake, question);
    expect(visibleText(reply.body!)).toContain(FERRY.title);
    expect(visibleText(reply.body!)).toContain('engine fire');

    await unlink(page);
    await waitUntil(() => !hasArticle('ferry.html'), { timeoutMs: 15_000, description: 'the removed page leaves the index' });
    h.clock.advance(60_000);
    const again = h.fake.sendMessage({ content: `<@${h.fake.botUser.id}> why was the island ferry suspended?` });
    const second = await waitForReply(h.fake, again);
    expect(visibleText(second.body!)).not.toContain(FERRY.title);
  }, 60_000);

  it('answers a question asked during an update from the index as it was', async () => {
    const before = live.current;
    await writeFile(path.join(config.seedsDir, 'ferry-2.html'), newsPage({ ...FERRY, canonical: 'https://harbour.example/ferry-2' }));
    const update = live.update('test');
    // The update runs in the background: the index answering now is the one from before, whole.
    expect(live.current).toBe(before);
    const answer = await answerQuestion('how many troops are in Syria?', { index: before.index, embedder: before.embedder, k: 3 });
    expect(answer.results.length).toBeGreaterThan(0);
    await update;
    expect(live.current).not.toBe(before);
    expect(hasArticle('ferry-2.html')).toBe(true);
    expect(before.index.articles.has('ferry-2.html')).toBe(false);
    await unlink(path.join(config.seedsDir, 'ferry-2.html'));
    await live.update('test');
  }, 60_000);

  it('/add indexes a page from its link, answers privately with what it indexed, and logs who added it (hashed)', async () => {
    const h = await setup({ bot: { library: () => live.current, addLinks: (links) => live.addLinks(links) } });
    const handle = h.fake.chatInputCommand('add', { url: `<${web.url('/news/bridge')}> ${web.url('/about')}` });
    const edit = await h.fake.waitForRequest<{ embeds: Array<{ title: string }> }>(isRequest('PATCH', handle.originalPath), 30_000);
    const shown = visibleText(edit.body!);
    expect(shown).toContain(`Added: ${BRIDGE.title}`);
    expect(shown).toMatch(/Example Times · by Ana Lopez · 2026-11-30 · 3 passages/);
    expect(shown).toMatch(/Not added[\s\S]*no article was found/);
    const callback = h.fake.requestsTo('POST', handle.callbackPath)[0]!;
    expect((callback.body as { data?: { flags?: number } }).data?.flags).toBe(64);

    const audit = (await readFile(h.additionsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.map((entry) => entry.status)).toEqual(['added', 'failed']);
    expect(audit[0]).toMatchObject({ user: hashUser(h.fake.human.id), link: web.url('/news/bridge'), title: BRIDGE.title, passages: 3 });
    expect(JSON.stringify(audit)).not.toContain(h.fake.human.id);

    // The page is in the index the bot answers from, at once.
    const question = h.fake.sendMessage({ content: `<@${h.fake.botUser.id}> how much will the river bridge cost?` });
    expect(visibleText((await waitForReply(h.fake, question)).body!)).toContain('40 million euros');

    // The same story again, by its link: already there.
    h.clock.advance(120_000);
    const twice = h.fake.chatInputCommand('add', { url: web.url('/news/bridge') });
    const second = await h.fake.waitForRequest(isRequest('PATCH', twice.originalPath), 30_000);
    expect(visibleText(second.body as never)).toContain(`Already indexed: ${BRIDGE.title}`);
  }, 60_000);

  it('/add is refused politely without the capability, and rate-limited per user', async () => {
    const h = await setup({
      bot: {
        library: () => live.current,
        addLinks: async () => [],
        additionLimits: { user: { limit: 1, windowMs: 60_000 }, channel: { limit: 10, windowMs: 60_000 } },
      },
    });
    const first = h.fake.chatInputCommand('add', { url: web.url('/nothing') });
    await h.fake.waitForRequest(isRequest('PATCH', first.originalPath), 10_000);
    const second = h.fake.chatInputCommand('add', { url: web.url('/nothing') });
    const refused = await h.fake.waitForRequest(isRequest('POST', second.callbackPath), 5_000);
    expect(visibleText((refused.body as { data: never }).data)).toMatch(/Please wait \d+ seconds? before the next \/add/);

    const tooMany = h.fake.chatInputCommand('add', { url: 'a b c d e f' });
    const many = await h.fake.waitForRequest(isRequest('POST', tooMany.callbackPath), 5_000);
    expect(visibleText((many.body as { data: never }).data)).toContain('At most 5 links');
  });

  it('registers /add for members who may manage messages, in servers only', () => {
    const data = commandData().find((command) => command.name === 'add')!;
    expect(data.default_member_permissions).toBe(Number(PermissionFlagsBits.ManageMessages));
    expect(data.contexts).toEqual([0]);
  });
});

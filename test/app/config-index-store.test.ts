/**
 * INDEX_STORE: unset keeps the index in INDEX_DIR's files; `postgres` needs DATABASE_URL (checked without
 * a word of it repeated when it may hold a password) and takes DATABASE_SCHEMA and DATABASE_EF_SEARCH.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { PG_EF_SEARCH } from '../../src/storage/postgres/search-settings.js';
import { configProblems } from '../helpers.js';

describe('INDEX_STORE', () => {
  it('unset: files in INDEX_DIR, resolved against the project', async () => {
    expect(loadConfig({}, '/project').indexStore).toEqual({ kind: 'files', dir: '/project/index' });
    expect(loadConfig({ INDEX_STORE: 'files', INDEX_DIR: 'idx' }, '/project').indexStore).toEqual({ kind: 'files', dir: '/project/idx' });
  });

  it('postgres: the URL and the schema (public unless set)', async () => {
    const url = 'postgres://citebot:secret@db.internal:5432/news';
    expect(loadConfig({ INDEX_STORE: 'postgres', DATABASE_URL: url }, '/project').indexStore).toEqual({
      kind: 'postgres',
      url,
      schema: 'public',
      efSearch: PG_EF_SEARCH,
    });
    expect(loadConfig({ INDEX_STORE: 'postgres', DATABASE_URL: url, DATABASE_SCHEMA: 'guild_news' }, '/project').indexStore).toEqual({
      kind: 'postgres',
      url,
      schema: 'guild_news',
      efSearch: PG_EF_SEARCH,
    });
  });

  it('postgres: DATABASE_EF_SEARCH sets how many candidates the HNSW search of pgvector keeps, within its range', async () => {
    const settings = { INDEX_STORE: 'postgres', DATABASE_URL: 'postgres://db/news' };
    expect(loadConfig({ ...settings, DATABASE_EF_SEARCH: '400' }, '/project').indexStore).toMatchObject({ efSearch: 400 });
    expect(loadConfig({ ...settings, DATABASE_EF_SEARCH: ' ' }, '/project').indexStore).toMatchObject({ efSearch: PG_EF_SEARCH });
    for (const bad of ['0', '1001', '64.5', 'many'])
      expect(await configProblems({ ...settings, DATABASE_EF_SEARCH: bad })).toEqual([
        expect.stringMatching(/^DATABASE_EF_SEARCH: expected /),
      ]);
  });

  it('postgres without DATABASE_URL says what to set', async () => {
    expect(await configProblems({ INDEX_STORE: 'postgres' })).toEqual([
      'DATABASE_URL: INDEX_STORE=postgres needs the database, as postgres://user:password@host:5432/database',
    ]);
    expect(await configProblems({ INDEX_STORE: 'postgres', DATABASE_URL: '  ' })).toHaveLength(1);
  });

  it('a DATABASE_URL that is no postgres:// URL is refused without repeating it', async () => {
    const [problem] = await configProblems({ INDEX_STORE: 'postgres', DATABASE_URL: 'host=db user=citebot password=hunter2' });
    expect(problem).toMatch(/^DATABASE_URL: a key=value connection string/);
    expect(problem).not.toContain('hunter2');
    const [scheme] = await configProblems({ INDEX_STORE: 'postgres', DATABASE_URL: 'mysql://citebot:hunter2@db/news' });
    expect(scheme).toMatch(/^DATABASE_URL: /);
    expect(scheme).not.toContain('hunter2');
  });

  it('a bad schema name or store kind is named, with every other problem at once', async () => {
    expect(await configProblems({ INDEX_STORE: 'postgres', DATABASE_URL: 'postgres://db/news', DATABASE_SCHEMA: 'News' })).toEqual([
      'DATABASE_SCHEMA: expected lower-case letters, digits and _, at most 30',
    ]);
    expect(await configProblems({ INDEX_STORE: 'postgres', DATABASE_URL: 'postgres://db/news', DATABASE_SCHEMA: 'pg_news' })).toEqual([
      'DATABASE_SCHEMA: Postgres keeps names beginning with pg_ for its own schemas',
    ]);
    expect(await configProblems({ INDEX_STORE: 'sqlite', SHARDS: 'many' })).toEqual([
      'INDEX_STORE: expected files (INDEX_DIR) or postgres (DATABASE_URL)',
      expect.stringMatching(/^SHARDS: /),
    ]);
  });

  it('DATABASE_URL is ignored while INDEX_STORE is files', async () => {
    expect(loadConfig({ DATABASE_URL: 'not a url' }, '/project').indexStore.kind).toBe('files');
  });
});

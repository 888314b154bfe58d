/** SEARCH_THREADS: 2 by default (a second thread for large questions), 1 to keep one; anything else is refused. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { configProblems } from '../helpers.js';

describe('SEARCH_THREADS', () => {
  it('is 2 unset or blank, or as set', () => {
    expect(loadConfig({}, '/project').searchThreads).toBe(2);
    expect(loadConfig({ SEARCH_THREADS: ' ' }, '/project').searchThreads).toBe(2);
    expect(loadConfig({ SEARCH_THREADS: '1' }, '/project').searchThreads).toBe(1);
  });

  it.each(['0', '3', '1.5', 'two'])('SEARCH_THREADS=%s is refused with a message that says why', async (value) => {
    expect(await configProblems({ SEARCH_THREADS: value })).toEqual([
      'SEARCH_THREADS: expected 1 (one thread) or 2 (a second thread for large questions)',
    ]);
  });
});

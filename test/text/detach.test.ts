import { describe, expect, it } from 'vitest';
import { detached } from '../../src/text/detach.js';

describe('detached', () => {
  it('returns an equal string for any text: one-byte, two-byte, short, empty, with unpaired surrogates', () => {
    const file = 'Designers “quoted” — β and plain Latin-1 text: café, naïve, façade, long enough to be sliced. \ud800 \udfff 😀';
    for (const text of [file, file.slice(0, 40), file.slice(40, 90), file.slice(95), 'short', '', 'x'.repeat(5000)]) {
      expect(detached(text)).toBe(text);
    }
  });
});

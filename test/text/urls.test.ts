import { describe, expect, it } from 'vitest';
import { hostOf, quoteLink } from '../../src/text/urls.js';

/** The text terms of a link's directive, decoded, the way a browser reads them. */
function directiveTerms(link: string): string[] {
  const fragment = link.split('#:~:text=')[1]!;
  return fragment.split(',').map((term) => decodeURIComponent(term));
}

describe('links that open at the quote (URL Fragment Text Directives)', () => {
  it('a short quote is matched whole', () => {
    const link = quoteLink('https://news.example/a', 'Troops will stay.')!;
    expect(link).toBe('https://news.example/a#:~:text=Troops%20will%20stay.');
  });

  it('a long quote is matched by its first and last words', () => {
    const quote = 'Washington has deployed around 2,000 troops to Syria, the Pentagon said on Thursday after a briefing.';
    const link = quoteLink('https://news.example/a', quote)!;
    expect(directiveTerms(link)).toEqual(['Washington has deployed around 2,000', 'on Thursday after a briefing.']);
  });

  it('escapes the characters the directive syntax uses: comma, dash and ampersand', () => {
    const link = quoteLink('https://news.example/a', 'Smith & Sons, a well-known firm — not “ours”')!;
    const fragment = link.split('#:~:text=')[1]!;
    // Unescaped, a comma would split start from end, a dash would read as a prefix or suffix, & would end the directive.
    expect(fragment).not.toMatch(/[,&-]/);
    expect(fragment).toContain('%2C');
    expect(fragment).toContain('%26');
    expect(fragment).toContain('well%2Dknown');
    expect(directiveTerms(link)).toEqual(['Smith & Sons, a well-known firm — not “ours”']);
  });

  it('curly quotes and non-Latin text are percent-encoded as UTF-8', () => {
    const link = quoteLink('https://news.example/a', '“Мы уйдём,” he said.')!;
    expect(link).toMatch(/^[\x21-\x7e]+$/);
    expect(directiveTerms(link)).toEqual(['“Мы уйдём,” he said.']);
  });

  it('replaces a fragment the address had; adds https to a bare host; refuses what is not http(s)', () => {
    expect(quoteLink('https://news.example/a#comments', 'Yes.')).toBe('https://news.example/a#:~:text=Yes.');
    expect(quoteLink('www.newsweek.com/x', 'Yes.')).toBe('https://www.newsweek.com/x#:~:text=Yes.');
    expect(quoteLink('javascript:alert(1)', 'Yes.')).toBeUndefined();
    expect(quoteLink(null, 'Yes.')).toBeUndefined();
  });

  it('drops an ellipsis that marks a cut quote', () => {
    expect(directiveTerms(quoteLink('https://x.example/', 'the deal … was signed')!)).toEqual(['the deal was signed']);
  });
});

describe('hostOf', () => {
  it('names the host without www, with or without a scheme', () => {
    expect(hostOf('https://www.example.com/a')).toBe('example.com');
    expect(hostOf('example.com/a')).toBe('example.com');
  });
});

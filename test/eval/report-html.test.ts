import { describe, expect, it } from 'vitest';
import type { Miss, Report } from '../../src/eval/check.js';
import type { RetrievalMetrics } from '../../src/eval/metrics.js';
import { escapeHtml, markQuote, renderReportHtml } from '../../src/eval/report-html.js';

/** Metrics with every value `base`, then the given ones. */
function metrics(base: number, overrides: Partial<RetrievalMetrics> = {}): RetrievalMetrics {
  return {
    success_at_1: base,
    success_at_5: base,
    success_at_10: base,
    recall_at_1: base,
    recall_at_5: base,
    recall_at_10: base,
    mrr_at_10: base,
    ndcg_at_10: base,
    ...overrides,
  };
}

const HOSTILE_QUESTION = 'why <script>alert(1)</script> here?';
const HOSTILE_TITLE = `Tom & Jerry's "best" day`;

const GOLD_NOT_FIRST: Miss = {
  id: 'q7',
  question: HOSTILE_QUESTION,
  kind: 'who',
  problem: 'gold not first',
  goldRank: 3,
  answered: true,
  gold: [{ file: 'gold.txt', title: 'The right article', paragraph: 2, text: 'The minister resigned on Tuesday.' }],
  first: {
    file: 'wrong<1>.txt',
    title: HOSTILE_TITLE,
    paragraph: 4,
    text: 'Before it. Cats & dogs met on Monday. After it.',
    quote: 'Cats & dogs met on Monday.',
    score: 0.01639,
  },
};

const ANSWERED_UNANSWERABLE: Miss = {
  id: 'u2',
  question: 'what is the weather on mars',
  problem: 'answered the unanswerable',
  goldRank: null,
  answered: true,
  gold: [],
  first: {
    file: 'mars.txt',
    title: 'Mars rover',
    paragraph: 1,
    text: 'The rover found dust.',
    quote: 'a quote from elsewhere',
    score: 0.5,
  },
};

const NOTHING_RETURNED: Miss = {
  id: 'q9',
  question: 'who signed the treaty',
  kind: 'who',
  problem: 'gold not found',
  goldRank: null,
  answered: false,
  gold: [{ file: 'treaty.txt', title: 'Treaty', paragraph: 0, text: 'The treaty was signed by both.' }],
  first: null,
  fact: 'signed in 1990',
};

function makeReport(overrides: Partial<Report> = {}): Report {
  return {
    dataset: 'news <dev> & co',
    mode: 'hybrid',
    model: 'bge-small-en',
    passages: 1234,
    questions: { answerable: 40, unanswerable: 10 },
    metrics: {
      ...metrics(0.5, { success_at_1: 0.8123, mrr_at_10: 0.7 }),
      answer_in_quote: 0.6789,
      abstention_accuracy: 0.745,
      unanswerable_abstained: 0.8,
      false_abstentions: 0.05,
      latency_ms_p50: 12.345,
      latency_ms_p95: 45.678,
    },
    baseline: { ...metrics(0.4, { success_at_5: 0.9456 }), latency_ms_p50: 1.5, latency_ms_p95: 3.25 },
    peers: [
      { name: 'orama', build_ms: 321.4, metrics: { ...metrics(0.3, { ndcg_at_10: 0.88 }), latency_ms_p50: 2.5, latency_ms_p95: 4.75 } },
    ],
    by_kind: {
      who: {
        questions: 12,
        citebot: metrics(0.6),
        answer_in_quote: 0.4321,
        baseline: metrics(0.7),
        peers: { orama: metrics(0.1) },
      },
    },
    tuning: { abstention_threshold: 0.35, best_threshold: 0.4123, best_abstention_accuracy: 0.8 },
    misses: [GOLD_NOT_FIRST, ANSWERED_UNANSWERABLE, NOTHING_RETURNED],
    thresholds: { success_at_5: 0.85, mrr_at_10: 0.6 },
    failures: [],
    ...overrides,
  };
}

/** The cells of the metrics table row labelled `label` (the first such row), without their tags. */
function rowCells(html: string, label: string): string[] {
  const row = new RegExp(`<tr><th scope="row">${label}</th>(.*?)</tr>`).exec(html);
  if (!row) throw new Error(`no row ${label}`);
  return [...row[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((cell) => cell[1]!);
}

describe('renderReportHtml', () => {
  it('is one complete document that loads nothing and runs nothing', () => {
    const html = renderReportHtml(makeReport());
    expect(html.startsWith('<!doctype html>\n')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<style>');
    for (const external of ['<script', '<link', '<img', '@import', 'url(', 'src=', 'http']) expect(html).not.toContain(external);
  });

  it('heads the page with the dataset, model, mode, passages and question counts', () => {
    const html = renderReportHtml(makeReport());
    expect(html).toContain('<title>Retrieval check: news &lt;dev&gt; &amp; co</title>');
    expect(html).toContain('<code>bge-small-en</code>');
    expect(html).toContain('hybrid retrieval');
    expect(html).toContain('1234 passages');
    expect(html).toContain('40 answerable + 10 unanswerable questions');
    expect(html).toContain('<dt>unanswerable abstained</dt><dd>0.800 (of 10)</dd>');
    expect(html).toContain('<dt>answerable abstained wrongly</dt><dd>0.050 (of 40)</dd>');
    expect(renderReportHtml(makeReport({ model: null, mode: 'lexical' }))).toContain('model lexical only');
  });

  it('shows every system to three decimals, with the best of each column in bold', () => {
    const html = renderReportHtml(makeReport());
    expect(html).toMatch(
      /<th>S@1<\/th><th>S@5<\/th><th>S@10<\/th><th>R@1<\/th><th>R@5<\/th><th>R@10<\/th><th>MRR@10<\/th><th>nDCG@10<\/th>/,
    );
    const citebot = rowCells(html, 'citebot');
    const bm25 = rowCells(html, 'BM25 baseline');
    const orama = rowCells(html, 'orama');
    // S@1: citebot's 0.8123 is best; S@5: BM25's 0.9456; nDCG@10: the peer's 0.88.
    expect(citebot[0]).toBe('<strong>0.812</strong>');
    expect(bm25[0]).toBe('0.400');
    expect(bm25[1]).toBe('<strong>0.946</strong>');
    expect(citebot[1]).toBe('0.500');
    expect(orama[7]).toBe('<strong>0.880</strong>');
    expect(citebot[6]).toBe('<strong>0.700</strong>');
    expect(citebot).toHaveLength(8);
  });

  it('breaks the metrics down by kind, with answer in quote per kind', () => {
    const html = renderReportHtml(makeReport());
    const section = html.slice(html.indexOf('<h2>By kind of question</h2>'), html.indexOf('<h2>Answers'));
    expect(section).toContain('who <span class="meta">(12 questions)</span>');
    // Within the kind, BM25's 0.7 beats citebot's 0.6 and the peer's 0.1.
    expect(rowCells(section, 'BM25 baseline')[0]).toBe('<strong>0.700</strong>');
    expect(rowCells(section, 'citebot')[0]).toBe('0.600');
    expect(rowCells(section, 'orama')[0]).toBe('0.100');
    expect(section).toContain('answer in quote <strong>0.432</strong>');
  });

  it('reports answer in quote, abstention with its thresholds, latency and the thresholds met', () => {
    const html = renderReportHtml(makeReport());
    expect(html).toContain('<strong>0.679</strong>');
    expect(html).toContain('<strong>0.745</strong> (threshold 0.35; best on this set 0.412 → 0.800)');
    expect(html).toContain('citebot: p50 12.35 ms, p95 45.68 ms per question');
    expect(html).toContain('BM25 baseline: p50 1.50 ms, p95 3.25 ms');
    expect(html).toContain('orama: built in 321 ms; p50 2.50 ms, p95 4.75 ms');
    expect(html).toContain('<p class="verdict met">thresholds: all met (2 checked)</p>');
    expect(html).toContain('<h3>Thresholds checked (2)</h3>');
    expect(html).not.toContain('verdict failed');
  });

  it('shows failures in a red box at the top, and the metric below its minimum', () => {
    const html = renderReportHtml(makeReport({ thresholds: { success_at_1: 0.9 }, failures: ['success_at_1 0.812 < 0.9'] }));
    const box = /<div class="verdict failed">(.*?)<\/div>/.exec(html)?.[1];
    expect(box).toContain('BELOW THRESHOLD');
    expect(box).toContain('<li>success_at_1 0.812 &lt; 0.9</li>');
    expect(html.indexOf('verdict failed')).toBeLessThan(html.indexOf('<h2>Ranking</h2>'));
    expect(html).toContain('<tr class="below"><th scope="row">S@1</th><td>0.900</td><td>0.812</td><td>below</td></tr>');
    expect(html).not.toContain('all met');
  });

  it('escapes every string that comes from data', () => {
    const html = renderReportHtml(makeReport());
    expect(html).not.toContain('<script>');
    expect(html).toContain('why &lt;script&gt;alert(1)&lt;/script&gt; here?');
    expect(html).toContain('<strong>Tom &amp; Jerry&#39;s &quot;best&quot; day</strong>');
    expect(html).toContain('<code>wrong&lt;1&gt;.txt</code>');
    expect(html).not.toContain('news <dev>');
    expect(html).not.toContain(HOSTILE_TITLE);
  });

  it('summarises the misses per problem and per kind, then shows each with its gold and what came first', () => {
    const html = renderReportHtml(makeReport());
    expect(html).toContain('Misses <span class="meta">(3 of 50 questions)</span>');
    expect(html).toContain('<tr><th scope="row">gold not first</th><td>1</td></tr>');
    expect(html).toContain('<tr><th scope="row">answered the unanswerable</th><td>1</td></tr>');
    expect(html).toContain('<tr><th scope="row">who</th><td>2</td></tr>');
    expect(html).toContain('<tr><th scope="row">(no kind)</th><td>1</td></tr>');

    // The gold-not-first miss: its header line, its gold paragraph, and the quote marked inside the passage that won.
    expect(html).toContain('<code>q7</code>');
    expect(html).toContain('who · gold not first · gold at rank 3 · answered');
    expect(html).toContain('<strong>The right article</strong> · <code>gold.txt</code> · ¶2');
    expect(html).toContain('<blockquote>The minister resigned on Tuesday.</blockquote>');
    expect(html).toContain('¶4 · score 0.0164');
    expect(html).toContain('<blockquote>Before it. <mark>Cats &amp; dogs met on Monday.</mark> After it.</blockquote>');

    // The unanswerable one: no gold, and a quote that is not in its passage shown apart.
    expect(html).toContain('(no kind) · answered the unanswerable · no gold: unanswerable · answered');
    expect(html).toContain('None: the question has no answer in the articles.');
    expect(html).toContain('<blockquote>The rover found dust.</blockquote>');
    expect(html).toContain('quote (not found in the passage text): <mark>a quote from elsewhere</mark>');

    // The one with nothing returned.
    expect(html).toContain('who · gold not found · gold not in the top 30 · abstained');
    expect(html).toContain('fact given: <q>signed in 1990</q>');
    expect(html).toContain('Nothing was returned.');
  });

  it('groups the misses by problem, ranking problems first, and folds the large groups', () => {
    const many = Array.from({ length: 60 }, (_, i): Miss => ({ ...NOTHING_RETURNED, id: `bulk${i}` }));
    const html = renderReportHtml(makeReport({ misses: [ANSWERED_UNANSWERABLE, GOLD_NOT_FIRST, ...many] }));
    const summaries = [...html.matchAll(/<details( open)?>\n<summary>(.*?)<\/summary>/g)].map((match) => [match[1] ?? '', match[2]]);
    expect(summaries).toEqual([
      [' open', 'gold not first: 1 miss'],
      ['', 'gold not found: 60 misses <span class="meta">(folded: open to read them)</span>'],
      [' open', 'answered the unanswerable: 1 miss'],
    ]);
    expect(html.match(/<article class="miss">/g)).toHaveLength(62);
  });

  it('says "No misses." and leaves out what the run did not measure', () => {
    const html = renderReportHtml(
      makeReport({ misses: [], baseline: undefined, peers: undefined, by_kind: undefined, thresholds: {}, failures: [] }),
    );
    expect(html).toContain('<p>No misses.</p>');
    expect(html).not.toContain('<details');
    expect(html).not.toContain('BM25');
    expect(html).not.toContain('orama');
    expect(html).not.toContain('By kind of question');
    expect(html).toContain('thresholds: all met (0 checked)');
    // A lone row has nothing to beat, so nothing in the table is bold.
    expect(rowCells(html, 'citebot')).toEqual(['0.812', '0.500', '0.500', '0.500', '0.500', '0.500', '0.700', '0.500']);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });
});

describe('markQuote', () => {
  it('marks the first occurrence and escapes each part on its own', () => {
    expect(markQuote('a <b> a <b>', '<b>')).toBe('a <mark>&lt;b&gt;</mark> a &lt;b&gt;');
  });

  it('returns null for a quote that is empty or not in the text', () => {
    expect(markQuote('some text', 'other')).toBeNull();
    expect(markQuote('some text', '')).toBeNull();
  });
});

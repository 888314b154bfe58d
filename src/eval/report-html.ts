/**
 * The retrieval check as one HTML page: the numbers `formatReport` prints, then every miss with what
 * should have come first and what did, so that an operator can see why answers went wrong. Inline CSS
 * and no script or external resource, so the file opens anywhere, offline, and runs nothing.
 */
import type { Miss, Report, ShownPassage } from './check.js';
import type { RetrievalMetrics } from './metrics.js';

/** The metric columns, in the order and with the labels of the text report. */
const METRIC_COLUMNS: ReadonlyArray<{ key: keyof RetrievalMetrics; label: string }> = [
  { key: 'success_at_1', label: 'S@1' },
  { key: 'success_at_5', label: 'S@5' },
  { key: 'success_at_10', label: 'S@10' },
  { key: 'recall_at_1', label: 'R@1' },
  { key: 'recall_at_5', label: 'R@5' },
  { key: 'recall_at_10', label: 'R@10' },
  { key: 'mrr_at_10', label: 'MRR@10' },
  { key: 'ndcg_at_10', label: 'nDCG@10' },
];

/**
 * Where each kind of miss comes in the page: ranking failures first, as ranking work fixes them, then
 * the abstention ones. A Record so that a new problem cannot be added without a place here.
 */
const PROBLEM_ORDER: Record<Miss['problem'], number> = {
  'gold not first': 0,
  'gold not found': 1,
  'wrong article': 2,
  abstained: 3,
  'answered the unanswerable': 4,
};

/** Groups up to this size start open; a larger one (squad has ~1,000 misses) starts folded so the page stays scannable. */
const OPEN_GROUP_LIMIT = 50;

/** Ranking depth of the check: a gold paragraph beyond it has no rank. */
const RANKING_DEPTH = 30;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

const fixed3 = (value: number) => value.toFixed(3);
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** The report as a complete, self-contained HTML document. */
export function renderReportHtml(report: Report): string {
  const parts = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Retrieval check: ${escapeHtml(report.dataset)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    headerSection(report),
    metricsSection(report),
    byKindSection(report),
    answersSection(report),
    missesSection(report),
    '</body>',
    '</html>',
  ];
  // A section the run has nothing for (no kinds) renders as '' and leaves no blank line.
  return `${parts.filter((part) => part !== '').join('\n')}\n`;
}

function headerSection(report: Report): string {
  const facts = [
    `dataset <strong>${escapeHtml(report.dataset)}</strong>`,
    `model ${report.model === null ? 'lexical only' : `<code>${escapeHtml(report.model)}</code>`}`,
    `${escapeHtml(report.mode)} retrieval`,
    `${report.passages} passages`,
    `${report.questions.answerable} answerable + ${report.questions.unanswerable} unanswerable questions`,
  ];
  return [
    '<header>',
    `<h1>Retrieval check: ${escapeHtml(report.dataset)}</h1>`,
    `<p class="meta">${facts.join(' · ')}</p>`,
    // The verdict sits at the top: a failed threshold is the first thing an operator must see.
    verdict(report),
    '</header>',
  ].join('\n');
}

function verdict(report: Report): string {
  if (report.failures.length === 0) {
    return `<p class="verdict met">thresholds: all met (${Object.keys(report.thresholds).length} checked)</p>`;
  }
  const items = report.failures.map((failure) => `<li>${escapeHtml(failure)}</li>`).join('');
  return `<div class="verdict failed"><strong>BELOW THRESHOLD</strong><ul>${items}</ul></div>`;
}

interface MetricsRow {
  label: string;
  metrics: RetrievalMetrics;
}

/** citebot, then BM25 and the peers where the run has them: the rows every metrics table compares. */
function systemRows(
  citebot: RetrievalMetrics,
  baseline: RetrievalMetrics | undefined,
  peers: Array<[name: string, metrics: RetrievalMetrics]>,
): MetricsRow[] {
  return [
    { label: 'citebot', metrics: citebot },
    ...(baseline ? [{ label: 'BM25 baseline', metrics: baseline }] : []),
    ...peers.map(([label, metrics]) => ({ label, metrics })),
  ];
}

/** A metrics table with the best value of each column in bold (every row that shows it, on a tie). */
function metricsTable(rows: MetricsRow[]): string {
  const bestShown = new Map(METRIC_COLUMNS.map(({ key }) => [key, fixed3(Math.max(...rows.map((row) => row.metrics[key])))]));
  // With a single row there is nothing to beat, and bolding every cell would say nothing.
  const compared = rows.length > 1;
  const head = `<thead><tr><th></th>${METRIC_COLUMNS.map(({ label }) => `<th>${label}</th>`).join('')}</tr></thead>`;
  const body = rows
    .map((row) => {
      const cells = METRIC_COLUMNS.map(({ key }) => {
        const shown = fixed3(row.metrics[key]);
        return compared && shown === bestShown.get(key) ? `<td><strong>${shown}</strong></td>` : `<td>${shown}</td>`;
      });
      return `<tr><th scope="row">${escapeHtml(row.label)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="metrics">\n${head}\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function metricsSection(report: Report): string {
  const rows = systemRows(
    report.metrics,
    report.baseline,
    (report.peers ?? []).map((peer) => [peer.name, peer.metrics]),
  );
  return [
    '<section>',
    '<h2>Ranking</h2>',
    metricsTable(rows),
    '<p class="note">S@k: a gold passage in the top k. R@k: share of the gold passages in the top k (MTEB recall).</p>',
    '</section>',
  ].join('\n');
}

function byKindSection(report: Report): string {
  const kinds = Object.entries(report.by_kind ?? {});
  if (kinds.length === 0) return '';
  const parts = kinds.map(([kind, breakdown]) =>
    [
      `<h3>${escapeHtml(kind)} <span class="meta">(${breakdown.questions} questions)</span></h3>`,
      metricsTable(systemRows(breakdown.citebot, breakdown.baseline, Object.entries(breakdown.peers ?? {}))),
      `<p>answer in quote <strong>${fixed3(breakdown.answer_in_quote)}</strong></p>`,
    ].join('\n'),
  );
  return ['<section>', '<h2>By kind of question</h2>', ...parts, '</section>'].join('\n');
}

function answersSection(report: Report): string {
  const { metrics, tuning, baseline } = report;
  const latencies = [
    `<li>citebot: p50 ${ms(metrics.latency_ms_p50)}, p95 ${ms(metrics.latency_ms_p95)} per question</li>`,
    ...(baseline ? [`<li>BM25 baseline: p50 ${ms(baseline.latency_ms_p50)}, p95 ${ms(baseline.latency_ms_p95)}</li>`] : []),
    ...(report.peers ?? []).map(
      (peer) =>
        `<li>${escapeHtml(peer.name)}: built in ${peer.build_ms.toFixed(0)} ms; p50 ${ms(peer.metrics.latency_ms_p50)}, p95 ${ms(peer.metrics.latency_ms_p95)}</li>`,
    ),
  ];
  return [
    '<section>',
    '<h2>Answers, abstention, latency</h2>',
    '<dl>',
    `<dt>answer in quote</dt><dd><strong>${fixed3(metrics.answer_in_quote)}</strong> <span class="note">(a gold answer string appears in the top result's quote, its speaker's name, or the fact of a metadata answer)</span></dd>`,
    `<dt>abstention accuracy</dt><dd><strong>${fixed3(metrics.abstention_accuracy)}</strong> (threshold ${tuning.abstention_threshold}; best on this set ${fixed3(tuning.best_threshold)} → ${fixed3(tuning.best_abstention_accuracy)})</dd>`,
    `<dt>unanswerable abstained</dt><dd>${fixed3(metrics.unanswerable_abstained)} (of ${report.questions.unanswerable})</dd>`,
    `<dt>answerable abstained wrongly</dt><dd>${fixed3(metrics.false_abstentions)} (of ${report.questions.answerable})</dd>`,
    `<dt>latency</dt><dd><ul>${latencies.join('')}</ul></dd>`,
    '</dl>',
    thresholdsTable(report),
    '</section>',
  ].join('\n');
}

/** Each threshold beside this run's value; the verdict itself is `report.failures`, shown in the header. */
function thresholdsTable(report: Report): string {
  const entries = Object.entries(report.thresholds);
  if (entries.length === 0) return '<p>thresholds: none checked for this run.</p>';
  const values = new Map<string, number>(Object.entries(report.metrics));
  const rows = entries.map(([metric, minimum]) => {
    const value = values.get(metric);
    const below = value === undefined || value < minimum;
    return `<tr class="${below ? 'below' : 'met'}"><th scope="row">${escapeHtml(metricLabel(metric))}</th><td>${fixed3(minimum)}</td><td>${value === undefined ? '—' : fixed3(value)}</td><td>${below ? 'below' : 'met'}</td></tr>`;
  });
  return [
    `<h3>Thresholds checked (${entries.length})</h3>`,
    '<table class="thresholds">',
    '<thead><tr><th>metric</th><th>minimum</th><th>this run</th><th></th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

/** A metric key as the tables label it: `success_at_5` is S@5, `answer_in_quote` is "answer in quote". */
function metricLabel(key: string): string {
  return METRIC_COLUMNS.find((column) => column.key === key)?.label ?? key.replaceAll('_', ' ');
}

function groupBy<T, K>(items: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

const NO_KIND = '(no kind)';

function missesSection(report: Report): string {
  const { misses } = report;
  if (misses.length === 0) return '<section>\n<h2>Misses</h2>\n<p>No misses.</p>\n</section>';
  const byProblem = [...groupBy(misses, (miss) => miss.problem)].sort(([a], [b]) => PROBLEM_ORDER[a] - PROBLEM_ORDER[b]);
  const byKind = [...groupBy(misses, (miss) => miss.kind ?? NO_KIND)];
  const questions = report.questions.answerable + report.questions.unanswerable;
  const countTable = (heading: string, groups: Array<[string, Miss[]]>) =>
    `<table class="counts"><thead><tr><th>${heading}</th><th>misses</th></tr></thead><tbody>${groups
      .map(([name, group]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${group.length}</td></tr>`)
      .join('')}</tbody></table>`;
  const groups = byProblem.map(([problem, group]) => {
    const open = group.length <= OPEN_GROUP_LIMIT;
    const note = open ? '' : ' <span class="meta">(folded: open to read them)</span>';
    return [
      `<details${open ? ' open' : ''}>`,
      `<summary>${escapeHtml(problem)}: ${group.length} ${group.length === 1 ? 'miss' : 'misses'}${note}</summary>`,
      ...group.map(missBlock),
      '</details>',
    ].join('\n');
  });
  return [
    '<section>',
    `<h2>Misses <span class="meta">(${misses.length} of ${questions} questions)</span></h2>`,
    '<div class="summary">',
    countTable('problem', byProblem),
    countTable('kind', byKind),
    '</div>',
    ...groups,
    '</section>',
  ].join('\n');
}

function goldRankText(miss: Miss): string {
  if (miss.goldRank !== null) return `gold at rank ${miss.goldRank}`;
  // These two have no rank for a reason other than ranking: no gold exists, or the fact alone is judged.
  if (miss.problem === 'answered the unanswerable') return 'no gold: unanswerable';
  if (miss.problem === 'wrong article') return 'judged by the fact given';
  return `gold not in the top ${RANKING_DEPTH}`;
}

function noGoldText(miss: Miss): string {
  if (miss.problem === 'answered the unanswerable') return 'None: the question has no answer in the articles.';
  if (miss.problem === 'wrong article') return 'None shown: the question asks for a field of an article, not a paragraph.';
  return 'No gold paragraph was found in the index.';
}

function missBlock(miss: Miss): string {
  const facts = [miss.kind ?? NO_KIND, miss.problem, goldRankText(miss), miss.answered ? 'answered' : 'abstained'];
  return [
    '<article class="miss">',
    `<h4><code>${escapeHtml(miss.id)}</code> ${escapeHtml(miss.question)}</h4>`,
    `<p class="meta">${facts.map(escapeHtml).join(' · ')}</p>`,
    miss.fact === undefined ? '' : `<p>fact given: <q>${escapeHtml(miss.fact)}</q></p>`,
    '<div class="gold">',
    '<h5>Gold paragraphs</h5>',
    miss.gold.length === 0
      ? `<p class="none">${escapeHtml(noGoldText(miss))}</p>`
      : miss.gold.map((passage) => passageBlock(passage, escapeHtml(passage.text))).join('\n'),
    '</div>',
    '<div class="first">',
    '<h5>What came first instead</h5>',
    miss.first === null ? '<p class="none">Nothing was returned.</p>' : firstBlock(miss.first),
    '</div>',
    '</article>',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

function passageBlock(passage: ShownPassage, bodyHtml: string, extraHtml = ''): string {
  return [
    '<div class="passage">',
    `<p class="source"><strong>${escapeHtml(passage.title)}</strong> · <code>${escapeHtml(passage.file)}</code> · ¶${passage.paragraph}${extraHtml}</p>`,
    `<blockquote>${bodyHtml}</blockquote>`,
    '</div>',
  ].join('\n');
}

function firstBlock(first: NonNullable<Miss['first']>): string {
  const marked = markQuote(first.text, first.quote);
  const score = ` · score ${first.score.toFixed(4)}`;
  if (marked !== null || first.quote === '') return passageBlock(first, marked ?? escapeHtml(first.text), score);
  // The quote should be a substring of its passage; when it is not, it still has to be seen.
  return [
    passageBlock(first, escapeHtml(first.text), score),
    `<p class="quote-apart">quote (not found in the passage text): <mark>${escapeHtml(first.quote)}</mark></p>`,
  ].join('\n');
}

/**
 * The passage text as HTML with the quote's first occurrence in `<mark>`, or null when the quote is
 * empty or not in the text. Split before escaping, so an entity is never cut in half.
 */
export function markQuote(text: string, quote: string): string | null {
  const at = quote === '' ? -1 : text.indexOf(quote);
  if (at === -1) return null;
  return `${escapeHtml(text.slice(0, at))}<mark>${escapeHtml(quote)}</mark>${escapeHtml(text.slice(at + quote.length))}`;
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b1b1b; background: #fff; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
h4 { font-size: 1rem; margin: 0 0 .2rem; }
h5 { font-size: .85rem; margin: .5rem 0 .2rem; text-transform: uppercase; letter-spacing: .03em; color: #555; }
.meta, .note { color: #555; font-weight: normal; }
.note { font-size: .9rem; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: right; font-variant-numeric: tabular-nums; }
th[scope=row], thead th:first-child { text-align: left; }
thead th { border-bottom: 2px solid #bbb; }
.verdict { padding: .6rem 1rem; border: 2px solid; border-radius: 4px; margin: 1rem 0; }
.verdict.met { background: #eaf6ec; border-color: #2e7d32; color: #1b5e20; }
.verdict.failed { background: #fdecea; border-color: #c62828; color: #8e0000; }
.verdict ul { margin: .3rem 0 0; }
tr.below td, tr.below th { color: #b71c1c; font-weight: 600; }
dt { font-weight: 600; margin-top: .4rem; }
dd { margin-left: 1.5rem; }
dd ul { margin: 0; padding-left: 1.2rem; }
.summary { display: flex; gap: 2rem; flex-wrap: wrap; }
details { border: 1px solid #ddd; border-radius: 4px; padding: .4rem .8rem; margin: .6rem 0; }
summary { cursor: pointer; font-weight: 600; }
.miss { border-top: 1px solid #eee; padding: .8rem 0; }
.source { margin: .2rem 0 0; font-size: .9rem; }
blockquote { margin: .2rem 0 .5rem; padding: .3rem .8rem; background: #fafafa; border-left: 3px solid #ccc; white-space: pre-wrap; }
.gold blockquote { border-left-color: #2e7d32; }
.first blockquote { border-left-color: #c62828; }
mark { background: #fff176; }
.none { color: #666; font-style: italic; }
`.trim();

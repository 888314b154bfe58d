/** The hand-written SVG line charts: well-formed, legends, escaping, and finite coordinates on edge cases. */
import { describe, expect, it } from 'vitest';
import { escapeXml, renderChartsPage, renderLineChartSvg, type Chart } from '../../bench/chart.js';

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

/** Every element opened is closed, except the self-closing ones. */
function expectBalanced(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  for (const tag of ['svg', 'g', 'text', 'title', 'polyline']) {
    const opened = count(svg, new RegExp(`<${tag}[\\s>]`, 'g')) - count(svg, new RegExp(`<${tag}\\b[^>]*/>`, 'g'));
    expect(opened, `<${tag}> vs </${tag}>`).toBe(count(svg, new RegExp(`</${tag}>`, 'g')));
  }
  expect(count(svg, /<svg[\s>]/g)).toBe(1);
  // No raw ampersand that is not an entity.
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
}

/** Every number in a coordinate attribute or path/points list. */
function coordinates(svg: string): string[] {
  const values: string[] = [];
  for (const match of svg.matchAll(/\s(?:x|y|x1|y1|x2|y2|cx|cy|r|width|height)="([^"]*)"/g)) values.push(match[1]!);
  for (const match of svg.matchAll(/\s(?:points|d)="([^"]*)"/g)) values.push(...match[1]!.split(/[\s,MLZ]+/).filter(Boolean));
  for (const match of svg.matchAll(/(?:translate|rotate)\(([^)]*)\)/g)) values.push(...match[1]!.split(/[\s,]+/).filter(Boolean));
  return values;
}

function expectFinite(svg: string): void {
  expect(svg).not.toMatch(/NaN|Infinity/);
  const values = coordinates(svg);
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) expect(Number.isFinite(Number(value)), value).toBe(true);
}

const polylines = (svg: string) => count(svg, /<polyline[\s>]/g);

const sample: Chart = {
  title: 'Latency <p50 & p95> "bot"',
  xLabel: 'passages',
  yLabel: 'ms',
  logX: true,
  logY: true,
  series: [
    { name: 'hybrid p50', points: [100, 1_000, 10_000, 100_000].map((x) => ({ x, y: 0.8 + x / 20_000 })) },
    { name: 'lexical & BM25', points: [100, 1_000, 10_000, 100_000].map((x) => ({ x, y: 0.3 + x / 60_000 })) },
    { name: 'nothing yet', points: [] },
  ],
};

describe('renderLineChartSvg', () => {
  it('renders a well-formed 720×420 SVG with a white background, title, axis labels and legend', () => {
    const svg = renderLineChartSvg(sample);
    expectBalanced(svg);
    expectFinite(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="720" height="420"/);
    expect(svg).toContain('fill="#ffffff"');
    expect(svg).toContain('Latency &lt;p50 &amp; p95&gt; &quot;bot&quot;');
    expect(svg).not.toContain('<p50');
    expect(svg).toContain('>passages (log scale)</text>');
    expect(svg).toContain('>ms (log scale)</text>');

    const legend = svg.slice(svg.indexOf('<g class="legend">'));
    for (const name of ['hybrid p50', 'lexical &amp; BM25', 'nothing yet']) expect(legend).toContain(name);
    // One line per series that has points; the empty one is only in the legend.
    expect(polylines(svg)).toBe(2);
    // Distinct colours.
    const strokes = [...svg.matchAll(/<polyline [^>]*stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(strokes).size).toBe(2);
  });

  it('puts log ticks at powers of ten, with 2 and 5 where they fit', () => {
    const svg = renderLineChartSvg(sample);
    const labels = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const label of ['100', '1,000', '10,000', '100,000', '0.1', '1', '10']) expect(labels).toContain(label);
    expect(labels).toContain('0.5');
    expect(labels).not.toContain('300');
  });

  it('uses round linear ticks that cover the data', () => {
    const svg = renderLineChartSvg({
      title: 'Build time',
      xLabel: 'articles',
      yLabel: 'seconds',
      series: [{ name: 'build', points: [0, 250, 500, 750, 1_000, 1_250].map((x) => ({ x, y: x * 0.042 + 1.3 })) }],
    });
    expectBalanced(svg);
    expectFinite(svg);
    const labels = [...svg.matchAll(/<text [^>]*text-anchor="(?:end|middle)"[^>]*>([\d.,-]+)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(expect.arrayContaining(['0', '1,000', '20', '40', '60']));
    // The x ticks step evenly by 1, 2 or 5 times a power of ten, from 0 to at least the largest x.
    const xTicks = [...svg.matchAll(/<text [^>]*text-anchor="middle"[^>]*>([\d,]+)<\/text>/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
    const steps = new Set(xTicks.slice(1).map((tick, i) => tick - xTicks[i]!));
    expect(steps.size).toBe(1);
    const [step] = [...steps];
    expect(step! / 10 ** Math.floor(Math.log10(step!))).toBeOneOf([1, 2, 5]);
    expect(xTicks[0]).toBe(0);
    expect(xTicks.at(-1)).toBeGreaterThanOrEqual(1_250);
    expect(svg).not.toContain('(log scale)');
  });

  it('handles a single point, equal values and non-positive values on log axes', () => {
    const cases: Chart[] = [
      { title: 'one', xLabel: 'x', yLabel: 'y', series: [{ name: 'single', points: [{ x: 3, y: 42 }] }] },
      {
        title: 'flat',
        xLabel: 'x',
        yLabel: 'y',
        series: [
          {
            name: 'same',
            points: [
              { x: 5, y: 7 },
              { x: 5, y: 7 },
              { x: 5, y: 7 },
            ],
          },
        ],
      },
      {
        title: 'zeros',
        xLabel: 'x',
        yLabel: 'y',
        series: [
          {
            name: 'zero',
            points: [
              { x: 0, y: 0 },
              { x: 0, y: 0 },
            ],
          },
        ],
      },
      { title: 'one log', xLabel: 'x', yLabel: 'y', logX: true, logY: true, series: [{ name: 'single', points: [{ x: 100, y: 100 }] }] },
      {
        title: 'bad log',
        xLabel: 'x',
        yLabel: 'y',
        logX: true,
        logY: true,
        series: [
          {
            name: 'mixed',
            points: [
              { x: -1, y: 5 },
              { x: 0, y: 5 },
              { x: 10, y: 0 },
              { x: 10, y: 2 },
              { x: 100, y: 20 },
              { x: Number.NaN, y: 1 },
            ],
          },
          {
            name: 'all bad',
            points: [
              { x: 1, y: -2 },
              { x: 0, y: 1 },
            ],
          },
        ],
      },
      { title: 'empty', xLabel: 'x', yLabel: 'y', series: [] },
      { title: 'empty series', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'none', points: [] }] },
    ];
    for (const chart of cases) {
      const svg = renderLineChartSvg(chart);
      expectBalanced(svg);
      expectFinite(svg);
    }
    const bad = renderLineChartSvg(cases[4]!);
    expect(polylines(bad)).toBe(1);
    // Only (10, 2) and (100, 20) survive on log axes.
    const points = /<polyline points="([^"]*)"/.exec(bad)?.[1]?.split(' ') ?? [];
    expect(points).toHaveLength(2);
    expect(bad).toContain('all bad (no data)');
    expect(polylines(renderLineChartSvg(cases[5]!))).toBe(0);
    expect(renderLineChartSvg(cases[5]!)).toContain('no data');
    expect(polylines(renderLineChartSvg(cases[0]!))).toBe(1);
  });
});

describe('renderChartsPage', () => {
  it('stacks charts vertically in one SVG', () => {
    const other: Chart = {
      title: 'Second',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'b',
          points: [
            { x: 1, y: 2 },
            { x: 2, y: 3 },
          ],
        },
      ],
    };
    const page = renderChartsPage([sample, other]);
    expectBalanced(page);
    expectFinite(page);
    expect(page).toMatch(/^<svg [^>]*width="720" height="840" viewBox="0 0 720 840"/);
    expect(page).toContain('translate(0 420)');
    expect(polylines(page)).toBe(3);
    expect(page).toContain('>Second</text>');
    expectBalanced(renderChartsPage([]));
  });
});

describe('escapeXml', () => {
  it('escapes markup characters', () => {
    expect(escapeXml(`a & b < c > d "e" 'f'`)).toBe('a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;');
  });
});

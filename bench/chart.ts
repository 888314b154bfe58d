/**
 * Line charts as self-contained SVG: scales and ticks from d3-scale (round-number steps; powers of ten on
 * log scales, thinned to the room there is), axis labels, a title, one line with markers per series in
 * the Okabe–Ito colour-blind-safe palette, each series also with its own marker shape, and a legend.
 * Sized for 720×420; `renderChartsPage` stacks several charts in one SVG.
 */

import { format } from 'd3-format';
import { scaleLinear, scaleLog } from 'd3-scale';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: ChartSeries[];
}

export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 420;

/** Okabe & Ito (2008), without the yellow that vanishes on white; black comes last. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#999933'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross'] as const;
type Marker = (typeof MARKERS)[number];

const FONT = "system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif";
const TICK_FONT_SIZE = 11;
const LABEL_FONT_SIZE = 12;
const TITLE_FONT_SIZE = 16;
/** Rough width of a character at 1 px font size (digits and average Latin text in a sans-serif). */
const CHAR_EM = 0.58;
const AXIS_COLOUR = '#444444';
const GRID_COLOUR = '#e6e6e6';
const TEXT_COLOUR = '#222222';
const MUTED_COLOUR = '#888888';
const LEGEND_MAX_CHARS = 28;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** One chart as a complete SVG document (720×420, white background). */
export function renderLineChartSvg(chart: Chart): string {
  return svgDocument(CHART_WIDTH, CHART_HEIGHT, escapeXml(chart.title), chartBody(chart, CHART_WIDTH, CHART_HEIGHT));
}

/** Several charts stacked vertically in one SVG document, each 720×420. */
export function renderChartsPage(charts: Chart[]): string {
  if (charts.length === 0) {
    const body = `<text x="${CHART_WIDTH / 2}" y="30" text-anchor="middle" font-size="${LABEL_FONT_SIZE}" fill="${MUTED_COLOUR}">no charts</text>`;
    return svgDocument(CHART_WIDTH, 60, 'no charts', body);
  }
  const parts = charts.map((chart, index) => {
    const separator =
      index === 0 ? '' : `<line x1="24" y1="0.5" x2="${CHART_WIDTH - 24}" y2="0.5" stroke="${GRID_COLOUR}" stroke-width="1"/>`;
    return `<g transform="translate(0 ${index * CHART_HEIGHT})">${separator}${chartBody(chart, CHART_WIDTH, CHART_HEIGHT)}</g>`;
  });
  const title = charts.map((chart) => escapeXml(chart.title)).join(' · ');
  return svgDocument(CHART_WIDTH, CHART_HEIGHT * charts.length, title, parts.join('\n'));
}

/** Escapes text for SVG text content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ---------------------------------------------------------------------------
// Scales and ticks
// ---------------------------------------------------------------------------

interface Tick {
  value: number;
  label: string | null;
  /** Major ticks get a grid line; minor ones (log scale 2..9) only a short mark. */
  major: boolean;
}

interface Scale {
  /** Position of a value in [0, 1] along the axis. */
  fraction: (value: number) => number;
  min: number;
  max: number;
  ticks: Tick[];
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};

/** A tick on a log axis: `mantissa × 10^exponent`, written plainly when short. */
function formatLogTick(mantissa: number, exponent: number): string {
  if (exponent >= -3 && exponent <= 5) return format(`,.${Math.max(0, -exponent)}f`)(mantissa * 10 ** exponent);
  const power = `10${[...String(exponent)].map((c) => SUPERSCRIPT[c] ?? c).join('')}`;
  return mantissa === 1 ? power : `${mantissa}×${power}`;
}

function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * CHAR_EM;
}

/**
 * A linear scale with nice bounds and about `target` ticks (d3-scale). `zeroBased` lets the axis start at
 * 0 when the data are non-negative and already reach at least half way down to it (no exaggerated slopes).
 */
function linearScale(values: number[], target: number, zeroBased: boolean): Scale {
  let lo = values.length > 0 ? Math.min(...values) : 0;
  let hi = values.length > 0 ? Math.max(...values) : 1;
  if (zeroBased && lo >= 0 && lo <= hi / 2) lo = 0;
  if (lo === hi) {
    // One value (or many equal ones): on a zero-based axis it sits on a range from 0, else in the middle.
    const spread = lo === 0 ? 1 : Math.abs(lo) / 2;
    if (zeroBased && lo >= 0) lo = 0;
    else lo -= spread;
    hi += spread;
  }
  const count = Math.max(1, target - 1);
  const scale = scaleLinear().domain([lo, hi]).range([0, 1]).nice(count);
  const [min, max] = scale.domain() as [number, number];
  const label = scale.tickFormat(count, ',f');
  return {
    fraction: (value) => scale(value),
    min,
    max,
    ticks: scale.ticks(count).map((value) => ({ value, label: label(value), major: true })),
  };
}

/**
 * A log scale over whole decades (d3-scale). Powers of ten are labelled (every k-th when crowded); 2 and
 * 5 are labelled too when a decade has `roomFor125` pixels; the other integers get minor marks.
 */
function logScale(values: number[], lengthPx: number, roomFor125: number, roomPerDecadeLabel: number): Scale {
  const positive = values.filter((v) => v > 0);
  let lo = positive.length > 0 ? Math.floor(Math.log10(Math.min(...positive)) + 1e-9) : 0;
  let hi = positive.length > 0 ? Math.ceil(Math.log10(Math.max(...positive)) - 1e-9) : 1;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const scale = scaleLog()
    .domain([10 ** lo, 10 ** hi])
    .range([0, 1]);
  const perDecade = lengthPx / (hi - lo);
  const every = Math.max(1, Math.ceil(roomPerDecadeLabel / perDecade));
  const with125 = every === 1 && perDecade >= roomFor125;
  const withMinor = perDecade >= 40;
  const ticks: Tick[] = [];
  for (const value of scale.ticks()) {
    const exponent = Math.floor(Math.log10(value) + 1e-9);
    const mantissa = Math.round(value / 10 ** exponent);
    if (mantissa === 1) {
      const labelled = (exponent - lo) % every === 0;
      ticks.push({ value, label: labelled ? formatLogTick(1, exponent) : null, major: labelled });
    } else if (with125 && (mantissa === 2 || mantissa === 5)) ticks.push({ value, label: formatLogTick(mantissa, exponent), major: true });
    else if (withMinor) ticks.push({ value, label: null, major: false });
  }
  return { fraction: (value) => scale(value), min: 10 ** lo, max: 10 ** hi, ticks };
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

/** Coordinates with one decimal, never NaN or Infinity. */
function n(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 10) / 10;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

function svgDocument(width: number, height: number, title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}" role="img">`,
    `<title>${title}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

function markerSvg(shape: Marker, x: number, y: number, size: number, colour: string): string {
  const s = size;
  const stroke = `stroke="#ffffff" stroke-width="1"`;
  switch (shape) {
    case 'circle':
      return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(s)}" fill="${colour}" ${stroke}/>`;
    case 'square':
      return `<rect x="${n(x - s * 0.9)}" y="${n(y - s * 0.9)}" width="${n(s * 1.8)}" height="${n(s * 1.8)}" fill="${colour}" ${stroke}/>`;
    case 'triangle':
      return `<path d="M${n(x)} ${n(y - s * 1.2)}L${n(x + s * 1.1)} ${n(y + s * 0.8)}L${n(x - s * 1.1)} ${n(y + s * 0.8)}Z" fill="${colour}" ${stroke}/>`;
    case 'triangle-down':
      return `<path d="M${n(x)} ${n(y + s * 1.2)}L${n(x + s * 1.1)} ${n(y - s * 0.8)}L${n(x - s * 1.1)} ${n(y - s * 0.8)}Z" fill="${colour}" ${stroke}/>`;
    case 'diamond':
      return `<path d="M${n(x)} ${n(y - s * 1.3)}L${n(x + s * 1.3)} ${n(y)}L${n(x)} ${n(y + s * 1.3)}L${n(x - s * 1.3)} ${n(y)}Z" fill="${colour}" ${stroke}/>`;
    case 'cross':
      return `<path d="M${n(x - s)} ${n(y - s)}L${n(x + s)} ${n(y + s)}M${n(x - s)} ${n(y + s)}L${n(x + s)} ${n(y - s)}" stroke="${colour}" stroke-width="2" fill="none"/>`;
  }
}

interface PreparedSeries {
  name: string;
  colour: string;
  marker: Marker;
  points: ChartPoint[];
}

/** The points that can be drawn: finite, positive on a log axis, in x order. */
function drawablePoints(points: ChartPoint[], logX: boolean, logY: boolean): ChartPoint[] {
  return points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logX || p.x > 0) && (!logY || p.y > 0))
    .map((p) => ({ x: p.x, y: p.y }))
    .sort((a, b) => a.x - b.x);
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The elements of one chart, drawn in a `width`×`height` box at the origin. */
function chartBody(chart: Chart, width: number, height: number): string {
  const logX = chart.logX === true;
  const logY = chart.logY === true;
  const series: PreparedSeries[] = chart.series.map((s, i) => ({
    name: s.name,
    colour: PALETTE[i % PALETTE.length]!,
    marker: MARKERS[i % MARKERS.length]!,
    points: drawablePoints(s.points, logX, logY),
  }));
  const drawn = series.filter((s) => s.points.length > 0);
  const xs = drawn.flatMap((s) => s.points.map((p) => p.x));
  const ys = drawn.flatMap((s) => s.points.map((p) => p.y));

  // Legend on the right, as wide as its longest entry.
  const legendLabels = series.map((s) => clip(s.name, LEGEND_MAX_CHARS) + (s.points.length === 0 ? ' (no data)' : ''));
  const legendWidth =
    series.length === 0 ? 0 : Math.min(230, Math.max(90, 34 + Math.max(...legendLabels.map((l) => textWidth(l, LABEL_FONT_SIZE)))));

  const top = 52;
  const bottom = height - 56;
  const plotHeight = bottom - top;
  const yScale = logY ? logScale(ys, plotHeight, 90, 22) : linearScale(ys, Math.max(3, Math.round(plotHeight / 55)), true);
  const yTickWidth = Math.max(...yScale.ticks.map((t) => (t.label ? textWidth(t.label, TICK_FONT_SIZE) : 0)), 8);
  const left = Math.round(24 + LABEL_FONT_SIZE + 10 + yTickWidth + 8);
  const right = width - 20 - (legendWidth > 0 ? legendWidth + 16 : 0);
  const plotWidth = right - left;

  let xScale: Scale;
  if (logX) {
    xScale = logScale(xs, plotWidth, 170, 60);
  } else {
    // Fewer ticks until their labels no longer collide.
    let target = Math.max(3, Math.round(plotWidth / 80));
    xScale = linearScale(xs, target, false);
    while (target > 2) {
      const widest = Math.max(...xScale.ticks.map((t) => textWidth(t.label ?? '', TICK_FONT_SIZE)));
      const spacing = plotWidth / Math.max(1, xScale.ticks.length - 1);
      if (widest + 12 <= spacing) break;
      target -= 1;
      xScale = linearScale(xs, target, false);
    }
  }

  const px = (x: number) => left + xScale.fraction(x) * plotWidth;
  const py = (y: number) => bottom - yScale.fraction(y) * plotHeight;
  const out: string[] = [];

  // Title.
  out.push(
    `<text x="${n(width / 2)}" y="30" text-anchor="middle" font-size="${TITLE_FONT_SIZE}" font-weight="600" fill="${TEXT_COLOUR}">${escapeXml(chart.title)}</text>`,
  );

  // Grid lines and ticks.
  const grid: string[] = [];
  const marks: string[] = [];
  for (const tick of yScale.ticks) {
    const y = py(tick.value);
    if (tick.major && tick.value !== yScale.min)
      grid.push(`<line x1="${n(left)}" y1="${n(y)}" x2="${n(right)}" y2="${n(y)}" stroke="${GRID_COLOUR}" stroke-width="1"/>`);
    marks.push(
      `<line x1="${n(left - (tick.major ? 5 : 3))}" y1="${n(y)}" x2="${n(left)}" y2="${n(y)}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
    );
    if (tick.label !== null) {
      marks.push(
        `<text x="${n(left - 8)}" y="${n(y + 4)}" text-anchor="end" font-size="${TICK_FONT_SIZE}" fill="${TEXT_COLOUR}">${escapeXml(tick.label)}</text>`,
      );
    }
  }
  for (const tick of xScale.ticks) {
    const x = px(tick.value);
    if (tick.major && tick.value !== xScale.min)
      grid.push(`<line x1="${n(x)}" y1="${n(top)}" x2="${n(x)}" y2="${n(bottom)}" stroke="${GRID_COLOUR}" stroke-width="1"/>`);
    marks.push(
      `<line x1="${n(x)}" y1="${n(bottom)}" x2="${n(x)}" y2="${n(bottom + (tick.major ? 5 : 3))}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
    );
    if (tick.label !== null) {
      marks.push(
        `<text x="${n(x)}" y="${n(bottom + 18)}" text-anchor="middle" font-size="${TICK_FONT_SIZE}" fill="${TEXT_COLOUR}">${escapeXml(tick.label)}</text>`,
      );
    }
  }
  out.push(`<g class="grid">${grid.join('')}</g>`);

  // Series: lines first, then every marker on top of every line.
  const markerSize = (count: number) => (count > 60 ? 2 : count > 25 ? 2.8 : 3.6);
  const lines: string[] = [];
  const markers: string[] = [];
  for (const s of drawn) {
    const coordinates = s.points.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(' ');
    lines.push(
      `<polyline points="${coordinates}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"><title>${escapeXml(s.name)}</title></polyline>`,
    );
    const size = markerSize(s.points.length);
    markers.push(`<g class="markers">${s.points.map((p) => markerSvg(s.marker, px(p.x), py(p.y), size, s.colour)).join('')}</g>`);
  }
  out.push(`<g class="series">${lines.join('')}${markers.join('')}</g>`);
  if (drawn.length === 0) {
    out.push(
      `<text x="${n(left + plotWidth / 2)}" y="${n(top + plotHeight / 2)}" text-anchor="middle" font-size="${LABEL_FONT_SIZE}" fill="${MUTED_COLOUR}">no data</text>`,
    );
  }

  // Axes over the grid, then tick marks and labels.
  out.push(
    `<g class="axes"><line x1="${n(left)}" y1="${n(bottom)}" x2="${n(right)}" y2="${n(bottom)}" stroke="${AXIS_COLOUR}" stroke-width="1"/>` +
      `<line x1="${n(left)}" y1="${n(top)}" x2="${n(left)}" y2="${n(bottom)}" stroke="${AXIS_COLOUR}" stroke-width="1"/>${marks.join('')}</g>`,
  );

  // Axis labels.
  const xLabel = escapeXml(chart.xLabel) + (logX ? ' (log scale)' : '');
  const yLabel = escapeXml(chart.yLabel) + (logY ? ' (log scale)' : '');
  out.push(
    `<text x="${n(left + plotWidth / 2)}" y="${n(height - 16)}" text-anchor="middle" font-size="${LABEL_FONT_SIZE}" fill="${TEXT_COLOUR}">${xLabel}</text>`,
  );
  const yLabelX = 24 + LABEL_FONT_SIZE / 2;
  out.push(
    `<text x="${n(yLabelX)}" y="${n(top + plotHeight / 2)}" text-anchor="middle" font-size="${LABEL_FONT_SIZE}" fill="${TEXT_COLOUR}" transform="rotate(-90 ${n(yLabelX)} ${n(top + plotHeight / 2)})">${yLabel}</text>`,
  );

  // Legend.
  if (series.length > 0) {
    const legendX = right + 16;
    const entries = series.map((s, i) => {
      const y = top + 8 + i * 20;
      const empty = s.points.length === 0;
      const colour = empty ? MUTED_COLOUR : s.colour;
      const sample = empty
        ? `<line x1="${n(legendX + 2)}" y1="${n(y)}" x2="${n(legendX + 24)}" y2="${n(y)}" stroke="${MUTED_COLOUR}" stroke-width="2" stroke-dasharray="3 3"/>`
        : `<line x1="${n(legendX + 2)}" y1="${n(y)}" x2="${n(legendX + 24)}" y2="${n(y)}" stroke="${colour}" stroke-width="2"/>${markerSvg(s.marker, legendX + 13, y, 3.6, colour)}`;
      return (
        `<g class="legend-entry"><title>${escapeXml(s.name)}</title>${sample}` +
        `<text x="${n(legendX + 32)}" y="${n(y + 4)}" font-size="${LABEL_FONT_SIZE}" fill="${empty ? MUTED_COLOUR : TEXT_COLOUR}">${escapeXml(legendLabels[i]!)}</text></g>`
      );
    });
    out.push(`<g class="legend">${entries.join('')}</g>`);
  }
  return out.join('\n');
}

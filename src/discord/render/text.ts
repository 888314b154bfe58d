/** Small text helpers of the views: one-line text, cutting plain text and Markdown safely, links, shares. */

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts plain text (labels, footers, choices: no Markdown) to `max` with an ellipsis. */
export function clipPlain(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${dropBrokenSurrogate(text.slice(0, Math.max(0, max - 1))).trimEnd()}…`;
}

/**
 * Cuts Markdown to `max` with an ellipsis without leaving a dangling escape or an unclosed bold marker,
 * either of which would change how the rest renders.
 */
export function clipMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = safeCut(text, max - 1);
  if (unescapedBoldMarkers(cut) % 2 === 1) cut = `${safeCut(cut, max - 3)}**`;
  return `${cut}…`;
}

function safeCut(text: string, length: number): string {
  let cut = dropBrokenSurrogate(text.slice(0, Math.max(0, length)));
  const backslashes = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (backslashes % 2 === 1) cut = cut.slice(0, -1);
  return cut;
}

function unescapedBoldMarkers(text: string): number {
  return text.match(/(?<!\\)\*\*/g)?.length ?? 0;
}

function dropBrokenSurrogate(text: string): string {
  return /[\uD800-\uDBFF]$/.test(text) ? text.slice(0, -1) : text;
}

/** The longest prefix of at most `length` characters that ends at a word boundary when one is near. */
function cutWords(text: string, length: number): string {
  if (length >= text.length) return text;
  const cut = dropBrokenSurrogate(text.slice(0, length));
  const space = cut.lastIndexOf(' ');
  return (space > length * 0.6 ? cut.slice(0, space) : cut).trimEnd();
}

/** An http(s) URL safe inside a Markdown link, or undefined. */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
    return href.length <= 512 ? href : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `budget` so that short items keep their whole length and long ones share what is left. */
export function fairShares(lengths: number[], budget: number): number[] {
  const shares = new Array<number>(lengths.length).fill(0);
  let remaining = budget;
  const order = lengths.map((length, index) => ({ length, index })).sort((a, b) => a.length - b.length);
  order.forEach(({ length, index }, position) => {
    shares[index] = Math.min(length, Math.floor(remaining / (order.length - position)));
    remaining -= shares[index]!;
  });
  return shares;
}

/**
 * The rendering of the longest word-boundary cut of `text` whose rendering fits `budget`, or `fallback`.
 * Renderings grow with the cut and are never shorter than it, so a binary search over the cut finds it.
 */
export function longestFitting(text: string, budget: number, fallback: string, render: (cut: string) => string): string {
  let low = 0;
  let high = Math.min(text.length, Math.max(0, budget));
  let best = fallback;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const rendered = render(cutWords(text, middle));
    if (rendered.length <= budget) {
      best = rendered;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

/** Links as articles print them: with or without a scheme. */

/** The host of a link without "www.", or undefined when it is no URL; a bare "host/path" counts as https. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`).hostname.replace(/^www\./, '');
  } catch {
    return undefined;
  }
}

/**
 * One term of a text directive, percent-encoded as the URL Fragment Text Directives spec asks: besides
 * what encodeURIComponent escapes, `-` (it marks a prefix or suffix) must be escaped; `,` and `&` already are.
 */
function encodeDirectiveTerm(text: string): string {
  return encodeURIComponent(text).replace(/-/g, '%2D');
}

/** Words of a quote for a text directive: whole words, joined by single spaces, with quote marks kept. */
const DIRECTIVE_EDGE_WORDS = 5;

/**
 * The article's address with a text fragment (`#:~:text=start,end`) that makes a browser open the page
 * scrolled to `quote` and highlight it. A short quote is matched whole; a longer one by its first and
 * last words, which is shorter and survives small differences in between (a line break, a link).
 * Undefined when the address is not http(s). Any fragment the address had is replaced.
 */
export function quoteLink(url: string | undefined | null, quote: string): string | undefined {
  if (!url) return undefined;
  let address: URL;
  try {
    address = new URL(/^[a-z][a-z\d+.-]*:/i.test(url) ? url : `https://${url}`);
  } catch {
    return undefined;
  }
  if (address.protocol !== 'http:' && address.protocol !== 'https:') return undefined;
  address.hash = '';
  const words = quote
    .replace(/…/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '');
  if (words.length === 0) return address.href;
  const directive =
    words.length <= 2 * DIRECTIVE_EDGE_WORDS
      ? encodeDirectiveTerm(words.join(' '))
      : `${encodeDirectiveTerm(words.slice(0, DIRECTIVE_EDGE_WORDS).join(' '))},${encodeDirectiveTerm(words.slice(-DIRECTIVE_EDGE_WORDS).join(' '))}`;
  return `${address.href}#:~:text=${directive}`;
}

/** Query parameters that only say where a reader came from; two links that differ in them are one page. */
const TRACKING_PARAMETER = /^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|cmpid|ocid|smid|ref|ref_src|src)$/i;

/**
 * The key under which two links are the same page: no scheme difference (http/https), no "www.", no
 * fragment, no tracking parameters, no trailing slash, host in lower case. Undefined for no http(s) URL.
 */
export function pageKey(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const kept = [...parsed.searchParams].filter(([name]) => !TRACKING_PARAMETER.test(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = kept.length > 0 ? `?${new URLSearchParams(kept).toString()}` : '';
  const host = parsed.hostname.toLowerCase().replace(/^www\./, '');
  const port = parsed.port ? `:${parsed.port}` : '';
  return `${host}${port}${parsed.pathname.replace(/\/+$/, '')}${query}`;
}

/** `href` resolved against `base` when the result is an http(s) address; undefined otherwise. */
export function absoluteUrl(href: string | null | undefined, base: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const url = new URL(href.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

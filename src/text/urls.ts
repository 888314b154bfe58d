/** Links as articles print them: with or without a scheme. */

/** The host of a link without "www.", or undefined when it is no URL; a bare "host/path" counts as https. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`).hostname.replace(/^www\./, '');
  } catch {
    return undefined;
  }
}

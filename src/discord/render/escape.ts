/**
 * Escaping: text from articles or users rendered literally, never as Markdown and never as a mention.
 */
import { escapeMarkdown } from 'discord.js';

/**
 * Makes text from articles or users render literally: every Markdown marker escaped (including the
 * ones discord.js leaves alone by default: headings, lists, masked links, block quotes and subtext)
 * and mentions neutralised.
 */
export function escapeText(text: string): string {
  const escaped = whitespaceChunks(text, ESCAPE_CHUNK)
    .map((chunk) => escapeMarkdown(chunk, { heading: true, bulletedList: true, numberedList: true, maskedLink: true }))
    .join('')
    // escapeMarkdown leaves line-leading ">" (block quote) and "-#" (subtext) alone.
    .replace(/^(\s*)(>|-#)/gm, '$1\\$2');
  return neutraliseMentions(escaped);
}

/**
 * escapeMarkdown's italic rule uses an unbounded lookbehind and takes quadratic time (150 ms for 12,000
 * characters), so long text is escaped in pieces. Pieces end just before whitespace: no Markdown marker
 * contains whitespace, so none is ever split; a piece start that looks like a line start only gets a
 * harmless extra backslash.
 */
const ESCAPE_CHUNK = 256;

function whitespaceChunks(text: string, size: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > size) {
    let cut = -1;
    for (let index = start + size; index > start; index -= 1) {
      if (/\s/.test(text[index]!)) {
        cut = index;
        break;
      }
    }
    if (cut < 0) {
      const next = text.slice(start + size).search(/\s/);
      if (next < 0) break;
      cut = start + size + next;
    }
    chunks.push(text.slice(start, cut));
    start = cut;
  }
  chunks.push(text.slice(start));
  return chunks;
}

/**
 * Breaks @everyone, @here, <@user>, <@!user>, <@&role> and <#channel> with a zero-width space, so they
 * show as text instead of mentions even where allowedMentions does not apply (embeds render them).
 */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, '@\u200b$1').replace(/<(@[!&]?|#)(?=\d)/g, '<$1\u200b');
}

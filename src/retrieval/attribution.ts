/**
 * Who is speaking in a quote. News quotes often name their speaker only by a pronoun or a description
 * ("…," he added; "the official said"), or not at all (a quotation that continues the one before); the
 * name is earlier in the paragraph or in the paragraphs before. This module finds the sentence's speaker
 * reference and walks back through the text before it to the name it stands for, stopping where an
 * unnamed speaker ("an anonymous source told AFP") takes over, so that it names no one rather than the
 * wrong person. Plain text in, plain data out.
 */
import { splitSentences } from '../text/tokens.js';
import type { IndexedPassage, Span } from '../model.js';

/** A quote's speaker, found outside the quote. */
export interface Speaker {
  /** The speaker's name, in the fullest form the article gave it before the quote. */
  name: string;
  /** The words of the quote that stand for the speaker ("he", "the official"); empty for a bare quotation. */
  reference: string;
  /** Offset of `reference` in the quote text; for a bare quotation, where the quotation opens. */
  at: number;
  /** The paragraph that names the speaker. */
  paragraph: number;
}

/** Text before a quote, nearest first: the quote's own passage, then the paragraphs before it. */
export interface PrecedingText {
  text: string;
  paragraph: number;
}

/** How far back a reference may reach for its name: its own paragraph and this many before it. */
export const PARAGRAPHS_BACK = 3;

type SentenceSpeaker =
  | { kind: 'named'; name: string; organisation: boolean }
  | { kind: 'reference'; reference: string; at: number; pronoun: boolean }
  | { kind: 'bare'; at: number }
  | { kind: 'unnamed' };

const SPEECH_VERBS =
  'said|says|say|told|tells|added|adds|stated|states|noted|notes|warned|warns|announced|announces|explained|explains|argued|argues|claimed|claims|insisted|insists|stressed|stresses|emphasized|emphasised|emphasizes|emphasises|alleged|alleges|wrote|writes|asked|asks|replied|replies|responded|continued|acknowledged|acknowledges|admitted|admits|declared|declares|urged|urges|suggested|suggests|believes|believed|thinks|thought|hoped|hopes|confirmed|confirms|denied|denies|predicted|predicts|recalled|recalls|conceded|concedes|cautioned|observed|pointed out|asserted|asserts|maintained|contended|remarked|commented|reiterated|reiterates|vowed|vows|pledged|promised|promises|concluded|testified|according to';
const SPEECH_VERB = new RegExp(`\\b(?:${SPEECH_VERBS})\\b`, 'gi');
/** Words between a subject and its verb ("he also said", "Lavrentiev further called", "has told"). */
const BETWEEN_SUBJECT_AND_VERB =
  /(?:\s+(?:also|further|later|then|meanwhile|nevertheless|however|again|previously|earlier|once|repeatedly|recently|has|have|had|was|is|would|will|did|does|do|had\s+also|has\s+also))+\s*$/i;
const PRONOUN = /(?:^|[\s,;:(—–-])(he|she)$/i;
/** Group and object pronouns are left alone: "they" may be a government, a family or a crowd. */
const UNRESOLVED_PRONOUN = /(?:^|[\s,;:(—–-])(they|it|we|i|you|who|which|that)$/i;
const INDEFINITE = /(?:^|[\s,;:(—–-])(?:a|an|one|some|two|three|several|many|other|another|unnamed|anonymous)\s+[^,;:]*$/i;
/** Plural or bare role nouns that stand for people the article does not name ("officials said"). */
const UNNAMED_GROUP =
  /(?:^|\s)(?:officials|sources|analysts|experts|witnesses|residents|diplomats|lawmakers|critics|observers|activists|people|reports?)$/i;
/** "the official", "the Russian official", "Russia's special envoy for Syria": a speaker described, not named. */
const DESCRIPTION_AT_END =
  /(?:^|[\s,;:(—–-])((?:[Tt]he|\p{Lu}[\p{L}-]*['’]s)\s+(?:[\p{L}'’-]+\s+){0,5}?\p{Ll}[\p{L}'’-]*(?:\s+(?:for|of|in)\s+(?:the\s+)?(?:\p{Lu}[\p{L}-]*\s*)+)?)$/u;
/**
 * Nouns that name a person by role: a description ending in one ("the Russian official", "the
 * spokeswoman") stands for a person; one ending in another noun ("the coalition", "the city") does not.
 */
const PERSON_NOUNS = new Set(
  `official representative minister diplomat envoy spokesman spokeswoman spokesperson president secretary senator
  lawmaker legislator congressman congresswoman leader chief head director ambassador general commander officer
  source analyst expert professor researcher scientist author writer economist doctor physician surgeon nurse
  lawyer attorney judge prosecutor mayor governor chairman chairwoman chair executive ceo founder manager aide
  adviser advisor negotiator premier chancellor king queen prince princess actor actress singer star player coach
  photographer veteran mother father wife husband son daughter woman man survivor victim witness resident owner
  candidate politician activist journalist reporter editor columnist publisher historian curator deputy agent
  investigator soldier pilot student teacher spokesperson monarch cleric priest bishop official's fellow
  strategist consultant economist demographer pollster entrepreneur investor banker trader farmer worker driver`.split(/\s+/),
);

function describesPerson(description: string): boolean {
  const head = description
    .replace(/\s+(?:for|of|in)\s+.*$/u, '')
    .split(/\s+/)
    .at(-1)!
    .toLowerCase();
  return PERSON_NOUNS.has(head);
}

const QUOTE_MARKS = /["“”«»„]/g;

/** Words that introduce or describe a person rather than name them ("Foreign Minister", "Senator"). */
const TITLE_WORDS = new Set(
  `mr mr. mrs mrs. ms ms. dr dr. prof prof. sen sen. rep rep. gov gov. gen gen. lt lt. col col. sgt sgt. capt capt.
  president vice prime minister secretary senator representative congressman congresswoman governor mayor general
  colonel lieutenant admiral ambassador envoy spokesman spokeswoman spokesperson chairman chairwoman chair director
  chief officer commander deputy acting assistant affairs foreign defense defence state interior justice judge king
  queen prince princess sheikh pope professor ceo leader majority minority attorney former special senior junior
  executive head advisor adviser counselor counsel representative official minister's undersecretary under
  delegate commissioner chancellor premier emir ayatollah cleric rabbi bishop archbishop cardinal reverend rev.
  sir lord lady dame council house senate congress parliament party army navy force forces pentagon ministry
  department office agency administration government news press`.split(/\s+/),
);
/** Lower-case words inside a name ("Bashar al-Assad", "Ludwig van Beethoven"). */
const NAME_PARTICLES = new Set([
  'al',
  'al-',
  'el',
  'bin',
  'ibn',
  'abu',
  'de',
  'da',
  'del',
  'der',
  'van',
  'von',
  'la',
  'le',
  'di',
  'du',
  'dos',
]);
/** Capitalised words that begin sentences or name times, never people. */
const NOT_NAME_WORDS = new Set(
  `the a an and but or so yet for in on at to of by with from as after before since while when where if though
  although however meanwhile still also then thus this that these those there here it its he she they we i you
  his her their our my your even now just only instead indeed perhaps both each every many most such what who why
  how all no not one two three first last next new nor than monday tuesday wednesday thursday friday saturday sunday january february march april
  may june july august september october november december today yesterday`.split(/\s+/),
);
const NAME_TOKEN = /^(?:\p{Lu}[\p{L}'’-]*\.?|\p{Lu}\.|(?:al|el)-\p{Lu}[\p{L}'’-]*)$/u;

function isNameToken(token: string): boolean {
  const bare = token.replace(/['’]s$/u, '');
  return NAME_TOKEN.test(bare) && !NOT_NAME_WORDS.has(bare.toLowerCase());
}

/**
 * The person named at the end of `text` ("… Pentagon spokesperson Eric Pahon", "Mr. Warner"): the
 * run of capitalised words before the end, without the titles that lead it.
 */
function nameAtEnd(text: string): { name: string; titled: boolean; the: boolean } | null {
  const tokens = text.trimEnd().split(/\s+/);
  const run: string[] = [];
  for (let i = tokens.length - 1; i >= 0; i -= 1) {
    const token = tokens[i]!;
    if (isNameToken(token) || (run.length > 0 && NAME_PARTICLES.has(token.toLowerCase()))) run.unshift(token);
    else break;
  }
  const before = tokens[tokens.length - run.length - 1];
  const found = nameOfRun(run, before);
  // "… envoy for Syria": a name after a preposition is not the subject, unless a title leads it.
  if (found && !found.titled && before && /^(?:for|of|in|from|at|to|with|by|on|about|over|against)$/i.test(before)) return null;
  return found;
}

/** The person named at the start of `text` ("Hicks, a Navy veteran…", "Senator James Lankford, …"). */
function nameAtStart(text: string): { name: string; titled: boolean; the: boolean } | null {
  const tokens = text.trimStart().split(/\s+/);
  const run: string[] = [];
  for (const token of tokens) {
    // An initial or a courtesy title keeps its full stop ("C. Eugene Steuerle", "Mr. Warner").
    const bare = /^(?:\p{Lu}|Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|St|Jr|Sr)\.$/u.test(token)
      ? token
      : token.replace(/[,;:.!?)”"]+$/u, '');
    if (isNameToken(bare) || (run.length > 0 && NAME_PARTICLES.has(bare.toLowerCase()))) run.push(bare);
    else break;
    if (bare !== token) break;
  }
  return nameOfRun(run, undefined);
}

function nameOfRun(run: string[], before: string | undefined): { name: string; titled: boolean; the: boolean } | null {
  let firstName = 0;
  for (let i = 0; i < run.length; i += 1) if (TITLE_WORDS.has(run[i]!.toLowerCase().replace(/['’]s$/u, ''))) firstName = i + 1;
  const name = run.slice(firstName);
  while (name.length > 0 && NAME_PARTICLES.has(name[0]!.toLowerCase())) name.shift();
  if (name.length === 0) return null;
  const courtesy = firstName > 0 && /^(mr|mrs|ms|dr|prof)\.?$/i.test(run[firstName - 1]!);
  const text = (courtesy ? [run[firstName - 1]!, ...name] : name).join(' ').replace(/['’]s$/u, '');
  return { name: text, titled: firstName > 0, the: before?.toLowerCase() === 'the' };
}

/** Character ranges of `sentence` inside quotation marks (marks toggle; straight and curly alike). */
function quotedRanges(sentence: string): Span[] {
  const ranges: Span[] = [];
  let open = -1;
  for (const mark of sentence.matchAll(QUOTE_MARKS)) {
    if (open < 0) open = mark.index;
    else {
      ranges.push({ start: open, end: mark.index + 1 });
      open = -1;
    }
  }
  if (open >= 0) ranges.push({ start: open, end: sentence.length });
  return ranges;
}

/** Who a sentence says is speaking, if it reports speech; `null` when it does not. */
export function sentenceSpeaker(sentence: string): SentenceSpeaker | null {
  const quoted = quotedRanges(sentence);
  const inQuote = (at: number) => quoted.some((range) => at >= range.start && at < range.end);
  for (const verb of sentence.matchAll(SPEECH_VERB)) {
    // "the United States" is not a verb; "According to" may open a sentence.
    if (inQuote(verb.index) || (/^\p{Lu}/u.test(verb[0]) && verb.index > 0)) continue;
    const before = sentence.slice(0, verb.index);
    const after = sentence.slice(verb.index + verb[0].length);
    // "…,” said Hicks" and "according to X" name the speaker after the verb; "Hicks, a veteran, said" before it.
    const inverted = /["”»]\s*$/.test(before) || /^according to$/i.test(verb[0]);
    const afterComma = !inverted && /,\s*$/.test(before);
    const found = inverted
      ? subjectAfter(after, verb.index + verb[0].length)
      : ((afterComma ? subjectAfter(after, verb.index + verb[0].length) : null) ?? subjectBefore(before));
    if (found) return found;
  }
  const trimmed = sentence.trimStart();
  if (/^["“«„]/.test(trimmed) && quoted.length > 0) return { kind: 'bare', at: sentence.length - trimmed.length };
  // The last sentence of a quotation that began in an earlier sentence: "… you can't help but watch.”"
  if (/[”»]\W*$/u.test(trimmed) && !/[“«]/u.test(trimmed)) return { kind: 'bare', at: sentence.length - trimmed.length };
  return null;
}

/** Whether `text` opens a quotation that it does not close: an odd number of marks, the last an opening one. */
function leavesQuotationOpen(text: string): boolean {
  const marks = [...text.matchAll(/["“”«»„]/gu)];
  const last = marks.at(-1);
  if (!last || marks.length % 2 === 0) return false;
  if (last[0] === '"') return !/^\s*$/.test(text.slice(last.index + 1, last.index + 2));
  return last[0] === '“' || last[0] === '«' || last[0] === '„';
}

/** Whether `text` ends inside a quotation: it opens one it does not close. */
export function endsInsideQuote(text: string): boolean {
  // Pages mix straight and curly marks ("absolutely unacceptable”), so only their number is trusted.
  return (text.match(/["“”«»„]/gu) ?? []).length % 2 === 1;
}

function subjectBefore(before: string): SentenceSpeaker | null {
  let subject = before.replace(BETWEEN_SUBJECT_AND_VERB, '').trimEnd();
  // "Hicks, a Navy veteran herself and the wife of an active-duty Navy member, said …": skip the apposition.
  // "The official representative of the ministry, Maria Zakharova, said …": the apposition is the name.
  if (subject.endsWith(',')) {
    const opening = subject.lastIndexOf(',', subject.length - 2);
    const apposition = subject.slice(opening + 1, -1).trim();
    const named = nameAtStart(apposition);
    if (named && named.name.split(' ').length === apposition.split(/\s+/).length - (named.titled ? 1 : 0) && named.name.includes(' ')) {
      return { kind: 'named', name: named.name, organisation: false };
    }
    subject = subject.slice(0, Math.max(0, opening)).replace(BETWEEN_SUBJECT_AND_VERB, '').trimEnd();
  }
  if (subject === '') return null;
  const pronoun = PRONOUN.exec(subject);
  if (pronoun)
    return { kind: 'reference', reference: pronoun[1]!, at: pronoun.index + pronoun[0].length - pronoun[1]!.length, pronoun: true };
  if (UNRESOLVED_PRONOUN.test(subject)) return null;
  if (UNNAMED_GROUP.test(subject)) return { kind: 'unnamed' };
  const name = nameAtEnd(subject);
  if (name) return { kind: 'named', name: name.name, organisation: name.the && !name.titled };
  const description = DESCRIPTION_AT_END.exec(subject);
  if (description && describesPerson(description[1]!)) {
    return {
      kind: 'reference',
      reference: description[1]!,
      at: description.index + description[0].length - description[1]!.length,
      pronoun: false,
    };
  }
  if (INDEFINITE.test(subject) || UNNAMED_GROUP.test(subject)) return { kind: 'unnamed' };
  return null;
}

function subjectAfter(after: string, offset: number): SentenceSpeaker | null {
  const leading = after.length - after.trimStart().length;
  const rest = after.trimStart();
  const at = offset + leading;
  const pronoun = /^(he|she)\b/i.exec(rest);
  if (pronoun) return { kind: 'reference', reference: pronoun[1]!, at, pronoun: true };
  if (/^(they|it|we|i|you)\b/i.test(rest)) return null;
  if (/^the\s+\p{Ll}/u.test(rest)) {
    const reference = rest
      .split(/[,.;:!?]/)[0]!
      .split(/\s+(?=(?:earlier|later|on|in|at|during|this|last|when|who|while|after|before|to|from|as)\b)/)[0]!
      .trimEnd();
    if (describesPerson(reference)) return { kind: 'reference', reference, at, pronoun: false };
  }
  // "says president David Weisbrot": lower-case titles may lead the name.
  const name = nameAtStart(
    rest.replace(/^the\s+/i, '').replace(/^(?:\p{Ll}+\s+){1,3}(?=\p{Lu})/u, (titles) =>
      titles
        .trim()
        .split(/\s+/)
        .every((word) => TITLE_WORDS.has(word))
        ? ''
        : titles,
    ),
  );
  if (name) return { kind: 'named', name: name.name, organisation: /^the\s/i.test(rest) && !name.titled };
  if (
    /^(?:a|an|one|some|two|three|several|another|unnamed|anonymous)\b/i.test(rest) ||
    /^(?:officials|sources|analysts|experts)\b/i.test(rest)
  ) {
    return { kind: 'unnamed' };
  }
  return null;
}

/** A person-like name (two words, or a title and a word) that a sentence opens with, as its subject. */
/**
 * A person a sentence opens with as its subject: two names or a title and a name ("Senator James
 * Lankford, …"), or a surname the article gave in full before ("Lavrov also reacted" after "Sergei Lavrov").
 */
function subjectName(sentence: string, preceding: PrecedingText[]): string | null {
  const opening = nameAtStart(sentence.replace(/^(?:On|In|At|By|Last|Earlier|Later)\s+\p{Lu}\p{Ll}+,\s*/u, ''));
  if (!opening || /^the\s/i.test(sentence)) return null;
  if (opening.titled || opening.name.includes(' ')) return opening.name;
  return fullName(opening.name, preceding).includes(' ') ? opening.name : null;
}

/**
 * The speaker a quote refers to but does not name, with the name from the text before it (or, for a
 * described speaker the article has not named yet, the next paragraph: news ledes name their speaker
 * there); `null` when the quote names its speaker, reports no speech, or no name is found with confidence.
 */
export function speakerOf(quote: string, preceding: PrecedingText[], following: PrecedingText[] = []): Speaker | null {
  const reference = referenceIn(quote, preceding);
  if (!reference) return null;
  const speaker = (name: string, paragraph: number): Speaker => ({
    name: fullName(name, preceding),
    reference: reference.reference,
    at: reference.at,
    paragraph,
  });

  // A quotation that opens here is usually attributed where it closes: "“A few words. …,” Zakharova told reporters."
  if (reference.reference === '') {
    let text = quote;
    for (const block of following.filter((one) => one.paragraph === following[0]?.paragraph)) {
      for (const span of splitSentences(block.text)) {
        if (!leavesQuotationOpen(text)) break;
        const sentence = block.text.slice(span.start, span.end);
        const found = sentenceSpeaker(sentence);
        if (found?.kind === 'named' && !found.organisation) return speaker(found.name, block.paragraph);
        if (found?.kind === 'unnamed') return null;
        text += ` ${sentence}`;
      }
    }
  }

  const nearestParagraph = preceding[0]?.paragraph;
  for (const block of preceding) {
    if (nearestParagraph !== undefined && nearestParagraph - block.paragraph > PARAGRAPHS_BACK) break;
    const spans = splitSentences(block.text);
    for (let i = spans.length - 1; i >= 0; i -= 1) {
      const sentence = block.text.slice(spans[i]!.start, spans[i]!.end);
      const found = sentenceSpeaker(sentence);
      if (found?.kind === 'unnamed') return null;
      if (found?.kind === 'named' && !found.organisation) return speaker(found.name, block.paragraph);
      if (found?.kind === 'reference') {
        // "Zakharova's statements … where she said": the sentence names whom its own pronoun stands for.
        const named = personIn(sentence.slice(0, found.at), preceding);
        if (named) return speaker(named, block.paragraph);
      }
      if (found) continue;
      // A quotation's speaker is who it is attributed to, not a person it talks about ("Abbas “has put aside …").
      if (reference.reference === '' && /["“”«»„]/.test(sentence)) continue;
      const opening = subjectName(sentence, preceding);
      if (opening) return speaker(opening, block.paragraph);
    }
  }
  if (reference.pronoun || reference.reference === '') return null;
  for (const block of following) {
    for (const span of splitSentences(block.text)) {
      const found = sentenceSpeaker(block.text.slice(span.start, span.end));
      if (found?.kind === 'named' && !found.organisation) return speaker(found.name, block.paragraph);
      if (found) return null;
    }
  }
  return null;
}

/** The words of a quote that stand for an unnamed speaker, unless the quote names the speaker first. */
function referenceIn(quote: string, preceding: PrecedingText[]): { reference: string; at: number; pronoun: boolean } | null {
  const spans = splitSentences(quote);
  // A quote that starts in the middle of a quotation ("They have six years of history.") continues its speaker.
  const before = preceding[0]?.text ?? '';
  const first = spans[0];
  if (first && endsInsideQuote(before)) {
    const found = sentenceSpeaker(quote.slice(first.start, first.end));
    if (!found || found.kind === 'bare') return { reference: '', at: first.start, pronoun: false };
  }
  for (const span of spans) {
    const found = sentenceSpeaker(quote.slice(span.start, span.end));
    if (!found) continue;
    if (found.kind === 'named' || found.kind === 'unnamed') return null;
    if (found.kind === 'bare') return { reference: '', at: span.start + found.at, pronoun: false };
    const at = span.start + found.at;
    // "Lavrov, meanwhile, said he hoped …": the name is already in the quote, before its pronoun.
    if (personIn(quote.slice(0, at), [{ text: quote, paragraph: 0 }, ...preceding])) return null;
    return { reference: found.reference, at, pronoun: found.pronoun };
  }
  return null;
}

/**
 * A person named in `text`: a speaker, a sentence's subject, or a name that acts ("…, Hicks has been
 * inundated", "Zakharova's statements") when the article gave that name in full.
 */
function personIn(text: string, preceding: PrecedingText[]): string | null {
  for (const span of splitSentences(text)) {
    const sentence = text.slice(span.start, span.end);
    const found = sentenceSpeaker(sentence);
    if (found?.kind === 'named' && !found.organisation) return found.name;
    const opening = subjectName(sentence, preceding);
    if (opening) return opening;
    for (const match of sentence.matchAll(/(?:^|[\s,;(])(\p{Lu}\p{Ll}+)(?:['’]s\b|\s+(?:has|had|was|is|will|would|also|then)\b)/gu)) {
      if (!NOT_NAME_WORDS.has(match[1]!.toLowerCase()) && fullName(match[1]!, preceding).includes(' ')) return match[1]!;
    }
  }
  return null;
}

/** "Hicks" → "Vanessa Hicks", "Mr. Warner" → "Mark Warner": the longest earlier form ending in the same surname. */
function fullName(name: string, preceding: PrecedingText[]): string {
  const surname = name.split(' ').at(-1)!;
  let best = name.replace(/^(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+/, '');
  if (best.includes(' ') && best !== name) best = name;
  // Words of a name: capitalised words, initials and courtesy titles, particles; never across a full stop.
  const pattern = new RegExp(
    `(?<![\\p{L}.])((?:\\p{Lu}[\\p{L}'’-]*\\s+|\\p{Lu}\\.\\s+|(?:Mr|Mrs|Ms|Dr|Prof)\\.\\s+|(?:al|el|bin|van|von|de)-?\\s*)+)${escapeRegExp(surname)}\\b`,
    'gu',
  );
  for (const block of preceding) {
    for (const match of block.text.matchAll(pattern)) {
      const tokens = match[0].trim().split(/\s+/);
      while (tokens.length > 1 && !isNameToken(tokens[0]!)) tokens.shift();
      const candidate = nameOfRun(tokens, undefined)?.name;
      if (
        candidate &&
        candidate.endsWith(surname) &&
        candidate.split(' ').length > best.split(' ').length &&
        !/^(?:Mr|Mrs|Ms|Dr|Prof)\.?\s/.test(candidate)
      )
        best = candidate;
    }
  }
  return /^(?:Mr|Mrs|Ms|Dr|Prof)\.?\s/.test(best) && best === name ? name : best;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The quote as shown to a reader: the speaker's name in brackets after the words that stand for it
 * ("he [Alexander Lavrentiev] added"), or before a bare quotation; highlights moved to match.
 */
export function quoteWithSpeaker(
  quote: string,
  highlights: Span[],
  speaker: Speaker | null | undefined,
): { text: string; highlights: Span[] } {
  if (!speaker) return { text: quote, highlights };
  const insertAt = speaker.reference === '' ? speaker.at : speaker.at + speaker.reference.length;
  const inserted = speaker.reference === '' ? `[${speaker.name}:] ` : ` [${speaker.name}]`;
  const shift = (offset: number) => (offset >= insertAt ? offset + inserted.length : offset);
  return {
    text: quote.slice(0, insertAt) + inserted + quote.slice(insertAt),
    highlights: highlights.map((span) => ({ start: shift(span.start), end: shift(span.end) })),
  };
}

/** Passages before a quote that may hold its speaker's full name: enough for a news story's earlier paragraphs. */
const CONTEXT_PASSAGES = 40;

/**
 * The article's text around a quote, nearest first: the passage before the quote and the passages before
 * it; the passage after the quote and the next one. An article's passages carry consecutive labels.
 */
export function passageContext(
  passageAt: (label: number) => IndexedPassage | undefined,
  passage: IndexedPassage,
  quote: Span,
): [preceding: PrecedingText[], following: PrecedingText[]] {
  const preceding: PrecedingText[] = [];
  const before = passage.text.slice(0, quote.start);
  if (before.trim() !== '') preceding.push({ text: before, paragraph: passage.paragraph });
  for (let label = passage.label - 1; preceding.length < CONTEXT_PASSAGES; label -= 1) {
    const previous = passageAt(label);
    if (!previous || previous.file !== passage.file || previous.paragraph > passage.paragraph) break;
    preceding.push({ text: previous.text, paragraph: previous.paragraph });
  }
  const following: PrecedingText[] = [];
  const after = passage.text.slice(quote.end);
  if (after.trim() !== '') following.push({ text: after, paragraph: passage.paragraph });
  const next = passageAt(passage.label + 1);
  if (next && next.file === passage.file && next.paragraph >= passage.paragraph)
    following.push({ text: next.text, paragraph: next.paragraph });
  return [preceding, following];
}

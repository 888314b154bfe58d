/**
 * Countries as news names them: "Syria", "Syrian", "Damascus" ("Damascus rejected the plan") and, for
 * a country whose name is several words, its abbreviation ("US", "UK"). A question that says "American
 * troops" is about the articles' "US troops" and "Washington's troops". The names come from the
 * world-countries data set (all 250 countries and territories), so no country is favoured; only
 * one-word forms are kept, because the index matches single words.
 */
import { createRequire } from 'node:module';
import type { Countries } from 'world-countries';
import { foldWord, stemWord } from './tokens.js';

/** The package is CommonJS whose types declare an ES default export: required, it is the array its types say. */
const countries = createRequire(import.meta.url)('world-countries') as Countries;

/** The stems of each country's one-word names, with every other stem of the same country. */
function placeGroups(): Map<string, Set<string>> {
  const byStem = new Map<string, Set<string>>();
  // A name several countries share ("American" for the US and its territories) goes to the first: UN members first.
  const ordered = [...countries].sort((a, b) => Number(b.unMember) - Number(a.unMember));
  const claimed = new Set<string>();
  for (const country of ordered) {
    const names = new Set<string>();
    const common = country.name.common;
    const multiWord = common.includes(' ');
    const oneWord = (name: string | undefined) => name !== undefined && /^\p{L}[\p{L}'-]+$/u.test(name);
    if (oneWord(common)) names.add(common);
    for (const spelling of country.altSpellings) {
      // "Republic of Turkey" → "Turkey": the short name a long form ends in.
      const shortForm = /\bof\s+(\p{Lu}[\p{L}'-]+)$/u.exec(spelling)?.[1];
      if (oneWord(shortForm)) names.add(shortForm!);
      // "US" for "United States", "UK" for "United Kingdom"; a one-word country keeps no code ("AL" is a word part).
      if (
        /^\p{Lu}{2,4}$/u.test(spelling)
          ? multiWord && spelling !== country.cca2 + country.cca2
          : oneWord(spelling) && !spelling.includes("'")
      ) {
        names.add(spelling);
      }
    }
    if (multiWord && country.cca2) names.add(country.cca2);
    names.add(country.demonyms?.eng?.m ?? '');
    names.add(country.demonyms?.eng?.f ?? '');
    // "Washington D.C." is "Washington"; a capital of several words cannot be one index word.
    const capital = country.capital[0]?.replace(/\s+D\.C\.$/, '');
    if (oneWord(capital)) names.add(capital!);
    const stems = new Set(
      [...names]
        .filter(oneWord)
        .map((name) => stemWord(foldWord(name)))
        .filter((stem) => !claimed.has(stem)),
    );
    for (const stem of stems) claimed.add(stem);
    for (const stem of stems) {
      const group = byStem.get(stem) ?? new Set<string>();
      for (const other of stems) if (other !== stem) group.add(other);
      byStem.set(stem, group);
    }
  }
  return byStem;
}

let groups: Map<string, Set<string>> | undefined;

/** Stems that name the same country as `stem` ("syria" → "syrian", "damascu"), without `stem` itself. */
export function sameCountry(stem: string): ReadonlySet<string> {
  groups ??= placeGroups();
  return groups.get(stem) ?? new Set();
}

/** Credit of another name of the same country, relative to the question's own word. */
export const SAME_COUNTRY_CREDIT = 0.6;

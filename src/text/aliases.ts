/**
 * Words that news readers use interchangeably with the words reporters write ("isis" for "Daesh",
 * "choppers" for "helicopters", "american" for "US"). A static embedding model cannot bridge these, so
 * the lexical side expands a question's words with their aliases at a lower weight. Groups are short and
 * specific on purpose: a broad thesaurus would pull in passages that only share a loose synonym.
 */
import { foldWord, stemWord } from './tokens.js';

const GROUPS: string[][] = [
  ['isis', 'isil', 'daesh'],
  ['us', 'american', 'americans', 'america', 'washington'],
  ['troops', 'soldiers', 'forces', 'military'],
  ['helicopters', 'choppers', 'copters', 'aircraft'],
  ['withdraw', 'withdrawal', 'pullout', 'leave', 'leaving', 'depart', 'exit'],
  ['russia', 'russian', 'moscow', 'kremlin'],
  ['syria', 'syrian', 'damascus'],
  ['iran', 'iranian', 'tehran'],
  ['turkey', 'turkish', 'ankara'],
  ['illegal', 'unlawful', 'illegitimate'],
  ['militants', 'terrorists', 'jihadists', 'militias', 'fighters'],
  ['leaders', 'ringleaders', 'kingpins', 'commanders'],
  ['weapons', 'arms', 'munitions'],
  ['killed', 'deaths', 'casualties'],
  ['envoy', 'diplomat', 'ambassador', 'representative'],
  ['airlift', 'airlifting', 'evacuated', 'evacuate'],
  ['un', 'united nations'],
  ['quit', 'resign', 'resignations', 'resigned'],
];

/** Weight of an alias match relative to a match of the word itself. */
export const ALIAS_WEIGHT = 0.6;

const aliasesByStem = new Map<string, Set<string>>();
for (const group of GROUPS) {
  const stems = group.filter((word) => !word.includes(' ')).map((word) => stemWord(foldWord(word)));
  for (const stem of stems) {
    const aliases = aliasesByStem.get(stem) ?? new Set<string>();
    for (const other of stems) if (other !== stem) aliases.add(other);
    aliasesByStem.set(stem, aliases);
  }
}

/** Stems that stand in for `stem`, without `stem` itself. */
export function aliasesOf(stem: string): ReadonlySet<string> {
  return aliasesByStem.get(stem) ?? new Set();
}

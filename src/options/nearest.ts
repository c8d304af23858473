/**
 * The known name nearest a mistyped one, so `maxMapCont` and `--max-map-cont`
 * are answered with what was meant. Edit distance, case ignored, a name
 * that starts the other counted as one typo; a guess further than a third
 * of the name's length is no guess.
 */
export function nearest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.ceil(word.length / 3)) ? best : null;
}

/** A name that starts the other (policy, policies) is as near as one typo. */
function distance(a: string, b: string): number {
  return a.length >= 3 && b.length >= 3 && (a.startsWith(b.slice(0, -2)) || b.startsWith(a.slice(0, -2))) ? Math.min(1, editDistance(a, b)) : editDistance(a, b);
}

/** Levenshtein distance: inserts, deletes and substitutions, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}

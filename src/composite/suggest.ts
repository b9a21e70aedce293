/**
 * Edit distance counting an insertion, deletion, substitution or swap of two adjacent characters as
 * one edit (optimal string alignment, as commander's suggestions), so `nmae` is one edit from `name`.
 * O(n·m) time, O(m) memory.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let before = new Array<number>(b.length + 1).fill(0); // row i-2
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j); // row i-1
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest candidate within a distance that scales with the word's length, if any. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  if (word === "") return undefined;
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const distance = cl === lower ? 0 : editDistance(lower, cl);
    // A prefix (`file` → `file-system`) is always a fair guess, but one real typo (`sourcePrt` → `sourcePort`) is a better one.
    const prefix = cl.startsWith(lower) || lower.startsWith(cl);
    // A typo in the first part of a compound name (`htpp` → `http-request`): near that part.
    const head = /^[^-_.]+(?=[-_.])/.exec(cl)?.[0];
    const headDistance = head !== undefined && !prefix ? editDistance(lower, head) : Infinity;
    const nearHead = headDistance <= limit;
    const score = prefix ? Math.min(distance, 1.5) : Math.min(distance, headDistance + 0.5);
    if (score < bestScore && (score <= limit || prefix || nearHead)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** ` Did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s === undefined ? "" : `did you mean "${s}"?`;
}

// Typo-tolerant type-ahead over pain point titles, entirely on the device: "recipt" finds
// "receipt", "queu" finds "Queue too long". Each query word is matched to its best title word
// (a prefix, or within a small Damerau–Levenshtein distance of a prefix or of the whole word).

export function normalize(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Optimal-string-alignment distance (Damerau–Levenshtein with adjacent transpositions). */
export function osaDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (!m) return n;
  if (!n) return m;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => {
    const row = new Array<number>(n + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[m][n];
}

function allowedTypos(length: number): number {
  return length <= 3 ? 0 : length <= 6 ? 1 : 2;
}

/** How well one query word matches one title word, 0…1. */
function wordScore(q: string, w: string): number {
  if (w.startsWith(q)) return 1;
  const limit = allowedTypos(q.length);
  if (!limit) return 0;
  const whole = osaDistance(q, w);
  // a prefix of the word of about the query's length, for words still being typed
  let prefix = Infinity;
  for (const len of [q.length - 1, q.length, q.length + 1]) {
    if (len > 0 && len <= w.length) prefix = Math.min(prefix, osaDistance(q, w.slice(0, len)));
  }
  const dist = Math.min(whole, prefix);
  return dist <= limit ? 1 - dist / (q.length + 1) : 0;
}

/** 0 when some query word matches nothing, else the mean of the best word scores. */
export function matchScore(query: string, title: string): number {
  const qs = normalize(query).split(" ").filter(Boolean);
  if (!qs.length) return 1;
  const ws = normalize(title).split(" ").filter(Boolean);
  let total = 0;
  for (const q of qs) {
    let best = 0;
    for (const w of ws) best = Math.max(best, wordScore(q, w));
    if (best === 0) return 0;
    total += best;
  }
  return total / qs.length;
}

/** Items matching the query, best first; ties keep the given order (by frequency). */
export function search<T>(items: T[], query: string, title: (item: T) => string): T[] {
  if (!normalize(query)) return items;
  return items
    .map((item, index) => ({ item, index, score: matchScore(query, title(item)) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((x) => x.item);
}

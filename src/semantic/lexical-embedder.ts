import type { Embedder } from "./embedder.js";

/**
 * Deterministic offline embedder: hashed word unigrams, word bigrams and character n-grams,
 * sub-linear term frequency (1 + ln tf), signed feature hashing, L2-normalised. It matches
 * shared words and word forms ("run", "running", "runner"), not meaning: "food I enjoy"
 * does not find "sushi" unless a word is shared. A local model can replace it behind `Embedder`.
 */
export const LEXICAL_VERSION = 1;

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by can could did do does doing for from had has have how i " +
    "i'm if in into is it its me my myself of on or our should so than that the their them then " +
    "there these they this those to too very was we were what when where which who whom why will " +
    "with would you your yours about any all am also just more most much some such up out over " +
    "again get got want wants like"
  ).split(" "),
);

// Weights per feature kind; character n-grams carry word forms, so they weigh less than whole words.
const W_WORD = 1;
const W_BIGRAM = 0.6;
const W_CHAR = 0.35;
const CHAR_N = [3, 4] as const;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const undouble = (w: string) => (/([^aeioulsz])\1$/.test(w) ? w.slice(0, -1) : w);

/** A light suffix stripper: plurals and common verb forms map to one stem (love, loves, loved, loving). */
export function stem(word: string): string {
  let w = word.replace(/'s$/, "");
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("ing") && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith("ed") && w.length > 4) w = undouble(w.slice(0, -2));
  else if (/(ss|x|ch|sh|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("e") && w.length >= 4) w = w.slice(0, -1);
  return w;
}

export function tokenize(text: string): string[] {
  const norm = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  return norm.match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/** Feature -> [kind weight, count]. */
export function features(text: string): Map<string, [number, number]> {
  const all = tokenize(text);
  const content = all.filter((t) => !STOPWORDS.has(t));
  const toks = (content.length > 0 ? content : all).map(stem);
  const out = new Map<string, [number, number]>();
  const add = (f: string, w: number) => {
    const cur = out.get(f);
    if (cur) cur[1]++;
    else out.set(f, [w, 1]);
  };
  toks.forEach((t, i) => {
    add(`w:${t}`, W_WORD);
    const next = toks[i + 1];
    if (next !== undefined) add(`b:${t} ${next}`, W_BIGRAM);
    const padded = `<${t}>`;
    for (const n of CHAR_N) {
      for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`, W_CHAR);
    }
  });
  return out;
}

export class LexicalEmbedder implements Embedder {
  readonly kind = "lexical" as const;
  readonly identity: string;

  constructor(readonly dimensions = 1024) {
    this.identity = `lexical-v${LEXICAL_VERSION}-${dimensions}`;
  }

  embed(text: string): number[] {
    const v = new Float64Array(this.dimensions);
    for (const [f, [w, tf]] of features(text)) {
      const h = fnv1a(f);
      const sign = h & 0x80000000 ? -1 : 1;
      const i = h % this.dimensions;
      // Sub-linear: a word said five times is not five times as relevant.
      v[i] = (v[i] ?? 0) + sign * w * (1 + Math.log(tf));
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    return Array.from(v, (x) => (norm > 0 ? x / norm : 0));
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embed(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.embed(text);
  }
}

// Which words of a passage to highlight: those it shares with the answer that cites it.

const STOPWORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below " +
    "between both but by can could did do does doing down during each few for from further had has have " +
    "having he her here hers herself him himself his how i if in into is it its itself just me more most " +
    "my myself no nor not now of off on once only or other our ours ourselves out over own same she " +
    "should so some such than that the their theirs them themselves then there these they this those " +
    "through to too under until up very was we were what when where which while who whom why will with " +
    "would you your yours yourself yourselves also was were been one two may might must shall"
  ).split(" "),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** The words worth matching in `text`: lower-cased, not stop words, at least 3 characters or a number. */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(WORD)) {
    const w = m[0].toLowerCase();
    if (STOPWORDS.has(w)) continue;
    if (w.length >= 3 || /^\p{N}+$/u.test(w)) out.add(w);
  }
  return out;
}

export type Segment = { text: string; mark: boolean };

/** `passage` cut into runs, the words in `words` marked. Concatenating the runs gives `passage` back. */
export function highlight(passage: string, words: Set<string>): Segment[] {
  const out: Segment[] = [];
  const push = (text: string, mark: boolean) => {
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.mark === mark) last.text += text;
    else out.push({ text, mark });
  };
  let at = 0;
  for (const m of passage.matchAll(WORD)) {
    const start = m.index ?? 0;
    const marked = words.has(m[0].toLowerCase());
    if (!marked) continue;
    push(passage.slice(at, start), false);
    push(m[0], true);
    at = start + m[0].length;
  }
  push(passage.slice(at), false);
  return out;
}

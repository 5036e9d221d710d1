/**
 * The payload of `application/vnd.jupyter-llm.explain+json`, checked before use.
 *
 * Written by `Explanation.to_dict()` and `Saliency.to_dict()` in
 * jupyter_llm/model/explain.py (version 1). Both carry `version`, `kind`,
 * `meta` and `tokens` (the text pieces of every token of the text):
 *
 * - `kind: "explanation"`: `rows`, one per predicted token (every token after
 *   the first) with its `index` in `tokens`, `prob`, `surprisal_bits`,
 *   `entropy_bits`, `alternatives` (`[token, prob]` pairs, most likely first),
 *   the logit and its split `gru_logit + attention_logit + bias`, the
 *   `runner_up`, the `margin` over it and its split, and `attention_sources`
 *   (`{index, token, weight, contribution}`); a `summary` (`tokens`, `chars`,
 *   `total_bits`, `bits_per_token`, `bits_per_char`, `most_surprising`); and,
 *   when present, `prompt_tokens` (the first n tokens are the prompt) and
 *   `copies` (`{start, end, source_offset}`: character offsets of spans found
 *   verbatim in the training text).
 * - `kind: "saliency"`: `position` (the token explained), `method`, `steps`,
 *   `attributions` and `attention` (one number per input token
 *   `0 .. position - 1`), `logprob` and `baseline_logprob` (nats).
 *
 * Keys not described here are ignored (a newer kernel may send more).
 */

import { isObject } from './protocol';

export const EXPLAIN_MIME_TYPE = 'application/vnd.jupyter-llm.explain+json';
export const EXPLAIN_VERSION = 1;
/** The longest text drawn, in tokens. */
export const MAX_EXPLAIN_TOKENS = 20000;
/** Surprisal (bits) at which a token gets the darkest shade. */
export const SURPRISAL_FULL = 8;

export interface IAlternative {
  token: string;
  prob: number;
}

export interface IAttentionSource {
  index: number;
  token: string;
  weight: number;
  contribution: number;
}

/** One predicted token of an explanation (numbers in bits or logits as named). */
export interface IExplainRow {
  index: number;
  token: string;
  prob: number;
  surprisalBits: number;
  entropyBits: number;
  alternatives: IAlternative[];
  logit: number;
  gruLogit: number;
  attentionLogit: number;
  bias: number;
  runnerUp: string;
  margin: number;
  gruMargin: number;
  attentionMargin: number;
  biasMargin: number;
  sources: IAttentionSource[];
}

/** A span of the text found verbatim in the training text (character offsets). */
export interface ICopy {
  start: number;
  end: number;
  sourceOffset: number;
}

export interface IExplanationData {
  kind: 'explanation';
  model: string | null;
  tokens: string[];
  /** The row of each token, by its index in `tokens` (the first token has none). */
  rows: Map<number, IExplainRow>;
  topK: number | null;
  summary: {
    tokens: number;
    chars: number;
    totalBits: number;
    bitsPerToken: number;
    bitsPerChar: number;
    mostSurprising: { index: number; token: string; surprisalBits: number }[];
  };
  promptTokens: number | null;
  copies: ICopy[];
}

export interface ISaliencyData {
  kind: 'saliency';
  model: string | null;
  tokens: string[];
  position: number;
  method: string;
  steps: number | null;
  /** `(position,)`: the attribution of each input token 0 .. position - 1 (nats). */
  attributions: number[];
  /** `(position,)`: the attention weights of the same step over those tokens. */
  attention: number[];
  logprob: number;
  baselineLogprob: number;
}

export type ExplainData = IExplanationData | ISaliencyData;

/** What a payload check returns: the data, or a sentence saying why it cannot be drawn. */
type Parsed<T> = T | string;

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isIndex(value: unknown, length: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < length;
}

/** The payload in `data`, or a sentence saying why it cannot be drawn. */
export function parseExplain(data: unknown): ExplainData | string {
  if (!isObject(data)) {
    return 'Expected an explanation (a JSON object).';
  }
  const version = data.version;
  if (typeof version === 'number' && version > EXPLAIN_VERSION) {
    return (
      `It was written in payload version ${version}, newer than this extension reads ` +
      `(version ${EXPLAIN_VERSION}): update jupyter_llm's JupyterLab extension.`
    );
  }
  if (version !== EXPLAIN_VERSION) {
    return `Expected payload version ${EXPLAIN_VERSION}. Received: version ${JSON.stringify(version) ?? 'none'}.`;
  }
  const tokens = data.tokens;
  if (!Array.isArray(tokens) || !tokens.every(t => typeof t === 'string')) {
    return 'Expected tokens to be a list of strings.';
  }
  if (tokens.length > MAX_EXPLAIN_TOKENS) {
    return `The text has ${tokens.length} tokens; at most ${MAX_EXPLAIN_TOKENS} are drawn.`;
  }
  const meta = isObject(data.meta) ? data.meta : {};
  const model = typeof meta.model === 'string' ? meta.model : null;
  if (data.kind === 'explanation') {
    return parseExplanation(data, tokens as string[], model);
  }
  if (data.kind === 'saliency') {
    return parseSaliency(data, tokens as string[], model);
  }
  return `Expected kind "explanation" or "saliency". Received: kind ${JSON.stringify(data.kind) ?? 'none'}.`;
}

function parseExplanation(
  data: Record<string, unknown>,
  tokens: string[],
  model: string | null
): Parsed<IExplanationData> {
  const n = tokens.length;
  if (!Array.isArray(data.rows)) {
    return 'Expected rows to be a list (one per predicted token).';
  }
  const rows = new Map<number, IExplainRow>();
  for (const [i, raw] of (data.rows as unknown[]).entries()) {
    const row = parseRow(raw, n);
    if (typeof row === 'string') {
      return `Row ${i}: ${row}`;
    }
    if (rows.has(row.index)) {
      return `Row ${i}: expected each token to have one row. Received: a second row for token ${row.index}.`;
    }
    rows.set(row.index, row);
  }
  const summary = parseSummary(data.summary, n);
  if (typeof summary === 'string') {
    return summary;
  }
  let promptTokens: number | null = null;
  if (data.prompt_tokens !== undefined && data.prompt_tokens !== null) {
    const p = data.prompt_tokens;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > n) {
      return `Expected prompt_tokens to be an integer from 0 to ${n}. Received: ${JSON.stringify(p)}.`;
    }
    promptTokens = p;
  }
  const copies: ICopy[] = [];
  if (data.copies !== undefined && data.copies !== null) {
    if (!Array.isArray(data.copies)) {
      return 'Expected copies to be a list of {start, end, source_offset}.';
    }
    for (const [i, c] of (data.copies as unknown[]).entries()) {
      if (
        !isObject(c) ||
        !Number.isInteger(c.start) ||
        !Number.isInteger(c.end) ||
        !Number.isInteger(c.source_offset) ||
        (c.start as number) < 0 ||
        (c.end as number) <= (c.start as number)
      ) {
        return `Expected copy ${i} to be {start, end, source_offset} with 0 <= start < end (characters).`;
      }
      copies.push({
        start: c.start as number,
        end: c.end as number,
        sourceOffset: c.source_offset as number
      });
    }
  }
  const k = data.top_k;
  const topK = typeof k === 'number' && Number.isInteger(k) && k > 0 ? k : null;
  return { kind: 'explanation', model, tokens, rows, topK, summary, promptTokens, copies };
}

const ROW_NUMBERS = [
  'prob',
  'surprisal_bits',
  'entropy_bits',
  'logit',
  'gru_logit',
  'attention_logit',
  'bias',
  'margin',
  'gru_margin',
  'attention_margin',
  'bias_margin'
] as const;

function parseRow(raw: unknown, n: number): Parsed<IExplainRow> {
  if (!isObject(raw)) {
    return 'expected a JSON object.';
  }
  if (!isIndex(raw.index, n) || raw.index === 0) {
    return `expected index to be a token from 1 to ${n - 1}. Received: ${JSON.stringify(raw.index)}.`;
  }
  for (const name of ROW_NUMBERS) {
    if (!isNumber(raw[name])) {
      return `expected ${name} to be a number. Received: ${JSON.stringify(raw[name]) ?? 'none'}.`;
    }
  }
  if (typeof raw.token !== 'string' || typeof raw.runner_up !== 'string') {
    return 'expected token and runner_up to be strings.';
  }
  const alternatives: IAlternative[] = [];
  if (!Array.isArray(raw.alternatives)) {
    return 'expected alternatives to be a list of [token, probability] pairs.';
  }
  for (const pair of raw.alternatives as unknown[]) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !isNumber(pair[1])) {
      return 'expected alternatives to be a list of [token, probability] pairs.';
    }
    alternatives.push({ token: pair[0], prob: pair[1] });
  }
  const sources: IAttentionSource[] = [];
  const rawSources = raw.attention_sources ?? [];
  if (!Array.isArray(rawSources)) {
    return 'expected attention_sources to be a list of {index, token, weight, contribution}.';
  }
  for (const s of rawSources as unknown[]) {
    if (
      !isObject(s) ||
      !isIndex(s.index, n) ||
      typeof s.token !== 'string' ||
      !isNumber(s.weight) ||
      !isNumber(s.contribution)
    ) {
      return 'expected attention_sources to be a list of {index, token, weight, contribution}.';
    }
    sources.push({
      index: s.index,
      token: s.token,
      weight: s.weight,
      contribution: s.contribution
    });
  }
  const num = (name: (typeof ROW_NUMBERS)[number]) => raw[name] as number;
  return {
    index: raw.index,
    token: raw.token,
    prob: num('prob'),
    surprisalBits: num('surprisal_bits'),
    entropyBits: num('entropy_bits'),
    alternatives,
    logit: num('logit'),
    gruLogit: num('gru_logit'),
    attentionLogit: num('attention_logit'),
    bias: num('bias'),
    runnerUp: raw.runner_up,
    margin: num('margin'),
    gruMargin: num('gru_margin'),
    attentionMargin: num('attention_margin'),
    biasMargin: num('bias_margin'),
    sources
  };
}

function parseSummary(raw: unknown, n: number): Parsed<IExplanationData['summary']> {
  if (!isObject(raw)) {
    return 'Expected a summary (a JSON object).';
  }
  for (const name of ['tokens', 'chars', 'total_bits', 'bits_per_token', 'bits_per_char']) {
    if (!isNumber(raw[name])) {
      return `Expected summary.${name} to be a number. Received: ${JSON.stringify(raw[name]) ?? 'none'}.`;
    }
  }
  const worst = raw.most_surprising ?? [];
  if (
    !Array.isArray(worst) ||
    !worst.every(
      w =>
        isObject(w) &&
        isIndex(w.index, n) &&
        typeof w.token === 'string' &&
        isNumber(w.surprisal_bits)
    )
  ) {
    return 'Expected summary.most_surprising to be a list of {index, token, surprisal_bits}.';
  }
  return {
    tokens: raw.tokens as number,
    chars: raw.chars as number,
    totalBits: raw.total_bits as number,
    bitsPerToken: raw.bits_per_token as number,
    bitsPerChar: raw.bits_per_char as number,
    mostSurprising: (worst as Record<string, unknown>[]).map(w => ({
      index: w.index as number,
      token: w.token as string,
      surprisalBits: w.surprisal_bits as number
    }))
  };
}

function parseSaliency(
  data: Record<string, unknown>,
  tokens: string[],
  model: string | null
): Parsed<ISaliencyData> {
  const n = tokens.length;
  const p = data.position;
  if (!isIndex(p, n) || p === 0) {
    return `Expected position to be a token from 1 to ${n - 1}. Received: ${JSON.stringify(p)}.`;
  }
  for (const name of ['attributions', 'attention']) {
    const values = data[name];
    if (!Array.isArray(values) || values.length !== p || !values.every(isNumber)) {
      return `Expected ${name} to hold ${p} numbers (one per token before position ${p}).`;
    }
  }
  if (!isNumber(data.logprob) || !isNumber(data.baseline_logprob)) {
    return 'Expected logprob and baseline_logprob to be numbers.';
  }
  if (typeof data.method !== 'string') {
    return 'Expected method to be a string.';
  }
  const s = data.steps;
  return {
    kind: 'saliency',
    model,
    tokens,
    position: p,
    method: data.method,
    steps: typeof s === 'number' && Number.isInteger(s) && s > 0 ? s : null,
    attributions: data.attributions as number[],
    attention: data.attention as number[],
    logprob: data.logprob,
    baselineLogprob: data.baseline_logprob
  };
}

/**
 * The character offset where each token starts, and the total length (`n + 1` numbers):
 * the text is the tokens joined.
 */
export function tokenOffsets(tokens: string[]): number[] {
  const offsets = [0];
  for (const t of tokens) {
    offsets.push(offsets[offsets.length - 1] + t.length);
  }
  return offsets;
}

/** For each token, the copy (from `copies`) that overlaps it, or null. */
export function copiedTokens(tokens: string[], copies: ICopy[]): (ICopy | null)[] {
  const offsets = tokenOffsets(tokens);
  return tokens.map((_, i) => {
    const [a, b] = [offsets[i], offsets[i + 1]];
    return copies.find(c => c.start < b && a < c.end && a < b) ?? null;
  });
}

/** How strongly to shade a token of `bits` surprisal, in [0, 1] (SURPRISAL_FULL bits or more: 1). */
export function surprisalScale(bits: number): number {
  return Math.max(0, Math.min(1, bits / SURPRISAL_FULL));
}

/** A token quoted for prose: JSON, so whitespace and quotes show. */
export function quote(token: string): string {
  return JSON.stringify(token);
}

/** A signed number with a fixed number of decimals (`+1.20`, `−0.35`). */
export function signed(value: number, digits = 2): string {
  const text = Math.abs(value).toFixed(digits);
  return value < 0 && Number(text) !== 0 ? `−${text}` : `+${text}`;
}

/** The method's name for people. */
export function methodName(method: string, steps: number | null): string {
  if (method === 'integrated_gradients') {
    return `integrated gradients${steps ? `, ${steps} steps` : ''}`;
  }
  if (method === 'gradient_x_input') {
    return 'gradient × input';
  }
  return method;
}

/**
 * The payload of `application/vnd.jupyter-llm.attention+json`, checked before use.
 *
 * Written by `AttentionMap.to_dict()` in jupyter_llm/display/attention.py:
 * `{"version": 1, "tokens": [T strings], "layers": [{"name", "weights": T x T}],
 * "prompt_length": int | null, "meta": {...}}`. Row `t` of a weight matrix is
 * what token `t` attended to (causal: zero right of the diagonal).
 */

import { isObject } from './protocol';

export const MIME_TYPE = 'application/vnd.jupyter-llm.attention+json';
export const SCHEMA_VERSION = 1;
/** The largest map drawn (the payload holds T x T numbers). */
export const MAX_TOKENS = 2000;

export interface IAttentionLayer {
  name: string;
  /** T x T, row t: the attention of token t over tokens 0..t. */
  weights: number[][];
}

export interface IAttentionData {
  tokens: string[];
  layers: IAttentionLayer[];
  promptLength: number | null;
  model: string | null;
}

/** The attention map in `data`, or a sentence saying why it cannot be drawn. */
export function parseAttention(data: unknown): IAttentionData | string {
  if (!isObject(data)) {
    return 'Expected an attention map (a JSON object).';
  }
  if (data.version !== SCHEMA_VERSION) {
    return `Expected attention map version ${SCHEMA_VERSION}. Received: version ${String(data.version)}.`;
  }
  const tokens = data.tokens;
  if (!Array.isArray(tokens) || !tokens.every(t => typeof t === 'string')) {
    return 'Expected tokens to be a list of strings.';
  }
  const t = tokens.length;
  if (t > MAX_TOKENS) {
    return `The map has ${t} tokens; at most ${MAX_TOKENS} are drawn.`;
  }
  const layers = data.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    return 'Expected at least one attention layer.';
  }
  const parsed: IAttentionLayer[] = [];
  for (const [i, layer] of layers.entries()) {
    if (!isObject(layer) || !Array.isArray(layer.weights) || layer.weights.length !== t) {
      return `Expected layer ${i} to hold a ${t} x ${t} weight matrix.`;
    }
    const rows = layer.weights as unknown[];
    for (const row of rows) {
      if (
        !Array.isArray(row) ||
        row.length !== t ||
        !row.every(w => typeof w === 'number' && Number.isFinite(w))
      ) {
        return `Expected layer ${i} to hold a ${t} x ${t} matrix of numbers.`;
      }
    }
    const name = typeof layer.name === 'string' && layer.name ? layer.name : `layer ${i + 1}`;
    parsed.push({ name, weights: rows as number[][] });
  }
  const p = data.prompt_length;
  const promptLength = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= t ? p : null;
  const meta = isObject(data.meta) ? data.meta : {};
  const model = typeof meta.model === 'string' ? meta.model : null;
  return { tokens: tokens as string[], layers: parsed, promptLength, model };
}

/** How a token shows in running text and on an axis (whitespace made visible). */
export function tokenLabel(token: string): string {
  if (token === '') {
    return '∅';
  }
  return token
    .replace(/\n/g, '↵')
    .replace(/\t/g, '⇥')
    .replace(/^ +$/, m => '·'.repeat(m.length));
}

/**
 * How strongly to colour the weights `row[start..end]`, each in [0, 1]: the
 * row scaled on its own, from its smallest weight (0) to its largest (1).
 *
 * Attention over a long text is flat (the largest weight of a 200-token row
 * is about 0.02); scaling each row between its own extremes shows its
 * structure. The same scale as the AttentionView widget's
 * (`jupyter_llm.widgets.attention_view.row_scale`).
 */
export function rowScale(row: number[], start: number, end: number): number[] {
  const part = row.slice(start, end);
  const low = Math.min(...part);
  const high = Math.max(...part);
  const span = high - low;
  return part.map(w => (span > 1e-12 ? (w - low) / span : 1));
}

/** What the colours mean: said in the legend of both attention views. */
export const SCALE_LEGEND =
  "each row scaled on its own: no colour = the row's smallest weight, full colour = its largest";

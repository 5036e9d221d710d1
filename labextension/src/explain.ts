/**
 * The renderer of `application/vnd.jupyter-llm.explain+json` ("See why", #15).
 *
 * - An explanation (`lm.explain(text)`): the text as tokens shaded by
 *   surprisal. Hovering or focusing a token shows its card: probability,
 *   surprisal and entropy, the top-k alternatives (bars), the split of its
 *   logit and of its margin over the runner-up into the GRU part, the
 *   attention part and the bias, and the earlier tokens the attention part
 *   came from (outlined in the text). A summary header gives bits per
 *   character and the most surprising tokens (buttons that jump to them).
 *   Prompt tokens show muted, copied spans underlined.
 * - A saliency (`lm.saliency(text, position)`): one column per input token,
 *   with its attribution (signed, diverging colours) above the attention
 *   weight of the same step, the explained token marked.
 *
 * Arrow keys, Home and End move between tokens. Colours come from the
 * JupyterLab theme. All text is set as text content, never as HTML.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  EXPLAIN_MIME_TYPE,
  ICopy,
  IExplainRow,
  IExplanationData,
  ISaliencyData,
  SURPRISAL_FULL,
  copiedTokens,
  methodName,
  parseExplain,
  quote,
  signed,
  surprisalScale
} from './explainData';
import {
  ITokenHandlers,
  TOKEN_CLASS,
  TOKEN_TEXT_CLASS,
  el,
  listenToTokens,
  markToken,
  moveTabStop,
  tokenStrip
} from './tokenText';

/** Distinguishes the cards of several views on one page (for aria-describedby). */
let nextId = 0;

export class RenderedExplain extends Widget implements IRenderMime.IRenderer {
  constructor(options?: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options?.mimeType ?? EXPLAIN_MIME_TYPE;
    this.addClass('jp-LLMExplain');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.setData(model.data[this._mimeType]);
  }

  /** Draw a payload (as written by `Explanation.to_dict()` or `Saliency.to_dict()`). */
  setData(raw: unknown): void {
    const parsed = parseExplain(raw);
    this.node.textContent = '';
    this._view?.dispose();
    this._view = null;
    if (typeof parsed === 'string') {
      this.showError(`Cannot show this explanation: ${parsed}`);
      return;
    }
    this._view =
      parsed.kind === 'explanation'
        ? new ExplanationView(this.node, parsed)
        : new SaliencyView(this.node, parsed);
  }

  /** Show a sentence instead of a view. */
  showError(message: string): void {
    this._view?.dispose();
    this._view = null;
    this.node.textContent = '';
    this.node.appendChild(el('div', 'jp-LLMExplain-error', message));
  }

  dispose(): void {
    this._view?.dispose();
    this._view = null;
    super.dispose();
  }

  protected onAfterAttach(): void {
    this._view?.attached();
  }

  private _mimeType: string;
  private _view: ExplanationView | SaliencyView | null = null;
}

// === Explanation ===

/** The view of an explanation; the handler of its token strip. */
class ExplanationView implements ITokenHandlers {
  constructor(host: HTMLElement, data: IExplanationData) {
    this._data = data;
    this._copied = copiedTokens(data.tokens, data.copies);
    this._cardId = `jp-LLMExplain-card-${++nextId}`;
    this._build(host);
    const first = data.summary.mostSurprising.find(w => data.rows.has(w.index))?.index;
    this._selected = first ?? data.rows.keys().next().value ?? -1;
    if (this._selected >= 0) {
      this._tokens[this._selected].tabIndex = 0;
      this.show(this._selected);
    } else {
      this._card.textContent = 'No token was predicted: the text has a single token.';
    }
  }

  attached(): void {
    this._tokens[this._selected]?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  dispose(): void {
    this._listening.abort();
    this._tokens = [];
  }

  // === Building ===

  private _build(host: HTMLElement): void {
    const data = this._data;
    const s = data.summary;
    const header = el('div', 'jp-LLMExplain-header');
    header.appendChild(el('span', 'jp-LLMExplain-title', 'Why each token'));
    const facts = [
      `${s.tokens} token${s.tokens === 1 ? '' : 's'} predicted`,
      `${s.bitsPerChar.toFixed(3)} bits per character`,
      `${s.totalBits.toFixed(1)} bits in total`,
      `${s.bitsPerToken.toFixed(2)} bits per token`
    ];
    if (data.model) {
      facts.unshift(data.model);
    }
    const n = data.tokens.length;
    if (data.promptTokens !== null) {
      facts.push(`prompt: the first ${data.promptTokens} of ${n} tokens`);
    }
    if (data.copies.length) {
      const chars = data.copies.reduce((sum, c) => sum + c.end - c.start, 0);
      facts.push(
        `${data.copies.length} span${data.copies.length === 1 ? '' : 's'} copied from the training text (${chars} characters)`
      );
    }
    header.appendChild(el('span', 'jp-LLMExplain-facts', facts.join(' · ')));
    host.appendChild(header);

    if (s.mostSurprising.length) {
      const worst = el('div', 'jp-LLMExplain-worst');
      worst.appendChild(el('span', 'jp-LLMExplain-label', 'Most surprising: '));
      for (const w of s.mostSurprising) {
        if (!data.rows.has(w.index)) {
          continue;
        }
        const button = el(
          'button',
          'jp-LLMExplain-jump',
          `${quote(w.token)} #${w.index} ${w.surprisalBits.toFixed(1)} bits`
        ) as HTMLButtonElement;
        button.type = 'button';
        button.dataset.jump = String(w.index);
        button.title = `Show token #${w.index}`;
        button.addEventListener('click', () => this.select(w.index, true), {
          signal: this._listening.signal
        });
        worst.appendChild(button);
      }
      host.appendChild(worst);
    }

    const body = el('div', 'jp-LLMExplain-body');
    const text = tokenStrip(
      `${TOKEN_TEXT_CLASS} jp-LLMExplain-text`,
      'Tokens shaded by surprisal: use the arrow keys to see why each token came out'
    );
    const copied = this._copied;
    data.tokens.forEach((token, i) => {
      const span = el('span', `${TOKEN_CLASS} jp-LLMExplain-token`, display(token));
      const row = data.rows.get(i);
      if (row) {
        markToken(span, i);
        const pct = Math.round(70 * surprisalScale(row.surprisalBits));
        if (pct > 0) {
          span.style.backgroundColor = mix('--jp-warn-color1', pct);
        }
        span.classList.toggle('jp-mod-strong', pct >= 45);
      } else {
        span.classList.add('jp-mod-unpredicted');
        span.title =
          data.promptTokens !== null && i < data.promptTokens
            ? 'Prompt: given, not predicted.'
            : 'Not predicted: the model reads it to start.';
      }
      if (token.includes('\n')) {
        span.classList.add('jp-mod-newline');
      }
      if (data.promptTokens !== null && i < data.promptTokens) {
        span.classList.add('jp-mod-prompt');
      }
      if (copied[i]) {
        span.classList.add('jp-mod-copied');
      }
      text.appendChild(span);
      if (token.includes('\n')) {
        text.appendChild(document.createElement('br'));
      }
      this._tokens.push(span);
    });
    listenToTokens(text, this, this._listening.signal);
    body.appendChild(text);

    this._card = el('div', 'jp-LLMExplain-card');
    this._card.id = this._cardId;
    this._card.setAttribute('role', 'tooltip');
    body.appendChild(this._card);
    host.appendChild(body);

    const legend = el('div', 'jp-LLMExplain-legend');
    legend.appendChild(el('span', 'jp-LLMExplain-ramp'));
    legend.appendChild(
      el(
        'span',
        '',
        `Shade: surprisal, from 0 bits (expected) to ${SURPRISAL_FULL} bits or more (surprising).`
      )
    );
    legend.appendChild(
      el('span', `${TOKEN_CLASS} jp-LLMExplain-token jp-mod-source jp-LLMExplain-sample`, 'abc')
    );
    legend.appendChild(el('span', '', 'where the attention part came from'));
    if (data.promptTokens) {
      legend.appendChild(
        el('span', `${TOKEN_CLASS} jp-LLMExplain-token jp-mod-prompt jp-LLMExplain-sample`, 'abc')
      );
      legend.appendChild(el('span', '', 'prompt'));
    }
    if (data.copies.length) {
      legend.appendChild(
        el('span', `${TOKEN_CLASS} jp-LLMExplain-token jp-mod-copied jp-LLMExplain-sample`, 'abc')
      );
      legend.appendChild(el('span', '', 'found verbatim in the training text'));
    }
    host.appendChild(legend);
  }

  // === Interaction (ITokenHandlers) ===

  /** Arrow keys, Home and End move between the predicted tokens. */
  key(event: KeyboardEvent): void {
    const order = [...this._data.rows.keys()].sort((a, b) => a - b);
    const at = order.indexOf(this._selected);
    const moves: Record<string, number | undefined> = {
      ArrowLeft: order[Math.max(0, at - 1)],
      ArrowUp: order[Math.max(0, at - 1)],
      ArrowRight: order[Math.min(order.length - 1, at + 1)],
      ArrowDown: order[Math.min(order.length - 1, at + 1)],
      Home: order[0],
      End: order[order.length - 1]
    };
    const to = moves[event.key];
    if (to === undefined) {
      return;
    }
    event.preventDefault();
    this.select(to, true);
  }

  /** The pointer left the text: the selected token's card again. */
  leave(): void {
    this.show(this._selected);
  }

  /** Select token `i` if it was predicted; its card describes it to screen readers. */
  select(i: number, focus: boolean): void {
    const span = this._tokens[i];
    if (!span || !this._data.rows.has(i)) {
      return;
    }
    const from = this._selected;
    this._tokens[from]?.removeAttribute('aria-describedby');
    span.setAttribute('aria-describedby', this._cardId);
    this._selected = i;
    moveTabStop(this._tokens, from, i, focus);
    this.show(i);
  }

  /** Fill the card with token `i`'s row and outline its attention sources. */
  show(i: number): void {
    const row = this._data.rows.get(i);
    if (!row) {
      return;
    }
    for (const j of this._marked) {
      this._tokens[j]?.classList.remove('jp-mod-source', 'jp-mod-current', 'jp-mod-selected');
    }
    this._marked = [i, this._selected];
    this._tokens[i].classList.add('jp-mod-current');
    this._tokens[this._selected]?.classList.add('jp-mod-selected');
    for (const s of row.sources) {
      this._tokens[s.index]?.classList.add('jp-mod-source');
      this._marked.push(s.index);
    }
    this._shown = i;
    this._card.dataset.index = String(i);
    this._card.textContent = '';
    this._card.append(...this._cardContent(row));
  }

  /** The index of the token whose card shows. */
  get shown(): number {
    return this._shown;
  }

  private _cardContent(row: IExplainRow): HTMLElement[] {
    const data = this._data;
    const parts: HTMLElement[] = [];
    const head = el('div', 'jp-LLMExplain-cardHead');
    head.appendChild(el('span', 'jp-LLMExplain-cardToken', quote(row.token)));
    head.appendChild(el('span', 'jp-LLMExplain-facts', ` token #${row.index}`));
    parts.push(head);
    parts.push(
      el(
        'div',
        'jp-LLMExplain-stats',
        `p = ${row.prob.toFixed(3)} · surprisal ${row.surprisalBits.toFixed(2)} bits · entropy ${row.entropyBits.toFixed(2)} bits`
      )
    );
    if (data.promptTokens !== null && row.index < data.promptTokens) {
      parts.push(el('div', 'jp-LLMExplain-note', 'Part of the prompt.'));
    }
    const copy = this._copied[row.index];
    if (copy) {
      parts.push(
        el(
          'div',
          'jp-LLMExplain-note jp-mod-copied',
          `In a passage found verbatim in the training text: characters ${copy.start}–${copy.end} ` +
            `of this text, at character ${copy.sourceOffset} of the training text.`
        )
      );
    }

    // The alternatives, most likely first; the chosen token marked.
    parts.push(section(`Top ${row.alternatives.length} alternatives`));
    const alternatives = el('div', 'jp-LLMExplain-bars');
    const listed = row.alternatives.some(a => a.token === row.token);
    const shown = listed
      ? row.alternatives
      : [...row.alternatives, { token: row.token, prob: row.prob }];
    for (const a of shown) {
      const line = el('div', 'jp-LLMExplain-alt');
      line.classList.toggle('jp-mod-chosen', a.token === row.token);
      line.appendChild(el('span', 'jp-LLMExplain-altToken', quote(a.token)));
      const track = el('span', 'jp-LLMExplain-track');
      const fill = el('span', 'jp-LLMExplain-fill');
      fill.style.width = `${Math.max(0, Math.min(100, 100 * a.prob))}%`;
      track.appendChild(fill);
      line.appendChild(track);
      line.appendChild(el('span', 'jp-LLMExplain-num', a.prob.toFixed(3)));
      alternatives.appendChild(line);
    }
    parts.push(alternatives);

    // The logit split and the margin split (exact: W_h h_t + W_a a_t + b).
    parts.push(section('Logit = GRU part + attention part + bias'));
    parts.push(
      el(
        'div',
        'jp-LLMExplain-equation',
        `${row.logit.toFixed(2)} = ${split(row.gruLogit, row.attentionLogit, row.bias)}`
      )
    );
    parts.push(splitBars([row.gruLogit, row.attentionLogit, row.bias], 'jp-mod-logit'));
    parts.push(section(`Margin over the runner-up ${quote(row.runnerUp)}`));
    parts.push(
      el(
        'div',
        'jp-LLMExplain-equation',
        `${signed(row.margin)} = ${split(row.gruMargin, row.attentionMargin, row.biasMargin)}`
      )
    );
    parts.push(splitBars([row.gruMargin, row.attentionMargin, row.biasMargin], 'jp-mod-margin'));

    // Which earlier tokens the attention part came from (weight x value, not the weight alone).
    if (row.sources.length) {
      parts.push(section('The attention part came from'));
      const sources = el('div', 'jp-LLMExplain-sources');
      for (const s of row.sources) {
        const line = el('div', 'jp-LLMExplain-source');
        line.appendChild(el('span', 'jp-LLMExplain-altToken', `${quote(s.token)} #${s.index}`));
        line.appendChild(el('span', 'jp-LLMExplain-num', `weight ${s.weight.toFixed(3)}`));
        line.appendChild(el('span', 'jp-LLMExplain-num', signed(s.contribution)));
        sources.appendChild(line);
      }
      parts.push(sources);
    }
    return parts;
  }

  private _data: IExplanationData;
  /** For each token, the copied span it is part of, or null. */
  private _copied: (ICopy | null)[];
  private _cardId: string;
  private _card: HTMLElement = document.createElement('div');
  private _tokens: HTMLElement[] = [];
  private _marked: number[] = [];
  private _selected = -1;
  private _shown = -1;
  /** Aborts to remove the view's listeners (dispose). */
  private _listening = new AbortController();
}

/** The three parts of a logit or margin, named: `+8.63 (GRU) +2.63 (attention) −0.10 (bias)`. */
function split(gru: number, attention: number, bias: number): string {
  return `${signed(gru)} (GRU) ${signed(attention)} (attention) ${signed(bias)} (bias)`;
}

/** Three signed bars (GRU, attention, bias) on one scale, around a centre line. */
function splitBars(values: number[], className: string): HTMLElement {
  const box = el('div', `jp-LLMExplain-split ${className}`);
  const scale = Math.max(...values.map(Math.abs), 1e-9);
  ['GRU', 'attention', 'bias'].forEach((name, k) => {
    const v = values[k];
    const line = el('div', 'jp-LLMExplain-splitRow');
    line.dataset.part = name;
    line.appendChild(el('span', 'jp-LLMExplain-splitName', name));
    const track = el('span', 'jp-LLMExplain-track jp-mod-signed');
    const fill = el('span', `jp-LLMExplain-fill ${v < 0 ? 'jp-mod-negative' : 'jp-mod-positive'}`);
    const width = (50 * Math.abs(v)) / scale;
    fill.style.width = `${width}%`;
    fill.style.left = v < 0 ? `${50 - width}%` : '50%';
    track.appendChild(fill);
    line.appendChild(track);
    line.appendChild(el('span', 'jp-LLMExplain-num', signed(v)));
    box.appendChild(line);
  });
  return box;
}

// === Saliency ===

/** The view of a saliency; the handler of its strip of columns. */
class SaliencyView implements ITokenHandlers {
  constructor(host: HTMLElement, data: ISaliencyData) {
    this._data = data;
    this._build(host);
    this.show(data.position);
  }

  attached(): void {
    // The explained token is the last column: start scrolled to it.
    this._columnsBox.scrollLeft = this._columnsBox.scrollWidth;
  }

  dispose(): void {
    this._listening.abort();
    this._columns = [];
  }

  private _build(host: HTMLElement): void {
    const data = this._data;
    const p = data.position;
    const target = data.tokens[p];
    const header = el('div', 'jp-LLMExplain-header');
    header.appendChild(el('span', 'jp-LLMExplain-title', 'Saliency'));
    const facts = [methodName(data.method, data.steps), `explains token #${p} ${quote(target)}`];
    if (data.model) {
      facts.unshift(data.model);
    }
    header.appendChild(el('span', 'jp-LLMExplain-facts', facts.join(' · ')));
    host.appendChild(header);

    const change = data.logprob - data.baselineLogprob;
    const total = data.attributions.reduce((a, b) => a + b, 0);
    let line =
      `log p of ${quote(target)}: ${data.logprob.toFixed(3)} at the input, ` +
      `${data.baselineLogprob.toFixed(3)} at the baseline (zero embeddings), a change of ${signed(change, 3)}; ` +
      `the attributions sum to ${signed(total, 3)}`;
    if (data.method === 'integrated_gradients' && Math.abs(change) > 1e-9) {
      line += ` (${Math.round((100 * total) / change)}% of the change)`;
    }
    host.appendChild(el('div', 'jp-LLMExplain-stats jp-LLMExplain-logprob', `${line}.`));

    const figure = el('div', 'jp-LLMExplain-saliency');
    const names = el('div', 'jp-LLMExplain-rowNames');
    names.append(
      el('span', 'jp-LLMExplain-rowName jp-mod-attribution', 'attribution'),
      el('span', 'jp-LLMExplain-rowName jp-mod-attention', 'attention'),
      el('span', 'jp-LLMExplain-rowName jp-mod-tokens', 'token')
    );
    figure.appendChild(names);
    this._columnsBox = tokenStrip(
      'jp-LLMExplain-columns',
      `Input tokens of token #${p}: use the arrow keys to read each one's attribution and attention weight`
    );
    const scale = Math.max(...data.attributions.map(Math.abs), 1e-12);
    const top = Math.max(...data.attention, 1e-12);
    for (let i = 0; i <= p; i++) {
      const column = el('div', 'jp-LLMExplain-column');
      markToken(column, i);
      if (i === p) {
        column.tabIndex = 0; // the explained token is the one tab stop, and the one selected at first
        this._selected = p;
      }
      const attribution = el('div', 'jp-LLMExplain-cell jp-mod-attribution');
      const attention = el('div', 'jp-LLMExplain-cell jp-mod-attention');
      if (i < p) {
        const a = data.attributions[i];
        const sign = a < 0 ? 'jp-mod-negative' : 'jp-mod-positive';
        const bar = el('span', `jp-LLMExplain-bar ${sign}`);
        bar.style.height = `${(50 * Math.abs(a)) / scale}%`;
        attribution.appendChild(bar);
        const w = el('span', 'jp-LLMExplain-bar jp-mod-weight');
        w.style.height = `${(100 * data.attention[i]) / top}%`;
        attention.appendChild(w);
      } else {
        column.classList.add('jp-mod-target');
        attribution.appendChild(el('span', 'jp-LLMExplain-targetMark', '▼'));
      }
      const label = el('div', 'jp-LLMExplain-columnToken', display(data.tokens[i]));
      column.append(attribution, attention, label);
      this._columnsBox.appendChild(column);
      this._columns.push(column);
    }
    listenToTokens(this._columnsBox, this, this._listening.signal);
    figure.appendChild(this._columnsBox);
    host.appendChild(figure);
    if (data.tokens.length > p + 1) {
      const rest = data.tokens.length - p - 1;
      host.appendChild(
        el(
          'div',
          'jp-LLMExplain-note',
          `The ${rest} token${rest === 1 ? '' : 's'} after it play no part.`
        )
      );
    }

    this._status = el('div', 'jp-LLMExplain-status');
    this._status.setAttribute('aria-live', 'polite');
    host.appendChild(this._status);

    const legend = el('div', 'jp-LLMExplain-legend');
    legend.append(
      el('span', 'jp-LLMExplain-swatch jp-mod-positive'),
      el('span', '', 'raised its log-probability'),
      el('span', 'jp-LLMExplain-swatch jp-mod-negative'),
      el('span', '', 'lowered it'),
      el('span', 'jp-LLMExplain-swatch jp-mod-weight'),
      el('span', '', 'attention weight of the same step (scaled to its largest)')
    );
    host.appendChild(legend);
    host.appendChild(
      el(
        'div',
        'jp-LLMExplain-caveat',
        'Attention is not explanation: the attention row says where the model looked when it wrote ' +
          `${quote(target)} (its weights sum to 1); the attribution row says how much each token moved the ` +
          'log-probability of that token. A token can draw much attention and move little, or the reverse.'
      )
    );
  }

  // === Interaction (ITokenHandlers) ===

  /** Arrow keys, Home and End move between the input tokens (the explained one last). */
  key(event: KeyboardEvent): void {
    const p = this._data.position;
    const moves: Record<string, number> = {
      ArrowLeft: this._selected - 1,
      ArrowRight: this._selected + 1,
      Home: 0,
      End: p
    };
    if (event.key in moves) {
      event.preventDefault();
      this.select(Math.max(0, Math.min(p, moves[event.key])), true);
    }
  }

  /** The pointer left the columns: the selected token's line again. */
  leave(): void {
    this.show(this._selected);
  }

  select(i: number, focus: boolean): void {
    const from = this._selected;
    this._selected = i;
    moveTabStop(this._columns, from, i, focus);
    this.show(i);
  }

  /** Mark column `i` and say its attribution and attention weight in the status line. */
  show(i: number): void {
    const data = this._data;
    this._columns.forEach((c, j) => {
      c.classList.toggle('jp-mod-current', j === i);
      c.classList.toggle('jp-mod-selected', j === this._selected);
    });
    this._status.dataset.index = String(i);
    if (i === data.position) {
      this._status.textContent =
        `Token #${i} ${quote(data.tokens[i])} is the one explained: ` +
        `p = ${Math.exp(data.logprob).toFixed(3)} (log p ${data.logprob.toFixed(3)}).`;
      return;
    }
    const a = data.attributions[i];
    const rank = 1 + data.attributions.filter(b => Math.abs(b) > Math.abs(a)).length;
    this._status.textContent =
      `Token #${i} ${quote(data.tokens[i])}: attribution ${signed(a, 4)} ` +
      `(${ordinal(rank)} largest of ${data.position} in size), attention weight ${data.attention[i].toFixed(4)}.`;
  }

  private _data: ISaliencyData;
  private _columns: HTMLElement[] = [];
  private _columnsBox: HTMLElement = document.createElement('div');
  private _status: HTMLElement = document.createElement('div');
  private _selected = 0;
  /** Aborts to remove the view's listeners (dispose). */
  private _listening = new AbortController();
}

// === Helpers ===

function section(title: string): HTMLElement {
  return el('div', 'jp-LLMExplain-section', title);
}

/** How a token shows in running text: newlines and tabs made visible, the empty token as ∅. */
function display(token: string): string {
  if (token === '') {
    return '∅';
  }
  return token.replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** A theme colour at `pct` percent over the background. */
function mix(variable: string, pct: number): string {
  return `color-mix(in srgb, var(${variable}) ${pct}%, transparent)`;
}

function ordinal(n: number): string {
  const tail = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${tail}`;
}

/** The renderer factory of the mime type (safe: it never renders HTML from the data). */
export const explainRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [EXPLAIN_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new RenderedExplain(options)
};

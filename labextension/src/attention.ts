/**
 * The interactive renderer of `application/vnd.jupyter-llm.attention+json`.
 *
 * The tokens show as running text; hovering or focusing a token shades every
 * earlier token by how much the chosen one attended to it (its row of the
 * weight matrix, scaled by the row's maximum). Below, a heatmap of the whole
 * matrix with labelled axes (row: attending token, column: attended token).
 * Arrow keys, Home and End move between tokens; a layer selector appears when
 * the map has several layers. Colours come from the JupyterLab theme.
 *
 * Tokens are set as text content, never as HTML.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  IAttentionData,
  MIME_TYPE,
  SCALE_LEGEND,
  parseAttention,
  rowScale,
  tokenLabel
} from './attentionData';
import {
  TOKEN_CLASS,
  TOKEN_TEXT_CLASS,
  el,
  listenToTokens,
  markToken,
  moveTabStop,
  tokenStrip
} from './tokenText';

/** The heatmap draws at most the last this many tokens. */
const HEATMAP_MAX = 200;
/** Widest heatmap, in CSS pixels (cells shrink to fit). */
const HEATMAP_WIDTH = 520;
/** Room for the axis labels, in CSS pixels. */
const LABEL_ROOM = 56;
/** The least distance between two axis labels, in CSS pixels: labels thin out to keep it. */
const LABEL_SPACING = 14;

export class RenderedAttention extends Widget implements IRenderMime.IRenderer {
  constructor(options?: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options?.mimeType ?? MIME_TYPE;
    this.addClass('jp-LLMAttention');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.setData(model.data[this._mimeType]);
  }

  /** Draw an attention payload (as written by `AttentionMap.to_dict()`). */
  setData(raw: unknown): void {
    const parsed = parseAttention(raw);
    if (typeof parsed === 'string') {
      this.showError(`Cannot show this attention map: ${parsed}`);
      return;
    }
    this._listening.abort();
    this._listening = new AbortController();
    this.node.textContent = '';
    this._tokens = [];
    this._data = parsed;
    this._layer = 0;
    this._selected = parsed.tokens.length - 1;
    this._build(parsed);
    this._show(this._selected);
  }

  /** Show a sentence instead of a map. */
  showError(message: string): void {
    this._listening.abort();
    this._data = null;
    this._tokens = [];
    this.node.textContent = '';
    this.node.appendChild(el('div', 'jp-LLMAttention-error', message));
  }

  /** The index of the token whose attention is shown. */
  get shownToken(): number {
    return this._shown;
  }

  dispose(): void {
    this._listening.abort();
    this._themeObserver?.disconnect();
    this._themeObserver = null;
    super.dispose();
  }

  protected onAfterAttach(): void {
    this._themeObserver = new MutationObserver(() => this._drawHeatmap());
    this._themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    this._drawHeatmap();
  }

  protected onBeforeDetach(): void {
    this._themeObserver?.disconnect();
    this._themeObserver = null;
  }

  // === Building ===

  private _build(data: IAttentionData): void {
    const n = data.tokens.length;
    const header = el('div', 'jp-LLMAttention-header');
    header.appendChild(el('span', 'jp-LLMAttention-title', 'Attention'));
    const facts = [`${n} token${n === 1 ? '' : 's'}`];
    if (data.model) {
      facts.unshift(data.model);
    }
    if (data.promptLength !== null && data.promptLength < n) {
      facts.push(`${n - data.promptLength} generated`);
    }
    header.appendChild(el('span', 'jp-LLMAttention-facts', facts.join(' · ')));
    if (data.layers.length > 1) {
      const label = el('label', 'jp-LLMAttention-layer', 'Layer ');
      const select = document.createElement('select');
      select.className = 'jp-mod-styled';
      data.layers.forEach((layer, i) => {
        const option = document.createElement('option');
        option.value = String(i);
        option.textContent = layer.name;
        select.appendChild(option);
      });
      select.addEventListener(
        'change',
        () => {
          this._layer = Number(select.value);
          this._show(this._shown);
        },
        { signal: this._listening.signal }
      );
      label.appendChild(select);
      header.appendChild(label);
    } else {
      header.appendChild(el('span', 'jp-LLMAttention-facts', `layer: ${data.layers[0].name}`));
    }
    this.node.appendChild(header);

    const text = tokenStrip(
      `${TOKEN_TEXT_CLASS} jp-LLMAttention-text`,
      'Tokens: use the arrow keys to see what each token attended to'
    );
    data.tokens.forEach((token, i) => {
      const span = el('span', `${TOKEN_CLASS} jp-LLMAttention-token`, tokenLabel(token));
      if (token.includes('\n')) {
        span.classList.add('jp-mod-newline');
      }
      if (data.promptLength !== null && i >= data.promptLength) {
        span.classList.add('jp-mod-generated');
      }
      markToken(span, i);
      text.appendChild(span);
      if (token.includes('\n')) {
        text.appendChild(document.createElement('br'));
      }
      this._tokens.push(span);
    });
    listenToTokens(
      text,
      {
        show: i => this._show(i),
        select: (i, focus) => this._select(i, focus),
        leave: () => this._show(this._selected),
        key: event => this._onKey(event)
      },
      this._listening.signal
    );
    this.node.appendChild(text);

    this._status = el('div', 'jp-LLMAttention-status');
    this._status.setAttribute('aria-live', 'polite');
    this.node.appendChild(this._status);

    const figure = el('div', 'jp-LLMAttention-heatmap');
    const start = Math.max(0, n - HEATMAP_MAX);
    const caption = start
      ? `The last ${n - start} of ${n} tokens. Rows: each token; columns: the tokens it attended to.`
      : 'Rows: each token; columns: the tokens it attended to.';
    figure.appendChild(el('div', 'jp-LLMAttention-caption', caption));
    const grid = el('div', 'jp-LLMAttention-grid');
    this._canvas = document.createElement('canvas');
    this._canvas.setAttribute('role', 'img');
    this._canvas.setAttribute('aria-label', `Attention heatmap of ${n - start} tokens`);
    const options = { signal: this._listening.signal };
    this._canvas.addEventListener(
      'mousemove',
      event => {
        const i = this._cellAt(event);
        if (i !== null) {
          this._show(i);
        }
      },
      options
    );
    this._canvas.addEventListener('mouseleave', () => this._show(this._selected), options);
    this._canvas.addEventListener(
      'click',
      event => {
        const i = this._cellAt(event);
        if (i !== null) {
          this._select(i, true);
        }
      },
      options
    );
    grid.appendChild(this._canvas);
    this._heatmapStart = start;
    grid.appendChild(this._axisLabels(data, start));
    figure.appendChild(grid);
    const legend = el('div', 'jp-LLMAttention-legend');
    legend.appendChild(el('span', 'jp-LLMAttention-swatch'));
    legend.appendChild(el('span', 'jp-LLMAttention-scale', `Colour: ${SCALE_LEGEND}.`));
    if (data.promptLength !== null && data.promptLength < n) {
      legend.appendChild(
        el(
          'span',
          `${TOKEN_CLASS} jp-LLMAttention-token jp-mod-generated jp-LLMAttention-legendToken`,
          'generated'
        )
      );
      legend.appendChild(el('span', '', 'tokens the model wrote'));
    }
    figure.appendChild(legend);
    this.node.appendChild(figure);
  }

  /**
   * The heatmap's axis labels, as text: one per token while the cells are
   * LABEL_SPACING pixels apart or more, else every k-th (and the last).
   */
  private _axisLabels(data: IAttentionData, start: number): HTMLElement {
    const { cell, count } = this._geometry();
    const every = Math.max(1, Math.ceil(LABEL_SPACING / cell));
    const axes = el('div', 'jp-LLMAttention-axes');
    for (let k = 0; k < count; k++) {
      if (k % every !== 0 && !(k === count - 1 && k % every >= every / 2)) {
        continue;
      }
      const text = clip(tokenLabel(data.tokens[start + k]));
      const middle = LABEL_ROOM + k * cell + cell / 2;
      const row = el('span', 'jp-LLMAttention-axisLabel jp-mod-row', text);
      row.style.top = `${middle}px`;
      row.style.right = `calc(100% - ${LABEL_ROOM - 4}px)`;
      const column = el('span', 'jp-LLMAttention-axisLabel jp-mod-column', text);
      column.style.left = `${middle}px`;
      column.style.top = `${LABEL_ROOM - 4}px`;
      axes.append(row, column);
    }
    return axes;
  }

  // === Interaction ===

  private _onKey(event: KeyboardEvent): void {
    const n = this._tokens.length;
    const moves: Record<string, number> = {
      ArrowLeft: this._selected - 1,
      ArrowUp: this._selected - 1,
      ArrowRight: this._selected + 1,
      ArrowDown: this._selected + 1,
      Home: 0,
      End: n - 1
    };
    if (!(event.key in moves)) {
      return;
    }
    event.preventDefault();
    this._select(Math.min(n - 1, Math.max(0, moves[event.key])), true);
  }

  private _select(i: number, focus: boolean): void {
    const from = this._selected;
    this._selected = i;
    moveTabStop(this._tokens, from, i, focus);
    this._show(i);
  }

  /** Shade the tokens by the attention of token `i`. */
  private _show(i: number): void {
    const data = this._data;
    if (!data || i < 0 || i >= data.tokens.length) {
      return;
    }
    this._shown = i;
    const row = data.layers[this._layer].weights[i];
    const scale = rowScale(row, 0, i + 1);
    this._tokens.forEach((span, j) => {
      const w = j <= i ? row[j] : 0;
      const pct = j <= i ? Math.round(100 * scale[j]) : 0;
      span.style.backgroundColor = pct > 0 ? shade(pct) : '';
      span.classList.toggle('jp-mod-strong', pct >= 60);
      span.classList.toggle('jp-mod-current', j === i);
      span.classList.toggle('jp-mod-selected', j === this._selected);
      span.title = `#${j} ${JSON.stringify(data.tokens[j])}: ${w.toFixed(3)}`;
    });
    this._tokens[this._selected].tabIndex = 0;
    const top = row
      .slice(0, i + 1)
      .map((w, j) => [w, j] as [number, number])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map(([w, j]) => `${JSON.stringify(data.tokens[j])} (#${j}) ${w.toFixed(2)}`);
    this._status.textContent = `Token #${i} ${JSON.stringify(data.tokens[i])} attended most to: ${top.join(', ')}`;
    this._drawHeatmap();
  }

  // === Heatmap ===

  private _geometry(): { cell: number; label: number; count: number } {
    const count = (this._data?.tokens.length ?? 0) - this._heatmapStart;
    const cell = Math.max(2, Math.min(16, Math.floor(HEATMAP_WIDTH / Math.max(count, 1))));
    return { cell, label: LABEL_ROOM, count };
  }

  private _cellAt(event: MouseEvent): number | null {
    const { cell, label, count } = this._geometry();
    const rect = this._canvas.getBoundingClientRect();
    const row = Math.floor((event.clientY - rect.top - label) / cell);
    if (row < 0 || row >= count) {
      return null;
    }
    return this._heatmapStart + row;
  }

  private _drawHeatmap(): void {
    const data = this._data;
    const canvas = this._canvas;
    if (!data || !canvas || !this.isAttached) {
      return;
    }
    const { cell, label, count } = this._geometry();
    const start = this._heatmapStart;
    const size = label + cell * count;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.ceil(size * ratio);
    canvas.height = Math.ceil(size * ratio);
    canvas.style.width = `${size}px`;
    canvas.style.height = `${size}px`;
    const ctx = canvas.getContext('2d');
    if (!ctx) {
      return;
    }
    const style = getComputedStyle(this.node);
    const color = (name: string, fallback: string) =>
      style.getPropertyValue(name).trim() || fallback;
    const background = color('--jp-layout-color0', '#fff');
    const empty = color('--jp-layout-color2', '#eee');
    const accent = color('--jp-brand-color1', '#1976d2');
    const mark = color('--jp-warn-color1', '#f57c00');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, size, size);
    const weights = data.layers[this._layer].weights;
    for (let r = 0; r < count; r++) {
      const scale = rowScale(weights[start + r], start, start + r + 1);
      for (let c = 0; c <= r; c++) {
        const x = label + c * cell;
        const y = label + r * cell;
        ctx.globalAlpha = 1;
        ctx.fillStyle = empty;
        ctx.fillRect(x, y, cell, cell);
        ctx.globalAlpha = Math.min(1, 0.8 * scale[c]);
        ctx.fillStyle = accent;
        ctx.fillRect(x, y, cell, cell);
      }
    }
    ctx.globalAlpha = 1;
    // The token shown: its row, outlined.
    const shown = this._shown - start;
    if (shown >= 0 && shown < count) {
      ctx.strokeStyle = mark;
      ctx.lineWidth = 1.5;
      ctx.strokeRect(label, label + shown * cell, (shown + 1) * cell, cell);
    }
  }

  private _mimeType: string;
  private _data: IAttentionData | null = null;
  private _tokens: HTMLElement[] = [];
  private _layer = 0;
  private _selected = 0;
  private _shown = 0;
  private _status: HTMLElement = document.createElement('div');
  private _canvas: HTMLCanvasElement = document.createElement('canvas');
  private _heatmapStart = 0;
  private _themeObserver: MutationObserver | null = null;
  /** Aborts to remove the current build's listeners (on a new payload, an error or dispose). */
  private _listening = new AbortController();
}

/** The colour of a token or cell at `pct` percent of its row's scale (the same in the AttentionView widget). */
export function shade(pct: number): string {
  return `color-mix(in srgb, var(--jp-brand-color1) ${Math.round(pct * 0.8)}%, transparent)`;
}

function clip(text: string, n = 8): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** The renderer factory of the mime type (safe: it never renders HTML from the data). */
export const attentionRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new RenderedAttention(options)
};

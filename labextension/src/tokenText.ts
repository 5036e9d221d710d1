/**
 * Token strips, shared by the attention renderer (attention.ts) and the
 * "See why" renderer (explain.ts).
 *
 * A token strip is a toolbar of tokens, each an element whose `data-index`
 * is its token's index (0-based) in the text. Pointing at a token previews
 * it, focusing or clicking one selects it, leaving the strip shows the
 * selected token again, and keys (arrows, Home, End) go to the view.
 *
 * Text is set as text content, never as HTML.
 */

/** The class of a strip of running text (base.css): code font, bordered, scrolling. */
export const TOKEN_TEXT_CLASS = 'jp-LLMTokenText';

/** The class of one token in running text (base.css), and of the legend's samples of one. */
export const TOKEN_CLASS = 'jp-LLMToken';

/** What a view does when the user points at, focuses, clicks or keys in its token strip. */
export interface ITokenHandlers {
  /** Preview token `i` (the pointer is over it). */
  show(i: number): void;
  /**
   * Select token `i`; `focus`: also move the keyboard focus to it (true on a
   * click, false when the token has just received the focus).
   */
  select(i: number, focus: boolean): void;
  /** The pointer left the strip (views show their selected token again). */
  leave(): void;
  /** A key pressed while a token has the focus. */
  key(event: KeyboardEvent): void;
}

/** An element of `tag` with `className` (none when empty) and `text` as its text content. */
export function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A token strip: an element of `className`, a toolbar named `label` for screen readers. */
export function tokenStrip(className: string, label: string): HTMLElement {
  const strip = el('div', className);
  strip.setAttribute('role', 'toolbar');
  strip.setAttribute('aria-label', label);
  return strip;
}

/** Make `node` token `index` (0-based) of its strip: a button, off the tab order (tabindex -1). */
export function markToken(node: HTMLElement, index: number): void {
  node.dataset.index = String(index);
  node.tabIndex = -1;
  node.setAttribute('role', 'button');
}

/**
 * The index of the token that `target` is, or is inside of, within `strip`
 * (null when it is none: the strip itself, a line break, or outside it).
 */
export function tokenIndex(target: EventTarget | null, strip: HTMLElement): number | null {
  const node = target instanceof Element ? target.closest<HTMLElement>('[data-index]') : null;
  if (!node || node === strip || !strip.contains(node) || node.dataset.index === undefined) {
    return null;
  }
  return Number(node.dataset.index);
}

/**
 * Wire `strip`'s pointer, focus and key events to `handlers`: mouseover a
 * token shows it, mouseleave calls `leave`, focusin selects without moving
 * the focus, click selects and focuses, keydown calls `key`. The listeners
 * are removed when `signal` aborts (the view's dispose).
 */
export function listenToTokens(
  strip: HTMLElement,
  handlers: ITokenHandlers,
  signal: AbortSignal
): void {
  const options = { signal };
  const on = (type: 'mouseover' | 'focusin' | 'click', act: (i: number) => void) =>
    strip.addEventListener(
      type,
      event => {
        const i = tokenIndex(event.target, strip);
        if (i !== null) {
          act(i);
        }
      },
      options
    );
  on('mouseover', i => handlers.show(i));
  on('focusin', i => handlers.select(i, false));
  on('click', i => handlers.select(i, true));
  strip.addEventListener('mouseleave', () => handlers.leave(), options);
  strip.addEventListener('keydown', event => handlers.key(event), options);
}

/**
 * Move the strip's one tab stop from token `from` to token `to` (roving
 * tabindex), focusing `to` when `focus` is true and it has not the focus.
 */
export function moveTabStop(tokens: HTMLElement[], from: number, to: number, focus: boolean): void {
  tokens[from]?.setAttribute('tabindex', '-1');
  const token = tokens[to];
  token.tabIndex = 0;
  if (focus && document.activeElement !== token) {
    token.focus();
  }
}

/**
 * "Insert below" of a GeneratePanel: the kernel's `insert_cell` event.
 *
 * The panel (an ipywidget in a cell's output) carries a CSS class, the
 * event's `anchor`; the cell whose output holds it gets a new cell right
 * below, of the asked type, holding the text. The same event comes on every
 * channel of the kernel, so each id is handled once.
 */

import { INotebookTracker } from '@jupyterlab/notebook';

import { IInsertRequest } from './channel';

export class CellInserter {
  constructor(private readonly _notebooks: INotebookTracker) {}

  /** Insert the cell of `request`; whether a notebook of this page held its anchor. */
  insert(request: IInsertRequest): boolean {
    if (this._done.has(request.id)) {
      return true;
    }
    const selector = `.${CSS.escape(request.anchor)}`;
    let inserted = false;
    this._notebooks.forEach(panel => {
      const model = panel.content.model;
      if (inserted || !model) {
        return;
      }
      const index = panel.content.widgets.findIndex(cell => cell.node.querySelector(selector));
      if (index < 0) {
        return;
      }
      const cellType = request.cell_type === 'code' ? 'code' : 'markdown';
      model.sharedModel.insertCell(index + 1, { cell_type: cellType, source: request.text });
      inserted = true;
    });
    if (inserted) {
      this._done.add(request.id);
    }
    return inserted;
  }

  private _done = new Set<string>();
}

/**
 * The mime extension: JupyterLab draws `application/vnd.jupyter-llm.attention+json`
 * outputs with `RenderedAttention` (ranked before the static `text/html`
 * fallback that the same bundle carries for other front ends).
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { attentionRendererFactory } from './attention';
import { MIME_TYPE } from './attentionData';

const extension: IRenderMime.IExtension = {
  id: '@jupyter-llm/labextension:attention-renderer',
  description: 'Draws jupyter_llm attention maps: tokens shaded by attention, and a heatmap.',
  rendererFactory: attentionRendererFactory,
  rank: 0,
  dataType: 'json',
  fileTypes: [],
  documentWidgetFactoryOptions: []
};

export default extension;
export { MIME_TYPE };

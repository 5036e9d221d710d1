/**
 * The mime extensions: JupyterLab draws `application/vnd.jupyter-llm.attention+json`
 * outputs with `RenderedAttention`, and `application/vnd.jupyter-llm.explain+json`
 * (explanations and saliency, "See why") with `RenderedExplain`; both rank
 * before the static `text/html` fallback that the same bundle carries for
 * other front ends.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { attentionRendererFactory } from './attention';
import { MIME_TYPE } from './attentionData';
import { explainRendererFactory } from './explain';

const extension: IRenderMime.IExtension = {
  id: '@jupyter-llm/labextension:attention-renderer',
  description: 'Draws jupyter_llm attention maps: tokens shaded by attention, and a heatmap.',
  rendererFactory: attentionRendererFactory,
  rank: 0,
  dataType: 'json',
  fileTypes: [],
  documentWidgetFactoryOptions: []
};

const explainExtension: IRenderMime.IExtension = {
  id: '@jupyter-llm/labextension:explain-renderer',
  description:
    'Draws jupyter_llm explanations: tokens shaded by surprisal with their alternatives, and saliency.',
  rendererFactory: explainRendererFactory,
  rank: 0,
  dataType: 'json',
  fileTypes: [],
  documentWidgetFactoryOptions: []
};

export default [extension, explainExtension];
export { MIME_TYPE };

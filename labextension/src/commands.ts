/** The command ids of the extension, in one namespace. */
export namespace CommandIDs {
  export const openPanel = 'jupyter-llm:open-panel';
  export const continueWriting = 'jupyter-llm:continue-writing';
  export const showAttention = 'jupyter-llm:show-attention';
  export const toggleInline = 'jupyter-llm:toggle-inline-completion';
}

/** The palette category of the commands. */
export const PALETTE_CATEGORY = 'jupyter_llm';

/**
 * Which model of the kernel to use: the one rule of the front end.
 *
 * The drafting panel, inline completion and "Show attention for selection"
 * all pick with `chooseModel`; requests then send the chosen model's `key`
 * (`"saved:shakespeare"`) as `model`, so the kernel never has to guess
 * between models of the same name.
 */

import { IModelInfo, IModelListing } from './protocol';

/**
 * The model to use from a `list_models` answer.
 *
 * `wanted` (a key, or a bare name from the settings) if the listing has it,
 * else the kernel's `default`, else the first model; null for an empty listing.
 */
export function chooseModel(listing: IModelListing, wanted?: string): IModelInfo | null {
  const { models } = listing;
  if (wanted) {
    const found = models.find(m => m.key === wanted) ?? models.find(m => m.name === wanted);
    if (found) {
      return found;
    }
  }
  return models.find(m => m.key === listing.default) ?? models[0] ?? null;
}

/**
 * The messages of the kernel channel: one envelope, a fixed set of requests.
 *
 * The protocol itself (`PROTOCOL`, the payload interfaces) is generated from
 * `jupyter_llm/kernel/protocol.json` into `protocolSpec.ts` by
 * `scripts/gen_protocol_ts.py`: change the JSON, not the TypeScript. A field
 * type is `string`, `integer`, `number`, `boolean`, `object`, `array` or
 * `null`, `array<T>` (T a base type or a shape), or several joined by `|`; a
 * trailing `?` marks an optional field. See docs/protocol.md.
 *
 * Everything the kernel sends is checked here before use (`parseEnvelope`,
 * `checkFields`): the kernel is another process, and its text is data.
 */

import { JSONObject } from '@lumino/coreutils';

import { IEnvelope, IModelInfo, IRequestPayloads, IResponsePayloads, PROTOCOL } from './protocolSpec';

export {
  IEnvelope,
  IErrorPayload,
  IEventPayloads,
  IModelInfo,
  IRequestPayloads,
  IResponsePayloads,
  PROTOCOL
} from './protocolSpec';

export const PROTOCOL_VERSION = PROTOCOL.version;
export const COMM_TARGET = PROTOCOL.target;
/** The limits of the requests (generation limits: the options table's). */
export const LIMITS = PROTOCOL.limits;

export type Kind = (typeof PROTOCOL.kinds)[number];
export type RequestName = keyof typeof PROTOCOL.requests;
export type EventName = keyof typeof PROTOCOL.events;
export type ErrorCode = (typeof PROTOCOL.errors.codes)[number];
export type ModelOrigin = (typeof PROTOCOL.model_origins)[number];

/** The decoding options of a `generate` request. */
export type IDecoding = Omit<IRequestPayloads['generate'], 'model' | 'source' | 'prompt'>;

/** A `list_models` answer. */
export type IModelListing = IResponsePayloads['list_models'];

export type { IModelInfo as ModelInfo };

// === Validation ===

const MAX_ID_LENGTH = LIMITS.max_id_length;
const SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = PROTOCOL.shapes;

/** Whether `value` (decoded JSON) has the protocol type `type`. */
export function isType(value: unknown, type: string): boolean {
  if (type.startsWith('array<') && type.endsWith('>')) {
    const item = type.slice('array<'.length, -1);
    return Array.isArray(value) && value.every(v => isType(v, item));
  }
  if (type in SHAPES) {
    return checkFields(value, SHAPES[type]) === null;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return false;
  }
}

export function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check `value` against a field description such as `{"text": "string"}`.
 *
 * Returns null when it matches, else a sentence saying what is wrong. Fields
 * not described are allowed (a newer kernel may send more).
 */
export function checkFields(
  value: unknown,
  fields: Readonly<Record<string, string>>
): string | null {
  if (!isObject(value)) {
    return 'Expected a JSON object.';
  }
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const types = spec.replace(/\?$/, '').split('|');
    if (!(name in value)) {
      if (optional) {
        continue;
      }
      return `Missing field ${name}.`;
    }
    if (!types.some(t => isType(value[name], t))) {
      return `Field ${name} is not ${types.join(' or ')}.`;
    }
  }
  return null;
}

/** The envelope in `data`, or null when `data` is not a valid envelope. */
export function parseEnvelope(data: unknown): IEnvelope | null {
  if (!isObject(data)) {
    return null;
  }
  const { v, id, kind, name, payload } = data;
  if (
    v !== PROTOCOL_VERSION ||
    typeof id !== 'string' ||
    id.length > MAX_ID_LENGTH ||
    typeof kind !== 'string' ||
    !(PROTOCOL.kinds as readonly string[]).includes(kind) ||
    typeof name !== 'string' ||
    !isObject(payload)
  ) {
    return null;
  }
  return { v, id, kind, name, payload };
}

/** Null when `payload` is a valid response to `name`, else what is wrong. */
export function checkResponse(name: RequestName, payload: unknown): string | null {
  const problem = checkFields(payload, PROTOCOL.requests[name].response);
  if (problem || name !== 'list_models') {
    return problem;
  }
  const models = (payload as JSONObject).models as unknown as IModelInfo[];
  for (const model of models) {
    if (!(PROTOCOL.model_origins as readonly string[]).includes(model.origin)) {
      return 'A model of the list has an unknown origin.';
    }
  }
  return null;
}

export function checkEvent(name: string, payload: unknown): string | null {
  if (!(name in PROTOCOL.events)) {
    return `Unknown event ${name}.`;
  }
  return checkFields(payload, PROTOCOL.events[name as EventName]);
}

/** A request envelope. */
export function requestEnvelope<N extends RequestName>(
  id: string,
  name: N,
  payload: IRequestPayloads[N]
): IEnvelope {
  return {
    v: PROTOCOL_VERSION,
    id,
    kind: 'request',
    name,
    payload: payload as unknown as JSONObject
  };
}

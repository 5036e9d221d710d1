/**
 * The messages of the kernel channel: one envelope, a fixed set of requests.
 *
 * The TypeScript half of `jupyter_llm/kernel/protocol.py`. `PROTOCOL` below is
 * plain JSON and must equal `SPEC` there: `tests/test_kernel_protocol.py` reads
 * both and compares them. A field type is `string`, `integer`, `number`,
 * `boolean`, `object`, `array` or `null`, or several joined by `|`; a trailing
 * `?` marks an optional field. See docs/protocol.md.
 *
 * Everything the kernel sends is checked here before use (`parseEnvelope`,
 * `checkFields`): the kernel is another process, and its text is data.
 */

import { JSONObject } from '@lumino/coreutils';

// <protocol-spec> (JSON; keep in step with SPEC in jupyter_llm/kernel/protocol.py)
// prettier-ignore
export const PROTOCOL = {
  "version": 1,
  "target": "jupyter_llm",
  "kinds": [
    "request",
    "response",
    "event",
    "error"
  ],
  "requests": {
    "hello": {
      "payload": {
        "client": "string?",
        "protocol": "integer?"
      },
      "events": [],
      "response": {
        "protocol": "integer",
        "version": "string",
        "requests": "array"
      }
    },
    "list_models": {
      "payload": {},
      "events": [],
      "response": {
        "models": "array"
      }
    },
    "generate": {
      "payload": {
        "model": "string",
        "source": "string|null?",
        "prompt": "string",
        "max_tokens": "integer?",
        "temperature": "number?",
        "top_k": "integer|null?",
        "top_p": "number|null?",
        "repetition_penalty": "number?",
        "stop": "array|null?",
        "seed": "integer|null?"
      },
      "events": [
        "chunk"
      ],
      "response": {
        "text": "string",
        "cancelled": "boolean",
        "model": "string",
        "warnings": "array"
      }
    },
    "attention": {
      "payload": {
        "model": "string",
        "source": "string|null?",
        "text": "string"
      },
      "events": [],
      "response": {
        "attention": "object"
      }
    },
    "complete": {
      "payload": {
        "model": "string",
        "source": "string|null?",
        "text": "string",
        "max_tokens": "integer?",
        "temperature": "number?",
        "seed": "integer|null?"
      },
      "events": [],
      "response": {
        "text": "string",
        "cancelled": "boolean"
      }
    },
    "assistant": {
      "payload": {
        "action": "string?",
        "text": "string?",
        "yes": "boolean?",
        "intent": "string|null?",
        "example": "string?",
        "attached": "string|null?",
        "model": "string|null?"
      },
      "events": [],
      "response": {
        "reply": "object"
      }
    },
    "cancel": {
      "payload": {
        "id": "string"
      },
      "events": [],
      "response": {
        "cancelled": "boolean"
      }
    }
  },
  "events": {
    "chunk": {
      "text": "string"
    },
    "ready": {
      "protocol": "integer",
      "version": "string"
    }
  },
  "shapes": {
    "model_info": {
      "name": "string",
      "source": "string",
      "parameters": "integer|null",
      "tokenizer": "string|null",
      "val_loss": "number|null",
      "created": "string|null"
    }
  },
  "errors": {
    "payload": {
      "code": "string",
      "message": "string"
    },
    "codes": [
      "invalid_message",
      "unknown_request",
      "invalid_argument",
      "model_not_found",
      "model_error",
      "not_implemented",
      "internal_error"
    ]
  },
  "model_sources": [
    "namespace",
    "store",
    "bundled"
  ]
} as const;
// </protocol-spec>

export const PROTOCOL_VERSION = PROTOCOL.version;
export const COMM_TARGET = PROTOCOL.target;

export type Kind = (typeof PROTOCOL.kinds)[number];
export type RequestName = keyof typeof PROTOCOL.requests;
export type EventName = keyof typeof PROTOCOL.events;
export type ErrorCode = (typeof PROTOCOL.errors.codes)[number];
export type ModelSource = (typeof PROTOCOL.model_sources)[number];

/** One message of the channel. */
export interface IEnvelope {
  v: number;
  id: string;
  kind: Kind;
  name: string;
  payload: JSONObject;
}

// === Payloads ===

export interface IModelInfo {
  name: string;
  source: ModelSource;
  parameters: number | null;
  tokenizer: string | null;
  val_loss: number | null;
  created: string | null;
}

export interface IModelRef {
  model: string;
  source?: ModelSource | null;
}

export interface IDecoding {
  max_tokens?: number;
  temperature?: number;
  top_k?: number | null;
  top_p?: number | null;
  repetition_penalty?: number;
  stop?: string[] | null;
  seed?: number | null;
}

/** What each request sends. */
export interface IRequestPayloads {
  hello: { client?: string; protocol?: number };
  list_models: Record<string, never>;
  generate: IModelRef & IDecoding & { prompt: string };
  attention: IModelRef & { text: string };
  complete: IModelRef & {
    text: string;
    max_tokens?: number;
    temperature?: number;
    /** The same seed gives the same completion (default: a fresh one each time). */
    seed?: number | null;
  };
  assistant: {
    action?: 'ask' | 'undo' | 'teach' | 'explain' | 'help' | 'intents';
    text?: string;
    yes?: boolean;
    intent?: string | null;
    example?: string;
    attached?: string | null;
    model?: string | null;
  };
  cancel: { id: string };
}

/** What each request gets back. */
export interface IResponsePayloads {
  hello: { protocol: number; version: string; requests: string[] };
  list_models: { models: IModelInfo[] };
  generate: {
    text: string;
    cancelled: boolean;
    model: string;
    warnings: string[];
  };
  attention: { attention: JSONObject };
  complete: { text: string; cancelled: boolean };
  assistant: { reply: JSONObject };
  cancel: { cancelled: boolean };
}

export interface IEventPayloads {
  chunk: { text: string };
  ready: { protocol: number; version: string };
}

export interface IErrorPayload {
  code: string;
  message: string;
}

// === Validation ===

const MAX_ID_LENGTH = 128;

/** Whether `value` (decoded JSON) has the protocol type `type`. */
export function isType(value: unknown, type: string): boolean {
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
  return { v, id, kind: kind as Kind, name, payload };
}

/** Null when `payload` is a valid response to `name`, else what is wrong. */
export function checkResponse(name: RequestName, payload: unknown): string | null {
  const problem = checkFields(payload, PROTOCOL.requests[name].response);
  if (problem || name !== 'list_models') {
    return problem;
  }
  const models = (payload as JSONObject).models as unknown[];
  for (const model of models) {
    const bad = checkFields(model, PROTOCOL.shapes.model_info);
    if (bad) {
      return `A model of the list: ${bad}`;
    }
    if (!(PROTOCOL.model_sources as readonly string[]).includes((model as any).source)) {
      return 'A model of the list has an unknown source.';
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

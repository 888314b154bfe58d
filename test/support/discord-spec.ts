/**
 * Discord's own OpenAPI description (`../shared/discord-api-spec/openapi.json`) as a checker of the
 * REST requests the fake Discord receives: the route must be in the description, the method must be one
 * of the route's, path parameters must have their shape (a snowflake is digits, not "undefined") and the
 * body must validate against the route's request schema (ajv, JSON Schema 2020-12). The limits the
 * description leaves out or states loosely are checked by hand in `discord-limits.ts`.
 *
 * Loading parses the 1.2 MB file once per process (~50 ms); each route's schema is compiled the first
 * time a request uses it (~70 ms for the first message route, less for the others, which share most of
 * its code); a check then takes ~50 µs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { limitProblems, problem, type SpecProblem } from './discord-limits.js';

export type { SpecProblem } from './discord-limits.js';

/** Where the description lives: the team's shared data, beside the repository. */
export const DISCORD_SPEC_PATH = path.resolve(import.meta.dirname, '../../../shared/discord-api-spec/openapi.json');

export interface SpecRequest {
  method: string;
  /** Decoded path after `/api/v10`. */
  path: string;
  /** Parsed JSON body, or the parsed `payload_json` part of a multipart body; null when there is none. */
  body: unknown;
  multipart: boolean;
}

export interface SpecCheck {
  /** The description's route template, e.g. `/channels/{channel_id}/messages`; null when no route matches. */
  route: string | null;
  operationId: string | null;
  /** What Discord would answer: 404 unknown route, 405 wrong method, 400 invalid parameters or body; null when fine. */
  status: 400 | 404 | 405 | null;
  problems: SpecProblem[];
}

type Json = Record<string, unknown>;

interface RouteTemplate {
  template: string;
  segments: string[];
  item: Json;
}

/** The description's id for ajv's `$ref`s into it; never fetched. */
let warnedMissing = false;
const SPEC_ID = 'https://discord.com/developers/docs/openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

const loaded = new Map<string, DiscordSpec>();

export class DiscordSpec {
  readonly #routes: RouteTemplate[];
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();

  private constructor(spec: Json) {
    const paths = asRecord(spec.paths);
    this.#routes = Object.entries(paths)
      .map(([template, item]) => ({ template, segments: template.split('/'), item: asRecord(item) }))
      // Literal segments before parameters, position by position: `/users/@me` wins over `/users/{user_id}`,
      // `…/messages/@original` over `…/messages/{message_id}`, as on Discord's router.
      .sort((a, b) => compareSpecificity(a.segments, b.segments));
    const schemas = asRecord(asRecord(spec.components).schemas);
    for (const schema of Object.values(schemas)) discriminateUnions(schema, schemas);
    for (const item of Object.values(paths)) discriminateUnions(item, schemas);

    // strict: false because the description uses OpenAPI annotations (x-discord-union, …) that are
    // not JSON Schema keywords; validateSchema: false skips checking the 1.2 MB document against the
    // meta-schema on every process start. Each referenced schema compiled once as its own function
    // (inlineRefs: false) and unoptimised code halve the first request's compile time (~0.3 → ~0.15 s
    // a test file) for a few µs more per check.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, inlineRefs: false, code: { optimize: false } });
    ajvFormats.default(this.#ajv);
    // Discord's own format names: the pattern beside them already says what they allow.
    this.#ajv.addFormat('snowflake', true);
    this.#ajv.addFormat('nonce', true);
    this.#ajv.addSchema(spec, SPEC_ID);
  }

  /** Whether the description is there to check against; says once per process when it is not. */
  static available(file: string = DISCORD_SPEC_PATH): boolean {
    if (existsSync(file)) return true;
    if (!warnedMissing) {
      warnedMissing = true;
      process.stderr.write(`fake Discord: ${file} is missing; requests are not checked against Discord's API description.\n`);
    }
    return false;
  }

  /** The description in `file`, parsed once per process. */
  static load(file: string = DISCORD_SPEC_PATH): DiscordSpec {
    let spec = loaded.get(file);
    if (!spec) {
      spec = new DiscordSpec(JSON.parse(readFileSync(file, 'utf8')) as Json);
      loaded.set(file, spec);
    }
    return spec;
  }

  /** Checks one request; `status` null means Discord would accept its shape. */
  check(request: SpecRequest): SpecCheck {
    const method = request.method.toLowerCase();
    const segments = request.path.split('/');
    const found = this.#routes.find((route) => matches(route.segments, segments));
    if (!found) {
      return {
        route: null,
        operationId: null,
        status: 404,
        // Not the path itself: an unknown path may still carry a webhook token; the violation shows it redacted.
        problems: [problem('path', 'UNKNOWN_ROUTE', "no route of Discord's API has this path")],
      };
    }
    const operation = found.item[method];
    if (!HTTP_METHODS.includes(method) || !isRecord(operation)) {
      const allowed = HTTP_METHODS.filter((name) => isRecord(found.item[name])).map((name) => name.toUpperCase());
      return {
        route: found.template,
        operationId: null,
        status: 405,
        problems: [problem('method', 'METHOD_NOT_ALLOWED', `${found.template} takes ${allowed.join(', ')}, not ${request.method}`)],
      };
    }
    const operationId = typeof operation.operationId === 'string' ? operation.operationId : `${method} ${found.template}`;
    const problems = [
      ...this.#parameterProblems(found, method, operation, segments),
      ...this.#bodyProblems(found.template, method, operation, request),
      ...limitProblems(operationId, request.body),
    ];
    return { route: found.template, operationId, status: problems.length > 0 ? 400 : null, problems };
  }

  #parameterProblems(route: RouteTemplate, method: string, operation: Json, segments: string[]): SpecProblem[] {
    // Path parameters are declared on the route or on the operation; each schema is compiled by its
    // pointer into the description so that its $refs resolve.
    const declared = [
      ...asArray(route.item.parameters).map((parameter, index) => ({
        parameter,
        pointer: ['paths', route.template, 'parameters', String(index)],
      })),
      ...asArray(operation.parameters).map((parameter, index) => ({
        parameter,
        pointer: ['paths', route.template, method, 'parameters', String(index)],
      })),
    ].filter((entry): entry is { parameter: Json; pointer: string[] } => isRecord(entry.parameter) && entry.parameter.in === 'path');
    const problems: SpecProblem[] = [];
    route.segments.forEach((segment, index) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      const entry = declared.find(({ parameter }) => parameter.name === name);
      if (!name || !entry || !isRecord(entry.parameter.schema)) return;
      const validate = this.#compileAt([...entry.pointer, 'schema']);
      const value = segments[index] ?? '';
      if (!validate(value)) {
        const reasons = describeErrors(validate.errors).map((error) => error.message);
        // Never echo a token-like parameter back: the report may end up in a log.
        const shown = name.endsWith('_token') ? ':token' : JSON.stringify(value);
        problems.push(problem(`{${name}}`, 'INVALID_PATH_PARAMETER', `path parameter ${name} = ${shown}: ${reasons.join('; ')}`));
      }
    });
    return problems;
  }

  #bodyProblems(template: string, method: string, operation: Json, request: SpecRequest): SpecProblem[] {
    const requestBody = operation.requestBody;
    // A route without a request body ignores whatever is sent; discord.js sends nothing there.
    if (!isRecord(requestBody)) return [];
    if (request.body === null || request.body === undefined) {
      return requestBody.required === true ? [problem('', 'BASE_TYPE_REQUIRED', `${method.toUpperCase()} ${template} needs a body`)] : [];
    }
    const contentType = request.multipart ? 'multipart/form-data' : 'application/json';
    const media = asRecord(requestBody.content)[contentType];
    if (!isRecord(media) || !isRecord(media.schema)) {
      return [problem('', 'CONTENT_TYPE_INVALID', `${method.toUpperCase()} ${template} takes no ${contentType} body`)];
    }
    // For multipart the description's schema is the JSON body plus `files[n]` properties; the parsed
    // payload_json part is validated against it (the file parts are not in that object).
    const validate = this.#compileAt(['paths', template, method, 'requestBody', 'content', contentType, 'schema']);
    return validate(request.body) ? [] : describeErrors(validate.errors);
  }

  /** The validator of the schema at `pointer` in the description, compiled on first use. */
  #compileAt(pointer: string[]): ValidateFunction {
    const ref = `${SPEC_ID}#${jsonPointer(pointer)}`;
    let validate = this.#validators.get(ref);
    if (!validate) {
      validate = this.#ajv.compile({ $ref: ref });
      this.#validators.set(ref, validate);
    }
    return validate;
  }
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

const isParameter = (segment: string) => segment.startsWith('{') && segment.endsWith('}');

function compareSpecificity(a: string[], b: string[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const diff = Number(isParameter(a[index]!)) - Number(isParameter(b[index]!));
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

function matches(template: string[], segments: string[]): boolean {
  return (
    template.length === segments.length &&
    template.every((segment, index) => (isParameter(segment) ? (segments[index] ?? '') !== '' : segment === segments[index]))
  );
}

/** RFC 6901 pointer, percent-encoded for use in a URI fragment (`{channel_id}` → `%7Bchannel_id%7D`). */
function jsonPointer(parts: string[]): string {
  return parts.map((part) => `/${encodeURIComponent(part.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');
}

// ---------------------------------------------------------------------------
// Unions
// ---------------------------------------------------------------------------

/**
 * The description writes Discord's tagged unions (components, interaction callbacks, command options)
 * as `oneOf`/`anyOf` of object schemas told apart by an integer `type`. ajv then reports every
 * branch's errors — a too-long button label comes with "must have required property 'options'" from
 * the select menu branch and five more. Where every branch is an object that requires `type` and the
 * branches' `type` values are distinct, the union is rewritten as "type is one of these values, and
 * if type is X then branch X": the same set of valid bodies, with only the chosen branch's errors.
 * (ajv's own `discriminator` keyword only takes string tags.)
 */
function discriminateUnions(node: unknown, schemas: Json): void {
  if (Array.isArray(node)) {
    for (const item of node) discriminateUnions(item, schemas);
    return;
  }
  if (!isRecord(node)) return;
  for (const value of Object.values(node)) discriminateUnions(value, schemas);
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    const branches = node[keyword];
    if (!Array.isArray(branches) || branches.length < 2) continue;
    const tags = branches.map((branch) => typeTag(branch, schemas));
    const all = tags.flat();
    if (tags.some((tag) => tag.length === 0) || new Set(all).size !== all.length) continue;
    delete node[keyword];
    const discriminated = {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: all } },
      allOf: branches.map((branch, index) => ({ if: { properties: { type: { enum: tags[index] } } }, then: branch })),
    };
    node.allOf = [...asArray(node.allOf), discriminated];
  }
}

/** The `type` values an object branch requires, or [] when it is not such a branch. */
function typeTag(branch: unknown, schemas: Json): unknown[] {
  let schema = branch;
  for (let hops = 0; isRecord(schema) && typeof schema.$ref === 'string' && hops < 10; hops += 1) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    schema = name === undefined ? undefined : schemas[name];
  }
  if (!isRecord(schema) || schema.type !== 'object' || !asArray(schema.required).includes('type')) return [];
  const type = asRecord(asRecord(schema.properties).type);
  if (Array.isArray(type.enum)) return type.enum;
  return 'const' in type ? [type.const] : [];
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

const ERROR_CODES: Record<string, string> = {
  maxLength: 'BASE_TYPE_MAX_LENGTH',
  minLength: 'BASE_TYPE_MIN_LENGTH',
  maxItems: 'BASE_TYPE_MAX_LENGTH',
  minItems: 'BASE_TYPE_MIN_LENGTH',
  required: 'BASE_TYPE_REQUIRED',
  enum: 'BASE_TYPE_CHOICES',
  const: 'BASE_TYPE_CHOICES',
  maximum: 'NUMBER_TYPE_MAX',
  minimum: 'NUMBER_TYPE_MIN',
  pattern: 'STRING_TYPE_REGEX',
  format: 'BASE_TYPE_INVALID_FORMAT',
  type: 'BASE_TYPE_INVALID',
  uniqueItems: 'BASE_TYPE_DUPLICATES',
};

/**
 * ajv's errors as problems, without the noise of unions. Dropped when a more telling error remains:
 * the "must match a schema in anyOf" and "must match then" wrappers, "must be null" from the nullable
 * branch of `oneOf: [null, X]`, and type mismatches, which in an untagged union (autocomplete choices
 * of integers, numbers or strings) come from the branches that were never meant.
 */
function describeErrors(errors: ErrorObject[] | null | undefined): SpecProblem[] {
  const isWrapper = (error: ErrorObject) =>
    ['anyOf', 'oneOf', 'if', 'allOf'].includes(error.keyword) || (error.keyword === 'type' && error.params.type === 'null');
  let shown = errors ?? [];
  for (const weak of [isWrapper, (error: ErrorObject) => error.keyword === 'type']) {
    const strong = shown.filter((error) => !weak(error));
    if (strong.length > 0) shown = strong;
  }
  const seen = new Set<string>();
  return shown.flatMap((error) => {
    let message = error.message ?? error.keyword;
    if (error.keyword === 'enum')
      message += ` (${(error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')})`;
    if (error.keyword === 'additionalProperties') message += ` (${String(error.params.additionalProperty)})`;
    const key = `${error.instancePath} ${message}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [problem(error.instancePath, ERROR_CODES[error.keyword] ?? 'BASE_TYPE_INVALID', message)];
  });
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Json {
  return isRecord(value) ? value : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

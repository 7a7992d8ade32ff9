/**
 * An email relay's subject: text with `{{path}}` placeholders, filled from the event. `id`,
 * `type` and `source` are the event's own (its Hookyard id, its type, its source's slug); any
 * other dotted path reads the JSON body (`{{data.customer.email}}`, `{{data.items.0.sku}}`).
 * Nothing is evaluated: a placeholder is a lookup or nothing. Written here rather than taken
 * from a template library because all of them do more (loops, helpers, partials) than a
 * subject line may, and the output must be one bounded line anyway.
 */

export const MAX_TEMPLATE_CHARS = 500;
/** The rendered subject is cut here (RFC 5322 lines stay well under 998 characters once encoded). */
export const MAX_SUBJECT_CHARS = 250;
export const DEFAULT_SUBJECT = '[Hookyard] {{type}}';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z0-9_$-]{1,64}(\.[A-Za-z0-9_$-]{1,64}){0,9}$/;
/** Line breaks and other control characters: a header must stay one line, whatever the payload holds. */
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

export interface SubjectScope {
  id: string;
  type: string;
  source: string | null;
  /** The event body parsed as JSON; undefined when it is not JSON. */
  body: unknown;
}

/** Why a template cannot be saved, or undefined when it can. */
export function subjectTemplateProblem(template: string): string | undefined {
  if (template.length > MAX_TEMPLATE_CHARS) return `must be at most ${MAX_TEMPLATE_CHARS} characters`;
  if (/[\r\n\u0000]/.test(template)) return 'must be one line (no line breaks or NUL)';
  for (const [, path] of template.matchAll(PLACEHOLDER)) {
    if (!PATH.test(path!)) return `{{${path}}} is not a placeholder: use id, type, source or a dotted path into the JSON body such as data.customer.email`;
  }
  return undefined;
}

function lookup(path: string, scope: SubjectScope): unknown {
  if (path === 'id') return scope.id;
  if (path === 'type') return scope.type;
  if (path === 'source') return scope.source;
  let value: unknown = scope.body;
  for (const key of path.split('.')) {
    // Own properties only: `constructor` or `__proto__` in a template reads nothing.
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value).slice(0, MAX_SUBJECT_CHARS);
  return String(value);
}

/** The subject: placeholders filled (an unknown path gives nothing), made one line, cut to MAX_SUBJECT_CHARS. */
export function renderSubject(template: string, scope: SubjectScope): string {
  const filled = template.replace(PLACEHOLDER, (whole, path: string) => (PATH.test(path) ? show(lookup(path, scope)).slice(0, MAX_SUBJECT_CHARS) : whole));
  return filled.replace(CONTROL, ' ').trim().slice(0, MAX_SUBJECT_CHARS);
}

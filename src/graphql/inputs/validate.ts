import { AppError } from '../../errors.js';

/** Input rules shared by the create/update mutations; each failure names its field. */
export function invalid(field: string, message: string): never {
  throw new AppError('BAD_USER_INPUT', `${field}: ${message}`, { field });
}

export function text(field: string, value: string, max = 200): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) invalid(field, 'must not be empty');
  if (trimmed.length > max) invalid(field, `must be at most ${max} characters`);
  return trimmed;
}

export function intIn(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) invalid(field, `must be a whole number between ${min} and ${max}`);
  return value;
}

export function httpUrl(field: string, value: string, options: { allowQuery?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid(field, 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(field, 'must use http or https');
  if (!options.allowQuery && (url.search || url.hash)) invalid(field, 'must not carry a query or fragment');
  return value;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

export function headerName(field: string, value: string): string {
  if (!HEADER_NAME.test(value)) invalid(field, `"${value}" is not a valid HTTP header name`);
  return value;
}

/** Applies `check` only when the value was given (undefined = unchanged; null = cleared). */
export function optional<T, R>(value: T | null | undefined, check: (v: T) => R): R | null | undefined {
  if (value === undefined || value === null) return value as null | undefined;
  return check(value);
}

/**
 * An admin route as data: method, path template and the zod schema of its
 * input. Server (router.ts) and client (client.ts) both work from the same
 * object, so a URL is built in exactly one place and the input is checked
 * by exactly one schema. The response type rides along as a phantom type.
 *
 * Input travels as: `:name` path parameters (strings), then for GET the
 * query string and for POST a JSON body. The schema sees them merged.
 */
import type { z } from 'zod';

export type Method = 'GET' | 'POST';

export interface Route<S extends z.ZodType = z.ZodType, R = unknown> {
  method: Method;
  /** e.g. `/queue/:id/hold` */
  path: string;
  input: S;
  /** Never set: carries the response type. */
  readonly response?: R;
  /** Answers with server-sent events instead of JSON (router.stream). */
  stream?: boolean;
}

export type RouteInput<T> = T extends Route<infer S, unknown> ? z.input<S> : never;
export type RouteParsed<T> = T extends Route<infer S, unknown> ? z.output<S> : never;
export type RouteResponse<T> = T extends Route<z.ZodType, infer R> ? R : never;

/** `route<Response>()('GET', '/queue/:id', z.object({ id: … }))`: two calls, so the response type can be given alone. */
export const route =
  <R>() =>
  <S extends z.ZodType>(method: Method, path: string, input: S, opts: { stream?: boolean } = {}): Route<S, R> => ({ method, path, input, ...opts });

/** The `:name` parameters of a path template. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z][A-Za-z0-9]*)/g)].map((m) => m[1]);
}

/** Matches a request path against a template; returns the decoded parameters or null. */
export function matchPath(template: string, path: string): Record<string, string> | null {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    if (t[i].startsWith(':')) {
      if (p[i] === '') return null;
      try {
        params[t[i].slice(1)] = decodeURIComponent(p[i]);
      } catch {
        return null;
      }
    } else if (t[i] !== p[i]) return null;
  }
  return params;
}

/** The path for a call: each `:name` replaced by the input's value, URL-encoded. */
export function fillPath(template: string, input: Record<string, unknown>): string {
  return template.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_, name: string) => {
    const v = input[name];
    if (v === undefined || v === null || v === '') throw new TypeError(`${template}: the parameter "${name}" is missing`);
    return encodeURIComponent(String(v));
  });
}

/** A value or a typed error, returned instead of throwing on every data path. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

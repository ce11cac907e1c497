// API return values: 0 is success, errors are negative (VPP's VNET_API_ERROR_* numbering, from
// src/vnet/error.h), so VPP clients read them the way they read VPP's.

export const ApiRetval = {
  OK: 0,
  UNSPECIFIED: -1,
  INVALID_SW_IF_INDEX: -2,
  NO_SUCH_ENTRY: -6,
  INVALID_VALUE: -7,
  INVALID_VALUE_2: -8,
  UNIMPLEMENTED: -9,
  SYSCALL_ERROR_1: -11,
  FEATURE_DISABLED: -30,
  INVALID_REGISTRATION: -31,
  INVALID_INTERFACE: -71,
  INVALID_ARGUMENT: -73,
  IF_ALREADY_EXISTS: -79,
  VALUE_EXIST: -81,
  ENTRY_ALREADY_EXISTS: -116,
  LIMIT_EXCEEDED: -162,
  EAGAIN: -165,
} as const;

const NAMES = new Map<number, string>(Object.entries(ApiRetval).map(([k, v]) => [v, k]));

export function retvalName(retval: number): string {
  return NAMES.get(retval) ?? `ERROR_${retval}`;
}

/** Thrown by a handler to answer with a specific negative retval. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly retval: number, message = retvalName(retval)) {
    super(message);
  }
}

/** Bounds a person will see in error messages; the tenant may raise the auto-terminate maximum. */
export const LIMITS = {
  minDiskGB: 30,
  maxDiskGB: 16_384,
  minAutoTerminateMinutes: 5,
  defaultMaxAutoTerminateMinutes: 120,
  /** Ceiling for a tenant's own maximum: one week. */
  ceilingAutoTerminateMinutes: 10_080,
  maxPageSize: 100,
  defaultPageSize: 25,
  defaultMaxInstances: 20,
} as const;

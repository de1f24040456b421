/** One-time schedules (DESIGN.md item 6): EventBridge Scheduler in AWS, table items locally. */
export interface ScheduleRequest {
  /** Unique per schedule; at most 64 of `[0-9A-Za-z._-]` so every implementation accepts it. */
  name: string;
  /** When to fire; sub-second precision is dropped by EventBridge. */
  at: Date;
  /** Delivered as is to whatever the schedule targets. */
  payload: Record<string, string>;
}

export interface Scheduler {
  /** Creates the schedule, or replaces the one of the same name (new time and payload). */
  scheduleOnce(schedule: ScheduleRequest): Promise<void>;
  /** Removes the schedule; succeeds when there is none (never made, already fired, cancelled). */
  cancel(name: string): Promise<void>;
}

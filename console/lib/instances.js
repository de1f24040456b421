// What the lifecycle allows (from config.json, built from shared/domain/lifecycle.ts) and how each action is sent.
import { api } from './api.js';

let lifecycle = { actions: {}, transitional: [], billable: [] };
export const setLifecycle = (value) => {
  if (value) lifecycle = value;
};

/** The actions the console offers, in the order the buttons appear. */
export const ACTIONS = ['start', 'stop', 'reboot', 'extend', 'terminate'];
export const ACTION_LABELS = { start: 'Start', stop: 'Stop', reboot: 'Reboot', extend: 'Extend', terminate: 'Terminate' };

export const allowedActions = (status) => ACTIONS.filter((action) => (lifecycle.actions[action] ?? []).includes(status));
export const isUnsettled = (status) => lifecycle.transitional.includes(status);
export const isBillable = (status) => lifecycle.billable.includes(status);

/** Cost so far, moved on from the last read at the hourly price while the status bills. */
export function costSoFar(instance, readAt, now) {
  const base = Number(instance.totalCost ?? 0);
  if (!isBillable(instance.status) || !readAt) return base;
  const hourly = Number(instance.costPerHour ?? 0) + Number(instance.storageCostPerHour ?? 0);
  return base + (hourly * Math.max(0, now - readAt)) / 3_600_000;
}

export function act(instance, action, options = {}) {
  const path = `/api/instances/${encodeURIComponent(instance.id)}`;
  if (action === 'terminate') return api(path, { method: 'DELETE' });
  if (action === 'extend') return api(`${path}/extend`, { method: 'POST', body: { minutes: options.minutes } });
  return api(`${path}/${action}`, { method: 'POST' });
}

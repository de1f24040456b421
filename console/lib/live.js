// Live updates over the WebSocket (DESIGN "Real time"): a ticket from the API, then one socket
// with channel subscriptions. While the socket is down, or the deployment has no WebSocket yet,
// the state says so and pages poll instead.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isUnavailable } from './api.js';

const listeners = new Map(); // channel → Set<fn>
const statusListeners = new Set();
let status = 'off'; // off | connecting | live | down | unavailable
let socket = null;
let retryTimer = null;
let pingTimer = null;
let attempts = 0;
let ticketsPath = '/api/realtime/tickets';
let running = false;

function setStatus(next) {
  status = next;
  for (const fn of statusListeners) fn(next);
}

export const liveStatus = () => status;

export function startLive(config) {
  if (config?.websocket === null) return setStatus('unavailable');
  ticketsPath = config?.websocket?.ticketsPath ?? ticketsPath;
  running = true;
  connect();
}

export function stopLive() {
  running = false;
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  if (socket) socket.close(1000, 'signed out');
  socket = null;
  listeners.clear();
  setStatus('off');
}

function retry(delayMs) {
  clearTimeout(retryTimer);
  if (running) retryTimer = setTimeout(connect, delayMs);
}

async function connect() {
  if (!running) return;
  setStatus('connecting');
  let ticket;
  try {
    ticket = (await api(ticketsPath, { method: 'POST' })).ticket;
  } catch (error) {
    // No ticket route in this deployment (yet): poll, and look again now and then.
    setStatus(isUnavailable(error) ? 'unavailable' : 'down');
    return retry(isUnavailable(error) ? 60_000 : backoff());
  }
  if (!running) return;
  const url = new URL(ticket.url, location.href);
  if (!/^wss?:$/.test(url.protocol)) url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => {
    attempts = 0;
    setStatus('live');
    for (const channel of listeners.keys()) send({ action: 'subscribe', channel });
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ action: 'ping' }), 25_000);
  };
  ws.onmessage = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data.type !== 'event') return;
    for (const channel of [data.channel, '*']) for (const fn of listeners.get(channel) ?? []) fn(data);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pingTimer);
    if (!running) return;
    setStatus('down');
    retry(backoff());
  };
}

const backoff = () => Math.min(30_000, 1000 * 2 ** attempts++);

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** Listen to a channel (`client.<id>`, `instance.<id>`); returns the undo. */
export function subscribe(channel, fn) {
  let set = listeners.get(channel);
  if (!set) {
    set = new Set();
    listeners.set(channel, set);
    if (channel !== '*') send({ action: 'subscribe', channel });
  }
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0 && listeners.get(channel) === set) {
      listeners.delete(channel);
      if (channel !== '*') send({ action: 'unsubscribe', channel });
    }
  };
}

export function useLiveStatus() {
  const [value, setValue] = useState(status);
  useEffect(() => {
    statusListeners.add(setValue);
    setValue(status);
    return () => statusListeners.delete(setValue);
  }, []);
  return value;
}

/** Events of `channel` to `onEvent`; the latest callback is used without resubscribing. */
export function useChannel(channel, onEvent) {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    if (!channel) return undefined;
    return subscribe(channel, (message) => ref.current(message));
  }, [channel]);
}

/**
 * Runs `poll` every `intervalMs` while the socket is not live (and `enabled`); while it is live,
 * only every `liveIntervalMs`, a backstop for anything missed around a reconnect.
 */
export function usePolling(poll, intervalMs, enabled = true, liveIntervalMs = 30_000) {
  const live = useLiveStatus();
  const ref = useRef(poll);
  ref.current = poll;
  useEffect(() => {
    if (!enabled) return undefined;
    const timer = setInterval(() => ref.current(), live === 'live' ? liveIntervalMs : intervalMs);
    return () => clearInterval(timer);
  }, [live, enabled, intervalMs, liveIntervalMs]);
}

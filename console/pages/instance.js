// One instance: its facts, actions, events as they happen, health history and a cpu/memory chart.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../lib/api.js';
import { ago, bytes, countdown, dateTime, money, perHour } from '../lib/format.js';
import { ACTION_LABELS, act, allowedActions, costSoFar, isUnsettled } from '../lib/instances.js';
import { useChannel, usePolling } from '../lib/live.js';
import { ErrorBox, HealthDot, StatusBadge, useNow } from '../lib/ui.js';
import { ActionDialog } from './instances.js';

const eventId = (e) => e.id ?? e.eventId;

export function InstancePage({ id, ctx }) {
  const [state, setState] = useState({ instance: null, readAt: 0 });
  const [events, setEvents] = useState([]);
  const [health, setHealth] = useState([]);
  const [metrics, setMetrics] = useState([]);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  const [dialog, setDialog] = useState(null);
  const now = useNow();
  const base = `/api/instances/${encodeURIComponent(id)}`;
  const instance = state.instance;

  const loadInstance = () =>
    api(base).then(
      (r) => setState({ instance: r.instance, readAt: Date.now() }),
      (e) => setError(e),
    );
  const loadEvents = () => api(`${base}/events`, { query: { limit: 100 } }).then((r) => setEvents(r.events), () => undefined);
  const loadHealth = () => api(`${base}/health`, { query: { limit: 50 } }).then((r) => setHealth(r.health), () => undefined);
  const loadMetrics = () => api(`${base}/metrics`, { query: { limit: 100 } }).then((r) => setMetrics(r.metrics), () => undefined);

  useEffect(() => {
    setState({ instance: null, readAt: 0 });
    setError(null);
    loadInstance();
    loadEvents();
    loadHealth();
    loadMetrics();
  }, [id]);

  useChannel(`instance.${id}`, (message) => {
    if (message.instance) setState({ instance: message.instance, readAt: Date.now() });
    if (message.event) {
      setEvents((list) => (list.some((e) => eventId(e) === eventId(message.event)) ? list : [...list, message.event]));
      if (String(message.event.type).startsWith('instance.health')) loadHealth();
    }
  });
  usePolling(() => {
    loadInstance();
    loadEvents();
  }, instance && !isUnsettled(instance.status) ? 10_000 : 3000);
  usePolling(() => {
    loadMetrics();
    loadHealth();
  }, 15_000, true, 15_000);

  const run = async (action, options) => {
    try {
      const r = await act(instance, action, options);
      if (r.instance) setState({ instance: r.instance, readAt: Date.now() });
      setNotice(`${ACTION_LABELS[action]} requested.`);
      loadEvents();
    } catch (e) {
      setNotice(`Could not ${action}: ${e.message}`);
    }
  };
  const checkHealth = async () => {
    try {
      const r = await api(`${base}/health-check`, { method: 'POST' });
      setNotice(`Health: ${r.health?.status ?? 'checked'}`);
      loadHealth();
      loadInstance();
    } catch (e) {
      setNotice(`Could not check health: ${e.message}`);
    }
  };

  if (error && !instance) return html`<h1>Instance ${id}</h1><${ErrorBox} error=${error} /><p><a href="#/instances">Back to the instances</a></p>`;
  if (!instance) return html`<h1>Instance ${id}</h1><p aria-busy="true">Loading…</p>`;
  const i = instance;
  const canAct = ctx.can('operator');
  const endpoint = i.provider === 'LOCAL' && i.port && (i.status === 'READY' || i.status === 'RUNNING') ? `http://${location.hostname}:${i.port}/` : null;
  const sorted = [...events].sort((a, b) => String(a.at).localeCompare(String(b.at)));

  return html`<section class="detail">
    <p class="crumbs"><a href="#/instances">Instances</a> › ${i.id}</p>
    <div class="page-head">
      <h1>${i.name} <${StatusBadge} status=${i.status} /></h1>
      ${canAct && html`<div class="actions">
        ${allowedActions(i.status).map(
          (action) => html`<button type="button" class=${action === 'terminate' ? 'danger' : ''}
            onClick=${() => (action === 'terminate' || action === 'extend' ? setDialog({ targets: [i], action }) : run(action))}>${ACTION_LABELS[action]}</button>`,
        )}
        ${(i.status === 'READY' || i.status === 'RUNNING') && html`<button type="button" onClick=${checkHealth}>Check health now</button>`}
      </div>`}
    </div>
    <p class="notice-line" role="status" aria-live="polite">${notice}</p>
    ${i.errorMessage && html`<div class="error-box" role="alert">${i.errorMessage}</div>`}
    <div class="cards">
      <div class="card"><h2>Machine</h2><dl>
        <dt>Id</dt><dd><code>${i.id}</code></dd>
        <dt>Provider</dt><dd>${i.provider} · ${i.region}</dd>
        <dt>Type</dt><dd>${i.type} · ${i.instanceType}</dd>
        <dt>Provider id</dt><dd>${i.providerInstanceId ?? '—'}</dd>
        ${ctx.isPlatformAdmin && html`<dt>Client</dt><dd>${ctx.clientName(i.clientId)}</dd>`}
        <dt>Created</dt><dd>${dateTime(i.createdAt)}</dd>
        ${i.terminatedAt && html`<dt>Terminated</dt><dd>${dateTime(i.terminatedAt)}</dd>`}
      </dl></div>
      <div class="card"><h2>Addresses</h2><dl>
        <dt>Public IP</dt><dd>${i.publicIp ?? '—'}</dd>
        <dt>Private IP</dt><dd>${i.privateIp ?? '—'}</dd>
        <dt>Port</dt><dd>${i.port ?? '—'}</dd>
        ${endpoint && html`<dt>Endpoint</dt><dd><a href=${endpoint} target="_blank" rel="noopener noreferrer">${endpoint}</a></dd>`}
      </dl></div>
      <div class="card"><h2>Cost</h2><dl>
        <dt>So far</dt><dd class="num">${money(costSoFar(i, state.readAt, now))}</dd>
        <dt>Compute</dt><dd class="num">${perHour(i.costPerHour)}${i.computeCost !== undefined ? html` · ${money(i.computeCost)} so far` : ''}</dd>
        ${i.storageCostPerHour !== undefined && html`<dt>Storage</dt><dd class="num">${perHour(i.storageCostPerHour)}${i.storageCost !== undefined ? html` · ${money(i.storageCost)} so far` : ''}</dd>`}
        <dt>Deadline</dt><dd>${i.autoTerminateAt ? html`<time datetime=${i.autoTerminateAt}>${countdown(i.autoTerminateAt, now)}</time> <small class="muted">(${dateTime(i.autoTerminateAt)})</small>` : 'none'}</dd>
      </dl></div>
      <div class="card"><h2>Health</h2><p><${HealthDot} health=${i.health} /> ${i.health?.status ?? 'UNKNOWN'}${i.health?.checkedAt ? html` <small class="muted">${ago(i.health.checkedAt, now)}</small>` : ''}</p>
        ${i.health?.error && html`<p class="error-text">${i.health.error}</p>`}
        <details><summary>History (${health.length})</summary>
          <table><thead><tr><th scope="col">When</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead>
          <tbody>${health.map((h) => html`<tr><td>${dateTime(h.checkedAt ?? h.at)}</td><td><${HealthDot} health=${h} /> ${h.status}</td><td>${h.error ?? (h.latencyMs !== undefined ? `${h.latencyMs} ms` : '')}</td></tr>`)}</tbody></table>
        </details>
      </div>
    </div>
    <h2>CPU and memory</h2>
    <${MetricsChart} samples=${metrics} />
    <h2 id="events-heading">Events</h2>
    <ol class="events" aria-labelledby="events-heading" aria-live="polite">
      ${sorted.map((e) => html`<li key=${eventId(e)} data-type=${e.type}>
        <time datetime=${e.at}>${dateTime(e.at)}</time>
        <strong>${e.type}</strong>
        ${e.fromStatus || e.toStatus ? html` <span class="transition">${e.fromStatus ?? '·'} → ${e.toStatus ?? '·'}</span>` : ''}
        <span class="message">${e.message ?? ''}</span>
        <small class="muted">${e.actor ?? ''}</small>
      </li>`)}
    </ol>
    ${dialog && html`<${ActionDialog} ...${dialog} onDone=${(options) => {
      const { action } = dialog;
      setDialog(null);
      if (options) run(action, options);
    }} />`}
  </section>`;
}

/** cpu % on the left axis, memory (MiB) on the right, over the samples' times. */
function MetricsChart({ samples }) {
  const holder = useRef(null);
  const plot = useRef(null);
  const points = [...samples].sort((a, b) => String(a.sampledAt).localeCompare(String(b.sampledAt)));
  const data = [
    points.map((s) => Date.parse(s.sampledAt) / 1000),
    points.map((s) => s.cpuPercent ?? null),
    points.map((s) => (s.memoryBytes ?? 0) / 1024 / 1024),
  ];
  useEffect(() => {
    const width = Math.max(300, holder.current.clientWidth || 600);
    plot.current = new uPlot(
      {
        width,
        height: 220,
        series: [
          {},
          { label: 'CPU %', stroke: '#1f4e79', width: 2, scale: '%', value: (_u, v) => (v == null ? '—' : `${v.toFixed(1)} %`) },
          { label: 'Memory', stroke: '#b5651d', width: 2, scale: 'mb', value: (_u, v) => (v == null ? '—' : bytes(v * 1024 * 1024)) },
        ],
        axes: [{}, { scale: '%', label: 'CPU %' }, { scale: 'mb', side: 1, label: 'MiB', grid: { show: false } }],
        scales: {
          // uPlot widens a lone sample's time axis by 86400/ms, years in seconds mode: show five minutes around it.
          x: { time: true, range: (u, min, max) => (u.data[0].length === 1 ? [u.data[0][0] - 150, u.data[0][0] + 150] : [min, max]) },
          '%': { range: (_u, _min, max) => [0, Math.max(10, max)] },
        },
      },
      data,
      holder.current,
    );
    const resize = () => plot.current?.setSize({ width: Math.max(300, holder.current.clientWidth), height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [samples]);
  const last = points[points.length - 1];
  return html`<figure class="chart">
    <div ref=${holder} role="img" aria-label=${last ? `CPU ${last.cpuPercent?.toFixed(1)} %, memory ${bytes(last.memoryBytes ?? 0)} at ${dateTime(last.sampledAt)}` : 'No samples yet'}></div>
    <figcaption>${points.length ? `${points.length} ${points.length === 1 ? 'sample' : 'samples'}; the latest ${dateTime(last.sampledAt)}` : 'No samples yet: a machine is sampled while it is up.'}</figcaption>
  </figure>`;
}

// Instances: a live table with filters and sort in the URL, cursor pages, and the actions the lifecycle allows.
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { countdown, money, perHour } from '../lib/format.js';
import { ACTION_LABELS, act, allowedActions, costSoFar, isUnsettled } from '../lib/instances.js';
import { subscribe, useChannel, usePolling } from '../lib/live.js';
import { hrefTo, navigate } from '../lib/router.js';
import { Dialog, ErrorBox, HealthDot, StatusBadge, useNow } from '../lib/ui.js';

const STATUSES = ['PENDING', 'PROVISIONING', 'CONFIGURING', 'READY', 'RUNNING', 'STOPPING', 'STOPPED', 'STARTING', 'REBOOTING', 'TERMINATING', 'TERMINATED', 'ERROR'];
const PROVIDERS = ['LOCAL', 'AWS', 'OPENSTACK', 'AZURE', 'EXTERNAL'];
const SORTS = { name: 'Name', status: 'Status', cost: 'Cost so far', deadline: 'Deadline', created: 'Created' };
const FILTERS = ['status', 'provider', 'type', 'tag'];

function matchesFilters(instance, filters) {
  if (filters.status && instance.status !== filters.status) return false;
  if (filters.provider && instance.provider !== filters.provider) return false;
  if (filters.type && instance.type !== filters.type) return false;
  if (filters.tag) {
    const [k, v] = filters.tag.split('=');
    if (!(k in (instance.tags ?? {}))) return false;
    if (v !== undefined && instance.tags[k] !== v) return false;
  }
  return true;
}

function sortRows(rows, sort, dir, now) {
  const value = {
    name: (r) => r.instance.name ?? '',
    status: (r) => r.instance.status,
    cost: (r) => costSoFar(r.instance, r.readAt, now),
    deadline: (r) => (r.instance.autoTerminateAt ? Date.parse(r.instance.autoTerminateAt) : Infinity),
    created: (r) => r.instance.createdAt ?? '',
  }[sort];
  if (!value) return rows;
  const sign = dir === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sign;
  });
}

export function InstancesPage({ route, ctx }) {
  const q = route.query;
  const filters = Object.fromEntries(FILTERS.map((name) => [name, q.get(name) ?? '']));
  const sort = q.get('sort') ?? 'created';
  const dir = q.get('dir') ?? (sort === 'created' ? 'desc' : 'asc');
  const cursor = q.get('cursor') ?? '';
  const canAct = ctx.can('operator');
  const fanOut = ctx.isPlatformAdmin && !ctx.clientId;
  const clientIds = fanOut ? ctx.clients.map((c) => c.id) : [ctx.clientId];

  const [rows, setRows] = useState(new Map());
  const [nextCursor, setNextCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(new Set());
  const [notice, setNotice] = useState('');
  const [dialog, setDialog] = useState(null);
  const now = useNow();
  const filterKey = JSON.stringify([filters, cursor, clientIds]);

  const load = async (quiet = false) => {
    if (!quiet) setLoading(true);
    try {
      const pages = await Promise.all(
        clientIds.filter(Boolean).map((clientId) =>
          api('/api/instances', { query: { ...filters, cursor: fanOut ? undefined : cursor, limit: 25, clientId: ctx.isPlatformAdmin ? clientId : undefined } }),
        ),
      );
      const readAt = Date.now();
      const next = new Map();
      for (const page of pages) for (const instance of page.instances) next.set(instance.id, { instance, readAt });
      setRows(next);
      setNextCursor(fanOut ? null : (pages[0]?.nextCursor ?? null));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setSelected(new Set());
    load();
  }, [filterKey]);

  const upsert = (instance) =>
    setRows((current) => {
      const known = current.has(instance.id);
      if (!known && (cursor || !matchesFilters(instance, filters))) return current;
      const next = new Map(current);
      next.set(instance.id, { instance, readAt: Date.now() });
      return next;
    });

  // Live: one channel per client shown (a client's own key is on its channel from the start).
  const onEvent = (message) => message.instance && upsert(message.instance);
  useChannel(clientIds.length === 1 && clientIds[0] ? `client.${clientIds[0]}` : null, onEvent);
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  useEffect(() => {
    if (!fanOut) return undefined;
    // The platform admin listens to every client it lists.
    const undo = ctx.clients.map((c) => subscribeClient(c.id, (m) => onEventRef.current(m)));
    return () => undo.forEach((u) => u());
  }, [fanOut, ctx.clients.length]);

  // Polling while the socket is down: unsettled rows every 3 s, the whole page every 15 s.
  const ticks = useRef(0);
  usePolling(async () => {
    ticks.current += 1;
    if (ticks.current % 5 === 0) return load(true);
    const unsettled = [...rows.values()].filter((r) => isUnsettled(r.instance.status));
    for (const { instance } of unsettled) {
      api(`/api/instances/${encodeURIComponent(instance.id)}`).then((r) => upsert(r.instance), () => undefined);
    }
  }, 3000);

  const shown = useMemo(() => sortRows([...rows.values()], sort, dir, now), [rows, sort, dir, now]);

  const setParams = (changes) => {
    const params = Object.fromEntries(q.entries());
    Object.assign(params, changes);
    if (!('cursor' in changes)) delete params.cursor;
    navigate('/instances', params, { replace: true });
  };
  const sortBy = (column) => setParams({ sort: column, dir: sort === column && dir === 'asc' ? 'desc' : 'asc', cursor });

  const run = async (targets, action, options) => {
    const results = await Promise.allSettled(targets.map((instance) => act(instance, action, options)));
    const failed = results.filter((r) => r.status === 'rejected');
    for (const r of results) if (r.status === 'fulfilled' && r.value.instance) upsert(r.value.instance);
    const label = ACTION_LABELS[action].toLowerCase();
    setNotice(
      failed.length
        ? `Could not ${label} ${failed.length} of ${targets.length}: ${failed[0].reason.message}`
        : `${ACTION_LABELS[action]} requested for ${targets.map((t) => t.name).join(', ')}.`,
    );
    setSelected(new Set());
  };

  const request = (targets, action) => {
    if (action === 'terminate' || action === 'extend' || targets.length > 1) setDialog({ targets, action });
    else run(targets, action);
  };

  const selectedRows = shown.filter((r) => selected.has(r.instance.id)).map((r) => r.instance);
  const bulk = (action) => selectedRows.filter((i) => allowedActions(i.status).includes(action));
  const toggle = (id) =>
    setSelected((s) => {
      const next = new Set(s);
      next.has(id) ? next.delete(id) : next.add(id);
      return next;
    });
  const selectable = shown.filter((r) => allowedActions(r.instance.status).some((a) => a === 'stop' || a === 'terminate'));
  const allSelected = selectable.length > 0 && selectable.every((r) => selected.has(r.instance.id));

  const header = (column, label) => {
    const active = sort === column;
    return html`<th scope="col" aria-sort=${active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" onClick=${() => sortBy(column)}>${label}${active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}</button>
    </th>`;
  };

  return html`<section>
    <div class="page-head">
      <h1>Instances</h1>
      ${canAct && html`<a class="button primary" href="#/create">Create instance</a>`}
    </div>
    <form class="filters" aria-label="Filters" onSubmit=${(e) => {
      e.preventDefault();
      const data = new FormData(e.currentTarget);
      setParams({ type: data.get('type'), tag: data.get('tag') });
    }}>
      <div class="field"><label for="f-status">Status</label>
        <select id="f-status" value=${filters.status} onChange=${(e) => setParams({ status: e.currentTarget.value })}>
          <option value="">Any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></div>
      <div class="field"><label for="f-provider">Provider</label>
        <select id="f-provider" value=${filters.provider} onChange=${(e) => setParams({ provider: e.currentTarget.value })}>
          <option value="">Any</option>${PROVIDERS.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></div>
      <div class="field"><label for="f-type">Type</label><input id="f-type" name="type" value=${filters.type} placeholder="vps, gpu…" size="8" /></div>
      <div class="field"><label for="f-tag">Tag</label><input id="f-tag" name="tag" value=${filters.tag} placeholder="key or key=value" size="14" /></div>
      <button type="submit">Apply</button>
      ${FILTERS.some((f) => filters[f]) && html`<a class="button" href=${hrefTo('/instances', { sort: q.get('sort'), dir: q.get('dir') })}>Clear</a>`}
    </form>
    <${ErrorBox} error=${error} />
    <p class="notice-line" role="status" aria-live="polite">${notice}</p>
    ${canAct && selected.size > 0 && html`<div class="bulk" role="region" aria-label="Bulk actions">
      <span>${selected.size} selected</span>
      <button type="button" disabled=${!bulk('stop').length} onClick=${() => request(bulk('stop'), 'stop')}>Stop selected (${bulk('stop').length})</button>
      <button type="button" class="danger" disabled=${!bulk('terminate').length} onClick=${() => request(bulk('terminate'), 'terminate')}>Terminate selected (${bulk('terminate').length})</button>
    </div>`}
    <div class="table-wrap">
      <table class="instances" aria-busy=${loading ? 'true' : 'false'}>
        <caption class="sr-only">Instances${filters.status ? `, status ${filters.status}` : ''}; sorted by ${SORTS[sort] ?? sort}</caption>
        <thead><tr>
          ${canAct && html`<th scope="col"><input type="checkbox" aria-label="Select all" checked=${allSelected}
            onChange=${() => setSelected(allSelected ? new Set() : new Set(selectable.map((r) => r.instance.id)))} /></th>`}
          ${header('name', 'Name')}
          ${header('status', 'Status')}
          <th scope="col">Health</th>
          <th scope="col">Provider</th>
          <th scope="col">Type</th>
          <th scope="col">Region</th>
          ${header('cost', 'Cost so far')}
          <th scope="col">Per hour</th>
          ${header('deadline', 'Deadline')}
          ${ctx.isPlatformAdmin && html`<th scope="col">Client</th>`}
          ${canAct && html`<th scope="col">Actions</th>`}
        </tr></thead>
        <tbody>
          ${shown.map(({ instance: i, readAt }) => html`<tr key=${i.id} data-id=${i.id} data-status=${i.status}>
            ${canAct && html`<td><input type="checkbox" aria-label=${`Select ${i.name}`} checked=${selected.has(i.id)}
              disabled=${!allowedActions(i.status).some((a) => a === 'stop' || a === 'terminate')} onChange=${() => toggle(i.id)} /></td>`}
            <td><a href=${`#/instances/${encodeURIComponent(i.id)}`}>${i.name}</a><br /><small class="muted">${i.id}</small></td>
            <td class="status-cell"><${StatusBadge} status=${i.status} />${i.errorMessage && html`<br /><small class="error-text">${i.errorMessage}</small>`}</td>
            <td><${HealthDot} health=${i.health} /></td>
            <td>${i.provider}</td>
            <td>${i.type}<br /><small class="muted">${i.instanceType}</small></td>
            <td>${i.region}</td>
            <td class="num">${money(costSoFar(i, readAt, now))}</td>
            <td class="num">${perHour(i.costPerHour)}</td>
            <td>${i.autoTerminateAt ? html`<time datetime=${i.autoTerminateAt} title=${i.autoTerminateAt}>${countdown(i.autoTerminateAt, now)}</time>` : '—'}</td>
            ${ctx.isPlatformAdmin && html`<td>${ctx.clientName(i.clientId)}</td>`}
            ${canAct && html`<td class="actions">${allowedActions(i.status).map(
              (action) => html`<button type="button" class=${action === 'terminate' ? 'danger small' : 'small'} aria-label=${`${ACTION_LABELS[action]} ${i.name}`}
                onClick=${() => request([i], action)}>${ACTION_LABELS[action]}</button>`,
            )}</td>`}
          </tr>`)}
        </tbody>
      </table>
      ${!loading && shown.length === 0 && html`<p class="empty">No instances${FILTERS.some((f) => filters[f]) ? ' match these filters' : ' yet'}.${canAct ? html` <a href="#/create">Create one</a>.` : ''}</p>`}
      ${fanOut && !loading && ctx.clients.length === 0 && html`<p class="empty">No clients yet. <a href="#/clients">Create a client</a> first.</p>`}
    </div>
    <nav class="pager" aria-label="Pages">
      ${cursor && html`<button type="button" onClick=${() => setParams({ cursor: '' })}>First page</button>`}
      ${nextCursor && html`<button type="button" onClick=${() => setParams({ cursor: nextCursor })}>Next page</button>`}
      ${fanOut && html`<small class="muted">Showing the first page of each client; pick a client in the header to page through one.</small>`}
    </nav>
    ${dialog && html`<${ActionDialog} ...${dialog} onDone=${async (options) => {
      const current = dialog;
      setDialog(null);
      if (options) await run(current.targets, current.action, options);
    }} />`}
  </section>`;
}

const subscribeClient = (clientId, fn) => subscribe(`client.${clientId}`, fn);

/** Confirmation for terminate and bulk actions; the minutes for extend. */
export function ActionDialog({ targets, action, onDone }) {
  const names = targets.map((t) => t.name).join(', ');
  if (action === 'extend') {
    return html`<${Dialog} title=${`Extend ${names}`} confirmLabel="Extend" onClose=${(data) => onDone(data && { minutes: Number(data.get('minutes')) })}>
      <div class="field"><label for="extend-minutes">Minutes to add to the deadline</label>
        <input id="extend-minutes" name="minutes" type="number" min="1" max="1440" value="30" required /></div>
    </${Dialog}>`;
  }
  const label = ACTION_LABELS[action];
  return html`<${Dialog} title=${`${label} ${targets.length === 1 ? names : `${targets.length} instances`}?`} confirmLabel=${label} danger=${action === 'terminate'}
    onClose=${(data) => onDone(data && {})}>
    <p>${action === 'terminate' ? 'Terminating deletes the machine and its disk; it cannot be undone.' : `This will ${label.toLowerCase()}:`}</p>
    <ul>${targets.map((t) => html`<li><strong>${t.name}</strong> <small class="muted">${t.id}</small></li>`)}</ul>
  </${Dialog}>`;
}

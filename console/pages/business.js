// Statistics (counters kept with every state change) and revenue over a period, with charts.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../lib/api.js';
import { duration, money } from '../lib/format.js';
import { navigate } from '../lib/router.js';
import { ErrorBox, NotAvailable, useLoad } from '../lib/ui.js';
import { NeedClient } from './accounts.js';

/** Horizontal bars in plain markup: readable by screen readers as a list of figures. */
export function Bars({ label, entries, format = String }) {
  const max = Math.max(1, ...entries.map(([, v]) => Number(v)));
  return html`<figure class="bars"><figcaption>${label}</figcaption>
    ${entries.length === 0 ? html`<p class="muted">Nothing yet.</p>` : html`<ul>${entries.map(([k, v]) => html`<li>
      <span class="bar-label">${k}</span>
      <span class="bar"><span class="bar-fill" style=${{ width: `${(Number(v) / max) * 100}%` }}></span></span>
      <span class="bar-value">${format(v)}</span></li>`)}</ul>`}
  </figure>`;
}

export function StatisticsPage({ ctx }) {
  const need = ctx.isPlatformAdmin && !ctx.clientId;
  const stats = useLoad(() => (need ? Promise.resolve(null) : api('/api/instances/stats', { query: ctx.isPlatformAdmin ? { clientId: ctx.clientId } : {} })), [ctx.clientId]);
  if (stats.unavailable) return html`<h1>Statistics</h1><${NotAvailable} what="Statistics" />`;
  const s = stats.data?.statistics;
  return html`<section>
    <h1>Statistics</h1>
    <${NeedClient} ctx=${ctx} what="statistics" />
    <${ErrorBox} error=${stats.error} />
    ${s && html`<div class="cards stats">
        <div class="card"><h2>Provisioned</h2><p class="big">${s.totalProvisioned}</p></div>
        <div class="card"><h2>Running now</h2><p class="big">${s.currentlyRunning}</p></div>
        <div class="card"><h2>Total cost</h2><p class="big">${money(s.totalCost)}</p></div>
        <div class="card"><h2>Average cost</h2><p class="big">${money(s.averageCost)}</p></div>
        <div class="card"><h2>Average duration</h2><p class="big">${duration((s.averageDuration ?? 0) * 1000)}</p></div>
      </div>
      <div class="cards">
        <${Bars} label="By provider" entries=${Object.entries(s.providerBreakdown ?? {})} />
        <${Bars} label="By instance type" entries=${Object.entries(s.instanceTypeBreakdown ?? {})} />
      </div>`}
  </section>`;
}

const isoDay = (d) => d.toISOString().slice(0, 10);

export function RevenuePage({ route, ctx }) {
  const q = route.query;
  const clientId = ctx.clientId;
  const to = q.get('to') ?? isoDay(new Date(Date.now() + 86_400_000));
  const from = q.get('from') ?? isoDay(new Date(Date.now() - 29 * 86_400_000));
  const groupBy = q.get('groupBy') ?? 'day';
  const report = useLoad(
    () => (clientId ? api(`/api/clients/${encodeURIComponent(clientId)}/revenue`, { query: { from: `${from}T00:00:00Z`, to: `${to}T00:00:00Z`, groupBy } }) : Promise.resolve(null)),
    [clientId, from, to, groupBy],
  );
  if (report.unavailable) return html`<h1>Revenue</h1><${NotAvailable} what="Revenue" />`;
  const r = report.data?.revenue;
  const set = (changes) => navigate('/revenue', { from, to, groupBy, ...changes }, { replace: true });
  return html`<section>
    <h1>Revenue</h1>
    <${NeedClient} ctx=${ctx} what="revenue" />
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="r-from">From</label><input id="r-from" type="date" value=${from} onChange=${(e) => set({ from: e.currentTarget.value })} /></div>
      <div class="field"><label for="r-to">To (exclusive)</label><input id="r-to" type="date" value=${to} onChange=${(e) => set({ to: e.currentTarget.value })} /></div>
      <div class="field"><label for="r-group">Group by</label>
        <select id="r-group" value=${groupBy} onChange=${(e) => set({ groupBy: e.currentTarget.value })}>
          ${['day', 'provider', 'instanceType', 'instance'].map((g) => html`<option value=${g}>${g}</option>`)}
        </select></div>
    </form>
    <${ErrorBox} error=${report.error} />
    ${r && html`<div class="cards stats">
        <div class="card"><h2>Total</h2><p class="big">${money(r.total)}</p></div>
        <div class="card"><h2>Compute</h2><p class="big">${money(r.compute)}</p></div>
        <div class="card"><h2>Storage</h2><p class="big">${money(r.storage)}</p></div>
      </div>
      ${groupBy === 'day' ? html`<${DayChart} groups=${r.groups ?? []} />` : html`<${Bars} label=${`By ${groupBy}`} entries=${(r.groups ?? []).map((g) => [g.key, g.total])} format=${money} />`}`}
  </section>`;
}

function DayChart({ groups }) {
  const holder = useRef(null);
  useEffect(() => {
    const sorted = [...groups].sort((a, b) => String(a.key).localeCompare(String(b.key)));
    const data = [sorted.map((g) => Date.parse(g.key) / 1000), sorted.map((g) => Number(g.total))];
    const plot = new uPlot(
      {
        width: Math.max(300, holder.current.clientWidth || 600),
        height: 240,
        series: [{}, { label: 'Revenue', stroke: '#1f4e79', fill: 'rgba(31,78,121,0.25)', paths: uPlot.paths.bars({ size: [0.6, 40] }), value: (_u, v) => money(v) }],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => money(t)) }],
      },
      data,
      holder.current,
    );
    return () => plot.destroy();
  }, [groups]);
  return html`<figure class="chart"><div ref=${holder} role="img" aria-label="Revenue per day"></div><figcaption>Revenue per day</figcaption></figure>`;
}

// The synced catalog per provider/account and region, and the sync jobs with their counts and findings.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { dateTime, perHour } from '../lib/format.js';
import { usePolling } from '../lib/live.js';
import { hrefTo, navigate } from '../lib/router.js';
import { ErrorBox, NotAvailable, useLoad } from '../lib/ui.js';

const KINDS = { flavors: 'flavors', images: 'images', networks: 'networks', subnets: 'subnets', 'security-groups': 'securityGroups', 'key-pairs': 'keyPairs' };

export function CatalogPage({ route, ctx }) {
  const kind = KINDS[route.query.get('kind')] ? route.query.get('kind') : 'flavors';
  const source = route.query.get('source') ?? 'LOCAL';
  const scope = ctx.isPlatformAdmin && ctx.clientId ? { clientId: ctx.clientId } : {};
  const accounts = useLoad(() => (ctx.isPlatformAdmin && !ctx.clientId ? Promise.resolve({ accounts: [] }) : api('/api/accounts', { query: { ...scope, limit: 100 } })), [ctx.clientId]);
  const where = source === 'LOCAL' ? { provider: 'LOCAL' } : { accountId: source, ...scope };
  const items = useLoad(() => api(`/api/catalog/${kind}`, { query: { ...where, limit: 500 } }), [kind, source, ctx.clientId]);
  const jobs = useLoad(() => api('/api/sync-jobs', { query: { ...scope, limit: 25 } }), [ctx.clientId]);
  const [notice, setNotice] = useState('');
  const running = (jobs.data?.jobs ?? []).some((j) => j.status === 'QUEUED' || j.status === 'RUNNING');
  usePolling(() => jobs.reload(true), 3000, running, 3000);

  const sync = async () => {
    try {
      const r = await api('/api/sync', { method: 'POST', body: source === 'LOCAL' ? { provider: 'LOCAL' } : { accountId: source } });
      setNotice(`Sync queued: ${r.jobs.length} job(s).`);
      jobs.reload(true);
    } catch (e) {
      setNotice(`Could not start a sync: ${e.message}`);
    }
  };
  const go = (changes) => navigate('/catalog', { kind, source, ...changes }, { replace: true });
  const list = items.data?.[KINDS[kind]] ?? [];

  if (items.unavailable) return html`<h1>Catalog</h1><${NotAvailable} what="The catalog" />`;
  return html`<section>
    <div class="page-head"><h1>Catalog and sync</h1>
      ${ctx.can('operator') && html`<button type="button" class="primary" onClick=${sync}>Run a sync now</button>`}</div>
    <p class="notice-line" role="status" aria-live="polite">${notice}</p>
    <div class="filters">
      <div class="field"><label for="cat-source">Source</label>
        <select id="cat-source" value=${source} onChange=${(e) => go({ source: e.currentTarget.value })}>
          <option value="LOCAL">LOCAL</option>
          ${(accounts.data?.accounts ?? []).map((a) => html`<option value=${a.id}>${a.provider} — ${a.name} (${a.region})</option>`)}
        </select></div>
    </div>
    <nav class="tabs" aria-label="Catalog kinds"><ul>
      ${Object.keys(KINDS).map((k) => html`<li><a href=${hrefTo('/catalog', { kind: k, source })} aria-current=${k === kind ? 'page' : undefined}>${k}</a></li>`)}
    </ul></nav>
    <${ErrorBox} error=${items.error} />
    <p class="muted">${items.data ? `${list.length} ${kind}; synced ${dateTime(items.data.syncedAt)}` : ''}</p>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Region</th>${kind === 'flavors' && html`<th scope="col">Price</th>`}<th scope="col">Attributes</th></tr></thead>
      <tbody>${list.map((i) => html`<tr class=${i.deletedAt ? 'deleted' : ''}><td>${i.name}</td><td><code>${i.id}</code></td><td>${i.region}</td>
        ${kind === 'flavors' && html`<td class="num">${perHour(i.pricePerHour)}</td>`}
        <td><small>${Object.entries(i.attributes ?? {}).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')}</small></td></tr>`)}</tbody>
    </table></div>
    <h2>Sync jobs</h2>
    <${ErrorBox} error=${jobs.error} />
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">When</th><th scope="col">Resource</th><th scope="col">Where</th><th scope="col">Status</th><th scope="col">Created / updated / deleted</th><th scope="col">Findings and errors</th></tr></thead>
      <tbody>${(jobs.data?.jobs ?? []).map((j) => html`<tr>
        <td>${dateTime(j.startedAt ?? j.queuedAt)}<br /><small class="muted">${j.trigger ?? ''}</small></td>
        <td>${j.resourceType}</td><td>${j.provider} ${j.region ?? ''}</td><td>${j.status}</td>
        <td class="num">${j.created ?? 0} / ${j.updated ?? 0} / ${j.deleted ?? 0}</td>
        <td>${(j.findings ?? []).length || (j.errors ?? []).length
          ? html`<details><summary>${(j.findings ?? []).length} finding(s), ${(j.errors ?? []).length} error(s)</summary><ul>
              ${(j.findings ?? []).map((f) => html`<li>${f.kind ?? f.type ?? ''} ${f.instanceId ?? f.providerInstanceId ?? ''} ${f.message ?? f.action ?? ''}</li>`)}
              ${(j.errors ?? []).map((e) => html`<li class="error-text">${typeof e === 'string' ? e : (e.message ?? JSON.stringify(e))}</li>`)}
            </ul></details>`
          : '—'}</td>
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}

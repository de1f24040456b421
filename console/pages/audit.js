// Business actions: who did what to which object, newest first.
import { html } from 'htm/preact';
import { api } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import { navigate } from '../lib/router.js';
import { ErrorBox, NotAvailable, useLoad } from '../lib/ui.js';

export function AuditPage({ route, ctx }) {
  const q = route.query;
  const action = q.get('action') ?? '';
  const actor = q.get('actor') ?? '';
  const cursor = q.get('cursor') ?? '';
  const list = useLoad(
    () => api('/api/audit', { query: { clientId: ctx.isPlatformAdmin ? ctx.clientId : undefined, action, actor, cursor, limit: 50 } }),
    [ctx.clientId, action, actor, cursor],
  );
  if (list.unavailable) return html`<h1>Audit</h1><${NotAvailable} what="The audit log" />`;
  const set = (changes) => navigate('/audit', { action, actor, ...changes }, { replace: true });
  return html`<section>
    <h1>Audit</h1>
    <form class="filters" onSubmit=${(e) => {
      e.preventDefault();
      const data = new FormData(e.currentTarget);
      set({ action: data.get('action'), actor: data.get('actor') });
    }}>
      <div class="field"><label for="au-action">Action</label><input id="au-action" name="action" value=${action} /></div>
      <div class="field"><label for="au-actor">Actor</label><input id="au-actor" name="actor" value=${actor} /></div>
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${list.error} />
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th>${ctx.isPlatformAdmin && html`<th scope="col">Client</th>`}<th scope="col">Details</th></tr></thead>
      <tbody>${(list.data?.actions ?? []).map((a) => html`<tr><td>${dateTime(a.at)}</td><td>${a.actor}</td><td>${a.action}</td><td>${a.target ?? ''}</td>
        ${ctx.isPlatformAdmin && html`<td>${ctx.clientName(a.clientId)}</td>`}<td><small>${a.details ? JSON.stringify(a.details) : ''}</small></td></tr>`)}</tbody>
    </table></div>
    <nav class="pager" aria-label="Pages">
      ${cursor && html`<button type="button" onClick=${() => set({ cursor: '' })}>First page</button>`}
      ${list.data?.nextCursor && html`<button type="button" onClick=${() => set({ cursor: list.data.nextCursor })}>Next page</button>`}
    </nav>
  </section>`;
}

// Webhook endpoints: create (the secret is shown once), enable/disable, send a test, see deliveries.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, fieldErrors } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import { described, ErrorBox, Field, NotAvailable, Secret, useLoad } from '../lib/ui.js';

export function WebhooksPage({ ctx }) {
  const scope = ctx.isPlatformAdmin ? { clientId: ctx.clientId || undefined } : {};
  const list = useLoad(() => api('/api/webhooks', { query: scope }), [ctx.clientId]);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('instance.*');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [secret, setSecret] = useState(null);
  const [open, setOpen] = useState(null);
  const [notice, setNotice] = useState('');
  const deliveries = useLoad(() => (open ? api(`/api/webhooks/${encodeURIComponent(open)}/deliveries`, { query: scope }) : Promise.resolve(null)), [open]);

  if (list.unavailable) return html`<h1>Webhooks</h1><${NotAvailable} what="Webhooks" />`;
  const create = async (event) => {
    event.preventDefault();
    setErrors({});
    setError(null);
    try {
      const r = await api('/api/webhooks', {
        method: 'POST',
        body: { url, events: events.split(/[\s,]+/).filter(Boolean), description: description || undefined, ...scope },
      });
      setSecret(r.webhook.secret);
      setUrl('');
      list.reload(true);
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(e);
    }
  };
  const toggle = async (w) => {
    try {
      await api(`/api/webhooks/${encodeURIComponent(w.id)}`, { method: 'PATCH', body: { status: w.status === 'enabled' ? 'disabled' : 'enabled' }, query: scope });
      list.reload(true);
    } catch (e) {
      setNotice(e.message);
    }
  };
  const test = async (w) => {
    try {
      await api(`/api/webhooks/${encodeURIComponent(w.id)}/test`, { method: 'POST', query: scope });
      setNotice(`Test event sent to ${w.url}.`);
      setOpen(w.id);
      deliveries.reload(true);
    } catch (e) {
      setNotice(e.message);
    }
  };
  return html`<section>
    <h1>Webhooks</h1>
    <${ErrorBox} error=${list.error} />
    <p class="notice-line" role="status" aria-live="polite">${notice}</p>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
      <tbody>${(list.data?.webhooks ?? []).map((w) => html`<tr>
        <td>${w.url}<br /><small class="muted">${w.description ?? w.id}</small></td><td>${(w.events ?? []).join(', ')}</td><td>${w.status}</td>
        <td class="actions"><button type="button" class="small" onClick=${() => test(w)}>Send a test</button>
          <button type="button" class="small" onClick=${() => toggle(w)}>${w.status === 'enabled' ? 'Disable' : 'Enable'}</button>
          <button type="button" class="small" onClick=${() => setOpen(open === w.id ? null : w.id)} aria-expanded=${open === w.id}>Deliveries</button></td>
      </tr>`)}</tbody>
    </table></div>
    ${open && html`<h2>Deliveries</h2><${ErrorBox} error=${deliveries.error} />
      <table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
      <tbody>${(deliveries.data?.deliveries ?? []).map((d) => html`<tr><td>${dateTime(d.at ?? d.attemptedAt ?? d.createdAt)}</td><td>${d.type ?? d.eventType ?? ''}</td>
        <td>${d.status ?? d.statusCode ?? ''}</td><td>${d.durationMs !== undefined ? `${d.durationMs} ms` : ''}</td><td>${d.error ?? ''}</td></tr>`)}</tbody></table>`}
    ${secret && html`<${Secret} label="Signing secret" value=${secret} />`}
    <h2>Add an endpoint</h2>
    <${ErrorBox} error=${error} />
    <form class="form-grid" onSubmit=${create} novalidate>
      <${Field} id="w-url" label="URL" error=${errors.url}><input id="w-url" type="url" value=${url} onInput=${(e) => setUrl(e.currentTarget.value)} ...${described('w-url', errors.url)} /></${Field}>
      <${Field} id="w-events" label="Events (comma separated)" error=${errors.events}><input id="w-events" value=${events} onInput=${(e) => setEvents(e.currentTarget.value)} ...${described('w-events', errors.events)} /></${Field}>
      <${Field} id="w-description" label="Description" error=${errors.description}><input id="w-description" value=${description} onInput=${(e) => setDescription(e.currentTarget.value)} /></${Field}>
      <button type="submit" class="primary">Add endpoint</button>
    </form>
  </section>`;
}

// Clients (platform admin): create a client, issue its API keys (the secret is shown once).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, fieldErrors } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import { described, ErrorBox, Field, Secret } from '../lib/ui.js';

export function ClientsPage({ ctx }) {
  const [name, setName] = useState('');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [issued, setIssued] = useState(null);
  const [keyFor, setKeyFor] = useState('');
  const [keyName, setKeyName] = useState('console');
  const [role, setRole] = useState('operator');

  if (!ctx.isPlatformAdmin) return html`<h1>Clients</h1><p>Only the platform admin manages clients.</p>`;
  const create = async (event) => {
    event.preventDefault();
    setErrors({});
    setError(null);
    try {
      const r = await api('/api/clients', { method: 'POST', body: { name } });
      setName('');
      await ctx.refreshClients();
      setKeyFor(r.client.id);
      ctx.setClientId(r.client.id);
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(e);
    }
  };
  const issue = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const r = await api(`/api/clients/${encodeURIComponent(keyFor)}/api-keys`, { method: 'POST', body: { name: keyName, role } });
      setIssued(r.apiKey);
    } catch (e) {
      setError(e);
    }
  };
  return html`<section>
    <h1>Clients</h1>
    <${ErrorBox} error=${error} />
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Max instances</th><th scope="col">Created</th></tr></thead>
      <tbody>${ctx.clients.map((c) => html`<tr><td>${c.name}</td><td><code>${c.id}</code></td><td>${c.status}</td><td>${c.maxInstances}</td><td>${dateTime(c.createdAt)}</td></tr>`)}</tbody>
    </table></div>
    <h2>New client</h2>
    <form class="inline-form" onSubmit=${create} novalidate>
      <${Field} id="cl-name" label="Client name" error=${errors.name}><input id="cl-name" value=${name} onInput=${(e) => setName(e.currentTarget.value)} ...${described('cl-name', errors.name)} /></${Field}>
      <button type="submit" class="primary">Create client</button>
    </form>
    <h2>Issue an API key</h2>
    <form class="inline-form" onSubmit=${issue}>
      <div class="field"><label for="k-client">Client</label>
        <select id="k-client" value=${keyFor} onChange=${(e) => setKeyFor(e.currentTarget.value)} required>
          <option value="">Choose…</option>${ctx.clients.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select></div>
      <div class="field"><label for="k-name">Key name</label><input id="k-name" value=${keyName} onInput=${(e) => setKeyName(e.currentTarget.value)} /></div>
      <div class="field"><label for="k-role">Role</label>
        <select id="k-role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
          ${['admin', 'operator', 'viewer'].map((r) => html`<option value=${r}>${r}</option>`)}
        </select></div>
      <button type="submit" class="primary" disabled=${!keyFor}>Issue key</button>
    </form>
    ${issued && html`<${Secret} label=${`API key "${issued.name}" (${issued.role})`} value=${issued.key} />`}
  </section>`;
}

// Provider accounts: register with a connection test (the API tests before it stores), re-test.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, fieldErrors } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import { described, ErrorBox, Field, NotAvailable, useLoad } from '../lib/ui.js';

const TEMPLATES = {
  OPENSTACK: { authUrl: 'https://keystone.example.com:5000/v3', username: '', password: '', projectName: '', userDomainName: 'Default', projectDomainName: 'Default' },
  AWS: { accessKeyId: '', secretAccessKey: '' },
  AZURE: { tenantId: '', clientId: '', clientSecret: '', subscriptionId: '', resourceGroup: '' },
};

export function NeedClient({ ctx, what }) {
  return ctx.isPlatformAdmin && !ctx.clientId
    ? html`<p class="notice" role="status">Choose a client in the header to see its ${what}.</p>`
    : null;
}

export function AccountsPage({ ctx }) {
  const scope = ctx.isPlatformAdmin ? { clientId: ctx.clientId } : {};
  const need = ctx.isPlatformAdmin && !ctx.clientId;
  const list = useLoad(() => (need ? Promise.resolve({ accounts: [] }) : api('/api/accounts', { query: { ...scope, limit: 100 } })), [ctx.clientId]);
  const [provider, setProvider] = useState('OPENSTACK');
  const [name, setName] = useState('');
  const [region, setRegion] = useState('');
  const [credentials, setCredentials] = useState(JSON.stringify(TEMPLATES.OPENSTACK, null, 2));
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  const register = async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(credentials);
    } catch {
      return setErrors({ credentials: 'Credentials must be a JSON object' });
    }
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const r = await api('/api/accounts', { method: 'POST', body: { provider, name, region: region || undefined, credentials: parsed, ...scope } });
      setNotice(`Connected and registered ${r.account.name}; its catalog sync has started.`);
      setName('');
      list.reload(true);
    } catch (e) {
      const byPath = fieldErrors(e);
      setErrors(Object.fromEntries(Object.entries(byPath).map(([p, m]) => [p.split('.')[0], m])));
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const retest = async (account) => {
    setNotice(`Testing ${account.name}…`);
    try {
      const r = await api(`/api/accounts/${encodeURIComponent(account.id)}/test`, { method: 'POST', query: scope });
      setNotice(`${account.name}: ${r.test?.ok === false ? `cannot connect: ${r.test.error ?? r.test.message}` : 'connected'}`);
      list.reload(true);
    } catch (e) {
      setNotice(`${account.name}: ${e.message}`);
    }
  };

  if (list.unavailable) return html`<h1>Accounts</h1><${NotAvailable} what="Provider accounts" />`;
  return html`<section>
    <h1>Provider accounts</h1>
    <${NeedClient} ctx=${ctx} what="accounts" />
    <${ErrorBox} error=${list.error} />
    <p class="notice-line" role="status" aria-live="polite">${notice}</p>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Region</th><th scope="col">Last test</th><th scope="col">Credentials</th>${ctx.can('operator') && html`<th scope="col">Actions</th>`}</tr></thead>
      <tbody>${(list.data?.accounts ?? []).map((a) => html`<tr>
        <td>${a.name}<br /><small class="muted">${a.id}</small></td><td>${a.provider}</td><td>${a.region}</td>
        <td>${a.lastTestResult ? html`${a.lastTestResult.ok === false ? '✗' : '✓'} ${a.lastTestResult.message ?? a.lastTestResult.error ?? ''}<br /><small class="muted">${dateTime(a.lastTestedAt)}</small>` : dateTime(a.lastTestedAt)}</td>
        <td><small>${(a.credentialKeys ?? []).join(', ')}</small></td>
        ${ctx.can('operator') && html`<td><button type="button" class="small" onClick=${() => retest(a)} aria-label=${`Re-test ${a.name}`}>Re-test</button></td>`}
      </tr>`)}</tbody>
    </table>${!list.loading && !need && !(list.data?.accounts ?? []).length && html`<p class="empty">No accounts yet. LOCAL and EXTERNAL need none.</p>`}</div>
    ${ctx.can('admin') && !need && html`<h2>Register an account</h2>
      <${ErrorBox} error=${error} />
      <form class="form-grid" onSubmit=${register} novalidate>
        <${Field} id="a-provider" label="Provider" error=${errors.provider}>
          <select id="a-provider" value=${provider} onChange=${(e) => {
            setProvider(e.currentTarget.value);
            setCredentials(JSON.stringify(TEMPLATES[e.currentTarget.value], null, 2));
          }}>${Object.keys(TEMPLATES).map((p) => html`<option>${p}</option>`)}</select></${Field}>
        <${Field} id="a-name" label="Name" error=${errors.name}><input id="a-name" value=${name} onInput=${(e) => setName(e.currentTarget.value)} ...${described('a-name', errors.name)} /></${Field}>
        <${Field} id="a-region" label="Region (optional)" error=${errors.region}><input id="a-region" value=${region} onInput=${(e) => setRegion(e.currentTarget.value)} ...${described('a-region', errors.region)} /></${Field}>
        <${Field} id="a-credentials" label="Credentials (JSON; stored encrypted, never shown again)" error=${errors.credentials}>
          <textarea id="a-credentials" rows="8" spellcheck="false" value=${credentials} onInput=${(e) => setCredentials(e.currentTarget.value)} ...${described('a-credentials', errors.credentials)}></textarea></${Field}>
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Testing the connection…' : 'Test and register'}</button>
      </form>`}
  </section>`;
}

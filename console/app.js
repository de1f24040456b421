// The Hangar console: sign-in, the layout, and the pages by route.
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, configureApi } from './lib/api.js';
import { forgetKey, hasRole, readKey, setRoles, storeKey } from './lib/session.js';
import { hrefTo, useRoute } from './lib/router.js';
import { startLive, stopLive, useLiveStatus } from './lib/live.js';
import { setLifecycle } from './lib/instances.js';
import { InstancesPage } from './pages/instances.js';
import { InstancePage } from './pages/instance.js';
import { CreatePage } from './pages/create.js';
import { AccountsPage } from './pages/accounts.js';
import { CatalogPage } from './pages/catalog.js';
import { StatisticsPage, RevenuePage } from './pages/business.js';
import { AuditPage } from './pages/audit.js';
import { WebhooksPage } from './pages/webhooks.js';
import { ClientsPage } from './pages/clients.js';

const CLIENT_KEY = 'hangar.actingClient';

function SignIn({ message, onSignedIn }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(message ?? null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  useEffect(() => input.current?.focus(), [error]);
  const submit = async (event) => {
    event.preventDefault();
    const value = key.trim();
    if (!value) return setError('Enter an API key.');
    setBusy(true);
    try {
      const { caller } = await api('/api/me', { key: value });
      storeKey(value);
      onSignedIn(caller);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? 'This API key is not valid: it may be mistyped, or it has been revoked. Ask an admin of your client for a key.'
          : e.message,
      );
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin" id="main">
    <h1>Hangar</h1>
    <p>Sign in with an API key. It is kept in this tab only (session storage) and sent as a bearer token.</p>
    <form onSubmit=${submit} novalidate>
      <div class=${`field${error ? ' has-error' : ''}`}>
        <label for="api-key">API key</label>
        <input id="api-key" ref=${input} type="password" autocomplete="off" spellcheck="false" value=${key}
          onInput=${(e) => setKey(e.currentTarget.value)} aria-invalid=${error ? 'true' : undefined}
          aria-describedby=${error ? 'signin-error' : 'signin-hint'} placeholder="hgr_…" />
        <small id="signin-hint" class="hint"><code>npm start</code> prints the platform admin key.</small>
        ${error && html`<small id="signin-error" class="field-error" role="alert">${error}</small>`}
      </div>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

const NAV = [
  ['/instances', 'Instances', 'viewer'],
  ['/create', 'Create', 'operator'],
  ['/accounts', 'Accounts', 'viewer'],
  ['/catalog', 'Catalog & sync', 'viewer'],
  ['/statistics', 'Statistics', 'viewer'],
  ['/revenue', 'Revenue', 'admin'],
  ['/audit', 'Audit', 'admin'],
  ['/webhooks', 'Webhooks', 'admin'],
  ['/clients', 'Clients', 'platform-admin'],
];

function LiveBadge() {
  const status = useLiveStatus();
  const label = { live: 'Live', connecting: 'Connecting…', down: 'Reconnecting; polling', unavailable: 'Polling', off: 'Off' }[status];
  return html`<span class=${`live live-${status}`} role="status" title="Live updates over the WebSocket, or polling while it is down">${label}</span>`;
}

function ClientPicker({ clients, value, onChange }) {
  return html`<div class="client-picker">
    <label for="acting-client">Client</label>
    <select id="acting-client" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">All clients</option>
      ${clients.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
    </select>
  </div>`;
}

function Layout({ ctx, route, onSignOut, children }) {
  const main = useRef(null);
  // Focus moves to the page's heading on navigation, so keyboard and screen-reader users land on it.
  useEffect(() => {
    const heading = main.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }, [route.path]);
  const { caller } = ctx;
  return html`<a class="skip" href="#main" onClick=${(e) => {
      e.preventDefault();
      main.current?.focus();
    }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/instances">Hangar</a>
      <nav aria-label="Main">
        <ul>
          ${NAV.filter(([, , least]) => hasRole(caller.role, least)).map(
            ([path, label]) => html`<li><a href=${hrefTo(path)} aria-current=${route.path.startsWith(path) ? 'page' : undefined}>${label}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        ${caller.role === 'platform-admin' && html`<${ClientPicker} clients=${ctx.clients} value=${ctx.clientId} onChange=${ctx.setClientId} />`}
        <${LiveBadge} />
        <span class="caller" data-role=${caller.role}>${caller.clientName ?? 'Platform'} · ${caller.role}</span>
        <button type="button" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <main id="main" ref=${main} tabindex="-1">${children}</main>`;
}

function Page({ route, ctx }) {
  const [first, second] = route.segments;
  const props = { route, ctx };
  switch (first) {
    case 'instances':
      return second ? html`<${InstancePage} ...${props} id=${second} />` : html`<${InstancesPage} ...${props} />`;
    case 'create':
      return html`<${CreatePage} ...${props} />`;
    case 'accounts':
      return html`<${AccountsPage} ...${props} />`;
    case 'catalog':
      return html`<${CatalogPage} ...${props} />`;
    case 'statistics':
      return html`<${StatisticsPage} ...${props} />`;
    case 'revenue':
      return html`<${RevenuePage} ...${props} />`;
    case 'audit':
      return html`<${AuditPage} ...${props} />`;
    case 'webhooks':
      return html`<${WebhooksPage} ...${props} />`;
    case 'clients':
      return html`<${ClientsPage} ...${props} />`;
    default:
      return html`<h1>Not found</h1><p>There is no page at <code>${route.path}</code>. <a href="#/instances">Go to the instances</a>.</p>`;
  }
}

function App({ config }) {
  const route = useRoute();
  const [caller, setCaller] = useState(null);
  const [checking, setChecking] = useState(Boolean(readKey()));
  const [message, setMessage] = useState(null);
  const [clients, setClients] = useState([]);
  const [clientId, setClientIdState] = useState(sessionStorage.getItem(CLIENT_KEY) ?? '');

  const signOut = (why = null) => {
    forgetKey();
    sessionStorage.removeItem(CLIENT_KEY);
    stopLive();
    setCaller(null);
    setMessage(why);
  };

  useEffect(() => {
    configureApi({
      apiBase: config.apiBase,
      onUnauthorized: () => signOut('Your API key is no longer accepted (revoked or expired). Sign in with another key.'),
    });
    if (!readKey()) return;
    api('/api/me').then(
      ({ caller: who }) => {
        setCaller(who);
        setChecking(false);
      },
      (error) => {
        setChecking(false);
        if (!(error instanceof ApiError && error.status === 401)) setMessage(error.message);
      },
    );
  }, []);

  useEffect(() => {
    if (!caller) return undefined;
    startLive(config);
    if (caller.role === 'platform-admin') {
      api('/api/clients', { query: { limit: 100 } }).then((r) => setClients(r.clients), () => setClients([]));
    }
    return () => stopLive();
  }, [caller]);

  if (checking) return html`<p class="boot">Checking your session…</p>`;
  if (!caller) return html`<${SignIn} message=${message} onSignedIn=${(who) => {
      setMessage(null);
      setCaller(who);
    }} />`;

  const setClientId = (id) => {
    sessionStorage.setItem(CLIENT_KEY, id);
    setClientIdState(id);
  };
  const refreshClients = () => api('/api/clients', { query: { limit: 100 } }).then((r) => setClients(r.clients), () => undefined);
  const ctx = {
    caller,
    config,
    clients,
    refreshClients,
    // A client's own key always acts for its client; the platform admin for the one picked.
    clientId: caller.clientId ?? clientId,
    setClientId,
    isPlatformAdmin: caller.role === 'platform-admin',
    can: (least) => hasRole(caller.role, least),
    clientName: (id) => clients.find((c) => c.id === id)?.name ?? (id === caller.clientId ? caller.clientName : id),
  };
  return html`<${Layout} ctx=${ctx} route=${route} onSignOut=${() => signOut(null)}>
    <${Page} route=${route} ctx=${ctx} />
  </${Layout}>`;
}

async function boot() {
  const config = await fetch('/config.json').then((r) => (r.ok ? r.json() : {}), () => ({}));
  setRoles(config.roles);
  setLifecycle(config.lifecycle);
  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} config=${config} />`, root);
}

boot();

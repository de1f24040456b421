// Create: choices from the synced catalog of the chosen provider, account and region; the
// estimate before launch; the API's validation next to each field; then progress until READY.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, fieldErrors, isUnavailable, newIdempotencyKey } from '../lib/api.js';
import { money, perHour } from '../lib/format.js';
import { useChannel, usePolling } from '../lib/live.js';
import { described, ErrorBox, Field, StatusBadge } from '../lib/ui.js';

const KINDS = ['flavors', 'images', 'networks', 'key-pairs', 'security-groups'];
const CATALOG_KEY = { flavors: 'flavors', images: 'images', networks: 'networks', 'key-pairs': 'keyPairs', 'security-groups': 'securityGroups' };
/** API paths → the form's field ids, so each message sits next to its field. */
const FIELD_OF = {
  name: 'c-name', type: 'c-type', purpose: 'c-purpose', clientId: 'c-client',
  'config.provider': 'c-where', 'config.accountId': 'c-where', 'config.region': 'c-region',
  'config.instanceType': 'c-flavor', 'config.image': 'c-image', 'config.keyPair': 'c-keypair',
  'config.networks': 'c-networks', 'config.securityGroups': 'c-sgs', 'config.diskSizeGB': 'c-disk',
  'config.autoTerminateMinutes': 'c-ttl', 'config.tags': 'c-tags', 'config.endpoint': 'c-endpoint', 'config.healthPath': 'c-healthpath',
};

function parseTags(text) {
  const tags = {};
  for (const line of text.split(/[\n,]/)) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const [k, ...v] = trimmed.split('=');
    tags[k.trim()] = v.join('=').trim();
  }
  return tags;
}

const flavorLabel = (f) => {
  const a = f.attributes ?? {};
  const size = [a.vcpus && `${a.vcpus} vCPU`, a.memoryMiB && `${Math.round(a.memoryMiB / 1024)} GiB`, a.gpus ? `${a.gpus} GPU` : null].filter(Boolean).join(', ');
  return `${f.name}${size ? ` — ${size}` : ''}${f.pricePerHour !== undefined ? ` — ${perHour(f.pricePerHour)}` : ''}`;
};

export function CreatePage({ ctx }) {
  const [clientId, setClientId] = useState(ctx.clientId || '');
  const [accounts, setAccounts] = useState([]);
  const [form, setForm] = useState({ name: '', type: 'vps', purpose: '', where: 'LOCAL', region: '', flavor: '', image: '', keyPair: '', networks: [], sgs: [], disk: 30, ttl: 60, tags: '', endpoint: '', healthPath: '/health' });
  const [catalog, setCatalog] = useState({});
  const [catalogError, setCatalogError] = useState(null);
  const [estimate, setEstimate] = useState(null);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(null);
  const idempotencyKey = useRef(newIdempotencyKey());
  const formRef = useRef(null);
  const scope = ctx.isPlatformAdmin ? { clientId: clientId || undefined } : {};
  const account = form.where.startsWith('account:') ? accounts.find((a) => a.id === form.where.slice(8)) : null;
  const provider = account ? account.provider : form.where;
  const set = (name) => (event) => {
    const value = event.currentTarget.value;
    setForm((f) => ({ ...f, [name]: value }));
  };

  useEffect(() => {
    if (ctx.isPlatformAdmin && !clientId) return setAccounts([]);
    api('/api/accounts', { query: { ...scope, limit: 100 } }).then((r) => setAccounts(r.accounts), () => setAccounts([]));
  }, [clientId]);

  // The synced catalog of the chosen place.
  useEffect(() => {
    if (provider === 'EXTERNAL' || (ctx.isPlatformAdmin && !clientId && provider !== 'LOCAL')) return setCatalog({});
    const source = account ? { accountId: account.id, region: form.region || account.region } : { provider: 'LOCAL' };
    setCatalogError(null);
    Promise.all(
      KINDS.map((kind) =>
        api(`/api/catalog/${kind}`, { query: { ...source, ...(account ? scope : {}), limit: 500 } }).then(
          (r) => [kind, (r[CATALOG_KEY[kind]] ?? []).filter((item) => !item.deletedAt)],
          (e) => {
            setCatalogError(e);
            return [kind, []];
          },
        ),
      ),
    ).then((entries) => {
      const next = Object.fromEntries(entries);
      // Cheapest first: the default choice should not be the most expensive one.
      next.flavors = [...(next.flavors ?? [])].sort((a, b) => (a.pricePerHour ?? Infinity) - (b.pricePerHour ?? Infinity));
      setCatalog(next);
      setForm((f) => ({
        ...f,
        flavor: next.flavors?.some((x) => x.id === f.flavor || x.name === f.flavor) ? f.flavor : (next.flavors?.[0]?.name ?? ''),
        image: next.images?.some((x) => x.name === f.image) ? f.image : (next.images?.[0]?.name ?? ''),
      }));
    });
  }, [form.where, form.region, clientId]);

  const body = () => {
    const config = {
      provider,
      diskSizeGB: Number(form.disk),
      autoTerminateMinutes: form.ttl === '' ? undefined : Number(form.ttl),
      tags: parseTags(form.tags),
    };
    if (account) {
      config.accountId = account.id;
      if (form.region) config.region = form.region;
    }
    if (provider === 'EXTERNAL') {
      config.endpoint = form.endpoint;
      if (form.healthPath) config.healthPath = form.healthPath;
    } else {
      if (form.flavor) config.instanceType = form.flavor;
      if (form.image) config.image = form.image;
      if (form.keyPair) config.keyPair = form.keyPair;
      if (form.networks.length) config.networks = form.networks;
      if (form.sgs.length) config.securityGroups = form.sgs;
    }
    return {
      name: form.name.trim() || undefined,
      type: form.type.trim() || undefined,
      purpose: form.purpose.trim() || undefined,
      ...(ctx.isPlatformAdmin ? { clientId: clientId || undefined } : {}),
      config,
    };
  };

  // The estimate before launch, when this deployment has the route; else the flavor's price.
  const [estimateAvailable, setEstimateAvailable] = useState(true);
  useEffect(() => {
    if (!estimateAvailable || created) return undefined;
    const timer = setTimeout(() => {
      api('/api/instances/estimate', { method: 'POST', body: body() }).then(
        (r) => setEstimate(r.estimate),
        (e) => {
          setEstimate(null);
          if (isUnavailable(e)) setEstimateAvailable(false);
        },
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [JSON.stringify(form), clientId]);
  const flavor = (catalog.flavors ?? []).find((f) => f.name === form.flavor || f.id === form.flavor);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const r = await api('/api/instances', { method: 'POST', body: body(), idempotencyKey: idempotencyKey.current });
      setCreated(r.instance);
    } catch (e) {
      const byPath = fieldErrors(e);
      const byField = {};
      const rest = [];
      for (const [path, message] of Object.entries(byPath)) {
        const field = FIELD_OF[path] ?? FIELD_OF[path.split('.').slice(0, 2).join('.')];
        if (field) byField[field] = byField[field] ? `${byField[field]}; ${message}` : message;
        else rest.push(`${path}: ${message}`);
      }
      setErrors(byField);
      setError(Object.keys(byField).length && !rest.length ? { message: 'Please correct the fields marked below.' } : e);
      // A changed body needs a new key; the same body may replay the first answer.
      idempotencyKey.current = newIdempotencyKey();
      const first = Object.keys(byField)[0];
      if (first) setTimeout(() => formRef.current?.querySelector(`#${first}`)?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };

  if (created) return html`<${Progress} initial=${created} ctx=${ctx} onAnother=${() => {
    idempotencyKey.current = newIdempotencyKey();
    setCreated(null);
  }} />`;

  const input = (id, name, { hint, ...props } = {}) =>
    html`<input id=${id} name=${name} value=${form[name]} onInput=${set(name)} ...${described(id, errors[id], hint)} ...${props} />`;
  const checks = (id, name, items, legend) => html`<fieldset id=${id} tabindex="-1" class=${errors[id] ? 'has-error' : ''} ...${described(id, errors[id])}>
    <legend>${legend}</legend>
    ${items.length === 0 && html`<small class="muted">None in the catalog.</small>`}
    ${items.map((item) => html`<label class="check"><input type="checkbox" checked=${form[name].includes(item.name)}
      onChange=${(e) => {
        const on = e.currentTarget.checked;
        setForm((f) => ({ ...f, [name]: on ? [...f[name], item.name] : f[name].filter((x) => x !== item.name) }));
      }} /> ${item.name}</label>`)}
    ${errors[id] && html`<small id=${`${id}-error`} class="field-error" role="alert">${errors[id]}</small>`}
  </fieldset>`;

  return html`<section>
    <h1>Create an instance</h1>
    <${ErrorBox} error=${error} />
    <form ref=${formRef} class="create" onSubmit=${submit} novalidate>
      <div class="form-grid">
        ${ctx.isPlatformAdmin && html`<${Field} id="c-client" label="Client" error=${errors['c-client']}>
          <select id="c-client" value=${clientId} onChange=${(e) => setClientId(e.currentTarget.value)} ...${described('c-client', errors['c-client'])}>
            <option value="">Choose a client…</option>
            ${ctx.clients.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select></${Field}>`}
        <${Field} id="c-name" label="Name" error=${errors['c-name']} hint="Letters, digits and dashes; it becomes part of the id">${input('c-name', 'name', { required: true, autocomplete: 'off', hint: true })}</${Field}>
        <${Field} id="c-type" label="Type" error=${errors['c-type']}>${input('c-type', 'type', {})}</${Field}>
        <${Field} id="c-purpose" label="Purpose (optional)" error=${errors['c-purpose']}>${input('c-purpose', 'purpose', {})}</${Field}>
        <${Field} id="c-where" label="Where" error=${errors['c-where']}>
          <select id="c-where" value=${form.where} onChange=${set('where')} ...${described('c-where', errors['c-where'])}>
            <option value="LOCAL">LOCAL — a process on this machine</option>
            <option value="EXTERNAL">EXTERNAL — an endpoint Hangar watches</option>
            ${accounts.map((a) => html`<option value=${`account:${a.id}`}>${a.provider} — ${a.name} (${a.region})</option>`)}
          </select></${Field}>
        ${account && html`<${Field} id="c-region" label="Region" error=${errors['c-region']}>${input('c-region', 'region', { placeholder: account.region })}</${Field}>`}
        ${provider === 'EXTERNAL'
          ? html`<${Field} id="c-endpoint" label="Endpoint (URL or host:port)" error=${errors['c-endpoint']}>${input('c-endpoint', 'endpoint', { placeholder: 'https://example.com' })}</${Field}>
              <${Field} id="c-healthpath" label="Health path" error=${errors['c-healthpath']}>${input('c-healthpath', 'healthPath', {})}</${Field}>`
          : html`<${Field} id="c-flavor" label="Flavor" error=${errors['c-flavor']}>
                <select id="c-flavor" value=${form.flavor} onChange=${set('flavor')} ...${described('c-flavor', errors['c-flavor'])}>
                  ${(catalog.flavors ?? []).map((f) => html`<option value=${f.name}>${flavorLabel(f)}</option>`)}
                </select></${Field}>
              <${Field} id="c-image" label="Image" error=${errors['c-image']}>
                <select id="c-image" value=${form.image} onChange=${set('image')} ...${described('c-image', errors['c-image'])}>
                  ${(catalog.images ?? []).map((f) => html`<option value=${f.name}>${f.name}</option>`)}
                </select></${Field}>
              <${Field} id="c-keypair" label="Key pair" error=${errors['c-keypair']}>
                <select id="c-keypair" value=${form.keyPair} onChange=${set('keyPair')} ...${described('c-keypair', errors['c-keypair'])}>
                  <option value="">None</option>
                  ${(catalog['key-pairs'] ?? []).map((f) => html`<option value=${f.name}>${f.name}</option>`)}
                </select></${Field}>
              ${checks('c-networks', 'networks', catalog.networks ?? [], 'Networks')}
              ${checks('c-sgs', 'sgs', catalog['security-groups'] ?? [], 'Security groups')}`}
        <${Field} id="c-disk" label="Disk (GB)" error=${errors['c-disk']}>${input('c-disk', 'disk', { type: 'number', min: 1 })}</${Field}>
        <${Field} id="c-ttl" label="Auto-terminate after (minutes)" error=${errors['c-ttl']}>${input('c-ttl', 'ttl', { type: 'number', min: 1 })}</${Field}>
        <${Field} id="c-tags" label="Tags (key=value, one per line)" error=${errors['c-tags']}>
          <textarea id="c-tags" rows="2" value=${form.tags} onInput=${set('tags')} ...${described('c-tags', errors['c-tags'])}></textarea></${Field}>
      </div>
      ${catalogError && html`<p class="error-text" role="alert">Catalog: ${catalogError.message}</p>`}
      <aside class="estimate" aria-live="polite" aria-label="Estimate">
        <h2>Estimate</h2>
        ${estimate
          ? html`<dl>
              <dt>Compute</dt><dd>${perHour(estimate.costPerHour)}</dd>
              ${estimate.storageCostPerHour !== undefined && html`<dt>Storage</dt><dd>${perHour(estimate.storageCostPerHour)}</dd>`}
              ${estimate.untilAutoTerminate !== undefined && html`<dt>Until auto-terminate</dt><dd>${money(estimate.untilAutoTerminate)}</dd>`}
              ${estimate.perDay !== undefined && html`<dt>Per day</dt><dd>${money(estimate.perDay)}</dd>`}
              ${estimate.perMonth !== undefined && html`<dt>Per month</dt><dd>${money(estimate.perMonth)}</dd>`}
              ${estimate.budget && html`<dt>Budget</dt><dd>${estimate.budget.allowed === false ? 'over the budget: launch refused' : `${money(estimate.budget.spent)} of ${money(estimate.budget.monthlyLimit)} spent`}</dd>`}
            </dl>`
          : flavor?.pricePerHour !== undefined
            ? html`<p><strong>${perHour(flavor.pricePerHour)}</strong> for ${flavor.name}${form.ttl ? html`; at most ${money((flavor.pricePerHour * Number(form.ttl)) / 60)} until auto-terminate` : ''}.</p>`
            : html`<p class="muted">${provider === 'EXTERNAL' ? 'An external endpoint costs nothing here.' : 'Choose a flavor to see its price.'}</p>`}
      </aside>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Launching…' : 'Launch'}</button>
    </form>
  </section>`;
}

const STEPS = ['PENDING', 'PROVISIONING', 'CONFIGURING', 'READY'];

/** After launch: the status as it moves, live, until READY (or ERROR). */
function Progress({ initial, ctx, onAnother }) {
  const [instance, setInstance] = useState(initial);
  const [events, setEvents] = useState([]);
  const heading = useRef(null);
  const done = instance.status === 'READY' || instance.status === 'RUNNING' || instance.status === 'ERROR' || instance.status === 'TERMINATED';
  useEffect(() => heading.current?.focus(), []);
  useChannel(`instance.${initial.id}`, (message) => {
    if (message.instance) setInstance(message.instance);
    if (message.event) setEvents((list) => [...list, message.event]);
  });
  usePolling(() => api(`/api/instances/${encodeURIComponent(initial.id)}`).then((r) => setInstance(r.instance), () => undefined), 1500, !done, 5000);
  const reached = STEPS.indexOf(instance.status);
  return html`<section class="progress">
    <h1 ref=${heading} tabindex="-1">Launching ${instance.name}</h1>
    <p>Id <code>${instance.id}</code> on ${instance.provider}${ctx.isPlatformAdmin ? ` for ${ctx.clientName(instance.clientId)}` : ''}.</p>
    <ol class="steps">
      ${STEPS.map((step, n) => html`<li class=${n < reached || instance.status === 'READY' ? 'done' : n === reached ? 'current' : ''} aria-current=${n === reached ? 'step' : undefined}>${step}</li>`)}
    </ol>
    <p role="status" aria-live="polite" class="progress-status">Status: <${StatusBadge} status=${instance.status} />
      ${instance.status === 'READY' ? ' — ready.' : instance.status === 'ERROR' ? ` — ${instance.errorMessage ?? 'failed'}` : ' …'}</p>
    ${events.length > 0 && html`<ul class="muted">${events.map((e) => html`<li>${e.message ?? e.type}</li>`)}</ul>`}
    <p><a class="button primary" href=${`#/instances/${encodeURIComponent(instance.id)}`}>Open ${instance.name}</a>
      <button type="button" onClick=${onAnother}>Create another</button>
      <a class="button" href="#/instances">All instances</a></p>
  </section>`;
}

// Small shared pieces: status and health marks, field errors, dialogs, "not available".
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { isUnavailable } from './api.js';

export function StatusBadge({ status }) {
  return html`<span class=${`status status-${String(status).toLowerCase()}`}>${status}</span>`;
}

export function HealthDot({ health }) {
  const value = health?.status ?? 'UNKNOWN';
  const title = `Health: ${value}${health?.checkedAt ? ` (checked ${new Date(health.checkedAt).toLocaleTimeString()})` : ''}${health?.error ? `: ${health.error}` : ''}`;
  return html`<span class=${`dot dot-${value.toLowerCase()}`} title=${title} role="img" aria-label=${title}></span>`;
}

/** A form field with its label and, next to it, the API's message for its path. */
export function Field({ id, label, error, hint, children }) {
  return html`<div class=${`field${error ? ' has-error' : ''}`}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<small id=${`${id}-hint`} class="hint">${hint}</small>`}
    ${error && html`<small id=${`${id}-error`} class="field-error" role="alert">${error}</small>`}
  </div>`;
}

/** aria-* for an input with a Field's hint and error. */
export const described = (id, error, hint) => ({
  'aria-invalid': error ? 'true' : undefined,
  'aria-describedby': [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined,
});

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error-box" role="alert">${error.message ?? String(error)}${error.code ? html` <code>${error.code}</code>` : ''}</div>`;
}

export function NotAvailable({ what }) {
  return html`<div class="notice" role="status"><strong>${what} is not available in this deployment.</strong> This Hangar does not serve that part of the API yet.</div>`;
}

/** Loads with `load()`; `unavailable` is true when the route does not exist here. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null, unavailable: false });
  const seq = useRef(0);
  const run = async (quiet = false) => {
    const mine = ++seq.current;
    if (!quiet) setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === seq.current) setState({ loading: false, data, error: null, unavailable: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ loading: false, data: s.data, error: isUnavailable(error) ? null : error, unavailable: isUnavailable(error) }));
    }
  };
  useEffect(() => {
    run();
  }, deps);
  return { ...state, reload: run };
}

/**
 * A modal dialog (the native <dialog>: focus moves in, Escape closes, focus returns to the opener).
 * `onClose(value)` gets the confirm value or null.
 */
export function Dialog({ title, children, confirmLabel = 'Confirm', danger = false, onClose, busy = false }) {
  const ref = useRef(null);
  useEffect(() => {
    const opener = document.activeElement;
    const dialog = ref.current;
    dialog.showModal();
    const cancel = (event) => {
      event.preventDefault();
      onClose(null);
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);
  const submit = (event) => {
    event.preventDefault();
    onClose(new FormData(event.currentTarget));
  };
  return html`<dialog ref=${ref} aria-labelledby="dialog-title" class="dialog">
    <form onSubmit=${submit}>
      <h2 id="dialog-title">${title}</h2>
      ${children}
      <div class="dialog-actions">
        <button type="button" onClick=${() => onClose(null)}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : 'primary'} disabled=${busy}>${confirmLabel}</button>
      </div>
    </form>
  </dialog>`;
}

/** A clock that ticks every second, for countdowns and the cost that accrues between reads. */
export function useNow(intervalMs = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** The secret shown once, with a copy button. */
export function Secret({ label, value }) {
  const [copied, setCopied] = useState(false);
  const copy = () => navigator.clipboard?.writeText(value).then(() => setCopied(true), () => setCopied(false));
  return html`<div class="secret" role="status">
    <p><strong>${label}</strong> — shown once; copy it now.</p>
    <code class="secret-value">${value}</code>
    <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
  </div>`;
}

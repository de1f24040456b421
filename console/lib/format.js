// Rounding is for people's eyes: the API's exact decimals are shown rounded here.
export function money(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  const n = Number(value);
  const digits = n !== 0 && Math.abs(n) < 1 ? 4 : 2;
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export const perHour = (value) => (value === null || value === undefined ? '—' : `${money(value)}/h`);

export function duration(ms) {
  if (ms <= 0) return '0s';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function countdown(at, now) {
  if (!at) return '—';
  const left = Date.parse(at) - now;
  return left > 0 ? `in ${duration(left)}` : 'due';
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  return `${duration(now - Date.parse(iso))} ago`;
}

export const bytes = (n) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`);

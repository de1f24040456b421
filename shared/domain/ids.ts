/** Public instance ids: `{type}-{name-kebab}-{6 random [a-z0-9]}`, e.g. `vps-web-server-abc123`. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const SUFFIX_LENGTH = 6;
export const MAX_NAME_KEBAB_LENGTH = 48;
export const INSTANCE_ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)+-[a-z0-9]{6}$/;

/** What a client calls the thing (`vps`, `database`, `container`…): a lowercase kebab word of 1–20 characters. */
export const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const MAX_INSTANCE_TYPE_LENGTH = 20;
export const DEFAULT_INSTANCE_TYPE = 'vps';

/** "Web Server #2" → "web-server-2"; "" when nothing usable is left. */
export function toKebab(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function randomSuffix(length = SUFFIX_LENGTH): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

export function newInstanceId(type: string, name: string, suffix = randomSuffix()): string {
  const kebab = toKebab(name);
  if (!kebab) throw new RangeError(`Name '${name}' has no letters or digits to build an id from`);
  return `${type}-${kebab}-${suffix}`;
}

/**
 * The name a create without one takes (the provisioner's request shape): its purpose, else its
 * task id, else its instance type, kebab-cased and cut at a word boundary to fit an id.
 */
export function defaultInstanceName(request: { purpose?: string; taskId?: string; type: string }): string {
  for (const source of [request.purpose, request.taskId, request.type]) {
    const kebab = fitKebab(toKebab(source ?? ''));
    if (kebab) return kebab;
  }
  return request.type;
}

function fitKebab(kebab: string): string {
  if (kebab.length <= MAX_NAME_KEBAB_LENGTH) return kebab;
  const cut = kebab.slice(0, MAX_NAME_KEBAB_LENGTH + 1);
  const boundary = cut.lastIndexOf('-');
  return (boundary > 0 ? cut.slice(0, boundary) : kebab.slice(0, MAX_NAME_KEBAB_LENGTH)).replace(/-+$/, '');
}

/** Opaque ids for things that are not instances: clients, api keys, accounts. */
export function newId(prefix: string): string {
  return `${prefix}-${randomSuffix(12)}`;
}

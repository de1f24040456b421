/**
 * A small, direct OpenStack client for setting up and inspecting the real test cloud: fixtures,
 * Nova and Neutron checks, token revocation. Deliberately independent of the adapter under test
 * (shared/adapters/openstack), so a bug there cannot hide itself in the checks.
 */

export interface PasswordAuth {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName?: string;
  projectDomainName?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface Session {
  token: string;
  userId: string;
  projectId: string;
  endpoints: Record<'identity' | 'compute' | 'image' | 'network', string>;
}

/** The Nova microversion the checks speak; 2.47 embeds the flavor, as the adapter expects. */
const NOVA_HEADERS = { 'OpenStack-API-Version': 'compute 2.47', 'X-OpenStack-Nova-API-Version': '2.47' };

export async function call(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; raw?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers['X-Auth-Token'] = options.token;
  let body: string | Uint8Array | undefined;
  if (options.raw) {
    headers['Content-Type'] = 'application/octet-stream';
    body = options.raw;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The answer, or an Error naming the call and what the cloud said. */
export function expectStatus(answer: Answer, what: string, ...ok: number[]): Answer {
  if (ok.includes(answer.status)) return answer;
  throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 400)}`);
}

export function tokensUrl(authUrl: string): string {
  return `${authUrl.replace(/\/+$/, '').replace(/\/v3$/, '')}/v3/auth/tokens`;
}

export async function login(auth: PasswordAuth, region = 'RegionOne'): Promise<Session> {
  const answer = expectStatus(
    await call('POST', tokensUrl(auth.authUrl), {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: auth.username, password: auth.password, domain: { name: auth.userDomainName ?? 'Default' } } },
          },
          scope: { project: { name: auth.projectName, domain: { name: auth.projectDomainName ?? 'Default' } } },
        },
      },
    }),
    `Keystone login as ${auth.username}`,
    201,
  );
  const token = answer.headers.get('x-subject-token') ?? '';
  const catalog: Array<{ type: string; endpoints: Array<{ interface: string; region_id?: string; region?: string; url: string }> }> =
    answer.body.token.catalog;
  const find = (type: string) => {
    const endpoint = catalog
      .find((service) => service.type === type)
      ?.endpoints.find((candidate) => candidate.interface === 'public' && (candidate.region_id ?? candidate.region) === region);
    if (!endpoint) throw new Error(`The catalog has no public ${type} endpoint in ${region}`);
    return endpoint.url.replace(/\/+$/, '');
  };
  return {
    token,
    userId: answer.body.token.user.id,
    projectId: answer.body.token.project.id,
    endpoints: { identity: find('identity'), compute: find('compute'), image: find('image'), network: find('network') },
  };
}

export function nova(session: Session, method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, `${session.endpoints.compute}${path}`, { token: session.token, headers: NOVA_HEADERS, ...(body !== undefined ? { body } : {}) });
}

export function neutron(session: Session, method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, `${session.endpoints.network}${path}`, { token: session.token, ...(body !== undefined ? { body } : {}) });
}

export function glance(session: Session, method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, `${session.endpoints.image}${path}`, { token: session.token, ...(body !== undefined ? { body } : {}) });
}

export function keystone(session: Session, method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, `${session.endpoints.identity.replace(/\/v3$/, '')}/v3${path}`, {
    token: session.token,
    ...(body !== undefined ? { body } : {}),
  });
}

/**
 * A Nova server as an admin sees it, or null once Nova has deleted it: 404, or for a moment
 * before that, 200 with status DELETED (vm_state deleted, port released, record not yet gone).
 */
export async function novaServer(session: Session, id: string): Promise<Record<string, any> | null> {
  const answer = await nova(session, 'GET', `/servers/${encodeURIComponent(id)}?all_tenants=1`);
  if (answer.status === 404) return null;
  const server = expectStatus(answer, `GET server ${id}`, 200).body.server;
  return server.status === 'DELETED' ? null : server;
}

/** The fixed IPs of the Neutron ports attached to a server. */
export async function portIps(session: Session, serverId: string): Promise<string[]> {
  const answer = expectStatus(await neutron(session, 'GET', `/v2.0/ports?device_id=${encodeURIComponent(serverId)}`), 'GET ports', 200);
  return (answer.body.ports as Array<{ fixed_ips: Array<{ ip_address: string }> }>).flatMap((port) =>
    port.fixed_ips.map((ip) => ip.ip_address),
  );
}

/** Revoke one token (DELETE /v3/auth/tokens with X-Subject-Token), as an admin. */
export async function revokeToken(admin: Session, token: string): Promise<void> {
  expectStatus(
    await call('DELETE', tokensUrl(admin.endpoints.identity), { token: admin.token, headers: { 'X-Subject-Token': token } }),
    'revoke token',
    204,
  );
}

/** Whether Keystone still accepts a token (GET /v3/auth/tokens). */
export async function tokenValid(admin: Session, token: string): Promise<boolean> {
  const answer = await call('GET', tokensUrl(admin.endpoints.identity), { token: admin.token, headers: { 'X-Subject-Token': token } });
  return answer.status === 200;
}

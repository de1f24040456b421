import { ProviderError } from '../../domain/errors.ts';
import {
  ensureOk,
  errorKindFor,
  isRecord,
  openStackErrorMessage,
  UnreachableError,
  type HttpResponse,
  type HttpTransport,
} from './http.ts';

/**
 * Keystone v3: token issuance, the service catalog, and the session every service call goes
 * through (token attached, renewed once on a 401, the request then sent once more).
 */

/** Password credentials as in clouds.yaml; domains default to "Default" as the CLI does. */
export interface PasswordCredentials {
  authUrl: string;
  username: string;
  password: string;
  userDomainName?: string;
  projectName: string;
  projectDomainName?: string;
}

/** An application credential is already bound to one project: no scope is sent. */
export interface ApplicationCredentials {
  authUrl: string;
  applicationCredentialId: string;
  applicationCredentialSecret: string;
}

export type OpenStackCredentials = PasswordCredentials | ApplicationCredentials;

export type EndpointInterface = 'public' | 'internal';
export type ServiceType = 'compute' | 'image' | 'network';

export interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export interface KeystoneToken {
  value: string;
  expiresAt: Date;
  catalog: CatalogService[];
  projectId?: string;
}

export const DEFAULT_DOMAIN = 'Default';

const SERVICE_LABEL: Record<ServiceType, string> = {
  compute: 'OpenStack compute (Nova)',
  image: 'OpenStack image (Glance)',
  network: 'OpenStack network (Neutron)',
};

export function serviceLabel(service: ServiceType): string {
  return SERVICE_LABEL[service];
}

export function isApplicationCredentials(credentials: OpenStackCredentials): credentials is ApplicationCredentials {
  return 'applicationCredentialId' in credentials;
}

/**
 * Stored credential fields (a flat string record, as the accounts service keeps them) as one of
 * the two credential forms; a missing field is an 'invalid-request' naming it.
 */
export function toOpenStackCredentials(fields: Readonly<Record<string, string | undefined>>): OpenStackCredentials {
  const need = (name: string): string => {
    const value = fields[name];
    if (!value) throw new ProviderError(`OpenStack credentials lack '${name}'`, 'invalid-request');
    return value;
  };
  const authUrl = need('authUrl');
  if (fields.applicationCredentialId !== undefined || fields.applicationCredentialSecret !== undefined) {
    return {
      authUrl,
      applicationCredentialId: need('applicationCredentialId'),
      applicationCredentialSecret: need('applicationCredentialSecret'),
    };
  }
  return {
    authUrl,
    username: need('username'),
    password: need('password'),
    projectName: need('projectName'),
    ...(fields.userDomainName ? { userDomainName: fields.userDomainName } : {}),
    ...(fields.projectDomainName ? { projectDomainName: fields.projectDomainName } : {}),
  };
}

/** The body of POST /v3/auth/tokens for either credential kind. */
export function authRequestBody(credentials: OpenStackCredentials): Record<string, unknown> {
  if (isApplicationCredentials(credentials)) {
    return {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: {
            id: credentials.applicationCredentialId,
            secret: credentials.applicationCredentialSecret,
          },
        },
      },
    };
  }
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: credentials.username,
            password: credentials.password,
            domain: { name: credentials.userDomainName ?? DEFAULT_DOMAIN },
          },
        },
      },
      scope: {
        project: {
          name: credentials.projectName,
          domain: { name: credentials.projectDomainName ?? DEFAULT_DOMAIN },
        },
      },
    },
  };
}

/** `https://keystone:5000`, `…/v3` and `…/v3/` all lead to `…/v3/auth/tokens`. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
}

/**
 * The endpoint URL of one service type in one region and interface. Keystone v3 gives both
 * `region_id` and the older `region`; either may match.
 */
export function findEndpoint(
  catalog: readonly CatalogService[],
  type: ServiceType,
  region: string,
  iface: EndpointInterface,
): string | undefined {
  for (const service of catalog) {
    if (service.type !== type) continue;
    const endpoint = service.endpoints.find(
      (candidate) => candidate.interface === iface && (candidate.region_id === region || candidate.region === region),
    );
    if (endpoint) return endpoint.url;
  }
  return undefined;
}

/** "compute: RegionOne (public, internal); image: …" — what a person needs to fix the account. */
export function describeCatalog(catalog: readonly CatalogService[]): string {
  const parts = catalog
    .filter((service) => service.type === 'compute' || service.type === 'image' || service.type === 'network')
    .map((service) => {
      const byRegion = new Map<string, string[]>();
      for (const endpoint of service.endpoints) {
        const region = endpoint.region_id ?? endpoint.region ?? '(no region)';
        byRegion.set(region, [...(byRegion.get(region) ?? []), endpoint.interface]);
      }
      const regions = [...byRegion].map(([region, ifaces]) => `${region} (${ifaces.join(', ')})`).join(', ');
      return `${service.type}: ${regions}`;
    });
  return parts.length ? parts.join('; ') : 'no compute, image or network service';
}

export interface KeystoneSessionOptions {
  credentials: OpenStackCredentials;
  region: string;
  interface: EndpointInterface;
  transport: HttpTransport;
  clock: () => Date;
  /** Renew a cached token this long before Keystone's expires_at (default 2 minutes). */
  renewBeforeMs?: number;
}

export interface ServiceRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the service root (see serviceRoot), may carry a query string. */
  path?: string;
  /** An absolute URL, e.g. a pagination link; used as given. */
  url?: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

const DEFAULT_RENEW_BEFORE_MS = 120_000;

export class KeystoneSession {
  private cached: KeystoneToken | undefined;
  private inFlight: Promise<KeystoneToken> | undefined;
  private readonly renewBeforeMs: number;

  constructor(private readonly options: KeystoneSessionOptions) {
    this.renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  }

  get authUrl(): string {
    return this.options.credentials.authUrl;
  }

  /**
   * A token good for a while yet: the cached one until `renewBeforeMs` before it expires, else a
   * new one. Concurrent callers share one issuance. `fresh` forces a new token.
   */
  async token(fresh = false): Promise<KeystoneToken> {
    const cached = this.cached;
    if (!fresh && cached && this.options.clock().getTime() < cached.expiresAt.getTime() - this.renewBeforeMs) {
      return cached;
    }
    if (!this.inFlight) {
      this.inFlight = this.issue().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** The root URL of a service in this session's region and interface. */
  async endpoint(service: ServiceType, token?: KeystoneToken): Promise<string> {
    const current = token ?? (await this.token());
    const url = findEndpoint(current.catalog, service, this.options.region, this.options.interface);
    if (!url) {
      throw new ProviderError(
        `OpenStack at ${this.authUrl} has no ${service} endpoint for region '${this.options.region}' and interface ` +
          `'${this.options.interface}'; the catalog offers ${describeCatalog(current.catalog)}`,
        'invalid-request',
      );
    }
    return serviceRoot(service, url);
  }

  /** Whether the catalog lists a service of any of these types in this region and interface. */
  async offers(types: readonly string[]): Promise<boolean> {
    const { catalog } = await this.token();
    return catalog.some(
      (service) =>
        types.includes(service.type) &&
        service.endpoints.some(
          (endpoint) => endpoint.interface === this.options.interface && (endpoint.region_id === this.options.region || endpoint.region === this.options.region),
        ),
    );
  }

  /**
   * Send one request to a service with the session's token. A 401 means the token died early
   * (revoked, or the server's clock is ahead): the token is dropped, a new one issued and the
   * request sent once more; a second 401 is an 'auth' error. Any other failure is thrown as the
   * ProviderError http.ts maps it to.
   */
  async request(service: ServiceType, request: ServiceRequest): Promise<HttpResponse> {
    const what = serviceLabel(service);
    const token = await this.token();
    let response = await this.sendWith(token, service, request);
    if (response.status === 401) {
      if (this.cached === token) this.cached = undefined;
      const renewed = await this.token();
      response = await this.sendWith(renewed, service, request);
      if (response.status === 401) {
        const message = openStackErrorMessage(response);
        throw new ProviderError(
          `${what} refused a freshly issued token: 401 Unauthorized${message ? ` (${message})` : ''}`,
          'auth',
        );
      }
    }
    return ensureOk(response, what);
  }

  /** As request(), but a 404 answers null: the thing is not there. */
  async requestOrNull(service: ServiceType, request: ServiceRequest): Promise<HttpResponse | null> {
    try {
      return await this.request(service, request);
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'not-found') return null;
      throw error;
    }
  }

  private async sendWith(token: KeystoneToken, service: ServiceType, request: ServiceRequest): Promise<HttpResponse> {
    const url = request.url ?? withQuery(`${await this.endpoint(service, token)}${request.path ?? ''}`, request.query);
    return this.options.transport.send(
      {
        method: request.method,
        url,
        headers: { ...request.headers, 'X-Auth-Token': token.value },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      serviceLabel(service),
    );
  }

  private async issue(): Promise<KeystoneToken> {
    const { credentials } = this.options;
    const connectError = (reason: string, kind: ConstructorParameters<typeof ProviderError>[1]) =>
      new ProviderError(`Cannot connect to OpenStack at ${credentials.authUrl}: ${reason}`, kind);
    let response: HttpResponse;
    try {
      response = await this.options.transport.send(
        { method: 'POST', url: tokensUrl(credentials.authUrl), body: authRequestBody(credentials) },
        'OpenStack identity (Keystone)',
      );
    } catch (error) {
      if (error instanceof UnreachableError) throw connectError(error.reason, 'transient');
      if (error instanceof ProviderError) throw connectError(error.message, error.kind);
      throw error;
    }
    if (response.status === 401) throw connectError('401 Unauthorized (Keystone refused the credentials)', 'auth');
    if (response.status >= 400) {
      const message = openStackErrorMessage(response);
      const kind = response.status === 404 ? 'invalid-request' : errorKindFor(response.status, message, false);
      const hint = response.status === 404 ? ' (is this the Keystone URL?)' : '';
      throw connectError(`${response.status} ${response.statusText}${message ? `: ${message}` : ''}${hint}`, kind);
    }
    const value = response.headers.get('x-subject-token');
    const body = isRecord(response.json) && isRecord(response.json.token) ? response.json.token : undefined;
    if (!value || !body) {
      throw connectError(`Keystone answered ${response.status} without a token (is this a Keystone v3 URL?)`, 'fatal');
    }
    const catalog = Array.isArray(body.catalog) ? (body.catalog as CatalogService[]) : [];
    if (catalog.length === 0) {
      throw connectError('Keystone issued a token without a service catalog (is the user a member of the project?)', 'auth');
    }
    const expiresAt = typeof body.expires_at === 'string' ? new Date(body.expires_at) : new Date(NaN);
    const token: KeystoneToken = {
      value,
      // An unreadable expiry is treated as short-lived rather than eternal.
      expiresAt: Number.isNaN(expiresAt.getTime()) ? new Date(this.options.clock().getTime() + 5 * 60_000) : expiresAt,
      catalog,
      ...(isRecord(body.project) && typeof body.project.id === 'string' ? { projectId: body.project.id } : {}),
    };
    this.cached = token;
    return token;
  }
}

/**
 * Where a service's paths start. Nova's catalog URL already names its version (…/v2.1 or
 * …/v2.1/<project>) and nova.ts appends /servers. Glance and Neutron are usually listed
 * unversioned (…:9292, …:9696) but some clouds list …/v2 or …/v2.0: the version is stripped here
 * so glance.ts and neutron.ts always write it themselves, and their relative pagination links
 * (Glance's "next": "/v2/images?marker=…") resolve against the same root.
 */
export function serviceRoot(service: ServiceType, url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  if (service === 'image') return trimmed.replace(/\/v2(\.\d+)?$/, '');
  if (service === 'network') return trimmed.replace(/\/v2\.0$/, '');
  return trimmed;
}

function withQuery(url: string, query: ServiceRequest['query']): string {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  if (!text) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${text}`;
}

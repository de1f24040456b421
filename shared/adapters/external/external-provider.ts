import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { ProviderError, ValidationError } from '../../domain/errors.ts';
import type {
  CatalogItem,
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
} from '../../ports/compute-provider.ts';
import { forbiddenReason } from '../webhooks/address-guard.ts';
import { isPrivateIp, parseEndpoint, type ParsedEndpoint } from './endpoint.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, probeParsed, type ProbeResult } from './probe.ts';
import type { ExternalRegistration as Registration, ExternalRegistrationRepository } from '../../ports/external-registration-repository.ts';
import { MemoryExternalRegistrationRepository } from '../memory/external-registration-repository.ts';
import { FileExternalRegistrationRepository } from './registration-store.ts';

export { probeEndpoint, type ProbeResult, type ProbeOptions } from './probe.ts';
export { parseEndpoint, type ParsedEndpoint } from './endpoint.ts';

export interface ExternalProviderOptions {
  /** Where registrations live: the table on every deployment (local runtime included). */
  registrations?: ExternalRegistrationRepository;
  /** Without a repository: a JSON file, replaced atomically (the pre-table local store); in memory without either. */
  stateFile?: string;
  /** How long one connectivity check may take. */
  probeTimeoutMs?: number;
  /** The fetch used for HTTP checks; the global one by default. */
  fetch?: typeof fetch;
  /**
   * Deployed stages: an endpoint that is, or resolves to, a loopback, private, link-local or
   * reserved address (the webhooks' address guard) is never probed — a tenant must not make a
   * function call its own runtime API or anything else inside. Unset (the local runtime), any
   * address is checked. `resolve` stands in for DNS in tests.
   */
  publicTargetsOnly?: { resolve?: (host: string) => Promise<LookupAddress[]> };
}

const systemResolve = (host: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** `ext-` and 10 hex digits, derived from the Hangar id so every retried launch agrees on it. */
export function externalProviderInstanceId(instanceId: string): string {
  return `ext-${createHash('sha256').update(instanceId).digest('hex').slice(0, 10)}`;
}

/**
 * EXTERNAL: an endpoint Hangar registers but does not create. Launch tests that the endpoint
 * answers and records it; describe checks it again; terminate forgets it and never touches the
 * endpoint. Start, stop and reboot are refused: Hangar does not manage the machine behind it.
 */
export class ExternalProvider implements ComputeProvider {
  readonly name = 'EXTERNAL' as const;
  private readonly registrations: ExternalRegistrationRepository;
  private readonly probeTimeoutMs: number;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly publicOnly: { resolve: (host: string) => Promise<LookupAddress[]> } | undefined;

  constructor(options: ExternalProviderOptions = {}) {
    this.registrations =
      options.registrations ?? (options.stateFile ? new FileExternalRegistrationRepository(options.stateFile) : new MemoryExternalRegistrationRepository());
    this.probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.fetchImpl = options.fetch;
    this.publicOnly = options.publicTargetsOnly ? { resolve: options.publicTargetsOnly.resolve ?? systemResolve } : undefined;
  }

  checkLaunchSpec(spec: LaunchSpec): void {
    const parsed = parseEndpoint(spec.endpoint, spec.healthPath);
    const refused = this.publicOnly && parsed.ip ? forbiddenReason(parsed.ip, { allowLoopback: false }) : undefined;
    if (refused) throw new ValidationError(`config.endpoint is not allowed here: ${refused}`, [{ path: 'config.endpoint', message: 'not a public address' }], 'ENDPOINT_NOT_ALLOWED');
  }

  /**
   * Test connectivity, then register. An unreachable endpoint is an 'invalid-request'
   * ProviderError ("Cannot reach <endpoint>: <why>") so the workflow fails at once instead of
   * retrying. Launching an instance id that is already registered returns that registration.
   */
  async launch(spec: LaunchSpec): Promise<Machine> {
    const parsed = parseEndpoint(spec.endpoint, spec.healthPath);
    const existing = await this.registrations.get(spec.instanceId);
    if (existing) return this.machineOf(this.checked(existing, spec));

    const probe = await this.probe(parsed);
    if (!probe.reachable) throw new ProviderError(`Cannot reach ${parsed.endpoint}: ${probe.reason}`, 'invalid-request');

    const registration: Registration = {
      instanceId: spec.instanceId,
      providerInstanceId: externalProviderInstanceId(spec.instanceId),
      endpoint: parsed.endpoint,
      ...(spec.healthPath !== undefined ? { healthPath: spec.healthPath } : {}),
      clientId: spec.clientId,
      name: spec.name,
      region: spec.region,
      tags: { ...spec.tags },
      registeredAt: probe.checkedAt,
    };
    // A concurrent launch of the same id may have registered first: the first one is kept.
    const registered = this.checked(await this.registrations.register(registration), spec);
    return this.machineOf(registered, probe);
  }

  /** Null when not registered; otherwise checked now: reachable is running, not is error. */
  async describe(ref: MachineRef): Promise<Machine | null> {
    const registration = await this.find(ref);
    if (!registration) return null;
    const probe = await this.probe(parseEndpoint(registration.endpoint, registration.healthPath));
    return this.machineOf(registration, probe);
  }

  /**
   * Every registration, reported as running without checking each endpoint: the list answers
   * "what does Hangar hold here" (reconciliation, compensation); describe() and probeEndpoint()
   * answer "is it reachable now".
   */
  async listOwned(): Promise<Machine[]> {
    return (await this.registrations.list()).map((registration) => this.machineOf(registration));
  }

  async start(ref: MachineRef): Promise<void> {
    throw await this.unmanaged('start', ref);
  }

  async stop(ref: MachineRef, _options?: { force?: boolean }): Promise<void> {
    throw await this.unmanaged('stop', ref);
  }

  async reboot(ref: MachineRef, _options?: { hard?: boolean }): Promise<void> {
    throw await this.unmanaged('reboot', ref);
  }

  /** Forget the registration; the endpoint itself is never contacted. Idempotent. */
  async terminate(ref: MachineRef): Promise<void> {
    const registration = await this.find(ref);
    if (registration) await this.registrations.remove(registration.instanceId);
  }

  /** There is no account to prove: each endpoint is tested when it is registered. */
  async testConnection(): Promise<void> {}

  /** EXTERNAL offers nothing to choose from. */
  async listCatalog(): Promise<CatalogItem[]> {
    return [];
  }

  /**
   * Check the endpoint now. Where only public targets are allowed, every address its host
   * resolves to is checked first, and a TCP check connects to the very address checked; an
   * HTTP check resolves again inside fetch, so a name whose DNS answer flips between the two
   * (rebinding) is the gap left.
   */
  private async probe(parsed: ParsedEndpoint): Promise<ProbeResult> {
    let target = parsed;
    if (this.publicOnly) {
      const checked = await this.publicAddress(parsed);
      if (typeof checked !== 'string') return checked;
      if (parsed.check === 'tcp') target = { ...parsed, host: checked };
    }
    return probeParsed(target, this.probeTimeoutMs, this.fetchImpl ? { fetch: this.fetchImpl } : {});
  }

  /** The address to connect to, or why the endpoint may not be checked, as an unreachable result. */
  private async publicAddress(parsed: ParsedEndpoint): Promise<string | ProbeResult> {
    const refused = (reason: string): ProbeResult => ({
      reachable: false,
      check: parsed.check,
      target: parsed.healthUrl,
      latencyMs: 0,
      checkedAt: new Date().toISOString(),
      reason: `not checked: ${reason}`,
    });
    let addresses: LookupAddress[];
    try {
      addresses = parsed.ip ? [{ address: parsed.ip, family: parsed.ip.includes(':') ? 6 : 4 }] : await this.publicOnly!.resolve(parsed.host);
    } catch (error) {
      return refused(`cannot resolve ${parsed.host} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (addresses.length === 0) return refused(`${parsed.host} has no address`);
    for (const { address } of addresses) {
      const reason = forbiddenReason(address, { allowLoopback: false });
      if (reason) return refused(parsed.ip ? reason : `${parsed.host} resolves to ${reason.replace(`${address} is`, `${address}, which is`)}`);
    }
    return addresses[0]!.address;
  }

  /** By the provider's id, which is what a MachineRef addresses (its instance id first: one read). */
  private async find(ref: MachineRef): Promise<Registration | undefined> {
    const byInstance = await this.registrations.get(ref.instanceId);
    if (byInstance?.providerInstanceId === ref.providerInstanceId) return byInstance;
    return (await this.registrations.list()).find((registration) => registration.providerInstanceId === ref.providerInstanceId);
  }

  /** The same instance id must mean the same endpoint; anything else is a mistake to surface. */
  private checked(registration: Registration, spec: LaunchSpec): Registration {
    if (registration.endpoint !== spec.endpoint || registration.healthPath !== spec.healthPath) {
      throw new ProviderError(
        `${spec.instanceId} is already registered for ${registration.endpoint}${registration.healthPath ? ` (health ${registration.healthPath})` : ''}; terminate it before registering another endpoint`,
        'invalid-request',
      );
    }
    return registration;
  }

  private async unmanaged(action: 'start' | 'stop' | 'reboot', ref: MachineRef): Promise<ProviderError> {
    const registration = await this.find(ref).catch(() => undefined);
    return new ProviderError(
      `EXTERNAL endpoints are not managed by Hangar: cannot ${action} ${registration?.endpoint ?? ref.providerInstanceId}`,
      'invalid-request',
    );
  }

  private machineOf(registration: Registration, probe?: ProbeResult): Machine {
    const parsed = parseEndpoint(registration.endpoint, registration.healthPath);
    const details: Record<string, string | number> = {
      endpoint: parsed.endpoint,
      healthUrl: parsed.healthUrl,
      check: parsed.check,
      host: parsed.host,
      registeredAt: registration.registeredAt,
    };
    if (probe) {
      details.checkedAt = probe.checkedAt;
      details.latencyMs = probe.latencyMs;
      if (probe.statusCode !== undefined) details.statusCode = probe.statusCode;
    }
    const reachable = probe?.reachable ?? true;
    return {
      providerInstanceId: registration.providerInstanceId,
      instanceId: registration.instanceId,
      state: reachable ? 'running' : 'error',
      ...(parsed.ip ? (isPrivateIp(parsed.ip) ? { privateIp: parsed.ip } : { publicIp: parsed.ip }) : {}),
      port: parsed.port,
      details,
      ...(reachable ? {} : { reason: `Cannot reach ${parsed.endpoint}: ${probe?.reason ?? 'no answer'}` }),
    };
  }
}

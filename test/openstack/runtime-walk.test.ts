import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, nova, novaServer, portIps, revokeToken, tokenValid, type Session } from '../../scripts/openstack/openstack-api.ts';
import { apiClient, REPO_ROOT, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';
import { loadFixtures } from './fixtures.ts';
import { type KeystoneProxy, startKeystoneProxy } from './keystone-proxy.ts';

const run = promisify(execFile);
const fixtures = loadFixtures();
const READY_MS = 180_000;
/** The token lifetime the Keystone proxy announces after the restart; the adapter renews 2 min early. */
const TOKEN_LIFETIME_MS = 130_000;
const TOKEN_FRESH_MS = TOKEN_LIFETIME_MS - 120_000;

/**
 * What a user does with a real OpenStack, from the local runtime, over the HTTP API and with the
 * `hangar` CLI: accounts (password and application credential), instances created by names,
 * stopped, started, rebooted and terminated, across a restart of the runtime, token renewals and
 * a token Keystone revoked. Nova and Neutron are asked directly whether what Hangar reports is
 * true.
 *
 * The accounts' authUrl is a pass-through proxy in front of the real Keystone (keystone-proxy.ts):
 * it lets the walk see the tokens the runtime gets, make them short-lived, and revoke one.
 */
describe('a real OpenStack through the local runtime, over HTTP and the CLI', () => {
  let admin: Session;
  let keystone: KeystoneProxy;
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;
  let apiKey = '';
  let clientId = '';
  const accounts = { password: '', applicationCredential: '' };
  /** The instances of the walk: A over HTTP, B with the CLI, C after the token revocation. */
  const ids = { a: '', b: '', c: '' };
  const creationJobs: string[] = [];
  /** A server made in Nova by hand with Hangar's mark, for an instance Hangar never recorded. */
  let handMade = '';

  const hangar = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['cli/bin.js', ...args, '--json'], {
        cwd: REPO_ROOT,
        env: { ...process.env, HANGAR_URL: runtime.url, HANGAR_API_KEY: apiKey, CI: '1' },
        timeout: READY_MS + 30_000,
      });
      return { code: 0, stdout, stderr, json: JSON.parse(stdout) };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      throw new Error(`hangar ${args.join(' ')} exited ${e.code}: ${e.stderr || e.stdout}`);
    }
  };

  async function until(id: string, status: string) {
    return waitFor(
      `${id} to be ${status}`,
      async () => {
        const { body } = await api('GET', `/api/instances/${id}`);
        if (body.instance?.status === 'ERROR') throw new Error(`${id} went to ERROR: ${body.instance.errorMessage}`);
        return body.instance?.status === status ? body.instance : undefined;
      },
      READY_MS,
    );
  }

  async function startRuntime(home?: string) {
    runtime = await startRuntimeProcess({
      ...(home ? { home } : {}),
      env: { HANGAR_WORKFLOW_WAIT_MS: '500' },
    });
    api = apiClient(runtime.url, apiKey || runtime.adminKey);
  }

  const passwordCredentials = (password = fixtures.user.password) => ({
    authUrl: `${keystone.url}/v3`,
    username: fixtures.user.username,
    password,
    userDomainName: 'Default',
    projectName: fixtures.user.projectName,
    projectDomainName: 'Default',
  });

  const createBody = (name: string, accountId: string) => ({
    name,
    type: 'vps',
    config: {
      provider: 'OPENSTACK',
      accountId,
      instanceType: fixtures.flavor,
      image: fixtures.image.name,
      networks: [fixtures.network.name],
      keyPair: fixtures.keyPair,
      securityGroups: ['default'],
      tags: { walk: 'real-cloud' },
    },
  });

  /** `hangar create instance` options naming flavor, image, network and key pair, waiting for READY. */
  const byNames = (accountId: string) => [
    ...['--provider', 'OPENSTACK', '--account', accountId, '--instance-type', fixtures.flavor],
    ...['--image', fixtures.image.name, '--network', fixtures.network.name, '--key-pair', fixtures.keyPair],
    ...['--wait', '--timeout', '180'],
  ];

  /** Sync jobs, once none of them is QUEUED or RUNNING any more. */
  async function finishedJobs(jobIds: string[]) {
    return waitFor(
      `sync jobs ${jobIds.join(', ')} to finish`,
      async () => {
        const jobs = await Promise.all(jobIds.map(async (id) => (await api('GET', `/api/sync-jobs/${id}`)).body.job));
        return jobs.every((job) => job.status === 'SUCCEEDED' || job.status === 'FAILED') ? jobs : undefined;
      },
      READY_MS,
    );
  }

  /** Wait out every sync of the client's accounts still running (the runtime's own, at start). */
  async function syncsSettled() {
    await waitFor(
      'the running syncs to finish',
      async () => {
        const { body } = await api('GET', '/api/sync-jobs?limit=100');
        return body.jobs.every((job: { status: string }) => job.status === 'SUCCEEDED' || job.status === 'FAILED') ? true : undefined;
      },
      READY_MS,
    );
  }

  async function reconcile(accountId: string) {
    await syncsSettled();
    const { status, body } = await api('POST', '/api/sync', { accountId, types: ['instances'] });
    expect(status).toBe(202);
    const [job] = await finishedJobs([body.jobs[0].id]);
    expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
    return job;
  }

  /** The instance's private IP is the fixed IP Neutron gave its port, in the fixture subnet. */
  async function expectNeutronIp(instance: { privateIp?: string; providerInstanceId: string }) {
    const ips = await portIps(admin, instance.providerInstanceId);
    expect(ips).toHaveLength(1);
    expect(instance.privateIp).toBe(ips[0]);
    expect(instance.privateIp).toMatch(/^10\.42\.0\.\d+$/);
  }

  async function novaStatus(providerInstanceId: string): Promise<string | undefined> {
    return (await novaServer(admin, providerInstanceId))?.status;
  }

  /**
   * Terminate and watch both sides: each round reads the record, then Nova. Were the record
   * TERMINATED while Nova still had the server, a round would see both.
   */
  async function terminateWatchingNova(id: string, terminate: () => Promise<unknown>) {
    const { body } = await api('GET', `/api/instances/${id}`);
    const serverId: string = body.instance.providerInstanceId;
    const done = terminate();
    const seen: string[] = [];
    const deadline = Date.now() + READY_MS;
    for (;;) {
      const record = (await api('GET', `/api/instances/${id}`)).body.instance;
      const server = await novaServer(admin, serverId);
      const nova = server ? `${server.status}${server['OS-EXT-STS:task_state'] ? `(${server['OS-EXT-STS:task_state']})` : ''}` : 'gone';
      const round = `${record.status}/${nova}`;
      if (seen.at(-1) !== round) seen.push(round);
      if (record.status === 'TERMINATED') {
        expect(server, `TERMINATED while Nova still had the server: ${seen.join(' → ')}`).toBeNull();
        break;
      }
      if (record.status === 'ERROR') throw new Error(`terminate failed: ${record.errorMessage}`);
      if (Date.now() > deadline) throw new Error(`not TERMINATED in time: ${seen.join(' → ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await done;
    expect(await portIps(admin, serverId)).toEqual([]);
    return seen;
  }

  beforeAll(async () => {
    admin = await login(fixtures.admin, fixtures.region);
    keystone = await startKeystoneProxy(fixtures.authUrl.replace(/\/v3\/?$/, ''));
    await startRuntime();
    // No grace period: the walk sees a ghost closed without waiting half an hour.
    const client = await api('POST', '/api/clients', { name: `Real Cloud Customer ${Date.now()}`, reconcilePolicy: { graceMinutes: 0 } });
    clientId = client.body.client.id;
    const key = await api('POST', `/api/clients/${clientId}/api-keys`, { name: 'cloud admin', role: 'admin' });
    apiKey = key.body.apiKey.key;
    api = apiClient(runtime.url, apiKey);
  });

  afterAll(async () => {
    await runtime?.stop();
    // Whatever a failed step left behind: every server this run's client owns.
    if (admin && clientId) {
      const listed = await nova(admin, 'GET', `/servers/detail?all_tenants=1&project_id=${fixtures.project.id}`);
      for (const server of (listed.body?.servers ?? []) as Array<{ id: string; metadata: Record<string, string> }>) {
        if (server.metadata['hangar:client'] === clientId) await nova(admin, 'DELETE', `/servers/${server.id}`);
      }
    }
    await keystone?.close();
  });

  it('refuses an account whose password Keystone rejects: a 400 that says Keystone refused it', async () => {
    const refused = await api('POST', '/api/accounts', {
      provider: 'OPENSTACK',
      name: 'wrong-password',
      region: fixtures.region,
      credentials: passwordCredentials('not-the-password'),
    });

    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('CONNECTION_FAILED');
    expect(refused.body.error).toBe(`Cannot connect to OpenStack at ${keystone.url}/v3: 401 Unauthorized (Keystone refused the credentials)`);
    expect(keystone.issued.at(-1)).toMatchObject({ method: 'password', status: 401 });
  });

  it('registers accounts with a password and with an application credential, and keeps their secrets', async () => {
    const password = await api('POST', '/api/accounts', {
      provider: 'OPENSTACK',
      name: 'lab-password',
      region: fixtures.region,
      credentials: passwordCredentials(),
    });
    const applicationCredential = await api('POST', '/api/accounts', {
      provider: 'OPENSTACK',
      name: 'lab-appcred',
      region: fixtures.region,
      credentials: {
        authUrl: `${keystone.url}/v3`,
        applicationCredentialId: fixtures.applicationCredential.id,
        applicationCredentialSecret: fixtures.applicationCredential.secret,
      },
    });

    expect(password.status).toBe(201);
    expect(applicationCredential.status).toBe(201);
    // A new account syncs at once: one job per resource type.
    expect(password.body.syncJobs.map((job: { resourceType: string }) => job.resourceType)).toEqual([
      'flavors',
      'images',
      'networks',
      'subnets',
      'securityGroups',
      'keyPairs',
      'instances',
    ]);
    creationJobs.push(...password.body.syncJobs.map((job: { id: string }) => job.id));
    accounts.password = password.body.account.id;
    accounts.applicationCredential = applicationCredential.body.account.id;
    const retest = await api('POST', `/api/accounts/${accounts.applicationCredential}/test`);
    expect(retest.body.test).toEqual({ ok: true, message: 'Connected' });
    const shown = JSON.stringify([password.body, applicationCredential.body, (await api('GET', '/api/accounts')).body]);
    expect(shown).not.toContain(fixtures.user.password);
    expect(shown).not.toContain(fixtures.applicationCredential.secret);
    expect(keystone.issued.filter((token) => token.status === 201).map((token) => token.method)).toEqual(
      expect.arrayContaining(['password', 'application_credential']),
    );
  });

  it("syncs the account's catalog into the table, and an unchanged second sync writes nothing", async () => {
    const first = await finishedJobs(creationJobs);
    for (const job of first) expect(job.status, `${job.resourceType}: ${job.errors}`).toBe('SUCCEEDED');
    const catalogJobs = first.filter((job) => job.resourceType !== 'instances');
    for (const job of catalogJobs) expect(job.created, job.resourceType).toBeGreaterThan(0);

    const read = async (segment: string) => {
      const { status, body } = await api('GET', `/api/catalog/${segment}?accountId=${accounts.password}&limit=1000`);
      expect(status).toBe(200);
      expect(body.source).toBe('synced');
      return body;
    };
    const flavors = (await read('flavors')).flavors;
    expect(flavors.find((f: { name: string }) => f.name === fixtures.flavor)).toMatchObject({ attributes: { vcpus: 1, extraSpecs: expect.any(Object) } });
    expect((await read('images')).images.map((i: { id: string }) => i.id)).toContain(fixtures.image.id);
    expect((await read('networks')).networks.map((n: { name: string }) => n.name)).toContain(fixtures.network.name);
    expect((await read('subnets')).subnets.find((n: { id: string }) => n.id === fixtures.subnet.id)).toMatchObject({ attributes: { cidr: fixtures.subnet.cidr } });
    expect((await read('key-pairs')).keyPairs.map((k: { name: string }) => k.name)).toContain(fixtures.keyPair);
    expect((await read('security-groups')).securityGroups.map((g: { name: string }) => g.name)).toContain('default');
    // What the first sync counted as created is what the catalog now holds.
    const segments: Record<string, string> = { securityGroups: 'security-groups', keyPairs: 'key-pairs' };
    for (const job of catalogJobs) expect((await read(segments[job.resourceType] ?? job.resourceType)).count, job.resourceType).toBe(job.created);

    const again = await hangar('sync', '--account', accounts.password, '--types', 'flavors,images,networks,subnets,securityGroups,keyPairs', '--wait');
    expect(again.json.jobs).toHaveLength(6);
    for (const job of again.json.jobs) {
      expect(job, job.resourceType).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, deleted: 0, unchanged: expect.any(Number) });
    }
  });

  it('creates an instance by flavor, image and network names over HTTP; READY with the IP Neutron gave its port', async () => {
    const created = await api('POST', '/api/instances', createBody('walk-http', accounts.password), { 'Idempotency-Key': `walk-http-${clientId}` });
    expect(created.status).toBe(202);
    ids.a = created.body.instance.id;

    const ready = await until(ids.a, 'READY');

    expect(ready.providerInstanceId).toMatch(/^[0-9a-f-]{36}$/);
    await expectNeutronIp(ready);
    const server = await novaServer(admin, ready.providerInstanceId);
    expect(server).toMatchObject({ status: 'ACTIVE', name: 'walk-http', key_name: fixtures.keyPair });
    expect(server?.metadata).toMatchObject({ 'hangar:instance-id': ids.a, 'hangar:client': clientId, walk: 'real-cloud' });
  });

  it('stops it (Nova SHUTOFF), starts it and reboots it over HTTP', async () => {
    const serverId = (await api('GET', `/api/instances/${ids.a}`)).body.instance.providerInstanceId;

    expect((await api('POST', `/api/instances/${ids.a}/stop`)).status).toBe(202);
    await until(ids.a, 'STOPPED');
    expect(await novaStatus(serverId)).toBe('SHUTOFF');
    expect((await api('POST', `/api/instances/${ids.a}/start`)).status).toBe(202);
    await until(ids.a, 'READY');
    expect(await novaStatus(serverId)).toBe('ACTIVE');
    expect((await api('POST', `/api/instances/${ids.a}/reboot`, { hard: true })).status).toBe(202);
    const back = await until(ids.a, 'READY');

    expect(await novaStatus(serverId)).toBe('ACTIVE');
    await expectNeutronIp(back);
    const path = (await api('GET', `/api/instances/${ids.a}/events`)).body.events.map((event: { toStatus?: string }) => event.toStatus);
    expect(path).toEqual(expect.arrayContaining(['STOPPING', 'STOPPED', 'STARTING', 'REBOOTING', 'READY']));
  });

  it('does the same with the CLI on an application-credential account: create --wait, stop, start, reboot', async () => {
    const created = await hangar('create', 'instance', 'walk-cli', 'vps', ...byNames(accounts.applicationCredential), '--security-group', 'default');
    const ready = created.json.instance;
    ids.b = ready.id;
    expect(ready.status).toBe('READY');
    await expectNeutronIp(ready);

    const stopped = await hangar('stop', 'instance', ids.b, '--wait', '--timeout', '180');
    expect(stopped.json.instance.status).toBe('STOPPED');
    expect(await novaStatus(ready.providerInstanceId)).toBe('SHUTOFF');
    const started = await hangar('start', 'instance', ids.b, '--wait', '--timeout', '180');
    expect(started.json.instance.status).toBe('READY');
    expect(await novaStatus(ready.providerInstanceId)).toBe('ACTIVE');
    const rebooted = await hangar('reboot', 'instance', ids.b, '--wait', '--timeout', '180');
    expect(rebooted.json.instance.status).toBe('READY');
    const status = await hangar('instance', 'status', ids.b);
    expect(status.json.instance).toMatchObject({ status: 'READY', providerInstanceId: ready.providerInstanceId, privateIp: ready.privateIp });
  });

  it('keeps operating both instances after a restart of the runtime', async () => {
    const home = runtime.home;
    const servers = await Promise.all([ids.a, ids.b].map(async (id) => (await api('GET', `/api/instances/${id}`)).body.instance.providerInstanceId));
    expect(await runtime.stop()).toBe(0);
    // The runtime stops only its LOCAL machines on the way down: the Nova servers run on.
    for (const serverId of servers) expect(await novaStatus(serverId)).toBe('ACTIVE');
    // From here on tokens announce a 130 s lifetime: the runtime must renew each after 10 s
    // (it renews 2 minutes before expiry), as it would a short-lived token (see the next test).
    keystone.announceLifetime(TOKEN_LIFETIME_MS);
    const restartedAt = Date.now();

    await startRuntime(home);

    for (const id of [ids.a, ids.b]) expect((await api('GET', `/api/instances/${id}`)).body.instance.status).toBe('READY');
    expect((await api('POST', `/api/instances/${ids.a}/reboot`)).status).toBe(202);
    const a = await until(ids.a, 'READY');
    expect(await novaStatus(a.providerInstanceId)).toBe('ACTIVE');
    const b = await hangar('stop', 'instance', ids.b, '--wait', '--timeout', '180');
    expect(b.json.instance.status).toBe('STOPPED');
    expect(await novaStatus(b.json.instance.providerInstanceId)).toBe('SHUTOFF');
    // A new process, new tokens: the restarted runtime authenticated again.
    expect(keystone.issued.some((token) => token.method === 'password' && token.status === 201 && token.at >= restartedAt)).toBe(true);
  });

  it('renews a token before it expires, and carries on when Keystone has revoked the new one', async () => {
    const passwordTokens = () => keystone.issued.filter((token) => token.method === 'password' && token.status === 201);
    const held = passwordTokens().at(-1);
    // Let the token the runtime holds come due for renewal, then make the renewed token dead on
    // arrival: revoked at Keystone before the runtime gets it, so every service refuses it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (held?.at ?? 0) + TOKEN_FRESH_MS + 2000 - Date.now())));
    keystone.revokeNext('password', (token) => revokeToken(admin, token));
    const armedAt = Date.now();

    const stopped = await hangar('stop', 'instance', ids.a, '--wait', '--timeout', '180');

    expect(stopped.json.instance.status).toBe('STOPPED');
    const [dead, ...renewed] = passwordTokens().filter((token) => token.at >= armedAt);
    expect(dead?.revoked, JSON.stringify(keystone.issued.map(({ token, ...rest }) => rest))).toBe(true);
    expect(await tokenValid(admin, dead?.token ?? '')).toBe(false);
    expect(renewed.length).toBeGreaterThanOrEqual(1);
    // Renewed before the dead token was itself due: because a service refused it (401).
    expect((renewed[0]?.at ?? Infinity) - (dead?.at ?? 0)).toBeLessThan(TOKEN_FRESH_MS);
    expect(await tokenValid(admin, renewed.at(-1)?.token ?? '')).toBe(true);
    // And goes on: a new instance by names, through Nova, Glance and Neutron.
    const created = await hangar('create', 'instance', 'walk-renewed', 'vps', ...byNames(accounts.password));
    ids.c = created.json.instance.id;
    expect(created.json.instance.status).toBe('READY');
    await expectNeutronIp(created.json.instance);
  });

  it("finds a server deleted by hand in Nova (a ghost) and one made by hand with Hangar's mark (an orphan)", async () => {
    const ghost = (await api('GET', `/api/instances/${ids.c}`)).body.instance;
    expect((await nova(admin, 'DELETE', `/servers/${ghost.providerInstanceId}`)).status).toBe(204);
    await waitFor('Nova to delete the server', async () => (((await novaStatus(ghost.providerInstanceId)) ?? 'DELETED') === 'DELETED' ? true : undefined), READY_MS);

    const tenant = await login(fixtures.user, fixtures.region);
    const flavor = (await nova(tenant, 'GET', '/flavors')).body.flavors.find((f: { name: string }) => f.name === fixtures.flavor);
    const made = await nova(tenant, 'POST', '/servers', {
      server: {
        name: 'made-by-hand',
        flavorRef: flavor.id,
        imageRef: fixtures.image.id,
        networks: [{ uuid: fixtures.network.id }],
        metadata: { 'hangar:instance-id': 'vps-never-recorded-x1y2z3', 'hangar:client': clientId },
      },
    });
    expect(made.status).toBe(202);
    handMade = made.body.server.id;

    const first = await reconcile(accounts.password);
    // Full listings ran before (the account's first sync, the runtime's start): Nova is asked for changes only.
    expect(first.incremental).toBe(true);
    expect(first.findings).toContainEqual(
      expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: ids.c, providerInstanceId: ghost.providerInstanceId }),
    );
    expect(first.findings).toContainEqual(
      expect.objectContaining({ kind: 'orphan', outcome: 'reported', providerInstanceId: handMade, instanceId: 'vps-never-recorded-x1y2z3', clientId }),
    );
    expect((await api('GET', `/api/instances/${ids.c}`)).body.instance.status).toBe('READY');

    const second = await reconcile(accounts.password);
    expect(second.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'marked-terminated', instanceId: ids.c }));
    // The client's policy reports orphans: the hand-made server is reported again, and left alone.
    expect(second.findings).toContainEqual(expect.objectContaining({ kind: 'orphan', outcome: 'reported', providerInstanceId: handMade }));
    expect(await novaStatus(handMade)).toBeDefined();
    expect((await api('GET', `/api/instances/${ids.c}`)).body.instance.status).toBe('TERMINATED');
    const events = (await api('GET', `/api/instances/${ids.c}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(events).toContain('reconcile.ghost-found');
  });

  it('terminates: Nova has deleted each server before its record says TERMINATED', async () => {
    const http = await terminateWatchingNova(ids.a, () => api('DELETE', `/api/instances/${ids.a}`));
    const cli = await terminateWatchingNova(ids.b, () => hangar('delete', 'instance', ids.b, '--wait', '--timeout', '180'));

    expect(http.at(-1)).toBe('TERMINATED/gone');
    expect(cli.at(-1)).toBe('TERMINATED/gone');
    // C was closed by reconciliation above: its server had been deleted by hand.
    for (const id of [ids.a, ids.b, ids.c]) {
      const { instance } = (await api('GET', `/api/instances/${id}`)).body;
      expect(instance.status).toBe('TERMINATED');
      expect(instance.terminatedAt).toEqual(expect.any(String));
    }
    const listed = await nova(admin, 'GET', `/servers/detail?all_tenants=1&project_id=${fixtures.project.id}`);
    const ours = (listed.body.servers as Array<{ name: string; metadata: Record<string, string> }>).filter(
      (server) => server.metadata['hangar:client'] === clientId,
    );
    // Only the orphan made by hand is left: Hangar reports it and, under this policy, never releases it.
    expect(ours.map((server) => server.name)).toEqual(['made-by-hand']);
  });
});

/**
 * Readies the real OpenStack for `npm run test:openstack`:
 *   1. Keystone answering on the auth URL, else `../shared/openstack/up.sh` is run (needs root);
 *   2. fixtures created through the OpenStack APIs, idempotently: a project and a member user
 *      of it, an image in Glance (a few bytes: the fake hypervisor boots anything), a network
 *      and subnet in Neutron, a key pair in Nova, an application credential, roomy quotas;
 *   3. their names and ids written to a JSON file the real-cloud tests read.
 *
 * Run on its own: `npx tsx scripts/openstack/prepare.ts` (prints the fixtures).
 * Environment: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_REGION_NAME (the
 * cloud's admin; defaults are up.sh's), OPENSTACK_HOME (where up.sh keeps the cloud),
 * HANGAR_OPENSTACK_UP (another up.sh), HANGAR_OPENSTACK_FIXTURES (where the JSON goes).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Answer,
  call,
  expectStatus,
  glance,
  keystone,
  login,
  neutron,
  nova,
  type PasswordAuth,
  type Session,
} from './openstack-api.ts';

export interface OpenStackFixtures {
  authUrl: string;
  region: string;
  admin: PasswordAuth;
  /** A member (not admin) of the test project: what a tenant would register. */
  user: PasswordAuth & { id: string };
  project: { id: string; name: string };
  applicationCredential: { id: string; name: string; secret: string };
  flavor: string;
  image: { id: string; name: string };
  network: { id: string; name: string };
  subnet: { id: string; name: string; cidr: string };
  keyPair: string;
  preparedAt: string;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const NAMES = {
  project: 'hangar-e2e',
  user: 'hangar-e2e',
  password: 'hangar-e2e-password',
  image: 'hangar-e2e-image',
  network: 'hangar-e2e-net',
  subnet: 'hangar-e2e-subnet',
  cidr: '10.42.0.0/24',
  keyPair: 'hangar-e2e-key',
  applicationCredential: 'hangar-e2e-appcred',
  flavor: 'm1.tiny',
};

export function openStackHome(): string {
  return process.env.OPENSTACK_HOME ?? join(process.env.TMPDIR ?? tmpdir(), 'hangar-openstack');
}

export function fixturesPath(): string {
  return process.env.HANGAR_OPENSTACK_FIXTURES ?? join(openStackHome(), 'hangar-fixtures.json');
}

function adminAuth(): PasswordAuth {
  return {
    authUrl: process.env.OS_AUTH_URL ?? 'http://127.0.0.1:5000/v3',
    username: process.env.OS_USERNAME ?? 'admin',
    password: process.env.OS_PASSWORD ?? 'secret',
    projectName: process.env.OS_PROJECT_NAME ?? 'admin',
    userDomainName: process.env.OS_USER_DOMAIN_NAME ?? 'Default',
    projectDomainName: process.env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
  };
}

async function keystoneAnswers(authUrl: string): Promise<boolean> {
  return call('GET', authUrl).then(
    (answer) => answer.status < 500,
    () => false,
  );
}

/** Keystone answering, or up.sh run to make it so. */
export async function ensureCloud(log: (line: string) => void = console.log): Promise<void> {
  const { authUrl } = adminAuth();
  if (await keystoneAnswers(authUrl)) return;
  const upScript = process.env.HANGAR_OPENSTACK_UP ?? resolve(REPO_ROOT, '../shared/openstack/up.sh');
  if (!existsSync(upScript)) {
    throw new Error(`No OpenStack answers at ${authUrl} and ${upScript} does not exist to start one (set HANGAR_OPENSTACK_UP)`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      `No OpenStack answers at ${authUrl}, and starting one needs root (it installs packages and runs daemons).\n` +
        `Start it once as root — sudo bash ${upScript} — or run npm run test:openstack as root.`,
    );
  }
  log(`No OpenStack at ${authUrl}: starting one with ${upScript} (first run ~6 min, ~2 GiB of memory)…`);
  await new Promise<void>((done, fail) => {
    const child = spawn('bash', [upScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(`  ${line}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${upScript} failed with exit code ${code}`))));
  });
  if (!(await keystoneAnswers(authUrl))) throw new Error(`${upScript} finished but Keystone does not answer at ${authUrl}`);
}

/** Wait until every service in the catalog answers (up.sh may still be starting them). */
async function waitForServices(admin: Session): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (const url of [admin.endpoints.compute, admin.endpoints.image, admin.endpoints.network]) {
    for (;;) {
      const up = await call('GET', url, { token: admin.token }).then(
        (answer) => answer.status < 500,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`${url} does not answer; is the cloud still starting? (see /tmp/openstack-up.log)`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

type Item = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function findOne(listing: Promise<Answer>, key: string, what: string): Promise<Item | undefined> {
  return (expectStatus(await listing, `list ${what}`, 200).body[key] as Item[])[0];
}

/** The first item a listing answers, else the one `create` makes (found under `key`). */
async function findOrCreate(listing: Promise<Answer>, plural: string, key: string, create: () => Promise<Answer>): Promise<Item> {
  return (await findOne(listing, plural, plural)) ?? (expectStatus(await create(), `create ${key}`, 201).body[key] as Item);
}

async function ensureProjectAndUser(admin: Session): Promise<{ projectId: string; userId: string }> {
  const project = await findOrCreate(keystone(admin, 'GET', `/projects?name=${NAMES.project}&domain_id=default`), 'projects', 'project', () =>
    keystone(admin, 'POST', '/projects', { project: { name: NAMES.project, domain_id: 'default', description: 'Hangar real-cloud tests' } }),
  );
  const user = await findOrCreate(keystone(admin, 'GET', `/users?name=${NAMES.user}&domain_id=default`), 'users', 'user', () =>
    keystone(admin, 'POST', '/users', {
      user: { name: NAMES.user, password: NAMES.password, domain_id: 'default', default_project_id: project.id },
    }),
  );
  const role = await findOne(keystone(admin, 'GET', '/roles?name=member'), 'roles', 'roles');
  if (!role) throw new Error("Keystone has no 'member' role");
  expectStatus(await keystone(admin, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${role.id}`), 'grant member', 204);
  // Room for the suites' servers running side by side.
  expectStatus(
    await nova(admin, 'PUT', `/os-quota-sets/${project.id}`, { quota_set: { instances: 40, cores: 80, ram: 40 * 2048 } }),
    'raise quotas',
    200,
  );
  return { projectId: project.id, userId: user.id };
}

async function ensureImage(admin: Session): Promise<{ id: string; name: string }> {
  const images = expectStatus(await glance(admin, 'GET', `/v2/images?name=${NAMES.image}`), 'list images', 200).body.images as Array<{
    id: string;
    status: string;
  }>;
  const active = images.find((image) => image.status === 'active');
  if (active) return { id: active.id, name: NAMES.image };
  // An upload that broke off earlier leaves a queued image with the same name: clear it away.
  for (const image of images) await glance(admin, 'DELETE', `/v2/images/${image.id}`);
  const created = expectStatus(
    await glance(admin, 'POST', '/v2/images', {
      name: NAMES.image,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    }),
    'create image',
    201,
  ).body;
  expectStatus(
    await call('PUT', `${admin.endpoints.image}/v2/images/${created.id}/file`, { token: admin.token, raw: Buffer.from('hangar-e2e-disk') }),
    'upload image',
    204,
  );
  for (let i = 0; i < 60; i += 1) {
    const image = expectStatus(await glance(admin, 'GET', `/v2/images/${created.id}`), 'read image', 200).body;
    if (image.status === 'active') return { id: created.id, name: NAMES.image };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Glance image ${created.id} never became active`);
}

async function ensureNetwork(admin: Session, projectId: string) {
  const network = await findOrCreate(
    neutron(admin, 'GET', `/v2.0/networks?name=${NAMES.network}&project_id=${projectId}`),
    'networks',
    'network',
    () => neutron(admin, 'POST', '/v2.0/networks', { network: { name: NAMES.network, project_id: projectId } }),
  );
  const subnet = await findOrCreate(
    neutron(admin, 'GET', `/v2.0/subnets?network_id=${network.id}&name=${NAMES.subnet}`),
    'subnets',
    'subnet',
    () =>
      neutron(admin, 'POST', '/v2.0/subnets', {
        subnet: { name: NAMES.subnet, network_id: network.id, project_id: projectId, ip_version: 4, cidr: NAMES.cidr },
      }),
  );
  return {
    network: { id: network.id as string, name: NAMES.network },
    subnet: { id: subnet.id as string, name: NAMES.subnet, cidr: subnet.cidr as string },
  };
}

/** An OpenSSH ed25519 public key line, made here so no ssh-keygen is needed. */
function sshPublicKey(comment: string): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

async function ensureKeyPair(user: Session): Promise<string> {
  const existing = await nova(user, 'GET', `/os-keypairs/${NAMES.keyPair}`);
  if (existing.status === 200) return NAMES.keyPair;
  expectStatus(existing, 'read key pair', 404);
  expectStatus(
    await nova(user, 'POST', '/os-keypairs', { keypair: { name: NAMES.keyPair, public_key: sshPublicKey(NAMES.keyPair) } }),
    'create key pair',
    200,
    201,
  );
  return NAMES.keyPair;
}

/** A fresh application credential each run: Keystone shows a secret only when it is created. */
async function ensureApplicationCredential(user: Session) {
  const path = `/users/${user.userId}/application_credentials`;
  const existing = await findOne(keystone(user, 'GET', `${path}?name=${NAMES.applicationCredential}`), 'application_credentials', 'application credentials');
  if (existing) expectStatus(await keystone(user, 'DELETE', `${path}/${existing.id}`), 'delete application credential', 204);
  const secret = randomBytes(24).toString('base64url');
  const created = expectStatus(
    await keystone(user, 'POST', path, {
      application_credential: { name: NAMES.applicationCredential, secret, description: 'Hangar real-cloud tests' },
    }),
    'create application credential',
    201,
  ).body.application_credential;
  return { id: created.id as string, name: NAMES.applicationCredential, secret };
}

export async function prepareOpenStack(log: (line: string) => void = console.log): Promise<OpenStackFixtures> {
  await ensureCloud(log);
  const auth = adminAuth();
  const region = process.env.OS_REGION_NAME ?? 'RegionOne';
  const admin = await login(auth, region);
  await waitForServices(admin);
  const { projectId, userId } = await ensureProjectAndUser(admin);
  const userAuth: PasswordAuth = { authUrl: auth.authUrl, username: NAMES.user, password: NAMES.password, projectName: NAMES.project };
  const user = await login(userAuth, region);
  const flavors = expectStatus(await nova(admin, 'GET', '/flavors'), 'list flavors', 200).body.flavors as Array<{ name: string }>;
  if (!flavors.some((flavor) => flavor.name === NAMES.flavor)) throw new Error(`Nova has no flavor ${NAMES.flavor} (up.sh creates it)`);
  const [image, { network, subnet }, keyPair, applicationCredential] = await Promise.all([
    ensureImage(admin),
    ensureNetwork(admin, projectId),
    ensureKeyPair(user),
    ensureApplicationCredential(user),
  ]);
  const fixtures: OpenStackFixtures = {
    authUrl: auth.authUrl,
    region,
    admin: auth,
    user: { ...userAuth, userDomainName: 'Default', projectDomainName: 'Default', id: userId },
    project: { id: projectId, name: NAMES.project },
    applicationCredential,
    flavor: NAMES.flavor,
    image,
    network,
    subnet,
    keyPair,
    preparedAt: new Date().toISOString(),
  };
  const path = fixturesPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(fixtures, null, 2)}\n`, { mode: 0o600 });
  return fixtures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  prepareOpenStack()
    .then((fixtures) => console.log(`${JSON.stringify(fixtures, null, 2)}\n(written to ${fixturesPath()})`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}

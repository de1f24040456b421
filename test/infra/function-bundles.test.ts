/**
 * What each Lambda function reads at a cold start, built exactly as the CDK app builds it: only
 * the SDK clients it calls on most invocations, no ElectroDB (it loads with the first write or
 * query that needs an entity), no zod (it loads with the first validation), and, for the liveness
 * function, no SDK client.
 * Whatever loads on first use sits in chunks beside the entry. Timings are the bench's business
 * (npm run bench); this checks what is in the files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesReadAtStart, functionBundleOptions, functionEntries, packagesIn } from '../../infra/constructs/function-bundle.ts';

/** The SDK clients each function reads at start; every other client must load on first use. */
const CLIENTS_AT_START: Record<string, string[]> = {
  'functions/api/public.ts': [],
  'functions/stream/route-events.ts': ['apigatewaymanagementapi', 'dynamodb', 'eventbridge', 'sqs'],
  'functions/webhooks/deliver.ts': ['dynamodb', 'kms'],
};
const DEFAULT_CLIENTS = ['dynamodb'];

const outdir = mkdtempSync(join(tmpdir(), 'hangar-bundles-'));
const bundles = new Map<string, { metafile: Metafile; atStart: string[]; onUse: string[] }>();

beforeAll(async () => {
  await Promise.all(
    functionEntries().map(async (entry) => {
      const { metafile } = await build(functionBundleOptions(entry, join(outdir, entry.replace(/[/.]/g, '_'))));
      bundles.set(entry, { metafile: metafile!, ...filesReadAtStart(metafile!) });
    }),
  );
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const clientsOf = (packages: string[]) => packages.filter((name) => name.startsWith('@aws-sdk/client-')).map((name) => name.slice('@aws-sdk/client-'.length));

describe('function bundles', () => {
  it('cover every function under functions/', () => {
    expect([...bundles.keys()].sort()).toEqual(functionEntries());
    expect(bundles.size).toBe(16);
  });

  it('read at start only the SDK clients their function calls on most invocations', () => {
    for (const [entry, { metafile, atStart }] of bundles) {
      expect({ entry, clients: clientsOf(packagesIn(metafile, atStart)) }).toEqual({ entry, clients: CLIENTS_AT_START[entry] ?? DEFAULT_CLIENTS });
    }
  });

  it('leave ElectroDB, zod, the cloud SDKs and Powertools idempotency to chunks loaded on first use', () => {
    const deferred = ['electrodb', 'jsonschema', 'zod', '@aws-sdk/client-ec2', '@azure/arm-compute', '@aws-lambda-powertools/idempotency'];
    for (const [entry, { metafile, atStart }] of bundles) {
      expect({ entry, atStart: packagesIn(metafile, atStart).filter((name) => deferred.includes(name)) }).toEqual({ entry, atStart: [] });
    }
    const instances = bundles.get('functions/api/instances.ts')!;
    expect(packagesIn(instances.metafile, instances.onUse)).toEqual(expect.arrayContaining(['electrodb', 'zod', '@aws-sdk/client-ec2', '@aws-lambda-powertools/idempotency']));
  });

  it('load zod with its English messages only, never its other locales', () => {
    for (const [entry, { metafile, onUse }] of bundles) {
      const locales = onUse.flatMap((file) => Object.keys(metafile.outputs[file]!.inputs)).filter((input) => input.includes('node_modules/zod/') && input.includes('/locales/'));
      expect({ entry, locales: locales.filter((input) => !input.endsWith('/en.js')) }).toEqual({ entry, locales: [] });
    }
  });
});

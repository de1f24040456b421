/** `npm run bench`: prints Hangar's performance figures. A benchmark, not a test: nothing here fails. */
import { bundleFigures } from './bundles.ts';
import { syncPathFigures } from './sync-path.ts';

await bundleFigures();
await (await import('./data-path.ts')).dataPathFigures();
await (await import('./event-delay.ts')).eventDelayFigures();
await (await import('./webhook-delay.ts')).webhookDelayFigures();
await (await import('./background-passes.ts')).backgroundPassFigures();
await (await import('./provisioning.ts')).provisioningFigures();
await syncPathFigures();

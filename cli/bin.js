#!/usr/bin/env node
// The `hangar` executable: no build step. tsx compiles the TypeScript sources on the fly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
await main();

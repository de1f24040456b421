import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../domain/errors.ts';

/** How to run one LOCAL image: a program plus the arguments that precede Hangar's own. */
export interface LocalImage {
  name: string;
  /** Other names clients may use for the same image (e.g. registry-style names). */
  aliases: readonly string[];
  description: string;
  command: string;
  args: readonly string[];
  /** Path answered with 200 once the workload is ready. */
  healthPath: string;
}

export const DEFAULT_LOCAL_IMAGE = 'http-workload';

/** The one table of LOCAL images; add an entry here to offer another workload. */
const LOCAL_IMAGES: readonly LocalImage[] = [
  {
    name: DEFAULT_LOCAL_IMAGE,
    aliases: ['hangar/http-workload'],
    description: 'A small HTTP service (GET /health, GET /) run by the same Node.js as Hangar',
    // The running Node binary: always present, and no PATH lookup for the child to get wrong.
    command: process.execPath,
    args: [fileURLToPath(new URL('./workloads/http-workload.mjs', import.meta.url))],
    healthPath: '/health',
  },
];

export function listLocalImages(): readonly LocalImage[] {
  return LOCAL_IMAGES;
}

/** The image for `name` (the default when absent); an unknown name is the caller's mistake. */
export function resolveLocalImage(name?: string): LocalImage {
  const wanted = name?.trim() || DEFAULT_LOCAL_IMAGE;
  const image = LOCAL_IMAGES.find((candidate) => candidate.name === wanted || candidate.aliases.includes(wanted));
  if (!image) {
    const available = LOCAL_IMAGES.map((candidate) => candidate.name).join(', ');
    throw new ValidationError(`Unknown LOCAL image '${wanted}'; available: ${available}`, [
      { path: 'config.image', message: `must be one of: ${available}` },
    ]);
  }
  return image;
}

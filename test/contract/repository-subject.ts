import { afterAll, beforeAll } from 'vitest';

/** What a repository contract runs against: one adapter, and how to clean up after it. */
export interface RepositorySubject<R> {
  repo: R;
  cleanup: () => Promise<void>;
}

/**
 * Registers the suite's setup and teardown. `repo` forwards each call to the repository the
 * subject made in beforeAll, so a contract reads `repo.save(…)` as if it held it directly.
 */
export function repositoryUnderTest<S extends RepositorySubject<object>>(makeSubject: () => Promise<S>): { repo: S['repo']; subject: () => S } {
  let current: S | undefined;
  beforeAll(async () => {
    current = await makeSubject();
  });
  afterAll(async () => {
    await current?.cleanup();
  });
  const subject = () => {
    if (!current) throw new Error('The repository subject is made in beforeAll; use it inside a test');
    return current;
  };
  const repo = new Proxy({} as S['repo'], {
    get: (_target, property) => {
      const target = subject().repo as Record<PropertyKey, unknown>;
      const value = target[property];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { repo, subject };
}

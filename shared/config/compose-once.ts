/**
 * A function's composition, built on the first invocation that needs it (not at import, so a
 * cold start pays only for what the first request uses) and kept for the container's life. A
 * composition that failed (a missing variable) is tried again by the next invocation.
 */
export function composeOnce<D>(compose: () => D | Promise<D>): () => Promise<D> {
  let composed: Promise<D> | undefined;
  return () => {
    if (!composed) {
      const attempt = Promise.resolve().then(compose);
      composed = attempt;
      attempt.catch(() => {
        if (composed === attempt) composed = undefined;
      });
    }
    return composed;
  };
}

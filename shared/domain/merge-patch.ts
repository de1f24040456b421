/**
 * JSON merge patch (RFC 7396) of a flat string map, as tags and labels are changed: a key with
 * a string sets it, a key with null removes it, a key not named stays as it is. Two writers
 * that touch different keys therefore both keep theirs.
 */
export type MapPatch = Readonly<Record<string, string | null>>;

export function mergeMap(current: Readonly<Record<string, string>>, patch: MapPatch): Record<string, string> {
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

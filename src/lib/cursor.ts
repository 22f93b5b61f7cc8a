/**
 * Opaque keyset cursors: a tuple of sort-key values, base64url-encoded JSON. Clients must
 * not parse them; we only promise they round-trip.
 */
export type CursorValue = string | number;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** Returns null for anything that is not a cursor we issued with `arity` values. */
export function decodeCursor(cursor: string, arity: number): CursorValue[] | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(values) || values.length !== arity) return null;
    if (!values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) return null;
    return values as CursorValue[];
  } catch {
    return null;
  }
}

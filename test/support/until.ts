/**
 * Polls a real signal (a server gauge, a socket state, a row) until it is truthy; fails
 * with `what` after `ms`. For waiting on things that have no event to await.
 */
export async function until<T>(what: string, probe: () => Promise<T | false | undefined | null> | T | false | undefined | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

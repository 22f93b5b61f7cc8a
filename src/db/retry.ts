/** Serialization failures and deadlocks are safe to retry: nothing was committed. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);
/** A transaction runs at most this many times before its retryable failure is answered. */
export const MAX_TRANSACTION_ATTEMPTS = 4;

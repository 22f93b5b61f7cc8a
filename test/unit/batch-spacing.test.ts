import { spacingWaitMs } from '../../src/modules/messages/batch-spacing';

describe('spacingWaitMs: when the batch thread starts its next batch', () => {
  const spacing = { factor: 1.5, maxMs: 20 };
  const at = (o: Partial<Parameters<typeof spacingWaitMs>[0]>) => spacingWaitMs({ nowMs: 1000, lastStartMs: 996, batchMs: 4, waitingSends: 3, maxBatch: 128, spacing, ...o });

  it('holds a batch under load until 1.5 × the recent batch time has passed since the last one started', () => {
    // 4 ms batches: the next starts 6 ms after the last, which started 4 ms ago.
    expect(at({})).toBe(2);
  });

  it('never holds a send that finds the thread idle', () => {
    expect(at({ lastStartMs: 990 })).toBe(0);
    expect(at({ lastStartMs: -Infinity })).toBe(0);
  });

  it('caps the hold however slow the batches are', () => {
    expect(at({ batchMs: 100, lastStartMs: 1000 })).toBe(20);
  });

  it('never holds a full batch', () => {
    expect(at({ waitingSends: 128 })).toBe(0);
  });

  it('holds nothing with the spacing off', () => {
    expect(at({ spacing: { factor: 0, maxMs: 20 } })).toBe(0);
    expect(at({ spacing: { factor: 1.5, maxMs: 0 } })).toBe(0);
  });
});

import { loadConfig, ConfigError } from '../../src/config';

describe('loadConfig', () => {
  it('applies the spec defaults', () => {
    const c = loadConfig({ JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://u@h/db' });
    expect(c.port).toBe(4000);
    expect(c.listenBacklog).toBe(4096);
    expect(c.requests).toEqual({ dailyLimit: 20, ttlDays: 30, newAccountHours: 72 });
    expect(c.moderation.reportBanThreshold).toBe(5);
    expect(c.limits).toMatchObject({ maxBodyBytes: 100 * 1024, maxWsFrameBytes: 64 * 1024, maxDepth: 10, maxAliases: 15, maxTokens: 1000, maxSubscriptionsPerSocket: 20, wsInitTimeoutMs: 3000 });
    expect(c.limits).toMatchObject({ reportsPerHour: 10, followsPerMinute: 60, bulkIdsPerHour: 300 });
    expect(c.introspection).toBe(true);
    expect(c.limits).toMatchObject({ maxSocketsPerAccount: 10, loginFailuresPer15Min: 10, loginAttemptsPerIpPer15Min: 100, signUpsPerIpPerHour: 20 });
    expect(c.tokenTtlSeconds).toBe(7 * 24 * 3600);
    expect(c.tokenRecheckSeconds).toBe(30);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40), TOKEN_TTL_SECONDS: '90' }).tokenTtlSeconds).toBe(90);
  });

  it('names every bad variable in one clear message', () => {
    expect(() => loadConfig({ PORT: 'eighty', DAILY_MESSAGE_REQUEST_LIMIT: '-1', DATABASE_URL: 'not a url' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', DAILY_MESSAGE_REQUEST_LIMIT: '-1', DATABASE_URL: 'not a url' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/PORT/);
      expect(message).toMatch(/DAILY_MESSAGE_REQUEST_LIMIT/);
      expect(message).toMatch(/DATABASE_URL/);
    }
  });

  it('requires JWT_SECRET and DATABASE_URL in production, and turns introspection off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', DATABASE_URL: 'postgres://u@h/db' })).toThrow(/at least 32/);
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://u@h/db' });
    expect(prod.introspection).toBe(false);
    expect(prod.graphiql).toBe(false);
  });
});

import { Counter } from 'prom-client';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';

describe('createLogger', () => {
  const capture = () => {
    const lines: Array<Record<string, unknown>> = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(JSON.parse(String(chunk)));
      return true;
    });
    return { lines, restore: () => spy.mockRestore() };
  };

  it('writes one JSON line per entry on stdout, naming the service and process', () => {
    const out = capture();
    try {
      const logger = createLogger('gateway', 'info');
      logger.child({ component: 'writer-loop' }).warn({ tenant: 'acme', event: 'e1' }, 'dead-lettered');
      logger.debug('below the level');
    } finally {
      out.restore();
    }
    expect(out.lines).toEqual([
      expect.objectContaining({
        level: 40,
        service: 'gateway',
        name: 'gateway',
        pid: process.pid,
        component: 'writer-loop',
        tenant: 'acme',
        event: 'e1',
        msg: 'dead-lettered',
      }),
    ]);
  });

  it('never writes authorization headers, API keys, passwords or secrets', () => {
    const lines: string[] = [];
    const logger = createLogger('query', 'info', { write: (line: string) => void lines.push(line) });
    logger.info(
      {
        req: { headers: { authorization: 'Bearer tk_live_123', 'x-api-key': 'tk_live_456', host: 'x' } },
        rule: { id: 'r1', webhookSecret: 'whsec_abc' },
        config: { natsPassword: 'nats-pw', clickhousePassword: 'ch-pw', natsUser: 'svc' },
        apiKey: 'tk_live_789',
        password: 'pw',
      },
      'request',
    );
    logger.child({ component: 'c' }).warn({ headers: { authorization: 'Bearer tk_live_000' } }, 'child');
    const text = lines.join('');
    for (const secret of ['tk_live_', 'whsec_abc', 'nats-pw', 'ch-pw', '"pw"']) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0])).toMatchObject({
      req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', host: 'x' } },
      rule: { id: 'r1', webhookSecret: '[redacted]' },
      config: { natsUser: 'svc', natsPassword: '[redacted]' },
    });
  });

  it('takes its level from LOG_LEVEL when none is given', () => {
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'error';
    try {
      expect(createLogger('query').level).toBe('error');
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });
});

describe('createMetricsRegistry', () => {
  it("labels every metric with the service and includes Node's default metrics", async () => {
    const registry = createMetricsRegistry('writer');
    new Counter({ name: 'tally_probe_total', help: 'probe', registers: [registry] }).inc(2);
    const text = await registry.metrics();
    expect(text).toContain('tally_probe_total{service="writer"} 2');
    expect(text).toMatch(/^process_resident_memory_bytes\{service="writer"\} \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="writer"\}/m);
  });

  it('gives each process-level registry its own metrics', async () => {
    const a = createMetricsRegistry('a');
    const b = createMetricsRegistry('b');
    new Counter({ name: 'only_in_a_total', help: 'a', registers: [a] }).inc();
    expect(await b.metrics()).not.toContain('only_in_a_total');
  });
});

import { InMemoryApiKeys, InMemoryCatalog } from '@tally/catalog-api/testing';
import { parseArgs, UsageError } from './args';
import { runTally, type CliDeps } from './cli';

const CATALOG = `
tenant: acme
customers:
  - { id: acct_1, name: Globex }
meters:
  - { key: plays, name: Plays, eventTypes: [play], aggregation: count }
plans:
  - id: growth
    name: Growth
    currency: USD
    charges:
      - { id: plays, name: Plays, kind: per_unit, meter: plays, unitPrice: "0.001" }
`;

function fakeDeps(files: Record<string, string> = {}) {
  const catalog = new InMemoryCatalog();
  const keys = new InMemoryApiKeys();
  const connects: Array<{ natsUrl: string; natsPrefix: string }> = [];
  let open = 0;
  const deps: CliDeps = {
    env: { TALLY_NATS_PREFIX: 'test' },
    readFile: async (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file '${path}'`);
      return files[path];
    },
    connect: async (settings) => {
      connects.push(settings);
      open++;
      return { catalog, keys, close: async () => void open-- };
    },
  };
  return { deps, catalog, keys, connects, openConnections: () => open };
}

describe('parseArgs', () => {
  const spec = { values: ['file', 'tenant'], flags: ['dry-run'], aliases: { f: 'file' } };

  it('reads positionals, --name value, --name=value, short aliases and flags', () => {
    const args = parseArgs(['apply', '-f', 'c.yaml', '--tenant=acme', '--dry-run'], spec);
    expect(args.positionals).toEqual(['apply']);
    expect(Object.fromEntries(args.options)).toEqual({ file: 'c.yaml', tenant: 'acme', 'dry-run': true });
  });

  it('refuses unknown options and missing values', () => {
    expect(() => parseArgs(['--force'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['--tenant'], spec)).toThrow('--tenant needs a value');
    expect(() => parseArgs(['--dry-run=yes'], spec)).toThrow('takes no value');
  });
});

describe('tally CLI', () => {
  it('prints usage for help (0) and for no or an unknown command (2)', async () => {
    const { deps } = fakeDeps();
    expect((await runTally(['help'], deps)).code).toBe(0);
    expect((await runTally([], deps)).stdout).toContain('Usage: tally');
    const unknown = await runTally(['tenant', 'delete', 'x'], deps);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'tenant delete'");
  });

  it('creates a tenant once, connecting with the configured prefix', async () => {
    const { deps, catalog, connects, openConnections } = fakeDeps();
    const argv = ['tenant', 'create', 'acme', '--timezone', 'America/New_York', '--currency', 'USD'];
    expect(await runTally(argv, deps)).toEqual({
      code: 0,
      stdout: 'tenant acme created (revision 1)\n',
      stderr: '',
    });
    expect((await catalog.getTenant('acme'))?.value).toMatchObject({
      name: 'acme',
      timezone: 'America/New_York',
    });
    expect(connects[0]).toMatchObject({ natsUrl: 'nats://127.0.0.1:4322', natsPrefix: 'test', natsUser: '' });
    expect((await runTally(argv, deps)).stdout).toContain('already exists (unchanged');
    const other = await runTally([...argv.slice(0, 3), '--timezone', 'UTC', '--currency', 'USD'], deps);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already exists with other settings');
    expect(openConnections()).toBe(0);
  });

  it('reports invalid tenant settings field by field', async () => {
    const { deps } = fakeDeps();
    const result = await runTally(
      ['tenant', 'create', 'acme', '--timezone', 'Mars/Base', '--currency', 'XXY'],
      deps,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('VALIDATION_FAILED');
    expect(result.stderr).toContain('timezone: INVALID_TIMEZONE');
    expect(result.stderr).toContain('currency: UNKNOWN_CURRENCY');
  });

  it('prints a new key alone on stdout, once, and lists and revokes it', async () => {
    const { deps } = fakeDeps();
    await runTally(['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'], deps);
    const created = await runTally(['key', 'create', 'acme', '--role', 'admin', '--name', 'ops'], deps);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^tally_admin_[0-9A-Za-z]{32}\n$/);
    expect(created.stderr).toContain("created admin key 'ops' for tenant acme");
    const list = await runTally(['key', 'list', 'acme'], deps);
    expect(list.stdout).not.toContain('tally_admin_');
    const id = list.stdout.split(' ')[0];
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await runTally(['key', 'revoke', 'acme', id], deps)).stdout).toBe(`revoked key ${id}\n`);
    expect((await runTally(['key', 'list', 'acme'], deps)).stdout).toContain('revoked');
    expect((await runTally(['key', 'revoke', 'globex', id], deps)).code).toBe(1);
  });

  it('refuses a key for an unknown tenant or role', async () => {
    const { deps } = fakeDeps();
    expect((await runTally(['key', 'create', 'ghost', '--role', 'admin'], deps)).stderr).toContain(
      'does not exist',
    );
    expect((await runTally(['key', 'create', 'ghost', '--role', 'root'], deps)).code).toBe(2);
  });

  it('applies a catalog file, and a second apply changes nothing', async () => {
    const { deps, catalog } = fakeDeps({ 'catalog.yaml': CATALOG });
    await runTally(['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'], deps);
    const dry = await runTally(['catalog', 'apply', '-f', 'catalog.yaml', '--dry-run'], deps);
    expect(dry.stdout).toContain('would create    meter plays');
    expect(dry.stdout).toContain('nothing written');
    expect(await catalog.listMeters('acme')).toEqual([]);

    const first = await runTally(['catalog', 'apply', '-f', 'catalog.yaml'], deps);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(
      [
        'tenant acme (catalog.yaml)',
        '  created    customer acct_1',
        '  created    meter plays (version 1)',
        '  created    plan growth',
        '3 created, 0 updated, 0 unchanged',
        '',
      ].join('\n'),
    );
    const second = await runTally(['catalog', 'apply', '-f', 'catalog.yaml'], deps);
    expect(second.stdout).toContain('no changes (3 unchanged)');
  });

  it('exports YAML that applies without changes', async () => {
    const { deps } = fakeDeps({ 'catalog.yaml': CATALOG });
    await runTally(['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'], deps);
    await runTally(['catalog', 'apply', '-f', 'catalog.yaml'], deps);
    const exported = await runTally(['catalog', 'export', '--tenant', 'acme'], deps);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('unitPrice: "0.001"');
    const { deps: again } = fakeDeps({ 'export.yaml': exported.stdout });
    // A fresh store: the export declares the tenant's settings, so it bootstraps the whole tenant.
    expect((await runTally(['catalog', 'apply', '-f', 'export.yaml'], again)).stdout).toContain('4 created');
    expect((await runTally(['catalog', 'export', '--tenant', 'ghost'], deps)).code).toBe(1);
  });

  it('shows every problem of a bad catalog file with its path, and hints at quoting amounts', async () => {
    const bad = CATALOG.replace('unitPrice: "0.001"', 'unitPrice: 0.001').replace(
      'aggregation: count',
      'aggregation: total',
    );
    const { deps } = fakeDeps({ 'bad.yaml': bad });
    await runTally(['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'], deps);
    const result = await runTally(['catalog', 'apply', '-f', 'bad.yaml'], deps);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('meters[0].aggregation: INVALID_VALUE');
    expect(result.stderr).toContain('plans[0].charges[0].unitPrice: INVALID_DECIMAL');
    expect(result.stderr).toContain('(quote amounts in YAML: "0.001")');
  });

  it('reports a missing file, a bad NATS_URL and missing options', async () => {
    const { deps } = fakeDeps();
    expect((await runTally(['catalog', 'apply', '-f', 'nope.yaml'], deps)).stderr).toContain('ENOENT');
    expect((await runTally(['catalog', 'apply'], deps)).stderr).toContain('--file is required');
    const badEnv = { ...deps, env: { NATS_URL: 'http://x' } };
    const result = await runTally(['key', 'list', 'acme'], badEnv);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NATS_URL="http://x"');
  });
});

describe('tally simulation run', () => {
  const request = JSON.stringify({ periods: ['2026-10'], changes: [{ plan: 'pro', patch: {} }] });
  const summary = {
    counts: { scanned: 3, simulated: 3, usageChanged: 0, notInvoiced: 0 },
    totals: [
      { currency: 'USD', customers: 3, billedMinor: '3581', simulatedMinor: '3601', differenceMinor: '20' },
    ],
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('follows a workflow with a progress bar, prints the totals and writes the CSV', async () => {
    const { deps } = fakeDeps({ 'req.json': request });
    const calls: string[] = [];
    const bars: string[] = [];
    const written: Record<string, string> = {};
    let polls = 0;
    deps.env = { TALLY_API_URL: 'http://q', TALLY_API_KEY: 'k' };
    deps.sleep = async () => undefined;
    deps.progress = (line) => void bars.push(line);
    deps.writeFile = async (path, text) => void (written[path] = text);
    deps.fetch = (async (url: string, init?: RequestInit) => {
      calls.push(
        `${init?.method ?? 'GET'} ${url} ${(init?.headers as Record<string, string>).authorization}`,
      );
      if (init?.method === 'POST')
        return json(202, {
          simulationId: 's1',
          expected: 3,
          status: '/v1/simulations/s1',
          csv: '/v1/simulations/s1.csv',
        });
      if (url.endsWith('.csv')) return new Response('customer,period\r\n', { status: 200 });
      polls++;
      return polls < 3
        ? json(200, {
            ...summary,
            counts: { ...summary.counts, scanned: polls },
            expected: 3,
            workflowStatus: 'RUNNING',
          })
        : json(200, { ...summary, expected: 3, workflowStatus: 'COMPLETED' });
    }) as typeof fetch;
    const result = await runTally(['simulation', 'run', '-f', 'req.json', '--csv', 'out.csv'], deps);
    expect(result.code).toBe(0);
    expect(calls[0]).toBe('POST http://q/v1/simulations?format=csv Bearer k');
    expect(bars.slice(0, 3)).toEqual([
      `[##########--------------------] 1/3 customer-periods`,
      `[####################----------] 2/3 customer-periods`,
      `[##############################] 3/3 customer-periods`,
    ]);
    expect(result.stdout).toContain('USD: 3 customers, billed 35.81, simulated 36.01, difference +0.20');
    expect(written['out.csv']).toBe('customer,period\r\n');
  });

  it('prints a direct answer and reports a refused request with its status and body', async () => {
    const { deps } = fakeDeps({ 'req.json': request });
    deps.env = { TALLY_API_KEY: 'k' };
    deps.fetch = (async () =>
      json(200, { mode: 'direct', ...summary, results: [] })) as unknown as typeof fetch;
    const direct = await runTally(['simulation', 'run', '-f', 'req.json'], deps);
    expect(direct.stdout).toContain('difference +0.20');
    deps.fetch = (async () => json(422, { code: 'VALIDATION_FAILED' })) as unknown as typeof fetch;
    const refused = await runTally(['simulation', 'run', '-f', 'req.json'], deps);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('answered 422: {"code":"VALIDATION_FAILED"}');
    deps.env = {};
    expect((await runTally(['simulation', 'run', '-f', 'req.json'], deps)).code).toBe(2);
  });
});

describe('tally invoice export', () => {
  it('posts each document once to the payment-export route and prints what happened; a refusal exits 1', async () => {
    const { deps } = fakeDeps({});
    const calls: string[] = [];
    deps.env = { TALLY_API_URL: 'http://q', TALLY_API_KEY: 'k' };
    deps.fetch = (async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method} ${url} ${(init?.headers as Record<string, string>).authorization}`);
      if (url.includes('nope')) return new Response('{"error":{"code":"NOT_FOUND"}}', { status: 404 });
      const status = url.includes('inv-1') ? 'exported' : 'already_exported';
      return new Response(JSON.stringify({ status, record: { provider: 'stripe', externalId: 'in_1' } }), {
        status: 200,
      });
    }) as typeof fetch;
    const ok = await runTally(['invoice', 'export', 'inv-1', 'cn-2'], deps);
    expect([ok.code, ok.stdout]).toEqual([
      0,
      'inv-1  exported  stripe in_1\ncn-2  already_exported  stripe in_1\n',
    ]);
    expect(calls).toEqual([
      'POST http://q/v1/invoices/inv-1/payment-export Bearer k',
      'POST http://q/v1/invoices/cn-2/payment-export Bearer k',
    ]);
    const refused = await runTally(['invoice', 'export', 'nope'], deps);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('answered 404')]);
    expect((await runTally(['invoice', 'export'], deps)).code).toBe(2);
  });
});

describe('tally subscription (lifecycle)', () => {
  const LIFECYCLE_CATALOG = `${CATALOG}  - id: pro
    name: Pro
    currency: USD
    charges:
      - { id: fee, name: Fee, kind: flat, amount: "99" }
`;

  it('creates with a trial, changes plan on a date, pauses and resumes; refusals name code and field', async () => {
    const { deps, catalog } = fakeDeps({ 'c.yaml': LIFECYCLE_CATALOG });
    await runTally(['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'], deps);
    expect((await runTally(['catalog', 'apply', '-f', 'c.yaml'], deps)).code).toBe(0);
    const t = ['--tenant', 'acme'];
    const created = await runTally(
      [
        'subscription',
        'create',
        's1',
        ...t,
        '--customer',
        'acct_1',
        '--plan',
        'growth',
        '--start',
        '2026-10-01',
        '--trial-days',
        '14',
      ],
      deps,
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toBe(
      'create s1: effective 2026-10-01 (period 2026-10)\n' +
        '  subscription s1: plan growth, 2026-10-01 to open, trial until 2026-10-15 (version 1, revision 6)\n',
    );
    const changed = await runTally(
      ['subscription', 'change-plan', 's1', ...t, '--plan', 'pro', '--effective', '2026-10-11'],
      deps,
    );
    expect(changed.stdout).toBe(
      'change-plan s1: effective 2026-10-11 (period 2026-10)\n' +
        '  subscription s1: plan growth, 2026-10-01 to 2026-10-11, trial until 2026-10-15 (version 2, revision 8)\n' +
        '  subscription s1-v2: plan pro, 2026-10-11 to open, trial until 2026-10-15 (version 2, revision 7)\n',
    );
    expect(
      (
        await runTally(
          ['subscription', 'pause', 's1-v2', ...t, '--effective', '2026-11-01', '--resume-on', '2026-12-01'],
          deps,
        )
      ).code,
    ).toBe(0);
    expect((await catalog.getSubscription('acme', 's1-v4'))?.value).toMatchObject({
      plan: 'pro',
      start: '2026-12-01',
    });
    const refused = await runTally(['subscription', 'change-plan', 's1-v4', ...t, '--plan', 'pro'], deps);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('plan: SAME_PLAN');
    expect((await runTally(['subscription', 'cancel', ...t], deps)).code).toBe(2);
  });
});

import { ConfigError, env, infraConfig, loadConfig, natsConnectionConfig } from './config';

const spec = {
  port: env.port('GATEWAY_PORT', 3000),
  batch: env.int('GATEWAY_MAX_BATCH', 1000, 1, 10_000, 'max events per request'),
  nats: infraConfig.natsUrl,
  debug: env.bool('TALLY_DEBUG', false, 'debug mode'),
};

describe('loadConfig', () => {
  it('applies defaults for the embedded setup', () => {
    expect(loadConfig('gateway', spec, {})).toEqual({
      port: 3000,
      batch: 1000,
      nats: 'nats://127.0.0.1:4322',
      debug: false,
    });
  });

  it('parses values from the environment', () => {
    const cfg = loadConfig('gateway', spec, { GATEWAY_PORT: '8080', TALLY_DEBUG: 'true', GATEWAY_MAX_BATCH: '10' });
    expect(cfg.port).toBe(8080);
    expect(cfg.debug).toBe(true);
    expect(cfg.batch).toBe(10);
  });

  it('reports every bad key at once, naming each', () => {
    let caught: unknown;
    try {
      loadConfig('gateway', spec, {
        GATEWAY_PORT: 'abc',
        GATEWAY_MAX_BATCH: '0',
        NATS_URL: 'http://x',
        TALLY_DEBUG: 'maybe',
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.issues.map((i) => i.env).sort()).toEqual(['GATEWAY_MAX_BATCH', 'GATEWAY_PORT', 'NATS_URL', 'TALLY_DEBUG']);
    expect(err.message).toContain('GATEWAY_PORT="abc": must be a whole number');
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig('q', { port: env.port('QUERY_PORT', 1) }, { QUERY_PORT: '70000' })).toThrow(
      /QUERY_PORT="70000": must be between 0 and 65535/,
    );
  });

  it('validates the NATS credentials and TLS files at boot and never repeats a secret', () => {
    const spec = { ...natsConnectionConfig, chPassword: infraConfig.clickhousePassword };
    expect(loadConfig('writer', spec, {})).toMatchObject({ natsUser: '', natsPassword: '', natsCredsFile: '', natsTlsCaFile: '' });
    expect(loadConfig('writer', spec, { NATS_USER: 'svc', NATS_PASSWORD: 'pw', NATS_TLS_CA_FILE: __filename })).toMatchObject({
      natsUser: 'svc',
      natsPassword: 'pw',
      natsTlsCaFile: __filename,
    });
    let caught: ConfigError | undefined;
    try {
      loadConfig('writer', { ...spec, broken: { ...infraConfig.natsPassword, env: 'BROKEN_SECRET', schema: infraConfig.natsPassword.schema.refine(() => false, 'bad') } }, {
        NATS_CREDS_FILE: '/nonexistent/tally.creds',
        NATS_TLS_KEY_FILE: '/nonexistent/key.pem',
        BROKEN_SECRET: 's3cr3t-value',
      });
    } catch (e) {
      caught = e as ConfigError;
    }
    expect(caught?.issues.map((i) => i.env).sort()).toEqual(['BROKEN_SECRET', 'NATS_CREDS_FILE', 'NATS_TLS_KEY_FILE']);
    expect(caught?.message).toContain('NATS_CREDS_FILE="/nonexistent/tally.creds": no such file');
    expect(caught?.message).not.toContain('s3cr3t-value');
  });
});

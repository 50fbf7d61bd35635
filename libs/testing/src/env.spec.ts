import { createServer, connect, type Server } from 'node:net';
import { randomPrefix, waitFor, waitForMeasured } from './env';
import { freePort } from './processes';
import { TcpProxy } from './tcp-proxy';

describe('waitFor', () => {
  it('resolves with the first value the probe returns, retrying through false, undefined and throws', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return calls < 4 ? (calls === 2 ? undefined : false) : `ready after ${calls}`;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready after 4');
  });

  it('fails after the deadline, naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 30, intervalMs: 5, what: 'the gateway' },
      ),
    ).rejects.toThrow('timed out after 30 ms waiting for the gateway: Error: connection refused');
  });
});

describe('waitForMeasured', () => {
  it('returns and logs the time the condition took', async () => {
    const lines: string[] = [];
    let calls = 0;
    // True on the third probe: two waits of 10 ms before it.
    const ms = await waitForMeasured('cache', async () => ++calls === 3, {
      intervalMs: 10,
      log: (l) => lines.push(l),
    });
    expect(calls).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(15);
    expect(lines).toEqual([`cache: ${ms} ms`]);
  });

  it('fails at its deadline like waitFor', async () => {
    await expect(
      waitForMeasured('never', async () => false, { timeoutMs: 20, log: () => undefined }),
    ).rejects.toThrow('timed out after 20 ms waiting for never');
  });
});

describe('randomPrefix', () => {
  it('is an identifier-safe, lower-case, random name', () => {
    const names = new Set(Array.from({ length: 100 }, () => randomPrefix('db')));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^db_[0-9a-f]{10}$/);
  });
});

describe('TcpProxy', () => {
  let echo: Server;
  let echoPort: number;

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => echo.close(resolve));
  });

  const roundTrip = (port: number, text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      socket.once('data', (data) => {
        resolve(data.toString('utf8'));
        socket.destroy();
      });
      socket.once('error', reject);
    });

  it('forwards, refuses while paused, and forwards again after resume', async () => {
    const proxy = await TcpProxy.start(await freePort(), { host: '127.0.0.1', port: echoPort });
    try {
      expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
      expect(await roundTrip(proxy.port, 'hello')).toBe('hello');
      await proxy.pause();
      await expect(roundTrip(proxy.port, 'lost')).rejects.toThrow(/ECONNREFUSED/);
      await proxy.resume();
      expect(await roundTrip(proxy.port, 'again')).toBe('again');
    } finally {
      await proxy.stop();
    }
  });
});

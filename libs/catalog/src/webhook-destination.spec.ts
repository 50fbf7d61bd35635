import { checkWebhookDestination, WebhookDestinationError, WebhookDestinationPolicy } from './webhook-destination';

describe('webhook destinations (SSRF)', () => {
  const policy = new WebhookDestinationPolicy();

  it.each([
    ['http://127.0.0.1/hook', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.0.0.1/', 'private'],
    ['http://192.168.1.10:8080/', 'private'],
    ['http://172.31.0.5/', 'private'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[fd00::1]/', 'private'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://2130706433/', 'loopback'], // 127.0.0.1 as one number: URL parsing normalises it first
    ['http://localhost:8123/', 'loopback'], // a name: resolved by the system resolver, then judged
  ])('refuses %s (%s)', async (url, why) => {
    const refused = checkWebhookDestination(url, policy);
    await expect(refused).rejects.toBeInstanceOf(WebhookDestinationError);
    await expect(refused).rejects.toThrow(`a ${why}`);
  });

  it('refuses a name when any of its addresses is refused, and one that does not resolve', async () => {
    const lookup = async (host: string) => (host === 'mixed.example' ? ['93.184.216.34', '10.1.1.1'] : Promise.reject(new Error('ENOTFOUND')));
    await expect(checkWebhookDestination('https://mixed.example/x', policy, lookup)).rejects.toThrow('(10.1.1.1) is a private');
    await expect(checkWebhookDestination('https://nowhere.example/x', policy, lookup)).rejects.toThrow('does not resolve');
  });

  it('allows public addresses, and what the operator allow-list names', async () => {
    const lookup = async () => ['93.184.216.34', '2606:2800:220:1::1'];
    await expect(checkWebhookDestination('https://hooks.example.com/t', policy, lookup)).resolves.toEqual(['93.184.216.34', '2606:2800:220:1::1']);
    const allowing = WebhookDestinationPolicy.parse('10.0.0.0/8, 127.0.0.1');
    await expect(checkWebhookDestination('http://10.0.0.1/', allowing)).resolves.toEqual(['10.0.0.1']);
    await expect(checkWebhookDestination('http://127.0.0.1:9000/', allowing)).resolves.toEqual(['127.0.0.1']);
    await expect(checkWebhookDestination('http://127.0.0.2/', allowing)).rejects.toThrow('loopback');
    await expect(checkWebhookDestination('http://169.254.169.254/', allowing)).rejects.toThrow('link-local');
    expect(() => WebhookDestinationPolicy.parse('not-an-ip')).toThrow('not an IP address');
  });
});

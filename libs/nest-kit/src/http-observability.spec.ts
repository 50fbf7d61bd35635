import { requestIdOf } from './http-observability';

describe('requestIdOf', () => {
  it("keeps a caller's plausible id", () => {
    expect(requestIdOf('req-42:abc')).toBe('req-42:abc');
    expect(requestIdOf(['first', 'second'])).toBe('first');
  });

  it('replaces a missing, overlong or unprintable id with a fresh UUID', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'x'.repeat(129), 'a b', 'line\nbreak', '{"json":1}']) {
      expect(requestIdOf(bad)).toMatch(uuid);
    }
  });
});

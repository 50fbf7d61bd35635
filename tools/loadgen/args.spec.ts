import { numberOption, parseArgs } from './args';

const specs = {
  duration: { env: 'X_DURATION', help: 'seconds' },
  'half-duration': { help: 'seconds' },
  help: { flag: true, help: 'help' },
};

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags, and the environment as a fallback', () => {
    expect(parseArgs(specs, ['--duration', '5', '--half-duration=3', '--help'], {})).toEqual({
      duration: '5',
      'half-duration': '3',
      help: 'true',
    });
    expect(parseArgs(specs, [], { X_DURATION: '7' })).toEqual({ duration: '7' });
    expect(parseArgs(specs, ['--duration', '9'], { X_DURATION: '7' })).toEqual({ duration: '9' });
  });

  it('refuses unknown options and missing values', () => {
    expect(() => parseArgs(specs, ['--durration', '5'], {})).toThrow("unknown option '--durration'");
    expect(() => parseArgs(specs, ['--duration'], {})).toThrow('option --duration needs a value');
  });
});

describe('numberOption', () => {
  it('falls back, converts and checks the range', () => {
    expect(numberOption({}, 'duration', 60)).toBe(60);
    expect(numberOption({ duration: '2.5' }, 'duration', 60, { min: 1 })).toBe(2.5);
    expect(() => numberOption({ duration: '0' }, 'duration', 60, { min: 1 })).toThrow('--duration');
    expect(() => numberOption({ duration: '1.5' }, 'duration', 60, { integer: true })).toThrow('an integer');
    expect(() => numberOption({ duration: 'abc' }, 'duration', 60)).toThrow("got 'abc'");
  });
});

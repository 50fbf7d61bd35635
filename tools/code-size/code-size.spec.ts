import path from 'node:path';
import { describeOversize, oversizeIn, oversizeUnder } from './code-size';

// Issue 11: the billing and usage libs stay readable in the shape of the anchors, so no source file
// there is over 350 lines and no function over 80. Test support and `testing/` folders count: they
// are code people read and change too. Specs and integration specs do not.
const limits = { fileLines: 350, functionLines: 80 };
const libs = [
  'libs/billing',
  'libs/billing-api',
  'libs/billing-contracts',
  'libs/billing-periods',
  'libs/usage',
];
const workspace = path.resolve(__dirname, '../..');

function functionOf(bodyLines: number, head = 'export function long(): number {'): string {
  const body = Array.from({ length: bodyLines }, (_, i) => `  const x${i} = ${i};`);
  return [head, ...body, '  return 0;', '}', ''].join('\n');
}

describe('code size', () => {
  it('measures a function from its first to its last line, doc comment left out', () => {
    const at80 = `/**\n * doc\n */\n${functionOf(77)}`; // head + 77 + return + brace = 80 lines
    expect(oversizeIn('a.ts', at80, limits)).toEqual([]);
    const at81 = `/**\n * doc\n */\n${functionOf(78)}`;
    expect(oversizeIn('a.ts', at81, limits)).toEqual([{ where: 'a.ts:4', name: 'long', lines: 81 }]);
  });

  it('names methods, constructors, accessors, arrows and callbacks the way a reader searches for them', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `    void ${i};`).join('\n');
    const source = [
      'class Ledger {',
      `  constructor() {\n${body(80)}\n  }`,
      `  post(): void {\n${body(80)}\n  }`,
      `  get total(): number {\n${body(80)}\n    return 0;\n  }`,
      '}',
      `export const price = (): void => {\n${body(80)}\n};`,
      `[1].forEach(() => {\n${body(80)}\n});`,
      `const handlers = { run: function () {\n${body(80)}\n} };`,
    ].join('\n');
    const functionsOnly = { ...limits, fileLines: Infinity };
    expect(oversizeIn('b.ts', source, functionsOnly).map((o) => o.name)).toEqual([
      'Ledger.constructor',
      'Ledger.post',
      'get Ledger.total',
      'price',
      '<callback to [1].forEach>',
      'handlers.run',
    ]);
  });

  it('counts the lines of a file, a trailing newline not making one more', () => {
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
    expect(oversizeIn('c.ts', lines(350), limits)).toEqual([]);
    expect(oversizeIn('c.ts', lines(351), limits)).toEqual([{ where: 'c.ts:1', lines: 351 }]);
  });

  it('finds no file over 350 lines and no function over 80 lines in the billing and usage libs', () => {
    const found = oversizeUnder(workspace, libs, limits).map(describeOversize);
    expect(found).toEqual([]);
  });
});

import { BoundedLabel } from './metrics';

describe('BoundedLabel', () => {
  it('keeps the first values and folds later ones into the overflow value', () => {
    const label = new BoundedLabel(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((v) => label.value(v))).toEqual(['a', 'b', '_other', 'a', '_other', 'b']);
  });
});

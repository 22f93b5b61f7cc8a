import { relationshipFrom } from '../../src/modules/relationships/follow-visibility';
import { FOLLOW_CASES } from '../support/follow-cases';

describe('who sees a follow', () => {
  it.each(FOLLOW_CASES)('%s', (_name, stored, expected) => {
    expect(relationshipFrom(stored)).toEqual(expected);
  });
});

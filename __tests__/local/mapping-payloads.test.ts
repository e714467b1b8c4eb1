import { firstFailure } from '../../local/mapping-payloads';

describe('firstFailure', () => {
  const batch = [{ SequenceNumber: '1' }, { SequenceNumber: '2' }, { SequenceNumber: '3' }];

  it.each([
    ['no answer', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('counts %s as success', (_name, response) => {
    expect(firstFailure(response, batch)).toBeUndefined();
  });

  it('returns the index of the lowest reported record', () => {
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '3' }, { itemIdentifier: '2' }] }, batch)).toBe(1);
  });

  it.each([
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misspelt key', { batchItemFailures: [{ itemId: '2' }] }],
    ['an identifier not in the batch', { batchItemFailures: [{ itemIdentifier: '9' }] }],
    ['a list that is not a list', { batchItemFailures: 'oops' }],
  ])('counts %s as a failure of the whole batch', (_name, response) => {
    expect(firstFailure(response, batch)).toBe('error');
  });
});

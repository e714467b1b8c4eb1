import { compareKeys, drillReadings, expectedKeys, expectedNotices } from '../../verify/probe';

describe('drill expectations', () => {
  it('expects one item key per metric of each reading, normalised as the handlers store it', () => {
    const keys = expectedKeys([{ id: 'things/a', timestamp: '2016-09-09 13:33:07.381019', temperature: '19.57', humidity: 40 }]);
    expect([...keys]).toEqual(['things/a/temperature|2016-09-09T13:33:07.381019Z', 'things/a/humidity|2016-09-09T13:33:07.381019Z']);
  });

  it('refuses to build an expectation from an invalid reading', () => {
    expect(() => expectedKeys([{ id: 'things/a', timestamp: 'yesterday', t: 1 }])).toThrow(/not a valid reading/);
  });

  it('replays the alert rule in time order: breach, recovery, and nothing while in range', () => {
    const readings = drillReadings(6, { prefix: 'p', things: 1, value: (index) => [20, 30, 31, 20, 21, 30][index] ?? 20 });
    const notices = expectedNotices([...readings].reverse(), 'things/p/000/temperature', { max: 25 }, 900);
    expect(notices.map((notice) => notice.kind)).toEqual(['breach', 'recovery', 'breach']);
    expect(notices.map((notice) => notice.timestamp)).toEqual([1, 3, 5].map((index) => expectedKeys([readings[index] as Record<string, unknown>]).values().next().value?.split('|')[1]));
  });

  it('reports found, missing and unexpected keys', () => {
    expect(compareKeys(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']))).toEqual({ found: 2, missing: ['a'], unexpected: ['d'] });
  });
});

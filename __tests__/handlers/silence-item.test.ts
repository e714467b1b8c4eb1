import { decodeSilence, encodeSilence, silenceCovers, silenceTargetProblem } from '../../handlers/silence-item';

const SERIES = 'things/harrow/001/temperature';

describe('silences', () => {
  const silence = { id: 's-1', target: 'things/plant-7/', startsAt: '2024-05-01T10:00:00.000000Z', endsAt: '2024-05-01T12:00:00.000000Z', createdBy: 'ops@example.com', createdAt: '2024-05-01T09:59:00.000Z', reason: 'boiler service' };

  it('round-trip and cover the series under a prefix, inside the window only', () => {
    expect(decodeSilence(encodeSilence(silence))).toEqual(silence);
    expect(silenceCovers(silence, 'things/plant-7/boiler/temperature', '2024-05-01T10:00:00.000000Z')).toBe(true);
    expect(silenceCovers(silence, 'things/plant-70/boiler/temperature', '2024-05-01T11:00:00.000000Z')).toBe(false);
    expect(silenceCovers(silence, 'things/plant-7/boiler/temperature', '2024-05-01T12:00:00.000000Z')).toBe(false);
    expect(silenceCovers({ ...silence, target: SERIES }, SERIES, '2024-05-01T11:00:00.000000Z')).toBe(true);
    expect(silenceCovers({ ...silence, target: SERIES }, `${SERIES}x`, '2024-05-01T11:00:00.000000Z')).toBe(false);
  });

  it('accept a series id or a prefix ending in "/" as target', () => {
    expect(silenceTargetProblem('things/plant-7/')).toBeUndefined();
    expect(silenceTargetProblem(SERIES)).toBeUndefined();
    expect(silenceTargetProblem('/')).toMatch(/at least one character/);
    expect(silenceTargetProblem('things')).toMatch(/or give a prefix ending in "\/"/);
  });
});

import { Decimal } from '../../handlers/decimal';
import { csvField, csvFileName, readingsCsv } from '../../web/dashboard/csv';

const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

test('writes a header and one row per reading, with CRLF line ends', () => {
  expect(
    readingsCsv('things/harrow/001/temperature', [
      { timestamp: '2016-09-09T13:33:07.381019Z', value: n(19.57) },
      { timestamp: '2016-09-09T13:34:07.000000Z', value: n(-2) },
    ]),
  ).toBe('series,timestamp,value\r\nthings/harrow/001/temperature,2016-09-09T13:33:07.381019Z,19.57\r\nthings/harrow/001/temperature,2016-09-09T13:34:07.000000Z,-2\r\n');
});

test('writes each value with every digit stored, not as the nearest double', () => {
  expect(readingsCsv('s', [{ timestamp: '2016-09-09T13:33:07.381019Z', value: n('12345678901234567890.123456789012345678') }])).toBe(
    'series,timestamp,value\r\ns,2016-09-09T13:33:07.381019Z,12345678901234567890.123456789012345678\r\n',
  );
});

test.each([
  ['plain', 'plain'],
  ['a,b', '"a,b"'],
  ['say "hi"', '"say ""hi"""'],
  ['two\nlines', '"two\nlines"'],
  // Spreadsheets would run these as formulas.
  ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
  ['+1', "'+1"],
  ['-1', "'-1"],
  ['@SUM(A1)', "'@SUM(A1)"],
])('quotes and defuses %j', (text, field) => {
  expect(csvField(text)).toBe(field);
});

test('file names keep only safe characters', () => {
  expect(csvFileName('things/harrow/001/temperature')).toBe('things_harrow_001_temperature.csv');
  expect(csvFileName('<img src=x onerror=alert(1)>/temperature')).toBe('img_src_x_onerror_alert_1_temperature.csv');
  expect(csvFileName('../..')).toBe('series.csv');
});

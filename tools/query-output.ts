/**
 * What `npm run query` prints, whichever engine answered: rows as a table or as JSON
 * objects, and one summary line (time, bytes scanned and their cost on Athena).
 */
import Table from 'cli-table3';

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };

export interface QueryColumn {
  readonly name: string;
  /** The engine's type name, e.g. `double`, `BIGINT`, `timestamp(3)`. */
  readonly type: string;
}

/** Rows as JSON values: numbers for numeric columns (when they fit a double exactly), text for times and decimals. */
export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  readonly rows: readonly (readonly Cell[])[];
}

/** `--json`: one object per row, keyed by column name. */
export function rowObjects(result: QueryResult): Record<string, Cell>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
}

const cellText = (cell: Cell): string => (cell === null ? 'NULL' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell));

/** The rows as a text table, numbers right-aligned; plain borders when not on a terminal. */
export function renderTable(result: QueryResult, terminal: boolean): string {
  const table = new Table({ head: result.columns.map((column) => column.name), ...(terminal ? {} : { style: { head: [], border: [] } }) });
  for (const row of result.rows) {
    table.push(row.map((cell) => (typeof cell === 'number' ? { content: cellText(cell), hAlign: 'right' as const } : cellText(cell))));
  }
  return table.toString();
}

/** Integer text as a number when a double holds it exactly, else the text (bigints, as Athena and DuckDB give them). */
export function integerCell(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** Double text as a number; NaN and infinities stay text, since JSON has no such numbers. */
export function doubleCell(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in decimal units, as Athena's console shows them: `12.3 MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

export const plural = (count: number, noun: string): string => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

/** The dashboard's fixed settings (also used by bench:web, which loads the API as the table does). */

/** How often the overview, and a moving window's chart and table, reload. */
export const REFRESH_MS = 10_000;
/** Most readings drawn at once; a longer range shows its newest part and says so. */
export const CHART_CAP = 20_000;
/** Rows per page of the readings table. */
export const TABLE_PAGE_SIZE = 50;

/** The dashboard's fixed settings (also used by bench:web, which loads the API as the dashboard does). */

/** How often the series list, and a moving window's chart and table, reload. */
export const REFRESH_MS = 10_000;
/**
 * Most readings drawn one by one: a range that holds more is drawn from its rollups (a
 * min–max band and the mean), and zooming in draws readings once the part in view holds
 * this many or fewer.
 */
export const CHART_CAP = 20_000;
/** Alerts listed and marked for one range; a range with more says so. */
export const ALERT_CAP = 5_000;
/** Rows per page of the readings table. */
export const TABLE_PAGE_SIZE = 50;
/** Rows per page of the series list. */
export const SERIES_PAGE_SIZE = 50;
/** Quiet time after typing in the series filter before it is asked of the server. */
export const FILTER_DELAY_MS = 250;

/** The most series one rule change may cover (PUT /api/thresholds with "prefix" or "series"): one request, a few seconds of writes. Shared by the API and the dashboard. */
export const MAX_BULK_SERIES = 500;

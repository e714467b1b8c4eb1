/**
 * The web app's alert routes as a client calls them (web/alert-routes.ts): the fleet list,
 * acknowledging and silencing. Drills go through the API a person would use, so the route,
 * its checks and the tables it writes are all exercised; an answer other than the one
 * expected is an error naming the status and body.
 */
import type { AcknowledgeResponse, FleetAlertsResponse, SilenceResponse } from '../web/api-types';

async function answer<T>(response: Response, expected: number, what: string): Promise<T> {
  const body = await response.text();
  if (response.status !== expected) throw new Error(`${what} answered ${response.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

/** `GET /api/alerts` across the fleet, one page of `limit` (newest first). */
export async function fleetAlerts(webUrl: string, query: { readonly kind?: string; readonly state?: string; readonly limit?: number } = {}): Promise<FleetAlertsResponse> {
  const parameters = new URLSearchParams(Object.entries(query).map(([name, value]) => [name, String(value)]));
  return answer(await fetch(`${webUrl}/api/alerts?${parameters}`), 200, 'GET /api/alerts');
}

const postJson = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** `POST /api/alerts/ack`: acknowledges the firing alert `id`. */
export async function acknowledgeAlert(webUrl: string, id: string, note: string): Promise<AcknowledgeResponse> {
  return answer(await postJson(`${webUrl}/api/alerts/ack`, { id, note }), 200, 'POST /api/alerts/ack');
}

/** `POST /api/silences`: silences a series, or every series under a prefix ending in "/", for a window. */
export async function createSilence(webUrl: string, silence: { readonly target: string; readonly reason: string; readonly startsAt: string; readonly endsAt: string }): Promise<SilenceResponse> {
  return answer(await postJson(`${webUrl}/api/silences`, silence), 201, 'POST /api/silences');
}

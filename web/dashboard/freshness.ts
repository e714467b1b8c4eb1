/**
 * Whether what the page shows is current. Each answer from the API marks the time; a call
 * that finds the web app unreachable, or its data store out of reach, raises a banner
 * saying so and since when, greys what is shown (body.stale) and turns "Updated" into
 * "Last update"; the next answer clears it. Any other failure is a message to show as it is.
 */
import { ApiError } from './api';
import { REFRESH_MS } from './settings';
import { formatClock, formatDuration, type TimeZoneChoice } from './time';

export interface Freshness {
  /** When the API last answered (epoch ms). */
  readonly lastSuccess: () => number | undefined;
  readonly succeeded: () => void;
  readonly failed: (error: unknown) => void;
  /** Writes the header's time again (after a switch of zone). */
  readonly showUpdated: () => void;
}

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

export function trackFreshness(zone: () => TimeZoneChoice): Freshness {
  let lastSuccess: number | undefined;
  let failingSince: number | undefined;

  const showUpdated = (): void => {
    if (lastSuccess === undefined) return;
    const updated = element('updated');
    updated.textContent = `${failingSince === undefined ? 'Updated' : 'Last update'} ${formatClock(lastSuccess, zone())}`;
    updated.classList.toggle('stale-mark', failingSince !== undefined);
  };

  return {
    lastSuccess: () => lastSuccess,
    showUpdated,
    succeeded: () => {
      lastSuccess = Date.now();
      failingSince = undefined;
      element('connection').hidden = true;
      document.body.classList.remove('stale');
      showUpdated();
    },
    failed: (error: unknown) => {
      if (!(error instanceof ApiError) || error.kind === 'refused') {
        const box = element('error');
        box.textContent = error instanceof Error ? error.message : String(error);
        box.hidden = false;
        return;
      }
      const now = Date.now();
      failingSince ??= now;
      element('connection-title').textContent = error.kind === 'offline' ? 'Offline: the web app cannot be reached.' : `Data unavailable: ${error.message}`;
      element('connection-detail').textContent =
        lastSuccess === undefined
          ? `Nothing could be loaded yet; retrying every ${REFRESH_MS / 1000} s.`
          : `What is shown is as of ${formatClock(lastSuccess, zone())} (${formatDuration(now - lastSuccess)} ago) and may be out of date; retrying every ${REFRESH_MS / 1000} s.`;
      element('connection').hidden = false;
      document.body.classList.add('stale');
      showUpdated();
    },
  };
}

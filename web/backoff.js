// Reconnect delays: capped exponential backoff with full jitter, as AWS's
// "Exponential Backoff And Jitter" article describes and as AppSync's
// real-time client guide asks for after a network error.

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 30_000;

/** Return the delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, base * 2^attempt)). */
export function reconnectDelayMs(attempt, random = Math.random, baseMs = RECONNECT_BASE_MS, maxMs = RECONNECT_MAX_MS) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

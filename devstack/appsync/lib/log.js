'use strict';
// Structured logs: one JSON object per line on stderr, so stdout carries only
// the ready line. Repeats of one event are rate-limited per window.

const WINDOW_MS = 60_000;
const MAX_PER_WINDOW = 20;

const windows = new Map();

function write(level, event, fields) {
  const line = { time: new Date().toISOString(), level, event, ...fields };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

function flushSuppressed(event, state) {
  if (state.suppressed > 0) {
    write('warning', 'repeated log lines suppressed', { suppressedEvent: event, count: state.suppressed, windowMs: WINDOW_MS });
  }
}

/** Log an event with its fields; past MAX_PER_WINDOW lines per minute one event is counted instead. */
function log(level, event, fields = {}) {
  const now = Date.now();
  let state = windows.get(event);
  if (state === undefined || now - state.startedAt >= WINDOW_MS) {
    if (state !== undefined) {
      flushSuppressed(event, state);
    }
    state = { startedAt: now, written: 0, suppressed: 0 };
    windows.set(event, state);
  }
  if (state.written >= MAX_PER_WINDOW) {
    state.suppressed += 1;
    return;
  }
  state.written += 1;
  write(level, event, fields);
}

/** Write the counts of suppressed lines that no later line has reported yet. */
function flushLogs() {
  for (const [event, state] of windows) {
    flushSuppressed(event, state);
    state.suppressed = 0;
  }
}

function errorFields(error) {
  return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

module.exports = { log, flushLogs, errorFields };

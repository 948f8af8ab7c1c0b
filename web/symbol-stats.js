// Per-symbol statistics of the ticks that arrived: price and change, recent
// prices for the sparkline, update rate, latency, and the gaps and duplicates
// found from sequence numbers and record positions. Pure: the caller passes
// the arrival time, so nothing here reads a clock.

import { recordPosition } from './envelope.js';

export const HISTORY_LENGTH = 60;
export const RATE_WINDOW_MS = 10_000;
const LATENCY_SAMPLES = 50;
// Bounds on the memory that duplicate and gap detection keep per symbol.
const MAX_REMEMBERED_POSITIONS = 4096;
const MAX_REMEMBERED_MISSING = 1024;

/** The kind of an arriving tick, relative to the ticks before it. */
export const Arrival = Object.freeze({
  IN_ORDER: 'in-order',
  AFTER_GAP: 'after-gap',
  LATE: 'late',
  DUPLICATE: 'duplicate',
  SEQUENCE_RESTART: 'sequence-restart',
});

function median(values) {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function pushBounded(list, value, maxLength) {
  list.push(value);
  if (list.length > maxLength) {
    list.splice(0, list.length - maxLength);
  }
}

export class SymbolStats {
  constructor(symbol) {
    this.symbol = symbol;
    this.updates = 0;
    this.price = null;
    this.previousPrice = null;
    this.history = [];
    this.lastSeq = null;
    this.lastTs = null;
    this.lastArrivalMs = null;
    this.arrivalTimesMs = [];
    this.firstArrivalMs = null;
    // Latency from the produce time (or the Kafka record timestamp) and from the relay's send time.
    this.producedLatencyMs = [];
    this.producedLatencySource = null;
    this.sentLatencyMs = [];
    this.gaps = 0;
    this.missing = 0;
    this.duplicates = 0;
    this.late = 0;
    this.sequenceRestarts = 0;
    this.missingSeqs = new Set();
    this.seenPositions = new Set();
  }

  /** Count one tick that arrived at arrivedAtMs (epoch ms); return its Arrival kind. */
  add(tick, arrivedAtMs) {
    const position = recordPosition(tick);
    if (position !== null && this.seenPositions.has(position)) {
      this.duplicates += 1;
      return Arrival.DUPLICATE;
    }
    const arrival = this.classifySeq(tick.seq);
    if (arrival === Arrival.DUPLICATE) {
      this.duplicates += 1;
      return arrival;
    }
    if (position !== null) {
      this.rememberPosition(position);
    }
    this.updates += 1;
    this.recordTiming(tick, arrivedAtMs);
    // A late tick fills a gap but is older than the shown price.
    if (arrival !== Arrival.LATE) {
      this.recordPrice(tick);
    }
    return arrival;
  }

  classifySeq(seq) {
    if (seq === null) {
      return Arrival.IN_ORDER;
    }
    const last = this.lastSeq;
    if (last === null || seq === last + 1) {
      this.lastSeq = seq;
      return Arrival.IN_ORDER;
    }
    if (seq > last + 1) {
      this.gaps += 1;
      this.missing += seq - last - 1;
      for (let missingSeq = last + 1; missingSeq < seq && this.missingSeqs.size < MAX_REMEMBERED_MISSING; missingSeq += 1) {
        this.missingSeqs.add(missingSeq);
      }
      this.lastSeq = seq;
      return Arrival.AFTER_GAP;
    }
    if (this.missingSeqs.delete(seq)) {
      this.missing -= 1;
      this.late += 1;
      return Arrival.LATE;
    }
    // The producer numbers each symbol's ticks from 1 per run, so a new run starts again at 1.
    if (seq === 1) {
      this.sequenceRestarts += 1;
      this.lastSeq = seq;
      this.missingSeqs.clear();
      return Arrival.SEQUENCE_RESTART;
    }
    return Arrival.DUPLICATE;
  }

  rememberPosition(position) {
    this.seenPositions.add(position);
    if (this.seenPositions.size > MAX_REMEMBERED_POSITIONS) {
      // A Set iterates in insertion order, so this drops the oldest position.
      this.seenPositions.delete(this.seenPositions.values().next().value);
    }
  }

  recordTiming(tick, arrivedAtMs) {
    if (this.firstArrivalMs === null) {
      this.firstArrivalMs = arrivedAtMs;
    }
    this.lastArrivalMs = arrivedAtMs;
    this.arrivalTimesMs.push(arrivedAtMs);
    this.dropOldArrivals(arrivedAtMs);

    const producedAtMs = tick.producedAtMs ?? tick.timestampMs;
    if (producedAtMs !== null) {
      this.producedLatencySource = tick.producedAtMs !== null ? 'produced_at_ms' : 'timestamp_ms';
      pushBounded(this.producedLatencyMs, arrivedAtMs - producedAtMs, LATENCY_SAMPLES);
    }
    if (tick.sentAtMs !== null) {
      pushBounded(this.sentLatencyMs, arrivedAtMs - tick.sentAtMs, LATENCY_SAMPLES);
    }
  }

  recordPrice(tick) {
    this.previousPrice = this.price;
    this.price = tick.close;
    this.lastTs = tick.ts;
    pushBounded(this.history, tick.close, HISTORY_LENGTH);
  }

  dropOldArrivals(nowMs) {
    const cutoff = nowMs - RATE_WINDOW_MS;
    let drop = 0;
    while (drop < this.arrivalTimesMs.length && this.arrivalTimesMs[drop] <= cutoff) {
      drop += 1;
    }
    if (drop > 0) {
      this.arrivalTimesMs.splice(0, drop);
    }
  }

  /** Updates per second over the last RATE_WINDOW_MS, or over the time since the first update when that is shorter (at least 1 s). */
  ratePerSecond(nowMs) {
    if (this.firstArrivalMs === null) {
      return null;
    }
    this.dropOldArrivals(nowMs);
    const windowMs = Math.min(RATE_WINDOW_MS, Math.max(1_000, nowMs - this.firstArrivalMs));
    return (this.arrivalTimesMs.length * 1_000) / windowMs;
  }

  /** Price change from the previous update: {absolute, percent}, or null before the second update. */
  change() {
    if (this.price === null || this.previousPrice === null) {
      return null;
    }
    const absolute = this.price - this.previousPrice;
    const percent = this.previousPrice === 0 ? null : (absolute / this.previousPrice) * 100;
    return { absolute, percent };
  }

  latency() {
    return {
      produced: { lastMs: this.producedLatencyMs.at(-1) ?? null, medianMs: median(this.producedLatencyMs), source: this.producedLatencySource },
      sent: { lastMs: this.sentLatencyMs.at(-1) ?? null, medianMs: median(this.sentLatencyMs) },
    };
  }
}

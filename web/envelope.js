// Reading the relay's `data` envelope out of a subscription message. Pure functions.
//
// The relay (service/mapping.py) publishes `data` as the JSON object
// {"value": {tick}, "topic", "partition", "offset", "key", "timestamp_ms",
// "produced_at_ms" (when the producer set the produced_at header), "sent_at_ms"}.
// AppSync delivers AWSJSON fields as JSON strings; the local simulator
// delivers them parsed, so both are accepted.

/** A subscription message that is not the relay's envelope. */
export class EnvelopeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

function finiteOrNull(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Turn the `{name, data}` result of one subscription message into a tick:
 * {channel, close, seq, ts, topic, partition, offset, recordKey, timestampMs, producedAtMs, sentAtMs}.
 * Missing numeric fields become null; throw EnvelopeError when no price can be read.
 */
export function readTick(result) {
  if (result === null || typeof result !== 'object') {
    throw new EnvelopeError(`A subscription message has no Channel result, got ${JSON.stringify(result)}.`);
  }
  const channel = result.name;
  if (typeof channel !== 'string' || channel === '') {
    throw new EnvelopeError(`A subscription message has no channel name, got ${JSON.stringify(channel)}.`);
  }
  let envelope = result.data;
  if (typeof envelope === 'string') {
    try {
      envelope = JSON.parse(envelope);
    } catch (error) {
      throw new EnvelopeError(`The data of a message on ${channel} is not valid JSON: ${error.message}.`);
    }
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new EnvelopeError(`The data of a message on ${channel} is not a JSON object.`);
  }
  const value = envelope.value !== null && typeof envelope.value === 'object' ? envelope.value : {};
  const close = finiteOrNull(value.close);
  if (close === null) {
    throw new EnvelopeError(`The tick on ${channel} has no numeric "close" price in data.value, got ${JSON.stringify(value.close)}.`);
  }
  return {
    channel,
    close,
    seq: Number.isInteger(value.seq) ? value.seq : null,
    ts: typeof value.ts === 'string' ? value.ts : null,
    topic: typeof envelope.topic === 'string' ? envelope.topic : null,
    partition: Number.isInteger(envelope.partition) ? envelope.partition : null,
    offset: Number.isInteger(envelope.offset) ? envelope.offset : null,
    recordKey: typeof envelope.key === 'string' ? envelope.key : null,
    timestampMs: finiteOrNull(envelope.timestamp_ms),
    producedAtMs: finiteOrNull(envelope.produced_at_ms),
    sentAtMs: finiteOrNull(envelope.sent_at_ms),
  };
}

/** Return the record's position "topic/partition@offset", or null when the envelope lacks one of them. */
export function recordPosition(tick) {
  if (tick.topic === null || tick.partition === null || tick.offset === null) {
    return null;
  }
  return `${tick.topic}/${tick.partition}@${tick.offset}`;
}

// A client of AppSync's real-time WebSocket protocol for GraphQL
// subscriptions with API key authorization, following AWS's "Building a
// real-time WebSocket client" guide for AppSync:
//
// 1. Open wss://<realtime host>/graphql?header=<base64 JSON>&payload=e30=
//    with the subprotocol graphql-ws. The header names the GraphQL
//    endpoint's host and the API key, because a browser cannot set
//    request headers on a WebSocket.
// 2. Send connection_init and wait for connection_ack, which carries
//    connectionTimeoutMs: the longest silence before the client should
//    give the connection up.
// 3. Send one start message per subscription, with the key again in
//    payload.extensions.authorization, and wait for its start_ack. Data
//    messages follow; an error message rejects that one subscription.
// 4. AppSync sends "ka" keep-alives; stop sends "complete".
//
// After a lost connection the client reconnects with capped exponential
// backoff and full jitter, and starts every subscription again.

import { reconnectDelayMs } from './backoff.js';

export const SUBPROTOCOL = 'graphql-ws';
const CONNECTION_ACK_TIMEOUT_MS = 15_000;
const START_ACK_TIMEOUT_MS = 15_000;
// AppSync's connection_ack announces 300000 ms; this applies until an ack arrives.
const DEFAULT_CONNECTION_TIMEOUT_MS = 300_000;
// connectionTimeoutMs is far longer than AppSync's keep-alive interval, so the
// client also measures that interval and reconnects after this many missed
// keep-alives, or after connectionTimeoutMs, whichever comes first.
const MISSED_KEEPALIVES_BEFORE_RECONNECT = 3;
// Silence longer than this many keep-alive intervals shows the connection as late.
const LATE_KEEPALIVE_FACTOR = 1.5;
const MIN_KEEPALIVE_DEADLINE_MS = 2_000;
const KEEPALIVE_INTERVAL_SAMPLES = 5;
const WATCHDOG_PERIOD_MS = 250;

export const ConnectionState = Object.freeze({
  IDLE: 'idle',
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
});

export const SubscriptionState = Object.freeze({
  PENDING: 'pending',
  STARTING: 'starting',
  ACTIVE: 'active',
  FAILED: 'failed',
});

function base64Json(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/** Build the authorization object of API key mode: the GraphQL endpoint's host and the key. */
export function apiKeyAuthorization(graphqlUrl, apiKey) {
  return { host: new URL(graphqlUrl).host, 'x-api-key': apiKey };
}

/** Build the URL to open: the real-time endpoint with the base64 `header` and `payload` query parameters. */
export function connectionUrl(realtimeUrl, graphqlUrl, apiKey) {
  const url = new URL(realtimeUrl);
  url.searchParams.set('header', base64Json(apiKeyAuthorization(graphqlUrl, apiKey)));
  url.searchParams.set('payload', base64Json({}));
  return url.toString();
}

let nextSubscriptionNumber = 1;

function newSubscriptionId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === 'function') {
    return globalThis.crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; plain http on a LAN address is not one.
  return `subscription-${Date.now()}-${nextSubscriptionNumber++}`;
}

function describeErrors(errors) {
  if (!Array.isArray(errors) || errors.length === 0) {
    return 'no error details';
  }
  return errors.map((error) => [error.errorType, error.message].filter(Boolean).join(': ') || JSON.stringify(error)).join('; ');
}

function describeClose(event) {
  // Browsers hide why a connection failed; 1006 covers a refused connection, a rejected handshake and a dropped one.
  if (event.code === 1006) {
    return 'the connection failed or dropped without a close frame (code 1006)';
  }
  return `the connection closed with code ${event.code}${event.reason ? `: ${event.reason}` : ''}`;
}

/**
 * One WebSocket connection to AppSync's real-time endpoint and its subscriptions.
 *
 * Events (CustomEvent, details in brackets):
 * - statechange {state, reconnects, attempt, retryAtMs, lastError}
 * - keepalive {late, silenceMs}: when the connection turns late or on time again
 * - subscriptionchange {id, label, state, error}
 * - data {id, label, payload, receivedAtMs}
 * - error {id, label, message, errors}: a rejected subscription or a protocol error
 */
export class RealtimeClient extends EventTarget {
  constructor({ realtimeUrl, graphqlUrl, apiKey, createWebSocket, now = () => Date.now(), random = Math.random }) {
    super();
    this.url = connectionUrl(realtimeUrl, graphqlUrl, apiKey);
    this.authorization = apiKeyAuthorization(graphqlUrl, apiKey);
    this.createWebSocket = createWebSocket || ((url) => new WebSocket(url, SUBPROTOCOL));
    this.now = now;
    this.random = random;

    this.state = ConnectionState.IDLE;
    this.subscriptions = new Map();
    this.socket = null;
    this.attempt = 0;
    this.reconnects = 0;
    this.everConnected = false;
    this.retryAtMs = null;
    this.lastError = null;

    this.connectionTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS;
    this.lastMessageAtMs = null;
    this.lastKeepAliveAtMs = null;
    this.keepAliveIntervalsMs = [];
    this.keepAliveLate = false;

    this.ackTimer = null;
    this.retryTimer = null;
    this.watchdogTimer = null;
  }

  /** Open the connection; it is kept open, and reopened after a loss, until close(). */
  start() {
    if (this.state === ConnectionState.IDLE || this.state === ConnectionState.CLOSED) {
      this.connect();
    }
  }

  /** Close the connection for good and stop reconnecting. */
  close() {
    this.clearTimers();
    this.abandonSocket(1000, 'The page closed the connection.');
    this.setState(ConnectionState.CLOSED);
  }

  /** Reconnect now instead of waiting for the backoff delay, for example when the browser is online again. */
  retryNow() {
    if (this.state === ConnectionState.RECONNECTING) {
      clearTimeout(this.retryTimer);
      this.connect();
    }
  }

  /** Register a subscription and start it once connected; return its id. `label` names it in events. */
  subscribe(query, variables, label) {
    const subscription = { id: newSubscriptionId(), query, variables, label, state: SubscriptionState.PENDING, startTimer: null };
    this.subscriptions.set(subscription.id, subscription);
    if (this.state === ConnectionState.CONNECTED) {
      this.sendStart(subscription);
    }
    return subscription.id;
  }

  /** Stop a subscription; data that still arrives for it is dropped. */
  unsubscribe(id) {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) {
      return;
    }
    clearTimeout(subscription.startTimer);
    this.subscriptions.delete(id);
    if (this.state === ConnectionState.CONNECTED && subscription.state !== SubscriptionState.FAILED) {
      this.send({ type: 'stop', id });
    }
  }

  /** Milliseconds since the last message of any kind, or null when not connected. */
  silenceMs() {
    return this.lastMessageAtMs === null ? null : this.now() - this.lastMessageAtMs;
  }

  /** Return the keep-alive interval seen on this connection: the longest of the last few, or null before two keep-alives. */
  keepAliveIntervalMs() {
    return this.keepAliveIntervalsMs.length === 0 ? null : Math.max(...this.keepAliveIntervalsMs);
  }

  /** Return the silence after which the connection counts as lost. */
  keepAliveDeadlineMs() {
    const interval = this.keepAliveIntervalMs();
    if (interval === null) {
      return this.connectionTimeoutMs;
    }
    return Math.min(this.connectionTimeoutMs, Math.max(MIN_KEEPALIVE_DEADLINE_MS, MISSED_KEEPALIVES_BEFORE_RECONNECT * interval));
  }

  // -------------------------------------------------------------------------
  // Connection

  connect() {
    this.clearTimers();
    this.retryAtMs = null;
    this.setState(this.everConnected || this.attempt > 0 ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    let socket;
    try {
      socket = this.createWebSocket(this.url);
    } catch (error) {
      this.connectionLost(`the WebSocket could not be created: ${error.message}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.send({ type: 'connection_init' });
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onclose = (event) => this.connectionLost(describeClose(event));
    // An error event is always followed by a close event, which reconnects.
    socket.onerror = () => {};
    this.ackTimer = setTimeout(
      () => this.connectionLost(`no connection_ack within ${CONNECTION_ACK_TIMEOUT_MS} ms`),
      CONNECTION_ACK_TIMEOUT_MS,
    );
  }

  connectionLost(reason) {
    this.clearTimers();
    this.abandonSocket(4000, 'The page is reconnecting.');
    this.lastError = reason;
    for (const subscription of this.subscriptions.values()) {
      clearTimeout(subscription.startTimer);
      if (subscription.state !== SubscriptionState.FAILED) {
        this.setSubscriptionState(subscription, SubscriptionState.PENDING);
      }
    }
    const delayMs = reconnectDelayMs(this.attempt, this.random);
    this.attempt += 1;
    this.retryAtMs = this.now() + delayMs;
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
    this.setState(ConnectionState.RECONNECTING);
  }

  // Detach the socket before closing it, because a server that stopped
  // responding would delay the close event until the closing handshake times out.
  abandonSocket(code, reason) {
    const socket = this.socket;
    this.socket = null;
    this.lastMessageAtMs = null;
    this.lastKeepAliveAtMs = null;
    this.keepAliveIntervalsMs = [];
    this.setKeepAliveLate(false, null);
    if (socket === null) {
      return;
    }
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened can throw; it is dropped either way.
    }
  }

  clearTimers() {
    clearTimeout(this.ackTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdogTimer);
    this.ackTimer = null;
    this.retryTimer = null;
    this.watchdogTimer = null;
  }

  send(message) {
    if (this.socket !== null && this.socket.readyState === 1) {
      this.socket.send(JSON.stringify(message));
    }
  }

  // -------------------------------------------------------------------------
  // Messages

  onMessage(text) {
    const receivedAtMs = this.now();
    this.lastMessageAtMs = receivedAtMs;
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      this.emitError(null, `The server sent a message that is not JSON: ${String(text).slice(0, 80)}`, []);
      return;
    }
    switch (message.type) {
      case 'connection_ack':
        this.onConnectionAck(message.payload || {});
        return;
      case 'ka':
        this.onKeepAlive(receivedAtMs);
        return;
      case 'start_ack':
        this.onStartAck(message.id);
        return;
      case 'data':
        this.onData(message, receivedAtMs);
        return;
      case 'error':
        this.onError(message);
        return;
      case 'connection_error':
        this.emitError(null, `The server rejected the connection: ${describeErrors(message.payload && message.payload.errors)}`, message.payload?.errors || []);
        this.connectionLost('the server sent connection_error');
        return;
      case 'complete':
        return;
      default:
        this.emitError(null, `The server sent a message of unknown type ${JSON.stringify(message.type)}.`, []);
    }
  }

  onConnectionAck(payload) {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (Number.isFinite(payload.connectionTimeoutMs) && payload.connectionTimeoutMs > 0) {
      this.connectionTimeoutMs = payload.connectionTimeoutMs;
    }
    if (this.everConnected) {
      this.reconnects += 1;
    }
    this.everConnected = true;
    this.attempt = 0;
    this.lastError = null;
    this.watchdogTimer = setInterval(() => this.checkKeepAlive(), WATCHDOG_PERIOD_MS);
    this.setState(ConnectionState.CONNECTED);
    for (const subscription of this.subscriptions.values()) {
      if (subscription.state === SubscriptionState.PENDING) {
        this.sendStart(subscription);
      }
    }
  }

  onKeepAlive(receivedAtMs) {
    if (this.lastKeepAliveAtMs !== null) {
      this.keepAliveIntervalsMs.push(receivedAtMs - this.lastKeepAliveAtMs);
      if (this.keepAliveIntervalsMs.length > KEEPALIVE_INTERVAL_SAMPLES) {
        this.keepAliveIntervalsMs.shift();
      }
    }
    this.lastKeepAliveAtMs = receivedAtMs;
  }

  // Any message proves the connection alive, not only "ka": under load, data
  // can delay keep-alives behind it.
  checkKeepAlive() {
    const silenceMs = this.silenceMs();
    if (silenceMs === null) {
      return;
    }
    const deadlineMs = this.keepAliveDeadlineMs();
    if (silenceMs > deadlineMs) {
      this.connectionLost(`no keep-alive or other message for ${silenceMs} ms (limit ${deadlineMs} ms)`);
      return;
    }
    const interval = this.keepAliveIntervalMs();
    this.setKeepAliveLate(interval !== null && silenceMs > LATE_KEEPALIVE_FACTOR * interval, silenceMs);
  }

  setKeepAliveLate(late, silenceMs) {
    if (late !== this.keepAliveLate) {
      this.keepAliveLate = late;
      this.emit('keepalive', { late, silenceMs });
    }
  }

  sendStart(subscription) {
    this.setSubscriptionState(subscription, SubscriptionState.STARTING);
    this.send({
      id: subscription.id,
      type: 'start',
      payload: {
        data: JSON.stringify({ query: subscription.query, variables: subscription.variables }),
        extensions: { authorization: this.authorization },
      },
    });
    subscription.startTimer = setTimeout(
      () => this.connectionLost(`no start_ack for subscription ${subscription.label} within ${START_ACK_TIMEOUT_MS} ms`),
      START_ACK_TIMEOUT_MS,
    );
  }

  onStartAck(id) {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) {
      return;
    }
    clearTimeout(subscription.startTimer);
    this.setSubscriptionState(subscription, SubscriptionState.ACTIVE);
  }

  onData(message, receivedAtMs) {
    const subscription = this.subscriptions.get(message.id);
    if (subscription === undefined) {
      return;
    }
    const payload = message.payload || {};
    if (Array.isArray(payload.errors) && payload.errors.length > 0) {
      this.emitError(subscription, `Subscription ${subscription.label} returned errors: ${describeErrors(payload.errors)}`, payload.errors);
    }
    this.emit('data', { id: subscription.id, label: subscription.label, payload, receivedAtMs });
  }

  onError(message) {
    const errors = (message.payload && message.payload.errors) || [];
    const subscription = message.id ? this.subscriptions.get(message.id) : undefined;
    if (subscription === undefined) {
      this.emitError(null, `The server reported: ${describeErrors(errors)}`, errors);
      return;
    }
    // AppSync rejects a subscription once, for a reason a retry would not change.
    clearTimeout(subscription.startTimer);
    subscription.error = describeErrors(errors);
    this.setSubscriptionState(subscription, SubscriptionState.FAILED);
    this.emitError(subscription, `The server rejected subscription ${subscription.label}: ${subscription.error}`, errors);
  }

  // -------------------------------------------------------------------------
  // Events

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  emitError(subscription, message, errors) {
    this.emit('error', { id: subscription ? subscription.id : null, label: subscription ? subscription.label : null, message, errors });
  }

  setState(state) {
    this.state = state;
    this.emit('statechange', {
      state,
      reconnects: this.reconnects,
      attempt: this.attempt,
      retryAtMs: this.retryAtMs,
      lastError: this.lastError,
    });
  }

  setSubscriptionState(subscription, state) {
    if (subscription.state === state) {
      return;
    }
    subscription.state = state;
    this.emit('subscriptionchange', { id: subscription.id, label: subscription.label, state, error: subscription.error || null });
  }
}

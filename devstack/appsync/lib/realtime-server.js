'use strict';
// AppSync's real-time WebSocket protocol (subprotocol graphql-ws), as described
// in AWS's "Building a real-time WebSocket client" for AppSync. The client
// connects with base64 JSON `header` and `payload` query parameters and sends
// connection_init, which the server acknowledges with connection_ack. Each
// start message carries the API key in extensions.authorization and gets
// start_ack, then data messages. A stop message gets complete, and the server
// sends ka keep-alives.
//
// Workaround: the simulator's own WebSocket server is replaced, because in
// 2.16.20 it crashes the process on a non-JSON frame or a bad API key in a
// start message, hangs on SIGTERM while clients are connected, sends ka only
// every 240 s, names connectionTimeoutMs connectionTimeout, and ignores
// subscription arguments. Subscriptions still run through the simulator's
// schema, resolvers and publish/subscribe bus.

const { WebSocket, WebSocketServer } = require('ws');

const { apiKeyError, appSyncError } = require('./appsync-errors');
const { OperationError, prepareSubscription } = require('./operations');
const { errorFields, log } = require('./log');

// The simulator's REALTIME_SUBSCRIPTION_PATH in lib/server/subscription/websocket-server/server.js.
const REALTIME_PATH = '/graphql/realtime';
const SUBPROTOCOL = 'graphql-ws';
// AppSync's connection_ack announces 300000 ms: a client that hears nothing,
// not even a ka, for that long should reconnect.
const CONNECTION_TIMEOUT_MS = 300_000;
// How long shutdown waits for clients to complete the close handshake.
const CLOSE_GRACE_MS = 1_000;

function preview(data) {
  const text = data.toString('utf8');
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

function rejectUpgrade(socket, status, reason, error) {
  log('info', 'connection rejected', { status, errorType: error.errorType, reason: error.message });
  const body = JSON.stringify({ errors: [error] });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `x-amzn-ErrorType: ${error.errorType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

// Return the headers encoded in the `header` query parameter, or null when it is missing or unreadable.
function connectionHeaders(url) {
  const encoded = url.searchParams.get('header');
  if (!encoded) {
    return null;
  }
  try {
    const headers = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    return headers !== null && typeof headers === 'object' && !Array.isArray(headers) ? headers : null;
  } catch {
    return null;
  }
}

class RealtimeServer {
  constructor({ simulator, apiKey, keepaliveMs }) {
    this.simulator = simulator;
    this.apiKey = apiKey;
    this.keepaliveMs = keepaliveMs;
    this.connections = new Set();
    this.nextConnectionId = 1;
    this.webSocketServer = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  /** Handle an HTTP upgrade request: check path, subprotocol and API key, then accept. */
  handleUpgrade(request, socket, head) {
    socket.on('error', (error) => log('warning', 'upgrade socket failed', errorFields(error)));
    const url = new URL(request.url, 'http://localhost');
    if (url.pathname !== REALTIME_PATH) {
      rejectUpgrade(socket, 404, 'Not Found', appSyncError('NotFoundException', `No WebSocket endpoint at ${url.pathname}; connect to ${REALTIME_PATH}.`));
      return;
    }
    const protocols = (request.headers['sec-websocket-protocol'] || '').split(',').map((name) => name.trim());
    if (!protocols.includes(SUBPROTOCOL)) {
      rejectUpgrade(socket, 400, 'Bad Request', appSyncError('BadRequestException', `Request the WebSocket subprotocol ${SUBPROTOCOL}.`));
      return;
    }
    // AppSync rejects the handshake itself, with status 401, when the header parameter has no valid key.
    const headers = connectionHeaders(url);
    const authError = apiKeyError(headers === null ? undefined : headers['x-api-key'], this.apiKey);
    if (authError !== null) {
      rejectUpgrade(socket, 401, 'Unauthorized', authError);
      return;
    }
    this.webSocketServer.handleUpgrade(request, socket, head, (webSocket) => this.onConnection(webSocket, request, headers));
  }

  onConnection(socket, request, headers) {
    const connection = {
      id: this.nextConnectionId++,
      socket,
      headers,
      remoteAddress: request.socket.remoteAddress,
      subscriptions: new Map(),
      keepaliveTimer: null,
    };
    this.connections.add(connection);
    log('info', 'connection opened', { connectionId: connection.id });

    socket.on('message', (data, isBinary) => {
      this.onMessage(connection, data, isBinary).catch((error) => {
        log('error', 'message handling failed', { connectionId: connection.id, ...errorFields(error) });
        this.sendError(connection, '', appSyncError('InternalFailure', `The local AppSync simulator failed on this message: ${error.message}`));
      });
    });
    socket.on('error', (error) => log('warning', 'connection failed', { connectionId: connection.id, ...errorFields(error) }));
    socket.on('close', (code) => {
      this.release(connection);
      log('info', 'connection closed', { connectionId: connection.id, code });
    });
  }

  send(connection, message) {
    if (connection.socket.readyState === WebSocket.OPEN) {
      connection.socket.send(JSON.stringify(message));
    }
  }

  sendError(connection, id, ...errors) {
    this.send(connection, { type: 'error', id, payload: { errors } });
  }

  async onMessage(connection, data, isBinary) {
    if (isBinary) {
      this.rejectMessage(connection, 'Binary frames are not part of the protocol; send JSON text messages.');
      return;
    }
    let message;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message) || typeof message.type !== 'string') {
      this.rejectMessage(connection, `A message must be a JSON object with a "type"; got ${preview(data)}.`);
      return;
    }
    switch (message.type) {
      case 'connection_init':
        this.onConnectionInit(connection);
        return;
      case 'start':
        await this.onStart(connection, message);
        return;
      case 'stop':
        this.onStop(connection, message);
        return;
      default:
        this.rejectMessage(connection, `Message type ${JSON.stringify(message.type)} is unknown; send connection_init, start or stop.`, message.type);
    }
  }

  // Send AppSync's error for a message it cannot use, with the reason appended.
  rejectMessage(connection, reason, type = 'unknown') {
    log('warning', 'message rejected', { connectionId: connection.id, reason });
    this.sendError(connection, '', appSyncError('UnsupportedOperation', `${type} not supported through the realtime channel. ${reason}`));
  }

  onConnectionInit(connection) {
    clearInterval(connection.keepaliveTimer);
    this.send(connection, { type: 'connection_ack', payload: { connectionTimeoutMs: CONNECTION_TIMEOUT_MS } });
    this.send(connection, { type: 'ka' });
    connection.keepaliveTimer = setInterval(() => this.send(connection, { type: 'ka' }), this.keepaliveMs);
  }

  async onStart(connection, message) {
    const id = message.id;
    if (typeof id !== 'string' || id === '') {
      this.rejectMessage(connection, `A start message needs a non-empty string "id"; got ${JSON.stringify(id)}.`, 'start');
      return;
    }
    if (connection.subscriptions.has(id)) {
      log('info', 'subscription rejected', { connectionId: connection.id, subscriptionId: id, errorType: 'DuplicatedOperationError' });
      this.sendError(connection, id, appSyncError('DuplicatedOperationError', `Duplicate subscription with id ${id}; use a new id for each start message.`));
      return;
    }
    const payload = message.payload !== null && typeof message.payload === 'object' ? message.payload : {};
    const authorization = payload.extensions && payload.extensions.authorization;
    const authError = apiKeyError(authorization ? authorization['x-api-key'] : undefined, this.apiKey);
    if (authError !== null) {
      log('info', 'subscription rejected', { connectionId: connection.id, subscriptionId: id, errorType: authError.errorType, reason: authError.message });
      this.sendError(connection, id, { ...authError, errorCode: 401 });
      return;
    }
    let request;
    try {
      request = JSON.parse(payload.data);
    } catch {
      request = null;
    }
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      this.rejectMessage(
        connection,
        'A start message carries the operation as a JSON string in payload.data, such as "{\\"query\\": \\"subscription ...\\", \\"variables\\": {}}".',
      );
      return;
    }

    // Reserve the id while the resolver runs, so a duplicate start or an early stop finds it.
    const subscription = { state: 'starting', pubsubId: null, queue: Promise.resolve() };
    connection.subscriptions.set(id, subscription);
    let prepared;
    try {
      prepared = await prepareSubscription(this.simulator, request, connection.headers, connection.remoteAddress);
    } catch (error) {
      connection.subscriptions.delete(id);
      if (!(error instanceof OperationError)) {
        throw error;
      }
      log('info', 'subscription rejected', { connectionId: connection.id, subscriptionId: id, errorType: error.errorType, reason: error.message });
      this.sendError(connection, id, appSyncError(error.errorType, error.message));
      return;
    }
    if (prepared.errors) {
      connection.subscriptions.delete(id);
      log('info', 'subscription rejected', { connectionId: connection.id, subscriptionId: id, reason: prepared.errors[0].message });
      this.sendError(connection, id, ...prepared.errors);
      return;
    }
    if (subscription.state !== 'starting') {
      return; // stopped, or the connection closed, while the resolver ran
    }

    subscription.pubsubId = await this.simulator.pubsub.subscribe(prepared.fieldName, (result) =>
      this.deliver(connection, id, subscription, prepared, result),
    );
    if (subscription.state !== 'starting') {
      this.simulator.pubsub.unsubscribe(subscription.pubsubId);
      return;
    }
    subscription.state = 'active';
    this.send(connection, { type: 'start_ack', id });
    log('info', 'subscription started', { connectionId: connection.id, subscriptionId: id, field: prepared.fieldName });
  }

  // Queue one mutation result for a subscription; the queue keeps data messages in publish order.
  deliver(connection, id, subscription, prepared, result) {
    let matched;
    try {
      matched = prepared.matches(result);
    } catch (error) {
      log('error', 'subscription filter failed', { connectionId: connection.id, subscriptionId: id, ...errorFields(error) });
      return;
    }
    if (!matched) {
      return;
    }
    subscription.queue = subscription.queue
      .then(async () => {
        const response = await prepared.render(result);
        if (subscription.state === 'active') {
          this.send(connection, { type: 'data', id, payload: response });
        }
      })
      .catch((error) => log('error', 'subscription delivery failed', { connectionId: connection.id, subscriptionId: id, ...errorFields(error) }));
  }

  onStop(connection, message) {
    const id = message.id;
    this.endSubscription(connection, id);
    this.send(connection, { type: 'complete', id });
  }

  endSubscription(connection, id) {
    const subscription = connection.subscriptions.get(id);
    if (subscription === undefined) {
      return;
    }
    connection.subscriptions.delete(id);
    subscription.state = 'stopped';
    if (subscription.pubsubId !== null) {
      this.simulator.pubsub.unsubscribe(subscription.pubsubId);
    }
  }

  release(connection) {
    clearInterval(connection.keepaliveTimer);
    for (const id of [...connection.subscriptions.keys()]) {
      this.endSubscription(connection, id);
    }
    this.connections.delete(connection);
  }

  /** Close every connection with 1001 (going away), and end those still open after CLOSE_GRACE_MS. */
  async closeAll() {
    const open = [...this.connections];
    await Promise.all(
      open.map(
        (connection) =>
          new Promise((resolve) => {
            const socket = connection.socket;
            this.release(connection);
            if (socket.readyState === WebSocket.CLOSED) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              socket.terminate();
              resolve();
            }, CLOSE_GRACE_MS);
            socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.close(1001, 'The local AppSync simulator is stopping.');
          }),
      ),
    );
    this.webSocketServer.close();
  }
}

module.exports = { REALTIME_PATH, RealtimeServer };

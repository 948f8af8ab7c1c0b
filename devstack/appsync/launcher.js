#!/usr/bin/env node
'use strict';
// Local AppSync endpoint for kafka-appsync-relay. It loads the API in
// --schema-dir into AWS's amplify-appsync-simulator and serves POST /graphql
// and the real-time WebSocket endpoint on a loopback address. It prints one
// JSON line to stdout when it accepts requests, and logs to stderr.
// README.md here lists the simulator gaps it works around.

const http = require('node:http');
const path = require('node:path');

const { ApiLoadError, loadSimulator } = require('./lib/api-loader');
const { GRAPHQL_PATH, createHttpHandler } = require('./lib/http-endpoint');
const { REALTIME_PATH, RealtimeServer } = require('./lib/realtime-server');
const { UsageError, parseOptions } = require('./lib/options');
const { errorFields, flushLogs, log } = require('./lib/log');

// How long shutdown may take before the process exits anyway.
const SHUTDOWN_TIMEOUT_MS = 5_000;

function fail(message) {
  flushLogs();
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

// Workaround: a plain npm install of the simulator leaves two copies of
// graphql, and every request then fails with "Cannot use GraphQLSchema ...
// from another module or realm". package.json pins one copy with "overrides".
function checkSingleGraphql() {
  const simulatorDir = path.dirname(require.resolve('@aws-amplify/amplify-appsync-simulator'));
  const ours = require.resolve('graphql');
  const simulators = require.resolve('graphql', { paths: [simulatorDir] });
  if (ours !== simulators) {
    fail(`two copies of graphql are installed (${ours} and ${simulators}); run "npm ci" in ${__dirname} so package.json's overrides apply`);
  }
}

function listen(server, host, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server.address());
    });
  });
}

function urlHost(address) {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      fail(error.message);
    }
    throw error;
  }
  checkSingleGraphql();

  let simulator;
  try {
    simulator = loadSimulator(options.schemaDir, options.apiKey);
  } catch (error) {
    if (error instanceof ApiLoadError) {
      fail(`the API in ${options.schemaDir} failed to load: ${error.message}`);
    }
    throw error;
  }

  const realtime = new RealtimeServer({ simulator, apiKey: options.apiKey, keepaliveMs: options.keepaliveMs });
  const server = http.createServer(createHttpHandler({ simulator, apiKey: options.apiKey }));
  server.on('upgrade', (request, socket, head) => {
    try {
      realtime.handleUpgrade(request, socket, head);
    } catch (error) {
      log('error', 'upgrade failed', errorFields(error));
      socket.destroy();
    }
  });
  server.on('clientError', (error, socket) => {
    log('warning', 'malformed HTTP request', errorFields(error));
    socket.destroy();
  });

  let address;
  try {
    // Workaround: the simulator listens on all interfaces; this server binds to --host only.
    address = await listen(server, options.host, options.port);
  } catch (error) {
    if (error.code === 'EADDRINUSE') {
      fail(`port ${options.port} on ${options.host} is already in use; stop the process that holds it or pass another --port`);
    }
    fail(`cannot listen on ${options.host}:${options.port}: ${error.message}`);
  }

  const base = `${urlHost(address)}:${address.port}`;
  const endpoints = { graphql: `http://${base}${GRAPHQL_PATH}`, realtime: `ws://${base}${REALTIME_PATH}` };
  log('info', 'simulator started', { ...endpoints, schemaDir: options.schemaDir, keepaliveMs: options.keepaliveMs, pid: process.pid });
  process.stdout.write(`${JSON.stringify({ ready: true, ...endpoints })}\n`);

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log('info', 'simulator stopping', { signal, connections: realtime.connections.size });
    // Workaround: the simulator hangs on SIGTERM while WebSocket clients are
    // connected; close them, then every idle HTTP connection.
    setTimeout(() => {
      log('warning', 'shutdown timed out; exiting anyway', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      flushLogs();
      process.exit(0);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    const httpClosed = new Promise((resolve) => server.close(resolve));
    await realtime.closeAll();
    server.closeAllConnections();
    await httpClosed;
    log('info', 'simulator stopped', { signal });
    flushLogs();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

// A fault in one request must not end the endpoint that every test shares.
process.on('unhandledRejection', (error) => log('error', 'unhandled promise rejection', errorFields(error)));

main().catch((error) => {
  fail(`the launcher failed: ${error.stack || error}`);
});

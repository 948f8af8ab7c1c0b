'use strict';
// Command-line options of the launcher.

const net = require('node:net');
const path = require('node:path');
const { parseArgs } = require('node:util');

const DEFAULT_KEEPALIVE_MS = 60_000;

const USAGE = `Usage: node launcher.js --host 127.0.0.1 --port PORT --schema-dir DIR --api-key KEY [--keepalive-ms MS]

  --host          loopback address to listen on (127.0.0.0/8, ::1 or localhost)
  --port          TCP port; 0 picks a free one, printed in the ready line
  --schema-dir    folder with schema.graphql, resolvers.json and the VTL templates
  --api-key       the API key clients must send (x-api-key)
  --keepalive-ms  interval of the real-time "ka" messages, in milliseconds (default ${DEFAULT_KEEPALIVE_MS})`;

/** Invalid command line; the message names the option and how to fix it. */
class UsageError extends Error {
  constructor(message) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

function isLoopback(host) {
  if (host === 'localhost' || host === '::1') {
    return true;
  }
  return net.isIPv4(host) && host.startsWith('127.');
}

function integerOption(name, raw, min, max) {
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}.`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got ${value}.`);
  }
  return value;
}

/** Parse and check argv (without node and the script); return {host, port, schemaDir, apiKey, keepaliveMs}. */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'schema-dir': { type: 'string' },
        'api-key': { type: 'string' },
        'keepalive-ms': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }

  const host = values.host === undefined ? '127.0.0.1' : values.host;
  // The endpoint has a fixed key and no TLS; it is for this machine only.
  if (!isLoopback(host)) {
    throw new UsageError(`--host ${host} is not a loopback address; use 127.0.0.1, ::1 or localhost.`);
  }
  if (values['schema-dir'] === undefined) {
    throw new UsageError('--schema-dir is missing; pass the folder with schema.graphql and resolvers.json.');
  }
  if (!values['api-key']) {
    throw new UsageError('--api-key is missing or empty; pass the key clients will send as x-api-key.');
  }
  return {
    host,
    port: integerOption('port', values.port, 0, 65535),
    schemaDir: path.resolve(values['schema-dir']),
    apiKey: values['api-key'],
    keepaliveMs: values['keepalive-ms'] === undefined
      ? DEFAULT_KEEPALIVE_MS
      : integerOption('keepalive-ms', values['keepalive-ms'], 100, 3_600_000),
  };
}

module.exports = { UsageError, parseOptions };

'use strict';
// POST /graphql with AppSync's status codes and error bodies.
// Workaround: the simulator's own endpoint returns {"errorMessage": ...} with
// status 200 for a syntax error. AppSync returns {"errors": [{errorType,
// message}]} with status 400 (MalformedHttpRequestException), and 401 for a
// bad API key.

const { apiKeyError, errorBody } = require('./appsync-errors');
const { OperationError, runQueryOrMutationRequest } = require('./operations');
const { errorFields, log } = require('./log');

const GRAPHQL_PATH = '/graphql';
// The same limit as the simulator's own endpoint (express.json limit '10mb').
const MAX_BODY_BYTES = 10 * 1024 * 1024;

// A browser page on another origin calls the endpoint too, as it can AppSync.
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-api-key, authorization, x-amz-date, x-amz-security-token, x-amz-user-agent',
  'access-control-max-age': '600',
};

function send(response, status, body, errorType) {
  const headers = { 'content-type': 'application/json; charset=utf-8', ...CORS_HEADERS };
  if (errorType) {
    headers['x-amzn-errortype'] = errorType;
  }
  response.writeHead(status, headers);
  response.end(JSON.stringify(body));
}

function sendError(request, response, status, errorType, message) {
  if (status < 500) {
    log('info', 'request rejected', { path: request.url, status, errorType, reason: message });
  }
  send(response, status, errorBody(errorType, message), errorType);
}

class BodyTooLargeError extends Error {}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`The request body exceeds ${MAX_BODY_BYTES} bytes.`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

// Return {query, variables, operationName} or null when the body is no GraphQL request.
function graphqlRequestOf(bodyText) {
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || typeof body.query !== 'string') {
    return null;
  }
  const variables = body.variables === undefined || body.variables === null ? {} : body.variables;
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    return null;
  }
  return { query: body.query, variables, operationName: body.operationName || undefined };
}

/** Create the request handler of the GraphQL HTTP endpoint. */
function createHttpHandler({ simulator, apiKey }) {
  async function handleGraphql(request, response) {
    const authError = apiKeyError(request.headers['x-api-key'], apiKey);
    if (authError !== null) {
      sendError(request, response, 401, authError.errorType, authError.message);
      return;
    }

    let bodyText;
    try {
      bodyText = await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendError(request, response, 413, 'PayloadTooLargeException', `${error.message} Send a smaller request.`);
        return;
      }
      throw error;
    }
    if (bodyText.trim() === '') {
      sendError(request, response, 400, 'MalformedHttpRequestException', 'Request body is empty.');
      return;
    }
    const graphqlRequest = graphqlRequestOf(bodyText);
    if (graphqlRequest === null) {
      sendError(
        request, response, 400, 'MalformedHttpRequestException',
        'Unable to parse GraphQL query. Send a JSON object with a "query" string and optional "variables" object.',
      );
      return;
    }

    try {
      const result = await runQueryOrMutationRequest(simulator, graphqlRequest, request.headers, request.socket.remoteAddress);
      send(response, 200, result);
    } catch (error) {
      if (!(error instanceof OperationError)) {
        throw error;
      }
      sendError(request, response, 400, error.errorType, error.message);
    }
  }

  return async function handleRequest(request, response) {
    try {
      const path = new URL(request.url, 'http://localhost').pathname;
      if (request.method === 'OPTIONS') {
        response.writeHead(204, CORS_HEADERS);
        response.end();
        return;
      }
      if (path !== GRAPHQL_PATH) {
        sendError(request, response, 404, 'NotFoundException', `No endpoint at ${path}; send GraphQL requests to POST ${GRAPHQL_PATH}.`);
        return;
      }
      if (request.method !== 'POST') {
        sendError(request, response, 405, 'MethodNotAllowedException', `${request.method} is not supported here; send POST ${GRAPHQL_PATH}.`);
        return;
      }
      await handleGraphql(request, response);
    } catch (error) {
      log('error', 'request failed', { path: request.url, ...errorFields(error) });
      if (!response.headersSent) {
        sendError(request, response, 500, 'InternalFailure', `The local AppSync simulator failed on this request: ${error.message}`);
      } else {
        response.destroy();
      }
    }
  };
}

module.exports = { GRAPHQL_PATH, createHttpHandler };

'use strict';
// Execute GraphQL operations on the simulator's schema, so that the simulator
// still validates every operation and runs the VTL resolvers from schema/.

const { execute, getOperationAST, parse, GraphQLError } = require('graphql');
const { getArgumentValues } = require('graphql/execution/values');
const { runQueryOrMutation } = require('@aws-amplify/amplify-appsync-simulator/lib/utils/graphql-runner/query-and-mutation');

const { plainErrors } = require('./appsync-errors');
const { SUBSCRIPTION_FILTER_KEY } = require('./velocity-context');
const { matchesArguments, matchesSubscriptionFilter } = require('./subscription-filter');

/** A request that cannot be executed at all; errorType and message follow AppSync. */
class OperationError extends Error {
  constructor(errorType, message) {
    super(message);
    this.name = 'OperationError';
    this.errorType = errorType;
  }
}

// The execution context the simulator's resolvers and VTL templates expect.
function executionContext(headers, sourceIp) {
  return {
    requestAuthorizationMode: 'API_KEY',
    headers,
    sourceIp,
    jwt: undefined,
    iamToken: undefined,
    appsyncErrors: [],
  };
}

/** Parse a query; a syntax error becomes an OperationError with AppSync's text. */
function parseDocument(query) {
  if (typeof query !== 'string' || query.trim() === '') {
    throw new OperationError('MalformedHttpRequestException', 'Unable to parse GraphQL query. The request has no "query" string.');
  }
  try {
    return parse(query);
  } catch (error) {
    if (error instanceof GraphQLError) {
      const where = error.locations && error.locations.length > 0
        ? ` (line ${error.locations[0].line}, column ${error.locations[0].column})`
        : '';
      throw new OperationError('MalformedHttpRequestException', `Unable to parse GraphQL query. ${error.message}${where}`);
    }
    throw error;
  }
}

function operationOf(document, operationName) {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) {
    const problem = operationName ? `no operation named "${operationName}"` : 'several operations but no operationName';
    throw new OperationError('BadRequestException', `The document has ${problem}; send operationName to pick one.`);
  }
  return operation;
}

function plainResult(result) {
  if (result.errors && result.errors.length > 0) {
    return { ...result, errors: plainErrors(result.errors) };
  }
  return result;
}

/** Run a query or mutation and return its GraphQL response. */
async function runQueryOrMutationRequest(simulator, { query, variables, operationName }, headers, sourceIp) {
  const document = parseDocument(query);
  const operation = operationOf(document, operationName);
  if (operation.operation === 'subscription') {
    throw new OperationError(
      'BadRequestException',
      'Subscriptions are served on the real-time endpoint /graphql/realtime; send this operation there over a WebSocket.',
    );
  }
  const context = executionContext(headers, sourceIp);
  const result = await runQueryOrMutation(simulator.schema, document, variables || {}, operationName, context);
  return plainResult(result);
}

function subscriptionField(simulator, operation, variables) {
  const selection = operation.selectionSet.selections[0];
  if (selection.kind !== 'Field') {
    throw new OperationError('UnsupportedOperation', 'Write the subscription field in the operation itself, not in a fragment.');
  }
  const fieldName = selection.name.value;
  const fieldDefinition = simulator.schema.getSubscriptionType().getFields()[fieldName];
  return { fieldName, args: getArgumentValues(fieldDefinition, selection, variables) };
}

/**
 * Prepare a subscription: run its resolver, and with it any
 * $extensions.setSubscriptionFilter call, and return either {errors} or
 * {fieldName, matches(payload), render(payload)}.
 * `matches` applies the enhanced filter when the resolver set one, and
 * otherwise the subscription's arguments, as AppSync does.
 * `render` executes the selection set for one mutation result.
 */
async function prepareSubscription(simulator, { query, variables, operationName }, headers, sourceIp) {
  const document = parseDocument(query);
  const operation = operationOf(document, operationName);
  if (operation.operation !== 'subscription') {
    throw new OperationError(
      'UnsupportedOperation',
      `${operation.operation} not supported through the realtime channel; send queries and mutations to /graphql over HTTP.`,
    );
  }
  const variableValues = variables || {};
  const context = executionContext(headers, sourceIp);
  const resolved = await runQueryOrMutation(simulator.schema, document, variableValues, operationName, context);
  if (resolved.errors && resolved.errors.length > 0) {
    return { errors: plainErrors(resolved.errors) };
  }

  const { fieldName, args } = subscriptionField(simulator, operation, variableValues);
  const enhancedFilter = context[SUBSCRIPTION_FILTER_KEY];
  // NOTE: with an enhanced filter set, the arguments are not matched as well,
  // because subscribeFiltered's filter argument is no field of the result.
  const matches = enhancedFilter
    ? (payload) => matchesSubscriptionFilter(enhancedFilter, payload)
    : (payload) => matchesArguments(args, payload);

  const render = async (payload) => {
    const result = await execute({
      schema: simulator.schema,
      document,
      rootValue: payload,
      contextValue: executionContext(headers, sourceIp),
      variableValues,
      operationName,
    });
    return plainResult(result);
  };
  return { fieldName, matches, render };
}

module.exports = { OperationError, prepareSubscription, runQueryOrMutationRequest };

'use strict';
// AppSync's error shapes, shared by the HTTP and the real-time endpoint.

const { GraphQLError, formatError } = require('graphql');

// AppSync's texts for a request without a usable API key.
const MISSING_AUTHORIZATION = 'Valid authorization header not provided.';
const NOT_AUTHORIZED = 'You are not authorized to make this call.';

/** Build one AppSync error object: {errorType, message} plus optional fields such as errorCode. */
function appSyncError(errorType, message, extra = {}) {
  return { errorType, message, ...extra };
}

/** Build the body AppSync sends with an HTTP error: {"errors": [{errorType, message}]}. */
function errorBody(errorType, message) {
  return { errors: [appSyncError(errorType, message)] };
}

/**
 * Return null when the API key is right, else the AppSync error for it.
 * `supplied` is the x-api-key value, or undefined when none was sent.
 */
function apiKeyError(supplied, expected) {
  if (supplied === undefined || supplied === null || supplied === '') {
    return appSyncError('UnauthorizedException', MISSING_AUTHORIZATION);
  }
  if (supplied !== expected) {
    return appSyncError('UnauthorizedException', NOT_AUTHORIZED);
  }
  return null;
}

/**
 * Turn the errors of an execution result into plain JSON objects. GraphQL
 * validation errors keep graphql-js's shape (message, locations, path), as
 * AppSync's do; resolver errors are already plain objects with errorType.
 */
function plainErrors(errors) {
  return errors.map((error) => (error instanceof GraphQLError ? formatError(error) : error));
}

module.exports = { apiKeyError, appSyncError, errorBody, plainErrors };

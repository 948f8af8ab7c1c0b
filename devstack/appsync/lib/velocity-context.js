'use strict';
// Two workarounds in the context amplify-appsync-simulator 2.16.20 builds for
// each VTL render (VelocityTemplate.prototype.buildRenderContext).
//
// 1. It has no $extensions and no $util.transform.toSubscriptionFilter, so a
//    response template such as
//    schema/resolvers/Subscription.subscribeFiltered.response.vtl fails to run.
//    Both are added here, so the templates in schema/ run unchanged.
//    toSubscriptionFilter converts and checks the filter. setSubscriptionFilter
//    stores it on the request context, and the real-time server reads it from
//    there after the subscription resolver ran.
// 2. It converts $context.info for every render, and $context.info.variables
//    contains all variables of the request. So a batch of n aliased publish
//    mutations takes time in proportion to n squared, and that conversion
//    dominates the CPU profile of a 50-message batch. Here $context.info is
//    built only when a template reads it.

const { map } = require('@aws-amplify/amplify-appsync-simulator/lib/velocity/value-mapper/mapper');
const { createInfo } = require('@aws-amplify/amplify-appsync-simulator/lib/velocity/util/info');

const {
  SubscriptionFilterError,
  toSubscriptionFilter,
  validateSubscriptionFilter,
} = require('./subscription-filter');

/** Request-context key under which setSubscriptionFilter stores the checked filter. */
const SUBSCRIPTION_FILTER_KEY = 'subscriptionFilter';

// Values from VTL may arrive wrapped in the template engine's Java-like
// map and list classes, which all have toJSON.
function toPlain(value) {
  if (value === null || value === undefined) {
    return value;
  }
  return JSON.parse(JSON.stringify(value));
}

function addSubscriptionExtensions(renderContext, requestContext) {
  const util = renderContext.util;

  // util.error records the error on this render and throws to stop it.
  const rejectFilter = (error) => {
    if (error instanceof SubscriptionFilterError) {
      util.error(error.message, error.errorType, null, { errorCode: error.errorCode });
    }
    throw error;
  };
  const notSupported = (name) => () =>
    util.error(`${name} is not supported by the local AppSync simulator.`, 'UnsupportedOperation');

  // util is a new object for each render; util.transform is shared, so replace it rather than change it.
  util.transform = {
    ...util.transform,
    toSubscriptionFilter(filterObject, ignoredFields, rules) {
      try {
        return toSubscriptionFilter(toPlain(filterObject), toPlain(ignoredFields), toPlain(rules));
      } catch (error) {
        return rejectFilter(error);
      }
    },
  };

  renderContext.extensions = {
    setSubscriptionFilter(filter) {
      try {
        requestContext[SUBSCRIPTION_FILTER_KEY] = validateSubscriptionFilter(toPlain(filter));
      } catch (error) {
        rejectFilter(error);
      }
      // A method call in VTL prints its return value, so return an empty string.
      return '';
    },
    setSubscriptionInvalidationFilter: notSupported('$extensions.setSubscriptionInvalidationFilter'),
    invalidateSubscriptions: notSupported('$extensions.invalidateSubscriptions'),
    evictFromApiCache: notSupported('$extensions.evictFromApiCache'),
  };
}

// Replace $context.info (the same object is $ctx) with a getter that converts it on first use.
function makeInfoLazy(vtlContext, info) {
  let converted;
  Object.defineProperty(vtlContext, 'info', {
    configurable: true,
    enumerable: true,
    get() {
      if (converted === undefined) {
        converted = map(createInfo(info));
      }
      return converted;
    },
  });
}

/**
 * Patch VelocityTemplate so that templates can call $extensions and
 * $util.transform.toSubscriptionFilter, and so that $context.info is built
 * on first use. An invalid filter makes the resolver return a GraphQL error
 * through util.error, as AppSync does.
 */
function patchVelocityContext(VelocityTemplate) {
  const buildRenderContext = VelocityTemplate.prototype.buildRenderContext;
  if (buildRenderContext.launcherPatched) {
    return;
  }

  function buildPatchedRenderContext(ctxValues, requestContext, info) {
    // The original converts info.variableValues at once; give it none and convert the real ones lazily.
    const infoWithoutVariables = info ? { ...info, variableValues: {} } : info;
    const renderContext = buildRenderContext.call(this, ctxValues, requestContext, infoWithoutVariables);
    if (info) {
      makeInfoLazy(renderContext.context, info);
    }
    addSubscriptionExtensions(renderContext, requestContext);
    return renderContext;
  }

  buildPatchedRenderContext.launcherPatched = true;
  VelocityTemplate.prototype.buildRenderContext = buildPatchedRenderContext;
}

module.exports = { SUBSCRIPTION_FILTER_KEY, patchVelocityContext };

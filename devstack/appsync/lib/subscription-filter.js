'use strict';
// AppSync subscription filtering, which amplify-appsync-simulator 2.16.20 lacks:
// the conversion done by $util.transform.toSubscriptionFilter, the limits that
// $extensions.setSubscriptionFilter enforces, and the evaluation of a filter or
// of the subscription's arguments against a mutation result. Pure functions.
//
// Sources: the filterGroup shape follows AppSync's $extensions reference, and
// the operators follow the @aws-appsync/utils 2.1.1 type definitions, which
// lack attributeExists. The limit messages are
// AppSync's own texts as AWS Amplify's DataStore client matches them
// ("Filters combination exceed maximum limit", "Filters exceed maximum
// attributes limit", "filter uses same fieldName multiple time") and as AppSync
// returned them to Amplify users ("subscription exceeds maximum value limit 5
// for operator `in`."). The containsAny and field path limits come from the
// lambda-appsync crate's documentation of AppSync's constraints.

const MAX_FILTER_GROUPS = 10;
const MAX_DISTINCT_FIELDS = 5;
const MAX_IN_VALUES = 5;
const MAX_CONTAINS_ANY_VALUES = 20;
const MAX_FIELD_PATH_DEPTH = 5;
const MAX_FIELD_PATH_CHARS = 256;
const MAX_LIST_VALUES = { in: MAX_IN_VALUES, notIn: MAX_IN_VALUES, containsAny: MAX_CONTAINS_ANY_VALUES };

const OPERATORS = new Set([
  'eq', 'ne', 'le', 'lt', 'ge', 'gt',
  'contains', 'notContains', 'beginsWith',
  'in', 'notIn', 'between', 'containsAny', 'attributeExists',
]);

const EXAMPLE_FILTER = '{"name": {"in": ["AAPL", "MSFT"]}}';

/** A filter that AppSync would reject; errorCode is the 400 AppSync sends with these. */
class SubscriptionFilterError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SubscriptionFilterError';
    // NOTE: AppSync sends these rejections with errorCode 400 and, as quoted by
    // its users, no errorType; BadRequestException is this simulator's choice.
    this.errorType = 'BadRequestException';
    this.errorCode = 400;
  }
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value) {
  const text = JSON.stringify(value);
  if (text === undefined) {
    return String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// ---------------------------------------------------------------------------
// Simplified form -> filterGroup form ($util.transform.toSubscriptionFilter)

/**
 * Convert AppSync's simplified filter map into the filterGroup form.
 *
 * Fields of one map are combined with AND. `and` takes a list of maps that
 * all must hold, and `or` a list of alternatives, each of which becomes one
 * filter group. `ignoredFields` drops fields by name. Each entry of `rules`
 * becomes an alternative that every group is combined with.
 * An input that already has the filterGroup form is returned as it is.
 */
function toSubscriptionFilter(filterObject, ignoredFields = [], rules = null) {
  if (!isPlainObject(filterObject)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter ${describe(filterObject)}: expected a JSON object such as ${EXAMPLE_FILTER}. ` +
        'A filter that is not valid JSON reaches the resolver as null.',
    );
  }
  // NOTE: AppSync documents only the simplified form as input here; taking the
  // filterGroup form too is a convenience of this simulator.
  if (Object.keys(filterObject).length === 1 && 'filterGroup' in filterObject) {
    return filterObject;
  }
  const ignored = new Set(Array.isArray(ignoredFields) ? ignoredFields : []);
  let groups = groupsOfMap(filterObject, ignored, 'filter');
  if (isPlainObject(rules) && Object.keys(rules).length > 0) {
    groups = addRuleAlternatives(groups, rules);
  }
  return { filterGroup: groups.map((filters) => ({ filters })) };
}

// A "group" here is an array of field filters that must all hold.
function groupsOfMap(map, ignored, where) {
  let groups = [[]];
  for (const [key, value] of Object.entries(map)) {
    if (ignored.has(key)) {
      continue;
    }
    if (key === 'and' || key === 'or') {
      groups = crossProduct(groups, groupsOfLogical(key, value, ignored, `${where}.${key}`));
      continue;
    }
    const fieldFilters = fieldFiltersOf(key, value, where);
    groups = groups.map((group) => group.concat(fieldFilters));
  }
  return groups.filter((group) => group.length > 0);
}

function groupsOfLogical(key, value, ignored, where) {
  if (!Array.isArray(value) || !value.every(isPlainObject)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: ${where} must be a list of filter objects, got ${describe(value)}.`,
    );
  }
  if (key === 'and') {
    // Every member must hold: multiply the alternatives of all members out.
    return value.reduce((groups, member) => crossProduct(groups, groupsOfMap(member, ignored, where)), [[]]);
  }
  // Any member may hold: each member's alternatives are alternatives of the whole.
  return value.flatMap((member) => groupsOfMap(member, ignored, where));
}

function crossProduct(leftGroups, rightGroups) {
  if (rightGroups.length === 0) {
    return leftGroups;
  }
  return leftGroups.flatMap((left) => rightGroups.map((right) => left.concat(right)));
}

function fieldFiltersOf(fieldName, operators, where) {
  if (!isPlainObject(operators) || Object.keys(operators).length === 0) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: field "${fieldName}" in ${where} needs an operator object such as {"eq": "AAPL"}, ` +
        `got ${describe(operators)}.`,
    );
  }
  return Object.entries(operators).map(([operator, value]) => ({ fieldName, operator, value }));
}

function addRuleAlternatives(groups, rules) {
  const ruleFilters = Object.entries(rules).flatMap(([fieldName, operators]) =>
    fieldFiltersOf(fieldName, operators, 'rules'),
  );
  if (groups.length === 0) {
    return ruleFilters.map((rule) => [rule]);
  }
  return groups.flatMap((group) => ruleFilters.map((rule) => group.concat([rule])));
}

// ---------------------------------------------------------------------------
// Validation ($extensions.setSubscriptionFilter)

/** Check a filterGroup-form filter against AppSync's rules and limits; return it or throw. */
function validateSubscriptionFilter(filter) {
  if (!isPlainObject(filter) || !Array.isArray(filter.filterGroup)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter ${describe(filter)}: expected {"filterGroup": [{"filters": [...]}]}, ` +
        'as returned by $util.transform.toSubscriptionFilter.',
    );
  }
  const groups = filter.filterGroup;
  if (groups.length === 0) {
    // NOTE: what AppSync does with a filter without conditions is not documented;
    // rejecting it catches a filter that lost all its fields by mistake.
    throw new SubscriptionFilterError(
      `Invalid subscription filter: it has no conditions; give at least one field condition, such as ${EXAMPLE_FILTER}.`,
    );
  }
  if (groups.length > MAX_FILTER_GROUPS) {
    throw new SubscriptionFilterError(
      `Filters combination exceed maximum limit ${MAX_FILTER_GROUPS} for subscription. ` +
        `This filter has ${groups.length} filter groups, one per alternative of its "or" lists; ` +
        'merge alternatives, for example into one "in" condition.',
    );
  }
  const distinctFields = new Set();
  groups.forEach((group, groupIndex) => {
    validateGroup(group, groupIndex);
    group.filters.forEach((fieldFilter) => distinctFields.add(fieldFilter.fieldName));
  });
  if (distinctFields.size > MAX_DISTINCT_FIELDS) {
    throw new SubscriptionFilterError(
      `Filters exceed maximum attributes limit ${MAX_DISTINCT_FIELDS} for subscription. ` +
        `This filter uses ${distinctFields.size} fields (${[...distinctFields].join(', ')}); filter on at most ${MAX_DISTINCT_FIELDS}.`,
    );
  }
  return filter;
}

function validateGroup(group, groupIndex) {
  const where = `filter group ${groupIndex + 1}`;
  if (!isPlainObject(group) || !Array.isArray(group.filters) || group.filters.length === 0) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: ${where} must be {"filters": [...]} with at least one filter, got ${describe(group)}.`,
    );
  }
  const seen = new Set();
  for (const fieldFilter of group.filters) {
    validateFieldFilter(fieldFilter, where);
    if (seen.has(fieldFilter.fieldName)) {
      throw new SubscriptionFilterError(
        `Invalid subscription filter: ${where} filter uses same fieldName multiple time ("${fieldFilter.fieldName}"); ` +
          'use one operator per field, for example "between" instead of "ge" and "le".',
      );
    }
    seen.add(fieldFilter.fieldName);
  }
}

function validateFieldFilter(fieldFilter, where) {
  if (!isPlainObject(fieldFilter)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: ${where} contains ${describe(fieldFilter)}; expected {"fieldName", "operator", "value"}.`,
    );
  }
  const { fieldName, operator, value } = fieldFilter;
  validateFieldName(fieldName, where);
  if (!OPERATORS.has(operator)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: operator ${describe(operator)} on field "${fieldName}" is not supported; ` +
        `use one of ${[...OPERATORS].join(', ')}.`,
    );
  }
  const problem = valueProblem(operator, value);
  if (problem !== null) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: operator "${operator}" on field "${fieldName}" ${problem}, got ${describe(value)}.`,
    );
  }
  const maxValues = MAX_LIST_VALUES[operator];
  if (maxValues !== undefined && value.length > maxValues) {
    // AppSync's own text, followed by the count and the fix.
    throw new SubscriptionFilterError(
      `subscription exceeds maximum value limit ${maxValues} for operator \`${operator}\`. ` +
        `The filter on "${fieldName}" lists ${value.length} values; split them over several filter groups or subscriptions.`,
    );
  }
}

function validateFieldName(fieldName, where) {
  if (typeof fieldName !== 'string' || fieldName === '') {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: ${where} has fieldName ${describe(fieldName)}; give a field of the mutation result, such as "name".`,
    );
  }
  if (fieldName.length > MAX_FIELD_PATH_CHARS) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: fieldName "${fieldName.slice(0, 40)}..." has ${fieldName.length} characters; ` +
        `the limit is ${MAX_FIELD_PATH_CHARS}.`,
    );
  }
  const depth = fieldName.split('.').length;
  if (depth > MAX_FIELD_PATH_DEPTH) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: fieldName "${fieldName}" is nested ${depth} levels deep; the limit is ${MAX_FIELD_PATH_DEPTH}.`,
    );
  }
}

function isNumberOrString(value) {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
}

// Return why `value` does not fit `operator`, or null when it fits.
function valueProblem(operator, value) {
  switch (operator) {
    case 'eq':
    case 'ne':
      return isNumberOrString(value) || typeof value === 'boolean' || value === null
        ? null
        : 'needs a number, string, boolean or null';
    case 'le':
    case 'lt':
    case 'ge':
    case 'gt':
    case 'contains':
    case 'notContains':
      return isNumberOrString(value) ? null : 'needs a number or string';
    case 'beginsWith':
      return typeof value === 'string' ? null : 'needs a string';
    case 'attributeExists':
      return typeof value === 'boolean' ? null : 'needs true or false';
    case 'between':
      return Array.isArray(value) && value.length === 2 && value.every(isNumberOrString) && typeof value[0] === typeof value[1]
        ? null
        : 'needs a list of two numbers or two strings, [low, high]';
    case 'in':
    case 'notIn':
    case 'containsAny':
      return Array.isArray(value) && value.length > 0 && value.every(isNumberOrString)
        ? null
        : 'needs a non-empty list of numbers or strings';
    default:
      return 'is unknown';
  }
}

// ---------------------------------------------------------------------------
// Evaluation against a mutation result

function valueAtPath(payload, fieldName) {
  let current = payload;
  for (const key of fieldName.split('.')) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

function sameType(a, b) {
  return typeof a === typeof b && isNumberOrString(a);
}

// NOTE: AppSync does not document how a missing field compares. Here a missing
// or null field satisfies only attributeExists: false, and a null field also
// eq null. So ne, notIn and notContains need the field to be present.
function fieldFilterMatches({ fieldName, operator, value }, payload) {
  const actual = valueAtPath(payload, fieldName);
  const present = actual !== undefined && actual !== null;
  if (operator === 'attributeExists') {
    return present === value;
  }
  if (operator === 'eq') {
    return actual !== undefined && actual === value;
  }
  if (!present) {
    return false;
  }
  switch (operator) {
    case 'ne':
      return actual !== value;
    case 'le':
      return sameType(actual, value) && actual <= value;
    case 'lt':
      return sameType(actual, value) && actual < value;
    case 'ge':
      return sameType(actual, value) && actual >= value;
    case 'gt':
      return sameType(actual, value) && actual > value;
    case 'contains':
      return contains(actual, value);
    case 'notContains':
      return !contains(actual, value);
    case 'beginsWith':
      return typeof actual === 'string' && actual.startsWith(value);
    case 'in':
      return value.includes(actual);
    case 'notIn':
      return !value.includes(actual);
    case 'between':
      return sameType(actual, value[0]) && value[0] <= actual && actual <= value[1];
    case 'containsAny':
      return Array.isArray(actual) && actual.some((element) => value.includes(element));
    default:
      return false;
  }
}

function contains(actual, value) {
  if (typeof actual === 'string' && typeof value === 'string') {
    return actual.includes(value);
  }
  return Array.isArray(actual) && actual.includes(value);
}

/** True when any filter group has all its field filters true for the mutation result. */
function matchesSubscriptionFilter(filter, payload) {
  return filter.filterGroup.some((group) => group.filters.every((fieldFilter) => fieldFilterMatches(fieldFilter, payload)));
}

/**
 * True when every non-null subscription argument equals the mutation result's
 * field of the same name, which is how AppSync filters on arguments.
 */
function matchesArguments(args, payload) {
  return Object.entries(args).every(([name, expected]) => {
    if (expected === null || expected === undefined) {
      return true;
    }
    return isPlainObject(payload) && JSON.stringify(payload[name]) === JSON.stringify(expected);
  });
}

module.exports = {
  MAX_FILTER_GROUPS,
  MAX_DISTINCT_FIELDS,
  MAX_IN_VALUES,
  MAX_CONTAINS_ANY_VALUES,
  SubscriptionFilterError,
  toSubscriptionFilter,
  validateSubscriptionFilter,
  matchesSubscriptionFilter,
  matchesArguments,
};

// AppSync enhanced subscription filters for the subscribeFiltered(filter:)
// subscription: building a channel filter for a list of symbols, converting
// AppSync's simplified filter form into filter groups, and checking a filter
// against AppSync's limits before it is sent. Pure functions.
//
// The limits mirror devstack/appsync/lib/subscription-filter.js, so a filter
// that passes here also passes the local simulator. Sources: the lambda-appsync
// crate documents AppSync's value limits (5 values for in and notIn, 20 for
// containsAny) and field path limits (5 levels, 256 characters). The limits of
// 10 filter groups and 5 distinct fields, and the texts of the messages, are
// AppSync's own error messages as its users have quoted them.

export const MAX_FILTER_GROUPS = 10;
export const MAX_DISTINCT_FIELDS = 5;
export const MAX_IN_VALUES = 5;
export const MAX_CONTAINS_ANY_VALUES = 20;
export const MAX_FIELD_PATH_DEPTH = 5;
export const MAX_FIELD_PATH_CHARS = 256;
// One filter group per `in` list of 5 channels, and at most 10 groups.
export const MAX_CHANNELS_PER_FILTER = MAX_FILTER_GROUPS * MAX_IN_VALUES;

const MAX_LIST_VALUES = { in: MAX_IN_VALUES, notIn: MAX_IN_VALUES, containsAny: MAX_CONTAINS_ANY_VALUES };
const OPERATORS = new Set([
  'eq', 'ne', 'le', 'lt', 'ge', 'gt',
  'contains', 'notContains', 'beginsWith',
  'in', 'notIn', 'between', 'containsAny', 'attributeExists',
]);
// The Channel field that carries the channel name, which is the symbol.
const CHANNEL_FIELD = 'name';

/** A filter that AppSync would reject, found before sending it. */
export class SubscriptionFilterError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SubscriptionFilterError';
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

function chunk(items, size) {
  const chunks = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}

/**
 * Build the simplified filter that matches the given channels: one `in`
 * condition for up to 5 channels, else an `or` of `in` conditions of 5 each.
 */
export function channelFilter(channels) {
  if (channels.length <= MAX_IN_VALUES) {
    return { [CHANNEL_FIELD]: { in: [...channels] } };
  }
  return { or: chunk(channels, MAX_IN_VALUES).map((part) => ({ [CHANNEL_FIELD]: { in: part } })) };
}

/**
 * Split channels into validated filters of at most MAX_CHANNELS_PER_FILTER
 * channels each. Return [{channels, filter, filterText}], one per subscription.
 */
export function channelFilterBatches(channels) {
  return chunk(channels, MAX_CHANNELS_PER_FILTER).map((part) => {
    const filter = channelFilter(part);
    validateSubscriptionFilter(filter);
    return { channels: part, filter, filterText: JSON.stringify(filter) };
  });
}

// ---------------------------------------------------------------------------
// Simplified form -> filter groups, as $util.transform.toSubscriptionFilter does

/**
 * Convert a simplified filter into its filter groups: a list of groups, each
 * a list of {fieldName, operator, value} conditions that must all hold.
 * Fields of one object are combined with AND, `and` lists must all hold, and
 * each alternative of an `or` list becomes a group of its own.
 */
export function filterGroupsOf(filter) {
  if (!isPlainObject(filter)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter ${describe(filter)}: expected a JSON object such as {"name": {"in": ["AAPL", "MSFT"]}}.`,
    );
  }
  return groupsOfObject(filter, 'filter');
}

function groupsOfObject(object, where) {
  let groups = [[]];
  for (const [key, value] of Object.entries(object)) {
    if (key === 'and' || key === 'or') {
      groups = crossProduct(groups, groupsOfLogical(key, value, `${where}.${key}`));
      continue;
    }
    const conditions = conditionsOf(key, value, where);
    groups = groups.map((group) => group.concat(conditions));
  }
  return groups.filter((group) => group.length > 0);
}

function groupsOfLogical(key, members, where) {
  if (!Array.isArray(members) || !members.every(isPlainObject)) {
    throw new SubscriptionFilterError(`Invalid subscription filter: ${where} must be a list of filter objects, got ${describe(members)}.`);
  }
  if (key === 'and') {
    return members.reduce((groups, member) => crossProduct(groups, groupsOfObject(member, where)), [[]]);
  }
  return members.flatMap((member) => groupsOfObject(member, where));
}

function crossProduct(leftGroups, rightGroups) {
  if (rightGroups.length === 0) {
    return leftGroups;
  }
  return leftGroups.flatMap((left) => rightGroups.map((right) => left.concat(right)));
}

function conditionsOf(fieldName, operators, where) {
  if (!isPlainObject(operators) || Object.keys(operators).length === 0) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: field "${fieldName}" in ${where} needs an operator object such as {"eq": "AAPL"}, got ${describe(operators)}.`,
    );
  }
  return Object.entries(operators).map(([operator, value]) => ({ fieldName, operator, value }));
}

// ---------------------------------------------------------------------------
// Limits, as $extensions.setSubscriptionFilter enforces them

/** Check a simplified filter against AppSync's rules and limits; return its filter groups or throw SubscriptionFilterError. */
export function validateSubscriptionFilter(filter) {
  const groups = filterGroupsOf(filter);
  if (groups.length === 0) {
    throw new SubscriptionFilterError('Invalid subscription filter: it has no conditions; give at least one, such as {"name": {"in": ["AAPL"]}}.');
  }
  if (groups.length > MAX_FILTER_GROUPS) {
    throw new SubscriptionFilterError(
      `Filters combination exceed maximum limit ${MAX_FILTER_GROUPS} for subscription. ` +
        `This filter has ${groups.length} filter groups, one per alternative of its "or" lists; merge alternatives into "in" conditions.`,
    );
  }
  const distinctFields = new Set();
  groups.forEach((group, index) => {
    validateGroup(group, `filter group ${index + 1}`);
    group.forEach((condition) => distinctFields.add(condition.fieldName));
  });
  if (distinctFields.size > MAX_DISTINCT_FIELDS) {
    throw new SubscriptionFilterError(
      `Filters exceed maximum attributes limit ${MAX_DISTINCT_FIELDS} for subscription. ` +
        `This filter uses ${distinctFields.size} fields (${[...distinctFields].join(', ')}).`,
    );
  }
  return groups;
}

function validateGroup(group, where) {
  const seen = new Set();
  for (const condition of group) {
    validateCondition(condition, where);
    if (seen.has(condition.fieldName)) {
      throw new SubscriptionFilterError(
        `Invalid subscription filter: ${where} filter uses same fieldName multiple time ("${condition.fieldName}"); ` +
          'use one operator per field, for example "between" instead of "ge" and "le".',
      );
    }
    seen.add(condition.fieldName);
  }
}

function validateCondition({ fieldName, operator, value }, where) {
  if (fieldName.length > MAX_FIELD_PATH_CHARS) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: fieldName "${fieldName.slice(0, 40)}..." in ${where} has ${fieldName.length} characters; the limit is ${MAX_FIELD_PATH_CHARS}.`,
    );
  }
  const depth = fieldName.split('.').length;
  if (depth > MAX_FIELD_PATH_DEPTH) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: fieldName "${fieldName}" in ${where} is nested ${depth} levels deep; the limit is ${MAX_FIELD_PATH_DEPTH}.`,
    );
  }
  if (!OPERATORS.has(operator)) {
    throw new SubscriptionFilterError(
      `Invalid subscription filter: operator ${describe(operator)} on field "${fieldName}" is not supported; use one of ${[...OPERATORS].join(', ')}.`,
    );
  }
  const problem = valueProblem(operator, value);
  if (problem !== null) {
    throw new SubscriptionFilterError(`Invalid subscription filter: operator "${operator}" on field "${fieldName}" ${problem}, got ${describe(value)}.`);
  }
  const maxValues = MAX_LIST_VALUES[operator];
  if (maxValues !== undefined && value.length > maxValues) {
    throw new SubscriptionFilterError(
      `subscription exceeds maximum value limit ${maxValues} for operator \`${operator}\`. ` +
        `The filter on "${fieldName}" lists ${value.length} values; split them over several filter groups or subscriptions.`,
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
      return isNumberOrString(value) || typeof value === 'boolean' || value === null ? null : 'needs a number, string, boolean or null';
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
      return Array.isArray(value) && value.length > 0 && value.every(isNumberOrString) ? null : 'needs a non-empty list of numbers or strings';
    default:
      // le, lt, ge, gt, contains, notContains
      return isNumberOrString(value) ? null : 'needs a number or string';
  }
}

'use strict';
// Unit tests of the pure filter functions: node --test devstack/appsync/test

const assert = require('node:assert/strict');
const { test } = require('node:test');

const {
  SubscriptionFilterError,
  matchesArguments,
  matchesSubscriptionFilter,
  toSubscriptionFilter,
  validateSubscriptionFilter,
} = require('../lib/subscription-filter');

function group(...filters) {
  return { filters: filters.map(([fieldName, operator, value]) => ({ fieldName, operator, value })) };
}

function filterOf(simplified) {
  return validateSubscriptionFilter(toSubscriptionFilter(simplified));
}

test('simplified form becomes one group', () => {
  assert.deepEqual(toSubscriptionFilter({ name: { in: ['AAPL', 'MSFT'] }, price: { gt: 10 } }), {
    filterGroup: [group(['name', 'in', ['AAPL', 'MSFT']], ['price', 'gt', 10])],
  });
});

test('or splits into groups', () => {
  assert.deepEqual(toSubscriptionFilter({ price: { gt: 10 }, or: [{ name: { eq: 'A' } }, { name: { eq: 'B' } }] }), {
    filterGroup: [group(['price', 'gt', 10], ['name', 'eq', 'A']), group(['price', 'gt', 10], ['name', 'eq', 'B'])],
  });
});

test('and multiplies alternatives out', () => {
  const filter = toSubscriptionFilter({ and: [{ or: [{ a: { eq: 1 } }, { b: { eq: 2 } }] }, { c: { eq: 3 } }] });
  assert.deepEqual(filter, { filterGroup: [group(['a', 'eq', 1], ['c', 'eq', 3]), group(['b', 'eq', 2], ['c', 'eq', 3])] });
});

test('ignored fields are dropped', () => {
  assert.deepEqual(toSubscriptionFilter({ a: { eq: 1 }, b: { eq: 2 } }, ['a']), { filterGroup: [group(['b', 'eq', 2])] });
});

test('rules are added as alternatives', () => {
  assert.deepEqual(toSubscriptionFilter({ a: { eq: 1 } }, [], { r1: { ge: 250 }, r2: { eq: 'p' } }), {
    filterGroup: [group(['a', 'eq', 1], ['r1', 'ge', 250]), group(['a', 'eq', 1], ['r2', 'eq', 'p'])],
  });
});

test('filterGroup form passes through', () => {
  const filter = { filterGroup: [group(['name', 'eq', 'AAPL'])] };
  assert.equal(toSubscriptionFilter(filter), filter);
});

test('non-object filter rejected', () => {
  for (const input of [null, 'AAPL', ['AAPL'], 3]) {
    assert.throws(() => toSubscriptionFilter(input), SubscriptionFilterError);
  }
});

test('field without operators rejected', () => {
  assert.throws(() => toSubscriptionFilter({ name: 'AAPL' }), /needs an operator object/);
});

test('limits rejected with AppSync texts', () => {
  const cases = [
    [{ name: { in: ['A', 'B', 'C', 'D', 'E', 'F'] } }, /: subscription exceeds maximum value limit 5 for operator `in`\./],
    [{ name: { notIn: ['A', 'B', 'C', 'D', 'E', 'F'] } }, /: subscription exceeds maximum value limit 5 for operator `notIn`\./],
    [{ tags: { containsAny: Array.from({ length: 21 }, (_, index) => index) } }, /maximum value limit 20 for operator `containsAny`/],
    [{ or: Array.from({ length: 11 }, (_, index) => ({ name: { eq: String(index) } })) }, /: Filters combination exceed maximum limit 10/],
    [Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((field) => [field, { eq: 1 }])), /: Filters exceed maximum attributes limit 5/],
    [{ price: { ge: 1, le: 9 } }, /filter uses same fieldName multiple time \("price"\)/],
    [{ 'a.b.c.d.e.f': { eq: 1 } }, /nested 6 levels deep/],
    [{ name: { like: 'A' } }, /operator "like" on field "name" is not supported/],
    [{ name: { between: [1] } }, /needs a list of two numbers or two strings/],
    [{ name: { beginsWith: 3 } }, /needs a string/],
  ];
  for (const [simplified, message] of cases) {
    assert.throws(() => filterOf(simplified), message, JSON.stringify(simplified));
  }
});

test('limits themselves accepted', () => {
  assert.doesNotThrow(() => filterOf({ name: { in: ['A', 'B', 'C', 'D', 'E'] } }));
  assert.doesNotThrow(() => filterOf({ or: Array.from({ length: 10 }, (_, index) => ({ name: { eq: String(index) } })) }));
  assert.doesNotThrow(() => filterOf(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((field) => [field, { eq: 1 }]))));
});

test('empty filter rejected', () => {
  assert.throws(() => filterOf({}), /has no conditions/);
});

test('operators evaluate', () => {
  const payload = { name: 'AAPL', price: 190.5, tags: ['tech', 'us'], nested: { venue: 'XNAS' }, none: null };
  const cases = [
    [{ name: { eq: 'AAPL' } }, true],
    [{ name: { eq: 'MSFT' } }, false],
    [{ name: { ne: 'MSFT' } }, true],
    [{ price: { gt: 190 } }, true],
    [{ price: { lt: 190 } }, false],
    [{ price: { ge: 190.5 } }, true],
    [{ price: { le: 190.4 } }, false],
    [{ price: { gt: '100' } }, false],
    [{ name: { contains: 'AP' } }, true],
    [{ tags: { contains: 'us' } }, true],
    [{ tags: { notContains: 'eu' } }, true],
    [{ name: { beginsWith: 'AA' } }, true],
    [{ name: { in: ['MSFT', 'AAPL'] } }, true],
    [{ name: { notIn: ['MSFT', 'AAPL'] } }, false],
    [{ price: { between: [190, 191] } }, true],
    [{ price: { between: [191, 192] } }, false],
    [{ tags: { containsAny: ['eu', 'us'] } }, true],
    [{ 'nested.venue': { eq: 'XNAS' } }, true],
    [{ missing: { attributeExists: false } }, true],
    [{ none: { attributeExists: true } }, false],
    [{ none: { eq: null } }, true],
    [{ missing: { ne: 'x' } }, false],
    [{ missing: { notIn: ['x'] } }, false],
  ];
  for (const [simplified, expected] of cases) {
    assert.equal(matchesSubscriptionFilter(filterOf(simplified), payload), expected, JSON.stringify(simplified));
  }
});

test('any group may match', () => {
  const filter = filterOf({ or: [{ name: { eq: 'MSFT' } }, { price: { gt: 100 } }] });
  assert.equal(matchesSubscriptionFilter(filter, { name: 'AAPL', price: 190 }), true);
});

test('arguments match equal fields', () => {
  assert.equal(matchesArguments({ name: 'AAPL' }, { name: 'AAPL', data: {} }), true);
  assert.equal(matchesArguments({ name: 'AAPL' }, { name: 'MSFT', data: {} }), false);
});

test('null arguments are ignored', () => {
  assert.equal(matchesArguments({ name: null }, { name: 'MSFT' }), true);
});

// The hand-written public declarations (index.d.ts) and the runtime agree: every class and
// method declared exists, and every public method at runtime is declared. (tsc checks the
// declarations against typed use in test/types/usage.ts; this checks them against the code.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as sfscale from '../index.mjs';

const DTS = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');

/** `{ ClassName: Set(member names) }` of each `export declare class` block. */
function declaredClasses() {
  const classes = {};
  for (const [, name, body] of DTS.matchAll(/export declare class (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
    const members = [...body.matchAll(/^\s{2}(?:static |readonly |get )*(\w+)\s*[(<:?]/gm)].map((m) => m[1]);
    classes[name] = new Set(members.filter((m) => m !== 'constructor'));
  }
  return classes;
}

function runtimeMembers(Class) {
  const own = (o) => Object.getOwnPropertyNames(o).filter((n) => n !== 'constructor' && !n.startsWith('_'));
  return new Set([...own(Class.prototype), ...own(Class).filter((n) => !['length', 'name', 'prototype'].includes(n))]);
}

test('every declared class is exported and has every declared member', () => {
  // Error classes carry instance fields, not prototype members: test/errors.test.mjs covers them.
  const classes = Object.entries(declaredClasses()).filter(([name]) => !name.endsWith('Error'));
  assert.ok(classes.length >= 5);
  for (const [name, members] of classes) {
    const Class = sfscale[name];
    assert.equal(typeof Class, 'function', `${name} is declared but not exported`);
    const present = runtimeMembers(Class);
    for (const member of members) assert.ok(present.has(member), `${name}.${member} is declared but missing`);
  }
});

test('every public method at runtime is declared', () => {
  const declared = declaredClasses();
  for (const name of ['Client', 'Bulk', 'Queue', 'Query', 'Soql']) {
    for (const member of runtimeMembers(sfscale[name])) {
      if (typeof member === 'string' && member.startsWith('Symbol')) continue;
      assert.ok(declared[name].has(member), `${name}.${member} exists but index.d.ts does not declare it`);
    }
  }
  assert.equal(typeof sfscale.soql, 'function');
  assert.match(DTS, /export declare function soql\(/);
});

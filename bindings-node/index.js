'use strict';
// sfscale for Node: `const { Client } = require('sfscale')` or `import { Client } from 'sfscale'`.
// The Rust core makes every decision; lib/ translates (see README.md).

const { Client } = require('./lib/client');
const { Bulk } = require('./lib/bulk');
const { Queue } = require('./lib/queue');
const { Query } = require('./lib/query');
const { Soql, soql } = require('./lib/soql');
const { SfscaleError, KINDS } = require('./lib/errors');
const { setLogListener } = require('./lib/logs');

module.exports = {
  Client,
  Bulk,
  Queue,
  Query,
  Soql,
  soql,
  setLogListener,
  SfscaleError,
  ...Object.fromEntries(Object.values(KINDS).map((Class) => [Class.name, Class])),
};

'use strict';
// Loads the compiled native module (`npm run build` puts `sfscale.<platform>.node` in the
// package root). The module is private: everything users call is in the other files of lib/.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const { platform, arch } = process;
const suffixes = {
  linux: [`linux-${arch}-gnu`, `linux-${arch}-musl`],
  win32: [`win32-${arch}-msvc`],
  darwin: [`darwin-${arch}`, 'darwin-universal'],
}[platform] ?? [`${platform}-${arch}`];
const candidates = suffixes.map((suffix) => join(__dirname, '..', `sfscale.${suffix}.node`));
const file = candidates.find((candidate) => existsSync(candidate));
if (!file) {
  throw new Error(`sfscale: no native module for ${platform}-${arch} (looked for ${candidates.join(', ')}); run \`npm run build\` in bindings-node`);
}
module.exports = require(file);

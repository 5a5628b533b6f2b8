// ESM entry: the CommonJS package's exports under their names.
import sfscale from './index.js';

export const {
  Client,
  Bulk,
  Queue,
  Query,
  Soql,
  soql,
  setLogListener,
  SfscaleError,
  AuthError,
  LimitError,
  LockError,
  InvalidInputError,
  NotFoundError,
  ServerError,
  NetworkError,
  TimeoutError,
  BackpressureError,
  ConfigError,
  SalesforceError,
} = sfscale;
export default sfscale;

/**
 * Stands in for the module cdktf and constructs capture a creation stack trace with
 * (`captureStackTrace`) under jest: see `moduleNameMapper` in jest.config.js. An empty
 * trace is what they record when the runtime gives none; it only ever appears in the
 * message of a token that fails to resolve.
 */
exports.captureStackTrace = () => [];

export * from './names.js';
export * from './errors.js';
export * from './claims.js';
export * from './error-answer.js';

/**
 * The WebSocket relay's entry point, kept so importers (server.ts, tests) need not change; the
 * relay itself lives in broker/node/ws/ (relay.ts and the steps it calls).
 */
export { relayWebSocket, relayWebSocketWithRetry } from './ws/relay.js';
export { writeError } from './ws/answer.js';
export type { RelayOptions, WebSocketTarget } from './ws/relay-options.js';

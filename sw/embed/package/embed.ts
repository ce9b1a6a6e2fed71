/**
 * `preview-gate/embed`: the host-page embed as an ES module (for bundlers), the same code as
 * the classic script /embed.js that the gateway serves. Importing it touches no DOM (safe in
 * server-side rendering); `configure` (or `definePreviewFrame`) registers `<preview-frame>`.
 *
 * @example
 * import { configure } from 'preview-gate/embed';
 * configure({ gatewayUrl: 'https://gate.example.com', getSession: () => myApp.sessionJwt() });
 * // <preview-frame sandbox="…" port="3000"></preview-frame>
 */
import { mount as mountIn, PreviewGateError, type MountOptions, type PreviewHandle } from '../embed-mount.js';
import { definePreviewFrame as define, type EmbedDefaults } from '../preview-frame.js';
import type { PreviewFrameElement } from './embed-types.js';

export type * from './embed-types.js';
export { PreviewGateError };

const defaults: EmbedDefaults = { gatewayUrl: '' };

export interface EmbedConfiguration {
  /** The gateway's own origin, e.g. `https://gate.example.com`. */
  gatewayUrl?: string;
  /** Resolves to the host app's user-session JWT. */
  getSession?: () => Promise<string>;
}

/** Registers `<preview-frame>` (once; later calls do nothing). */
export function definePreviewFrame(): void {
  define(defaults);
}

/** Sets the defaults of every `<preview-frame>` and of `mount`, registers the element, and retries frames waiting for a session. */
export function configure(options: EmbedConfiguration): void {
  if (options.gatewayUrl) defaults.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
  if (options.getSession) defaults.getSession = options.getSession;
  definePreviewFrame();
  document.querySelectorAll('preview-frame').forEach((el) => (el as PreviewFrameElement).retry?.());
}

/** Puts a preview in `element` (see sw/embed/embed-mount.ts for the events and the handle). */
export function mount(element: HTMLElement, options: MountOptions): PreviewHandle {
  return mountIn(element, options, defaults.gatewayUrl);
}

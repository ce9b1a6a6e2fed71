/**
 * embed.js, served at /embed.js on the gateway's own origin. One script tag gives a host page
 * the `<preview-frame>` element and `window.PreviewGate`:
 *
 *   <script src="https://gate.example.com/embed.js"></script>
 *   <preview-frame sandbox="…" port="3000" path="/"></preview-frame>
 *   <script>PreviewGate.configure({ getSession: () => myApp.sessionJwt() })</script>
 *
 * The gateway URL is the origin this script was loaded from (override with `gatewayUrl`).
 */
import { mount, type MountOptions, type PreviewHandle } from './embed-mount.js';
import { definePreviewFrame, type EmbedDefaults } from './preview-frame.js';

const script = document.currentScript as HTMLScriptElement | null;
const defaults: EmbedDefaults = { gatewayUrl: script?.src ? new URL(script.src).origin : '' };

interface PreviewGateApi {
  version: 1;
  mount(element: HTMLElement, options: MountOptions): PreviewHandle;
  /** Defaults for every `<preview-frame>` (and mount without `gatewayUrl`). */
  configure(options: { getSession?: () => Promise<string>; gatewayUrl?: string }): void;
}

const api: PreviewGateApi = {
  version: 1,
  mount: (element, options) => mount(element, options, defaults.gatewayUrl),
  configure(options) {
    if (options.gatewayUrl) defaults.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    if (options.getSession) defaults.getSession = options.getSession;
    document.querySelectorAll('preview-frame').forEach((el) => (el as HTMLElement & { retry?: () => void }).retry?.());
  },
};

(window as unknown as { PreviewGate: PreviewGateApi }).PreviewGate = api;
definePreviewFrame(defaults);

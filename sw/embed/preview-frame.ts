/**
 * `<preview-frame sandbox="…" port="3000" path="/">`: the declarative form of
 * PreviewGate.mount. The user session comes from `element.getSession = () => Promise<string>`
 * or from `PreviewGate.configure({ getSession })`; the element waits for one before it mints.
 * Attributes: `sandbox`, `port`, `path` (default `/`), `gateway` (default: embed.js's origin),
 * `worker="off"` (cookie path only), `status-interval` (ms, mount()'s `statusIntervalMs`),
 * `ports="3000 8000"` (every port the app uses, mount()'s `ports`; commas or spaces).
 * Changing sandbox/port/ports/path relaunches. Fires the same
 * `ready` / `waiting` / `expired` / `error` events as mount(). Sized to fill its container, at
 * least DEFAULT_MIN_HEIGHT_PX tall.
 */
import { mount, type PreviewHandle } from './embed-mount.js';
import type { PreviewState } from './lifecycle.js';
import type { CredentialPath } from '../page/messages.js';

/** Height of a `<preview-frame>` whose container gives it none. */
export const DEFAULT_MIN_HEIGHT_PX = 480;

export interface EmbedDefaults {
  gatewayUrl: string;
  getSession?: () => Promise<string>;
}

/**
 * The `ports` attribute: port numbers separated by commas and/or spaces (`"3000 8000"`,
 * `"3000,8000"`: what JSX makes of an array). Absent or blank: undefined (one port). A word
 * that is not a number is passed on as NaN so the gateway refuses the launch with a coded
 * 400 `bad_request` (an `error` event) instead of the embed quietly dropping a port.
 */
export function parsePorts(value: string | null): number[] | undefined {
  const words = (value ?? '').split(/[\s,]+/).filter(Boolean);
  return words.length ? words.map(Number) : undefined;
}

export function definePreviewFrame(defaults: EmbedDefaults): void {
  if (customElements.get('preview-frame')) return;

  class PreviewFrame extends HTMLElement {
    static observedAttributes = ['sandbox', 'port', 'ports', 'path', 'gateway', 'worker', 'status-interval'];
    getSession?: () => Promise<string>;
    #handle: PreviewHandle | null = null;
    #scheduled = false;

    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      const style = document.createElement('style');
      // Fills its container (`height: 100%` of a container with a height), and never collapses
      // to an iframe's 150 px default where the container has none: 480 px is a usable app
      // viewport. Override with CSS on the element (`preview-frame { height: 80vh }`).
      style.textContent = `:host{display:block;position:relative;width:100%;height:100%;min-height:${DEFAULT_MIN_HEIGHT_PX}px}iframe{position:absolute;inset:0}`;
      root.append(style);
    }

    get credentialPath(): CredentialPath | null {
      return this.#handle?.credentialPath ?? null;
    }
    /** Where the preview stands (PreviewHandle.state); `idle` before it mounts. */
    get state(): PreviewState {
      return this.#handle?.state ?? 'idle';
    }
    get handle(): PreviewHandle | null {
      return this.#handle;
    }

    connectedCallback(): void {
      this.#schedule();
    }
    disconnectedCallback(): void {
      this.#handle?.destroy();
      this.#handle = null;
    }
    attributeChangedCallback(): void {
      if (this.isConnected) this.#schedule();
    }

    /** Mounts (again) once the current task ends, so several attribute changes launch once. */
    #schedule(): void {
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#mount();
      });
    }

    /** Called by PreviewGate.configure when a default session source appears. */
    retry(): void {
      if (this.isConnected && !this.#handle) this.#schedule();
    }

    #mount(): void {
      this.#handle?.destroy();
      this.#handle = null;
      const sandboxId = this.getAttribute('sandbox');
      const port = Number(this.getAttribute('port'));
      const getSession = this.getSession ?? defaults.getSession;
      if (!this.isConnected || !sandboxId || !Number.isInteger(port) || !getSession) return;
      const statusInterval = this.getAttribute('status-interval');
      const ports = parsePorts(this.getAttribute('ports'));
      this.#handle = mount(
        this,
        {
          sandboxId,
          port,
          ...(ports ? { ports } : {}),
          path: this.getAttribute('path') ?? '/',
          getSession,
          gatewayUrl: this.getAttribute('gateway') ?? defaults.gatewayUrl,
          worker: this.getAttribute('worker') !== 'off',
          ...(statusInterval !== null && statusInterval.trim() !== '' ? { statusIntervalMs: Number(statusInterval) } : {}),
        },
        defaults.gatewayUrl,
      );
    }
  }
  customElements.define('preview-frame', PreviewFrame);
}

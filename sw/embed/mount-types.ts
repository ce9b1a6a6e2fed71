/**
 * The embed's public shapes (what `PreviewGate.mount` takes and returns, its events' `detail`)
 * and the iframe's flags, apart from embed-mount.ts, which wires them.
 */
import type { CredentialPath, PageErrorCode } from '../page/messages.js';
import type { PreviewState } from './lifecycle.js';

export interface MountOptions {
  sandboxId: string;
  port: number;
  /**
   * Every port of the sandbox the app uses, for an app on several ports (a frontend on 3000
   * calling its API on 8000): the launch grants them all (POST /api/previews `ports`; `port` is
   * always included; at most 8). Default: `port` only. docs/interface.md "Apps on several ports".
   */
  ports?: readonly number[];
  /** Path to open in the sandbox app. Default `/`. */
  path?: string;
  /** Resolves to the host app's user-session JWT (sent as `Authorization: Bearer`). */
  getSession: () => Promise<string>;
  /** The gateway's own origin. Default: the origin embed.js was loaded from. */
  gatewayUrl?: string;
  /** `false` keeps the Service Worker out (cookie path only). Default true. */
  worker?: boolean;
  /** Title of the iframe, for assistive technology. Default `Preview`. */
  title?: string;
  /**
   * How often (ms) the embed asks the gateway whether the preview session still lives
   * (GET /api/previews/{id} with `getSession()`), from the frame's `launched` report on, paused
   * while the page is hidden and checked at once when it is shown again. Default 30000; at
   * least 100; `0` turns the check off (the end is then seen only by the frame's next
   * navigation).
   */
  statusIntervalMs?: number;
}

export interface PreviewHandle {
  readonly element: HTMLElement;
  readonly iframe: HTMLIFrameElement;
  /** How the preview authenticates: 'worker', 'worker-only', 'cookie', or null before the first launch. */
  readonly credentialPath: CredentialPath | null;
  readonly sessionId: string | null;
  /**
   * Where the preview stands: `loading` (launching), `waiting` (the sandbox or its app is
   * starting), `live` (the app is shown), `failed`, `ended` (no session: `reload()` starts one),
   * `idle` before the first mint, `destroyed`.
   */
  readonly state: PreviewState;
  /** Mints a new preview and loads it (a new launch link each time). */
  reload(): Promise<void>;
  /** A new launch URL for the same preview, e.g. to open it in a new tab. */
  launchUrl(path?: string): Promise<string>;
  /**
   * Ends the current preview session (DELETE /api/previews/{id}) for good: dispatches `expired`
   * (`session_revoked`) at once, empties the frame and shows the ended panel; no new session
   * starts until `reload()` (or the panel's Start again).
   */
  revoke(): Promise<void>;
  destroy(): void;
}

export interface PreviewEventDetail {
  code: PageErrorCode | 'ok';
  /**
   * Human-readable text. UNTRUSTED when it comes from the frame (the sandbox app can post it):
   * at most MAX_MESSAGE_LENGTH characters; render it as text, never as HTML.
   */
  message: string;
  credentialPath: CredentialPath | null;
  sessionId: string | null;
}

/**
 * Why these sandbox flags, and why Chromium's console warning about them ("an iframe which has
 * both allow-scripts and allow-same-origin … can escape its sandboxing") does not apply: that
 * escape is a frame of the *host page's own origin* reaching up and removing its sandbox
 * attribute. The preview is always another origin (`{port}-{sandboxId}.{previewDomain}`, never
 * the host app's), so it cannot touch the host's DOM, and the attribute keeps protecting what it
 * is here for: the sandbox app (untrusted code) may not navigate the host app away (no
 * `allow-top-navigation*`, even after a click), nor lock the pointer or start a presentation.
 * `allow-same-origin` keeps the preview's real origin (its Service Worker, IndexedDB and cookies
 * need one); it runs scripts, submits forms, opens popups (OAuth flows, "open in new tab" links)
 * that are not themselves sandboxed, shows dialogs and downloads files. Chromium logs the warning
 * for every frame with both flags whatever its origin; it cannot be silenced from the page.
 */
export const IFRAME_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';
export const IFRAME_ALLOW = 'clipboard-read; clipboard-write; fullscreen';

/**
 * Typings of the `<preview-frame>` element and its events for TypeScript's DOM
 * (`document.querySelector('preview-frame')`, `createElement('preview-frame')`). Type-only:
 * the element itself is sw/embed/preview-frame.ts (the embed's public API is re-exported from
 * there and sw/embed/embed-mount.ts).
 */
import type { PreviewEventDetail, PreviewHandle } from '../embed-mount.js';
import type { CredentialPath } from '../../page/messages.js';

export type { PreviewEventDetail, PreviewHandle, MountOptions } from '../embed-mount.js';
export type { CredentialPath, PageErrorCode } from '../../page/messages.js';
export type { PreviewState } from '../lifecycle.js';
import type { PreviewState } from '../lifecycle.js';

/** The events a `<preview-frame>` (and an element given to `mount`) dispatches. */
export interface PreviewFrameEvents {
  /** The app in the frame loaded (never said of a waiting or error page). */
  ready: CustomEvent<PreviewEventDetail>;
  /**
   * The frame shows the waiting page: the sandbox is starting (`detail.code` `sandbox_starting`)
   * or nothing listens on the port yet (`app_not_listening`); `ready` follows when the app answers.
   */
  waiting: CustomEvent<PreviewEventDetail>;
  /**
   * The preview session ended; cancelable: `preventDefault()` stops the automatic relaunch.
   * After `handle.revoke()` there is none either, and the frame shows an ended panel (Start again).
   */
  expired: CustomEvent<PreviewEventDetail>;
  /** Anything else that keeps the preview from showing (`detail.code` says what). */
  error: CustomEvent<PreviewEventDetail>;
}

/** Every event of a `<preview-frame>`: an element's own, with `error` as the embed's CustomEvent. */
export type PreviewFrameEventMap = Omit<HTMLElementEventMap, 'error'> & PreviewFrameEvents;

/** The attributes of `<preview-frame>` (all strings in HTML; numbers accepted in JSX). */
export interface PreviewFrameAttributes {
  /** The Daytona sandbox id. */
  sandbox: string;
  /** The sandbox port to preview. */
  port: number | string;
  /**
   * Every port the app uses (a frontend calling its API on another port): `"3000 8000"` or
   * `"3000,8000"` in HTML, an array in JSX. The launch grants them all. Default: `port` only.
   */
  ports?: string | readonly number[];
  /** Path to open. Default `/`. */
  path?: string;
  /** The gateway's origin. Default: where embed.js came from, or `configure({ gatewayUrl })`. */
  gateway?: string;
  /** `off`: cookie path only, no Service Worker. */
  worker?: 'on' | 'off';
  /** Status-check interval in ms (0 turns it off). Default 30000. */
  'status-interval'?: number | string;
}

/** A `<preview-frame>` element. */
export interface PreviewFrameElement extends HTMLElement {
  /** This element's user-session source (else the one given to `configure`). */
  getSession?: () => Promise<string>;
  /** 'worker' or 'cookie' once launched, else null. */
  readonly credentialPath: CredentialPath | null;
  /** Where the preview stands: `idle`, `loading`, `waiting`, `live`, `failed`, `ended`, `destroyed`. */
  readonly state: PreviewState;
  /** The mounted preview (reload, launchUrl, revoke), or null before launch. */
  readonly handle: PreviewHandle | null;
  /** Launches again if no preview is mounted (e.g. after a session source appeared). */
  retry(): void;
  addEventListener<K extends keyof PreviewFrameEventMap>(
    type: K,
    listener: (this: PreviewFrameElement, ev: PreviewFrameEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PreviewFrameEventMap>(
    type: K,
    listener: (this: PreviewFrameElement, ev: PreviewFrameEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'preview-frame': PreviewFrameElement;
  }
}

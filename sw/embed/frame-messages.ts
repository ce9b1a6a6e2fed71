/**
 * What the embed accepts from its frame. The frame is the preview origin, where the sandbox
 * app's own (untrusted) scripts run, so any message may come from the app rather than from the
 * gateway's pages (sw/page/messages.ts): every field is checked here, the text is capped, and a
 * code is either a known one or `internal`. What a message may *cause* (a relaunch mints a
 * session) is rationed by the lifecycle (lifecycle.ts).
 */
import { isErrorCode, isSessionOver } from '../../protocol/index.js';
import { type CredentialPath, isPreviewGateMessage, PAGE_ERROR_CODES, type PageErrorCode } from '../page/messages.js';
import { isWaitingCode, type WaitingCode } from '../page/failures.js';

/** Longest `message` taken from the frame (the rest is cut). */
export const MAX_MESSAGE_LENGTH = 300;

/** A code the frame reported, if it is one we know; anything else is `internal`. */
export function frameErrorCode(code: unknown): PageErrorCode {
  return isErrorCode(code) || (typeof code === 'string' && (PAGE_ERROR_CODES as readonly string[]).includes(code)) ? (code as PageErrorCode) : 'internal';
}

/** The frame's `message`: text only, capped. */
export function frameMessage(message: unknown): string {
  return typeof message === 'string' ? message.slice(0, MAX_MESSAGE_LENGTH) : '';
}

/** A frame message, checked field by field; null for anything that is not one. */
export type FrameReport =
  | { type: 'launched'; credentialPath: CredentialPath }
  /** `sessionOver`: the code says the preview session ended (protocol/error-answer.ts): a new launch cures it. */
  | { type: 'error'; code: PageErrorCode; message: string; sessionOver: boolean }
  /** The frame shows the waiting page (the app is not up yet); it turns into the app by itself. */
  | { type: 'waiting'; code: WaitingCode; message: string }
  | { type: 'relaunch'; target: 'frame' | 'tab' };

export function readFrameMessage(data: unknown): FrameReport | null {
  if (!isPreviewGateMessage(data)) return null;
  const m = data as { type: string; code?: unknown; message?: unknown; credentialPath?: unknown; target?: unknown };
  if (m.type === 'launched') {
    return m.credentialPath === 'worker' || m.credentialPath === 'worker-only' || m.credentialPath === 'cookie'
      ? { type: 'launched', credentialPath: m.credentialPath }
      : null;
  }
  if (m.type === 'error') {
    const code = frameErrorCode(m.code);
    return { type: 'error', code, message: frameMessage(m.message), sessionOver: isSessionOver(code) };
  }
  if (m.type === 'waiting') return isWaitingCode(m.code) ? { type: 'waiting', code: m.code, message: frameMessage(m.message) } : null;
  if (m.type === 'relaunch') return m.target === 'frame' || m.target === 'tab' ? { type: 'relaunch', target: m.target } : null;
  return null;
}

/**
 * What an operator sets for the gateway's own pages (the launch page, error and waiting pages):
 * the product name and logo shown at the top, and the host app's URL that "Back to the app"
 * opens in a tab with no history (sw/page/failure-view.ts). Validated once, with config.ts.
 */

export interface PageOptions {
  /** The host app's URL, for "Back to the app" on a page opened in a tab of its own (GATE_APP_URL). Default none. */
  appUrl?: string;
  /** Product name at the top of every gateway page (GATE_PRODUCT_NAME). Default `Preview`; at most 60 characters. */
  productName?: string;
  /** Logo beside the name: an https/http URL or a `data:image/…` URL of at most 16 KiB (GATE_PRODUCT_LOGO_URL). Default none. */
  productLogoUrl?: string;
}

export interface ResolvedPages {
  appUrl: string | null;
  productName: string;
  logoUrl: string | null;
  /** The logo's origin when it is not a data: URL: the pages' CSP must allow images from it. */
  logoOrigin: string | null;
}

export const DEFAULT_PRODUCT_NAME = 'Preview';
const MAX_LOGO_DATA_URL = 16 * 1024;

export function resolvePages(o: PageOptions): ResolvedPages {
  let appUrl: string | null = null;
  if (o.appUrl) {
    try {
      const u = new URL(o.appUrl);
      if (u.protocol === 'http:' || u.protocol === 'https:') appUrl = u.href;
    } catch {
      /* below */
    }
    if (!appUrl) throw new TypeError(`preview-gate config: appUrl (GATE_APP_URL) must be an http(s) URL of the host app; got "${o.appUrl}"`);
  }
  const productName = (o.productName ?? '').trim() || DEFAULT_PRODUCT_NAME;
  if (productName.length > 60 || /[\u0000-\u001f]/.test(productName)) {
    throw new TypeError('preview-gate config: productName (GATE_PRODUCT_NAME) must be at most 60 characters on one line');
  }
  let logoUrl: string | null = null;
  let logoOrigin: string | null = null;
  if (o.productLogoUrl) {
    const raw = o.productLogoUrl.trim();
    if (/^data:image\/(png|svg\+xml|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(raw) && raw.length <= MAX_LOGO_DATA_URL) logoUrl = raw;
    else {
      try {
        const u = new URL(raw);
        if (u.protocol === 'https:' || u.protocol === 'http:') {
          logoUrl = u.href;
          logoOrigin = u.origin;
        }
      } catch {
        /* below */
      }
    }
    if (!logoUrl) {
      throw new TypeError(
        'preview-gate config: productLogoUrl (GATE_PRODUCT_LOGO_URL) must be an http(s) URL or a base64 data:image/(png|svg+xml|jpeg|gif|webp) URL of at most 16 KiB',
      );
    }
  }
  return { appUrl, productName, logoUrl, logoOrigin };
}

/**
 * `preview-gate/embed/preact`: `<preview-frame>` in Preact's JSX.
 * Use: `import type {} from 'preview-gate/embed/preact';` once in your project.
 */
import type { JSX } from 'preact';
import type { PreviewEventDetail, PreviewFrameAttributes, PreviewFrameElement } from '../embed-types.js';

export type PreviewFrameProps = JSX.HTMLAttributes<PreviewFrameElement> &
  PreviewFrameAttributes & {
    onready?: (event: CustomEvent<PreviewEventDetail>) => void;
    onexpired?: (event: CustomEvent<PreviewEventDetail>) => void;
  };

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'preview-frame': PreviewFrameProps;
    }
  }
}

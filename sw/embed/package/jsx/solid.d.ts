/**
 * `preview-gate/embed/solid`: `<preview-frame>` in Solid's JSX (`on:ready` etc. for the events).
 * Use: `import type {} from 'preview-gate/embed/solid';` once in your project.
 */
import type { JSX } from 'solid-js';
import type { PreviewEventDetail, PreviewFrameAttributes, PreviewFrameElement } from '../embed-types.js';

export type PreviewFrameProps = JSX.HTMLAttributes<PreviewFrameElement> &
  PreviewFrameAttributes & {
    'on:ready'?: (event: CustomEvent<PreviewEventDetail>) => void;
    'on:expired'?: (event: CustomEvent<PreviewEventDetail>) => void;
    'on:error'?: (event: CustomEvent<PreviewEventDetail>) => void;
  };

declare module 'solid-js' {
  namespace JSX {
    interface IntrinsicElements {
      'preview-frame': PreviewFrameProps;
    }
  }
}

/**
 * `preview-gate/embed/react`: `<preview-frame>` in React's JSX (React 19 types).
 * Use: `import type {} from 'preview-gate/embed/react';` once in your project.
 * React 19 attaches `on<event>` props of custom elements as listeners of `<event>`.
 */
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { PreviewEventDetail, PreviewFrameAttributes, PreviewFrameElement } from '../embed-types.js';

export type PreviewFrameProps = DetailedHTMLProps<HTMLAttributes<PreviewFrameElement>, PreviewFrameElement> &
  PreviewFrameAttributes & {
    onready?: (event: CustomEvent<PreviewEventDetail>) => void;
    onexpired?: (event: CustomEvent<PreviewEventDetail>) => void;
  };

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'preview-frame': PreviewFrameProps;
    }
  }
}

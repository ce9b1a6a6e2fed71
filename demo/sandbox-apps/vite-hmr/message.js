// Edit this text and save: Vite's HMR replaces the module in the open page, through the gateway.
export const message = 'Hello from a Vite dev server in a private sandbox';

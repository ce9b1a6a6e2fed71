/**
 * The deployed bundle's source is held by V8 as a one-byte string for the process's whole life:
 * no character above U+00FF anywhere in dist/gateway.mjs (broker/node/bundle.mjs: charset ascii,
 * and the ones left in dependencies' comments replaced). One such character made V8 keep the
 * 4.7 MB text as 9.4 MB (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatewayBundle } from './support/bundle.js';

describe('the gateway bundle is a one-byte text', () => {
  it('has no character above U+00FF, while the sources it was built from have many', async () => {
    const file = await gatewayBundle();
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text.match(/[\u0100-\uffff]/g)).toBeNull();
    // Positive control: the sources (kept in the source map) do hold such characters: arrows in comments.
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sourcesContent: string[] };
    const wide = map.sourcesContent.join('\n').match(/[\u0100-\uffff]/g) ?? [];
    expect(wide.length).toBeGreaterThan(10);
  });
});

/** Types of scripts/soak-heap-diff.mjs for the TypeScript scripts that use it (scripts/ws-idle-memory.ts). */
export function summarize(file: string): { groups: Map<string, { count: number; size: number }>; total: number };

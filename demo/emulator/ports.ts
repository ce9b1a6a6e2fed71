/**
 * What listens on a sandbox port while the sandbox is started. A binding is the INSPECTOR app
 * (a real server per sandbox and port, opened on start, closed on stop), or any local target
 * URL (e.g. a Vite dev server), or nothing (the proxy answers a bare 502, as Daytona does when
 * the app port is not listening).
 */
import { startInspector, type InspectorServer } from './inspector/app.js';

export type PortBinding = 'inspector' | { target: string } | null;

/** Where the proxy connects for one port: host, port and a path prefix (for target URLs). */
export interface Upstream {
  host: string;
  port: number;
  pathPrefix: string;
}

export const DEFAULT_PORTS: Record<number, PortBinding> = { 3000: 'inspector', 8080: 'inspector' };

/** The live processes of one started sandbox, keyed by sandbox port. */
export class PortApps {
  private readonly inspectors = new Map<number, InspectorServer>();
  private readonly targets = new Map<number, Upstream>();

  async open(port: number, binding: PortBinding): Promise<void> {
    await this.close(port);
    if (binding === null) return;
    if (binding === 'inspector') {
      this.inspectors.set(port, await startInspector());
      return;
    }
    const url = new URL(binding.target);
    if (url.protocol !== 'http:') throw new TypeError(`port target must be an http: URL, got ${binding.target}`);
    this.targets.set(port, {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      pathPrefix: url.pathname.replace(/\/$/, ''),
    });
  }

  async close(port: number): Promise<void> {
    this.targets.delete(port);
    const inspector = this.inspectors.get(port);
    this.inspectors.delete(port);
    await inspector?.close();
  }

  async closeAll(): Promise<void> {
    const ports = [...new Set([...this.inspectors.keys(), ...this.targets.keys()])];
    await Promise.all(ports.map((p) => this.close(p)));
  }

  upstream(port: number): Upstream | null {
    const inspector = this.inspectors.get(port);
    if (inspector) return { host: '127.0.0.1', port: inspector.port, pathPrefix: '' };
    return this.targets.get(port) ?? null;
  }
}

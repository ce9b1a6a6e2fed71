/**
 * What the demo host page may do to the sample sandbox (demo/host/server.ts serves these as
 * same-origin POSTs): stop and start it, and start its "late" dev server, a port that nothing
 * listens on until asked, so a person can watch the gateway's waiting page turn into the app.
 * In a real IDE these are the IDE's own buttons, calling Daytona's API; here the sandbox state
 * goes through the emulator's API too (GET /api/sandbox/{id}), so the page shows what the
 * gateway's Daytona client sees.
 */
import type { Emulator } from './emulator/index.js';

export interface DemoStatus {
  /** Daytona's state name: started, stopping, stopped, starting, … */
  sandbox: string;
  /** The late dev server, when the demo offers one. */
  devServer: { port: number; running: boolean } | null;
}

export interface DemoControls {
  status(): Promise<DemoStatus>;
  stopSandbox(): Promise<void>;
  startSandbox(): Promise<void>;
  startDevServer(): Promise<void>;
  stopDevServer(): Promise<void>;
}

export function demoControls(emulator: Emulator, sandboxId: string, latePort: number | null): DemoControls {
  let devServerRunning = false;
  const noLatePort = () => Promise.reject(new Error('this demo has no late dev server port'));
  return {
    async status() {
      const res = await fetch(`${emulator.apiUrl}/sandbox/${encodeURIComponent(sandboxId)}`, {
        headers: { authorization: `Bearer ${emulator.apiKey}` },
      });
      const body = (await res.json().catch(() => ({}))) as { state?: string };
      return {
        sandbox: res.ok && typeof body.state === 'string' ? body.state : 'unknown',
        devServer: latePort === null ? null : { port: latePort, running: devServerRunning },
      };
    },
    stopSandbox: () => emulator.stopSandbox(sandboxId),
    startSandbox: () => emulator.startSandbox(sandboxId),
    async startDevServer() {
      if (latePort === null) return noLatePort();
      // The inspector app stands for "npm run dev" finally listening on the port.
      await emulator.bindPort(sandboxId, latePort, 'inspector');
      devServerRunning = true;
    },
    async stopDevServer() {
      if (latePort === null) return noLatePort();
      await emulator.bindPort(sandboxId, latePort, null);
      devServerRunning = false;
    },
  };
}

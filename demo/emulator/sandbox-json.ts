/** The Sandbox JSON of Daytona's API (docs/daytona.md, "The SDK"; api-client `Sandbox` model). */
import { ORGANIZATION_ID, type SandboxRecord } from './sandboxes.js';

export function sandboxJson(r: SandboxRecord, toolboxProxyUrl: string): Record<string, unknown> {
  return {
    id: r.id,
    organizationId: ORGANIZATION_ID,
    name: r.name,
    snapshot: 'daytonaio/sandbox:emulated',
    user: r.user,
    env: r.env,
    labels: r.labels,
    public: r.public,
    networkBlockAll: false,
    target: r.target,
    cpu: 1,
    gpu: 0,
    memory: 1,
    disk: 3,
    state: r.state,
    desiredState: desiredState(r.state),
    errorReason: undefined,
    recoverable: false,
    backupState: 'None',
    autoStopInterval: 15,
    autoArchiveInterval: 10080,
    autoDeleteInterval: -1,
    volumes: [],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastActivityAt: r.lastActivityAt,
    sandboxClass: 'small',
    daemonVersion: 'emulated',
    runnerId: 'emulator',
    toolboxProxyUrl,
  };
}

function desiredState(state: SandboxRecord['state']): string {
  if (state === 'stopping' || state === 'stopped') return 'stopped';
  if (state === 'pausing' || state === 'paused') return 'paused';
  if (state === 'archiving' || state === 'archived') return 'archived';
  if (state === 'destroyed') return 'destroyed';
  return 'started';
}

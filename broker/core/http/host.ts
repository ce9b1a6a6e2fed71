/**
 * Which host a request is for: the gateway's own origin, a preview origin
 * `{port}-{sandboxId}.{previewDomain}[:publicPort]`, or nothing we serve.
 */
import { DAYTONA_RESERVED_PORTS, GateError, parsePreviewLabel, type PreviewTarget } from '../../../protocol/index.js';
import type { ResolvedConfig } from '../config.js';

export type HostKind = { kind: 'gateway' } | { kind: 'preview'; target: PreviewTarget; origin: string } | { kind: 'unknown'; error: GateError };

/** Sandbox ids are one DNS label: Daytona's are UUIDs; names are kept to the label alphabet. */
const SANDBOX_ID = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

/** The canonical preview origin of a target (also the `aud` of its tokens). */
export function previewOrigin(config: ResolvedConfig, target: PreviewTarget): string {
  const port = config.publicPort == null ? '' : `:${config.publicPort}`;
  return `${config.publicScheme}://${target.port}-${target.sandboxId}.${config.previewDomain}${port}`;
}

/** Throws the coded error when the port may not be previewed. */
export function checkPort(config: ResolvedConfig, port: number): void {
  if (DAYTONA_RESERVED_PORTS.includes(port))
    throw new GateError('reserved_port', `Port ${port} is reserved by Daytona and never reachable through the gateway.`);
  if (config.allowedPorts && !config.allowedPorts.has(port))
    throw new GateError('port_not_allowed', `Port ${port} is not among the ports this gateway exposes.`);
}

/** Validates a sandbox id from an API body or a host label. */
export function isSandboxId(id: unknown): id is string {
  return typeof id === 'string' && SANDBOX_ID.test(id);
}

export function classifyHost(config: ResolvedConfig, hostHeader: string | null): HostKind {
  const raw = (hostHeader ?? '').trim().toLowerCase();
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(raw) ?? /^(\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/.exec(raw);
  if (!m) return { kind: 'unknown', error: new GateError('invalid_host', 'The Host header is missing or malformed.') };
  const name = m[1]!.replace(/\.$/, '');
  const suffix = `.${config.previewDomain}`;
  if (name.endsWith(suffix)) {
    const label = name.slice(0, -suffix.length);
    const target = label.includes('.') ? null : parsePreviewLabel(label);
    if (!target || !SANDBOX_ID.test(target.sandboxId)) {
      return { kind: 'unknown', error: new GateError('not_found', `No preview here: preview addresses look like {port}-{sandboxId}.${config.previewDomain}.`) };
    }
    return { kind: 'preview', target, origin: previewOrigin(config, target) };
  }
  if (config.gatewayHosts && !config.gatewayHosts.includes(raw) && !config.gatewayHosts.includes(name)) {
    return { kind: 'unknown', error: new GateError('not_found', 'This host is not served by the preview gateway.') };
  }
  return { kind: 'gateway' };
}

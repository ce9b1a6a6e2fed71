/**
 * A fleet for the multi-instance tests: one real Redis (test/support/redis.ts), the Daytona
 * emulator (in this process) with one inspector sandbox, a round-robin TCP balancer
 * (balancer.ts) and N gateway processes (gateway-process.ts) sharing the Redis, all handing out
 * URLs on the balancer's port (`GATE_PUBLIC_PORT`), as behind a real load balancer.
 *
 * @example
 * const fleet = await startFleet(2);
 * const viaA = fleet.client(0); // straight to instance A, Host on the public port
 * await fleet.restart(0);        // SIGTERM (drain) and a fresh process in its place
 * await fleet.close();
 */
import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator } from '../../../demo/emulator/index.js';
import { startRedis, type TestRedis } from '../../support/redis.js';
import { startBalancer, type Balancer } from './balancer.js';
import { fleetClient } from './client.js';
import { killGateway, spawnGateway, type GatewayProcess } from './gateway-process.js';

export interface Fleet {
  redis: TestRedis;
  emulator: Emulator;
  lb: Balancer;
  sandboxId: string;
  userSecret: string;
  gateways: GatewayProcess[];
  /** A client straight to instance `i` (Host names the balancer's port, as every URL does). */
  client(i: number): ReturnType<typeof fleetClient>;
  /** A client through the balancer. */
  viaBalancer(): ReturnType<typeof fleetClient>;
  /** The environment every instance gets. */
  env: Record<string, string>;
  /** SIGTERM instance `i`, wait for exit 0, start a fresh process in its place (new port). */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFleet(n: number, extraEnv: Record<string, string> = {}): Promise<Fleet> {
  const redis = await startRedis();
  const emulator = await startEmulator({ port: 0 });
  const { id: sandboxId } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
  const lb = await startBalancer([]);
  const userSecret = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    GATE_USER_JWT_SECRET: userSecret,
    GATE_REDIS_URL: redis.url,
    GATE_KEYS_SECRET: randomBytes(32).toString('base64url'),
    GATE_PUBLIC_PORT: String(lb.port),
    GATE_DRAIN_SECONDS: '10',
    DAYTONA_API_URL: emulator.apiUrl,
    DAYTONA_API_KEY: emulator.apiKey,
    DAYTONA_TARGET: 'us',
    ...extraEnv,
  };
  const gateways: GatewayProcess[] = [];
  try {
    // One after the other: the first creates the fleet's keys in Redis, the next loads them.
    for (let i = 0; i < n; i++) gateways.push(await spawnGateway(env));
  } catch (err) {
    for (const g of gateways) await killGateway(g);
    await lb.close();
    await emulator.close();
    await redis.close();
    throw err;
  }
  lb.backends = gateways.map((g) => g.port);
  lb.connections = gateways.map(() => 0);
  const fleet: Fleet = {
    redis,
    emulator,
    lb,
    sandboxId,
    userSecret,
    gateways,
    env,
    client: (i) => fleetClient(fleet.gateways[i]!.port, lb.port),
    viaBalancer: () => fleetClient(lb.port),
    async restart(i) {
      const old = fleet.gateways[i]!;
      old.child.kill('SIGTERM');
      const { code } = await old.exited;
      if (code !== 0) throw new Error(`instance ${i} exited ${code} on SIGTERM`);
      const fresh = await spawnGateway(env);
      fleet.gateways[i] = fresh;
      lb.backends[i] = fresh.port;
    },
    async close() {
      for (const g of fleet.gateways) await killGateway(g);
      await lb.close();
      await emulator.close();
      await redis.close();
    },
  };
  return fleet;
}

/**
 * The Lua scripts of the Redis store: each is one atomic step on the server, so two gateway
 * instances can never both win (Redis runs a script with nothing interleaved). Times are ms;
 * expiry is Redis's own (PEXPIREAT), so a record vanishes on its end without any sweep.
 */
import { luaScript } from './port.js';

/** KEYS[1] = hash; ARGV[1] = expiresAt, then field/value pairs. Replaces the hash. */
export const hashPut = luaScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`);

/**
 * Refresh rotation. KEYS[1] = the presented credential's hash record, KEYS[2] = the successor's.
 * ARGV: now, successorSealed, successorHash, successorRecordJson, successorExpiresAt.
 * Returns {'unknown'} | {'rotated'} | {'already', field, value, ...}.
 */
export const rotateRefresh = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if redis.call('HEXISTS', KEYS[1], 'rotatedAt') == 1 then
  local all = redis.call('HGETALL', KEYS[1])
  table.insert(all, 1, 'already')
  return all
end
redis.call('HSET', KEYS[1], 'rotatedAt', ARGV[1], 'successorSealed', ARGV[2], 'successorHash', ARGV[3])
redis.call('HSET', KEYS[2], 'rec', ARGV[4])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
return {'rotated'}`);

/**
 * Revocation. KEYS[1] = the revocation sorted set; ARGV: member, expiresAt, now, channel.
 * Keeps the later end, drops ended members, and tells every instance (PUBLISH).
 */
export const revoke = luaScript(`
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', KEYS[1], top[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[1] .. '|' .. ARGV[2])
return 1`);

/** KEYS[1] = share hash, KEYS[2] = the creator's share index; ARGV: expiresAt, id, then field/value pairs. */
export const putShare = luaScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], top[2])
return 1`);

/** KEYS[1] = share hash; ARGV: now. A use: count + 1, last use = now (never creates the key). */
export const touchShare = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'useCount', 1)
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1])
return 1`);

/** KEYS[1] = share hash; ARGV: now. Sets revokedAt once; returns the hash, or nil when unknown. */
export const revokeShare = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1])
return redis.call('HGETALL', KEYS[1])`);

/**
 * Slot claim. KEYS[1] = the slot sorted set (score = member's end); ARGV: member, limit
 * (-1 = none), expiresAt, now. Drops ended members; admits a member already in or while under
 * the limit; the set itself expires with its last member.
 */
export const claimSlot = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local limit = tonumber(ARGV[2])
if limit >= 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return 1`);

/**
 * Adds a member to an index set that lives as long as its longest member. KEYS[1] = the set;
 * ARGV: member, its end (epoch ms), now. PTTL rather than PEXPIREAT GT: Redis 6 has no GT.
 */
export const indexAdd = luaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 or tonumber(ARGV[3]) + t < tonumber(ARGV[2]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1`);

/**
 * Shortens, never lengthens, the life of every key in KEYS to end at ARGV[1] (epoch ms; ARGV[2]
 * = now): a revoked session's records (store.ts). PTTL rather than PEXPIREAT LT: Redis 6 has no LT.
 */
export const retireKeys = luaScript(`
local at = tonumber(ARGV[1]) - tonumber(ARGV[2])
for _, k in ipairs(KEYS) do
  local t = redis.call('PTTL', k)
  if t == -1 or t > at then redis.call('PEXPIREAT', k, ARGV[1]) end
end
return 1`);

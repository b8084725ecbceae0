/**
 * The Redis Cluster hash slot of a key (CRC16-XMODEM of the key, or of its hash tag: the part between
 * the first `{` and the next `}`, when not empty), as the servers compute it. The store uses it to tell
 * which node a script goes to, so that each node is sent a script's source once.
 */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

// slotTags[slot]: a short string whose slot is `slot`, found by counting up from 0 as slots are asked for.
const slotTags: (string | undefined)[] = [];
let nextTag = 0;

/**
 * A short string that hashes to `slot`, to make a name that lands in a given slot: `{tag}` in a
 * sharded channel puts it in the slot of the circuits it carries (a channel per slot, not per circuit,
 * so that a store's subscriptions stay within 16,384 whatever the number of circuits).
 */
export function slotTag(slot: number): string {
  let tag = slotTags[slot];
  // About 16,384 · ln 16,384 ≈ 160,000 candidates fill every slot: a few ms, once per process.
  while (tag === undefined) {
    const candidate = (nextTag++).toString(36);
    slotTags[clusterSlot(candidate)] ??= candidate;
    tag = slotTags[slot];
  }
  return tag;
}

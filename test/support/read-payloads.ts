import type { Client } from '../../src/client/index.js';

/** The first `count` payloads of a topic as text, read from its start by a subscription that acknowledges each. */
export async function readPayloads(client: Client, topic: string, subscription: string, count: number): Promise<string[]> {
  const sub = await client.subscribe(topic, subscription, { from: 'earliest' });
  const payloads: string[] = [];
  for await (const m of sub) {
    payloads.push(m.payload.toString());
    m.ack();
    if (payloads.length === count) break;
  }
  return payloads;
}

import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import type { BenchClient, BenchSystem, Consumption, Delivery, SystemVariant } from '../bench-system.js';
import { benchTempDir, freePort, ServerProcess } from '../server-process.js';
import { peerSystem } from './peer-system.js';
import { CONSUMER_WINDOW } from '../workloads/limits.js';

const topicOf = (topic: string): string => `bench/${topic}`;
const NO_ACK = (): void => {};

/**
 * Mosquitto (MQTT 3.1.1): QoS 1 publishes, persistent sessions (clean: false,
 * client id = the bench client's name), so a session's subscriptions keep
 * collecting messages while it is away. Mosquitto keeps messages in memory
 * and writes them to disk only at its autosave (every 30 min by default) and
 * at shutdown: an acknowledged message is lost if the broker dies.
 */
export function mosquittoVariant(binary: string): SystemVariant {
  return { system: 'mosquitto', durability: 'memory, save 30 min', start: () => startMosquitto(binary) };
}

async function startMosquitto(binary: string): Promise<BenchSystem> {
  const port = await freePort();
  const dir = benchTempDir('mosquitto');
  // Started as root, Mosquitto drops to its own user, which must be able to write here.
  chmodSync(dir, 0o777);
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, [
    `listener ${port} 127.0.0.1`,
    'persistence true',
    `persistence_location ${dir}/`,
    `max_inflight_messages ${CONSUMER_WINDOW}`,
    'max_queued_messages 0',
    'allow_anonymous true',
    '',
  ].join('\n'));
  const server = new ServerProcess('mosquitto', binary, () => ['-c', config], dir);
  return peerSystem(server, port, (p, name) => MosquittoClient.open(p, name));
}

/**
 * One MQTT session. Mosquitto sends a resumed session's queued messages right
 * after CONNACK, before `consume` may have been called for their topic, so
 * messages without a handler wait in `early` until one is registered. MQTT
 * acks on receipt (mqtt.js sends PUBACK itself), so `ack` has nothing to do.
 */
class MosquittoClient implements BenchClient {
  private readonly handlers = new Map<string, (d: Delivery) => void>();
  private readonly early = new Map<string, Uint8Array[]>();

  private constructor(private readonly mqtt: MqttClient) {
    mqtt.on('message', (topic, payload) => {
      const handler = this.handlers.get(topic);
      if (handler) handler({ payload, ack: NO_ACK });
      else {
        const queue = this.early.get(topic) ?? [];
        queue.push(payload);
        this.early.set(topic, queue);
      }
    });
  }

  static async open(port: number, name: string): Promise<MosquittoClient> {
    const mqtt = connect({ host: '127.0.0.1', port, clientId: name, clean: false, reconnectPeriod: 0 });
    // Listen before CONNACK: queued messages of a resumed session follow it at once.
    const client = new MosquittoClient(mqtt);
    await new Promise<void>((resolve, reject) => {
      mqtt.once('connect', () => resolve());
      mqtt.once('error', reject);
    });
    return client;
  }

  async createSubscription(topic: string, _subscription: string): Promise<void> {
    await this.mqtt.subscribeAsync(topicOf(topic), { qos: 1 });
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.mqtt.publishAsync(topicOf(topic), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 });
  }

  async consume(topic: string, subscription: string, onMessage: (d: Delivery) => void): Promise<Consumption> {
    const t = topicOf(topic);
    this.handlers.set(t, onMessage);
    for (const payload of this.early.get(t) ?? []) onMessage({ payload, ack: NO_ACK });
    this.early.delete(t);
    await this.createSubscription(topic, subscription);
    return {
      stop: () => {
        this.handlers.delete(t);
        return Promise.resolve();
      },
    };
  }

  async close(): Promise<void> {
    await this.mqtt.endAsync();
  }
}

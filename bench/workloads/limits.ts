/**
 * The windows every system gets, so that none is throttled by a smaller
 * setting than another: publishes in flight per publisher, and messages
 * delivered but not yet acknowledged per consumer (Corral's credit, JetStream's
 * pull batch, Redis' XREADGROUP COUNT, Mosquitto's max_inflight_messages).
 */
export const PUBLISH_WINDOW = 1000;
export const CONSUMER_WINDOW = 1000;

export const PAYLOAD_BYTES = 256;

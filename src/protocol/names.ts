import { CorralError } from './corral-error.js';

export const MAX_NAME_BYTES = 255;
const NAME = /^[A-Za-z0-9._:/-]+$/;

/**
 * Topic and subscription names [P-3.1]: 1–255 characters from [A-Za-z0-9._:/-].
 * A conservative alphabet keeps names safe in URLs, metric labels, file names
 * and SQL LIKE prefixes alike.
 */
export function checkTopicName(topic: string): void {
  if (topic.length === 0 || topic.length > MAX_NAME_BYTES || !NAME.test(topic)) {
    throw new CorralError('INVALID_TOPIC', `invalid topic name ${JSON.stringify(topic.slice(0, 64))}: use 1-${MAX_NAME_BYTES} characters from [A-Za-z0-9._:/-]`);
  }
}

export function checkSubscriptionName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME_BYTES || !NAME.test(name)) {
    throw new CorralError('INVALID_SUBSCRIPTION', `invalid subscription name ${JSON.stringify(name.slice(0, 64))}: use 1-${MAX_NAME_BYTES} characters from [A-Za-z0-9._:/-]`);
  }
}

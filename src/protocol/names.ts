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

/**
 * A service resource [P-11.2]: `<kind>|<name>`, where the kind is one its
 * service declares and the name follows the topic alphabet. Topic names
 * cannot contain "|", so a resource can never collide with a topic in
 * ownership records, routes or REDIRECTs.
 */
export function checkResourceName(resource: string, kinds: readonly string[]): void {
  const bar = resource.indexOf('|');
  const kind = bar < 0 ? '' : resource.slice(0, bar);
  const name = bar < 0 ? '' : resource.slice(bar + 1);
  if (!kinds.includes(kind) || name.length === 0 || name.length > MAX_NAME_BYTES || !NAME.test(name)) {
    throw new CorralError('INVALID_RESOURCE', `invalid resource ${JSON.stringify(resource.slice(0, 64))}: use <kind>|<name> with kind ${kinds.map((k) => JSON.stringify(k)).join(' or ')} and a name of 1-${MAX_NAME_BYTES} characters from [A-Za-z0-9._:/-]`);
  }
}

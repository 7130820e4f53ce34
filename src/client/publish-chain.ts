import type { PublishRequest } from './publish-request.js';

/**
 * Each topic's unsettled publishes in the order the application made them,
 * so a publish can name the one before it (afterSeq) and the hub stores it
 * only after that one [P-4.6]. A settled publish (stored, refused for good,
 * given up) leaves its chain: the one behind it then names the one before.
 */
export class PublishChains {
  private readonly newest = new Map<string, PublishRequest>();

  link(req: PublishRequest): void {
    const last = this.newest.get(req.topicName);
    req.before = last;
    if (last !== undefined) last.behind = req;
    this.newest.set(req.topicName, req);
  }

  unlink(req: PublishRequest): void {
    const { before, behind } = req;
    if (before !== undefined) before.behind = behind;
    if (behind !== undefined) behind.before = before;
    else if (this.newest.get(req.topicName) === req) {
      if (before !== undefined) this.newest.set(req.topicName, before);
      else this.newest.delete(req.topicName);
    }
    req.before = undefined;
    req.behind = undefined;
  }

  clear(): void {
    this.newest.clear();
  }
}

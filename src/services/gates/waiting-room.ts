import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCorralError } from '../../protocol/corral-error.js';
import type { Gate } from './gate.js';
import type { GateSlot } from './gate-slot.js';
import type { GateWaiter } from './gate-waiter.js';
import { waitingPage } from './waiting-page.js';

export interface WaitingRoomOptions {
  gate: Gate;
  /** Signs the admission cookie; the same on every web server of the farm (at least 32 characters). */
  secret: string;
  /** An admitted visitor idle this long stops renewing its slot here (default 60 s); the gate then lets the lease lapse. */
  idleMs?: number;
  /** Cookie names (default `corral_ticket` and `corral_admit`). */
  ticketCookie?: string;
  admitCookie?: string;
}

/** One request: true when the visitor is admitted (serve the application), false when the waiting room answered it. */
export type WaitingRoomHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  /** Ends an admitted visitor's slot now (checkout done): the next waiter is admitted. */
  release(req: IncomingMessage): Promise<void>;
  close(): void;
};

interface Held {
  slot: GateSlot;
  seenAt: number;
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

/**
 * A waiting room in front of a web application [P-15]: a `node:http`
 * handler (Express and Fastify take it as shown in examples/gates/). A
 * visitor gets a ticket cookie and waits on a page that shows its exact
 * position and an estimated wait, updated live over server-sent events
 * (`?corral-gate=events`), or as JSON (`Accept: application/json`). Once
 * admitted, it gets an admission cookie signed with `secret`, which every
 * web server of the farm accepts; its slot is renewed while it is active.
 */
export function waitingRoom(opts: WaitingRoomOptions): WaitingRoomHandler {
  if (opts.secret.length < 32) throw new RangeError('the waiting room secret must be at least 32 characters');
  const ticketCookie = opts.ticketCookie ?? 'corral_ticket';
  const admitCookie = opts.admitCookie ?? 'corral_admit';
  const idleMs = opts.idleMs ?? 60_000;
  const waiters = new Map<string, GateWaiter>();
  const held = new Map<string, Held>();
  let rate = { perSecond: 0, at: 0 };

  const sign = (ticket: string): string => createHmac('sha256', opts.secret).update(ticket).digest('base64url');
  const admittedTicket = (req: IncomingMessage): string | undefined => {
    const v = cookies(req).get(admitCookie);
    const i = v?.lastIndexOf('~') ?? -1;
    if (!v || i < 0) return undefined;
    const ticket = v.slice(0, i);
    const want = Buffer.from(sign(ticket));
    const got = Buffer.from(v.slice(i + 1));
    return want.length === got.length && timingSafeEqual(want, got) ? ticket : undefined;
  };

  const hold = (slot: GateSlot): void => {
    held.set(slot.ticket, { slot, seenAt: Date.now() });
    slot.once('lost', () => held.delete(slot.ticket));
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [t, h] of held) if (now - h.seenAt > idleMs) { h.slot.stop(); held.delete(t); }
  }, Math.min(idleMs, 5000));
  sweep.unref();

  /** The visitor's waiter on this server: its own, resumed from its ticket cookie, or a new place. */
  async function waiterOf(req: IncomingMessage, res: ServerResponse): Promise<GateWaiter> {
    const ticket = cookies(req).get(ticketCookie);
    if (ticket) {
      const known = waiters.get(ticket);
      if (known && !known.isDone) return known;
      try {
        return track(await opts.gate.resume(ticket));
      } catch (err) {
        if (!isCorralError(err, 'TICKET_EXPIRED') && !isCorralError(err, 'INVALID_TICKET')) throw err;
      }
    }
    const w = track(await opts.gate.enqueue());
    res.setHeader('Set-Cookie', `${ticketCookie}=${encodeURIComponent(w.ticket)}; Path=/; HttpOnly; SameSite=Lax`);
    return w;
  }

  function track(w: GateWaiter): GateWaiter {
    waiters.set(w.ticket, w);
    void w.admitted.then(hold, () => undefined).finally(() => waiters.delete(w.ticket));
    return w;
  }

  async function estimate(position: number): Promise<number | undefined> {
    if (Date.now() - rate.at > 5000) {
      const s = await opts.gate.status();
      rate = { perSecond: s.lastMinute / 60, at: Date.now() };
    }
    return rate.perSecond > 0 ? Math.round((position / rate.perSecond) * 1000) : undefined;
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const admitted = admittedTicket(req);
    if (admitted !== undefined) {
      const h = held.get(admitted);
      if (h) h.seenAt = Date.now();
      // Admitted on another web server: renew the slot from here too while the visitor is active here.
      else await opts.gate.resume(admitted).then((w) => w.admitted).then(hold, () => undefined);
      return true;
    }
    const w = await waiterOf(req, res);
    if (w.isDone) {
      const slot = await w.admitted;
      hold(slot);
      res.appendHeader('Set-Cookie', `${admitCookie}=${encodeURIComponent(`${slot.ticket}~${sign(slot.ticket)}`)}; Path=/; HttpOnly; SameSite=Lax`);
      return true;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('corral-gate') === 'events') {
      events(w, res);
      return false;
    }
    const body = { state: 'waiting', position: w.position, waiting: w.waiting, estimatedWaitMs: await estimate(w.position) };
    if ((req.headers.accept ?? '').includes('application/json')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(waitingPage(body.position, body.waiting, body.estimatedWaitMs));
    }
    return false;
  };

  /** Server-sent events: `position` as it changes, then `admitted` (the page reloads and is let through). */
  function events(w: GateWaiter, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: string, data: unknown): void => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    const onPosition = (p: { position: number; waiting: number }): void => {
      void estimate(p.position).then((ms) => send('position', { ...p, estimatedWaitMs: ms }), () => send('position', p));
    };
    const end = (event: string) => (): void => { send(event, {}); res.end(); };
    const onAdmitted = end('admitted');
    const onExpelled = end('expelled');
    w.on('position', onPosition);
    w.once('admitted', onAdmitted);
    w.once('expelled', onExpelled);
    send('position', { position: w.position, waiting: w.waiting });
    res.on('close', () => {
      w.off('position', onPosition);
      w.off('admitted', onAdmitted);
      w.off('expelled', onExpelled);
    });
  }

  return Object.assign(handler, {
    async release(req: IncomingMessage): Promise<void> {
      const t = admittedTicket(req);
      const h = t === undefined ? undefined : held.get(t);
      if (t !== undefined) held.delete(t);
      if (h) await h.slot.release();
      else if (t !== undefined) await opts.gate.release(t);
    },
    close(): void {
      clearInterval(sweep);
      for (const h of held.values()) h.slot.stop();
    },
  });
}

/** What acknowledges a message: its subscription. */
export interface Acknowledger {
  ack(seq: number): void;
}

/** One delivered message [P-8.13]. */
export class Message {
  readonly #acknowledger: Acknowledger;

  constructor(
    acknowledger: Acknowledger,
    readonly topic: string,
    /** Sequence number in the topic [P-4.1]. */
    readonly seq: number,
    /** Publish time stamped by the owner hub, ms since the Unix epoch. */
    readonly timestamp: number,
    /** The key as published; undefined when it had none. */
    readonly key: Buffer | undefined,
    readonly payload: Buffer,
  ) {
    this.#acknowledger = acknowledger;
  }

  /** Acknowledges this message and every earlier one of its subscription [P-5.4]. */
  ack(): void {
    this.#acknowledger.ack(this.seq);
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CounterNode } from '../../src/services/counters/counter-node.js';
import { U64_MAX } from '../../src/services/counters/counters-frames.js';
import { Rng } from '../support/rng.js';

/** An in-memory tree of CounterNodes: `parent[i]` is i's parent (−1 for the root); exchanges are method calls. */
class Tree {
  readonly nodes: CounterNode[];
  constructor(readonly parent: number[], readonly vars: string[]) {
    this.nodes = parent.map(() => new CounterNode());
    parent.forEach((p, i) => {
      if (p >= 0) for (const v of vars) this.nodes[p]!.subscribe(String(i), v);
    });
  }

  /** One exchange on the link child → parent (claim 1): totals up, "everything but your subtree" down. */
  exchange(child: number): void {
    const c = this.nodes[child]!;
    const p = this.nodes[this.parent[child]!]!;
    for (const [name, total] of c.takeUp()) p.applyChild(String(child), name, total);
    for (const [name, v] of p.takeDown(String(child))) c.applyParent(name, v);
  }

  /** Exchanges every link, deepest first then root-down, until nothing is dirty. */
  settle(): void {
    for (let round = 0; round < this.parent.length * 2; round++) {
      for (let i = this.parent.length - 1; i > 0; i--) this.exchange(i);
    }
  }
}

describe('counter tree model (seed 000, claims 1–6, 32–35)', () => {
  // root 0; interior 1, 2; leaves 3, 4 under 1 and 5, 6 under 2: three levels.
  const shape = [-1, 0, 0, 1, 1, 2, 2];

  it('three levels: after random increments on every member, every member reads the exact sum', () => {
    const rng = new Rng(7);
    const r = (): number => rng.int(1_000_000) / 1_000_000;
    const tree = new Tree(shape, ['a', 'b']);
    const sums = { a: 0n, b: 0n };
    for (let step = 0; step < 2000; step++) {
      const m = Math.floor(r() * shape.length);
      const v = r() < 0.5 ? 'a' : 'b';
      const n = BigInt(1 + Math.floor(r() * 1000));
      tree.nodes[m]!.addLocal(v, n);
      sums[v] += n;
      // Exchanges interleave with increments, on random links.
      if (r() < 0.3) tree.exchange(1 + Math.floor(r() * (shape.length - 1)));
    }
    tree.settle();
    for (const node of tree.nodes) {
      assert.equal(node.global('a'), sums.a);
      assert.equal(node.global('b'), sums.b);
    }
  });

  it('an exchange repeated (a resend) changes nothing: totals, not deltas', () => {
    const tree = new Tree(shape, ['a']);
    tree.nodes[3]!.addLocal('a', 5n);
    const up = tree.nodes[3]!.takeUp();
    for (let i = 0; i < 3; i++) for (const [name, total] of up) tree.nodes[1]!.applyChild('3', name, total);
    tree.settle();
    assert.equal(tree.nodes[6]!.global('a'), 5n);
  });

  it('only variables changed since the last exchange cross a link, each way (claim 6)', () => {
    const vars = Array.from({ length: 100 }, (_, i) => `v${i}`);
    const tree = new Tree([-1, 0, 0], vars);
    for (const v of vars) tree.nodes[1]!.addLocal(v, 1n);
    tree.settle();
    tree.nodes[1]!.addLocal('v7', 1n);
    const up = tree.nodes[1]!.takeUp();
    assert.deepEqual(up.map(([n]) => n), ['v7']);
    tree.nodes[0]!.applyChild('1', 'v7', up[0]![1]);
    // The sender's own parent value did not change; its sibling's did, for that one variable only.
    assert.deepEqual(tree.nodes[0]!.takeDown('1'), []);
    assert.deepEqual(tree.nodes[0]!.takeDown('2'), [['v7', 2n]]);
  });

  it('a departed child\'s delivered totals are adopted: no global value moves, nothing is counted twice', () => {
    const tree = new Tree(shape, ['a']);
    tree.nodes[3]!.addLocal('a', 10n);
    tree.nodes[4]!.addLocal('a', 1n);
    tree.settle();
    tree.nodes[1]!.adoptChild('3');
    // Its restarted incarnation counts from zero under the same parent.
    tree.nodes[3] = new CounterNode();
    tree.nodes[1]!.subscribe('3', 'a');
    tree.nodes[3].addLocal('a', 2n);
    tree.settle();
    for (const node of tree.nodes) assert.equal(node.global('a'), 13n);
  });

  it('values wrap around at 2^64', () => {
    const tree = new Tree([-1, 0, 0], ['a']);
    tree.nodes[1]!.setLocal('a', U64_MAX);
    tree.nodes[2]!.addLocal('a', 3n);
    tree.settle();
    for (const node of tree.nodes) assert.equal(node.global('a'), 2n);
    tree.nodes[2]!.addLocal('a', U64_MAX);
    tree.settle();
    assert.equal(tree.nodes[1]!.global('a'), 1n);
  });
});

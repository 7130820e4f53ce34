import type { Command } from 'commander';
import type { TopicsResult } from '../protocol/query-results.js';
import { formatTable } from './format-table.js';
import { addQueryCommand } from './query-command.js';

/** `corral topics`: QUERY "topics" [P-7.1] as a table or JSON. */
export function addTopicsCommand(program: Command): void {
  addQueryCommand<TopicsResult>(program, {
    name: 'topics',
    description: 'list topics: owner, sequence range, stored messages, subscriptions and the largest backlog',
    kind: 'topics',
    render: (result) => formatTable(
      ['TOPIC', 'OWNER', 'FIRST', 'LAST', 'STORED', 'SUBSCRIPTIONS', 'BACKLOG'],
      result.topics.map((t) => [
        // An empty topic has no first message: its firstSeq is lastSeq + 1, which reads as a bug in a table.
        t.topic, t.owner ?? '-', t.stored === 0 ? '-' : t.firstSeq, t.lastSeq, t.stored, t.subscriptions.length,
        t.subscriptions.reduce((max, s) => Math.max(max, s.backlog), 0),
      ]),
    ),
  });
}

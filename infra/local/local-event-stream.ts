import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { StreamRecord } from '../../shared/db/event-stream-records.ts';

export interface LocalEventStreamOptions {
  /** To find the table's stream. */
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  /** The router: what Lambda's event source mapping would invoke with each batch. */
  route: (records: StreamRecord[]) => Promise<unknown>;
  /** Where the last routed sequence number of each shard is kept, to resume after a restart. */
  checkpointFile?: string;
  /** Pause between empty reads of a shard. @default 100 ms */
  pollMs?: number;
  /** How often new shards are looked for. @default 1 s */
  discoverMs?: number;
  /** Attempts at a batch before it is logged and skipped (Lambda would move it to the failure queue). @default 8 */
  maxAttempts?: number;
  log?: (line: string) => void;
}

interface ShardState {
  shardId: string;
  parentShardId?: string;
  iterator?: string;
  lastSequence?: string;
  done: boolean;
  reading: boolean;
}

interface Checkpoint {
  streamArn: string;
  shards: Record<string, string>;
}

/**
 * The local runtime's equivalent of Lambda's DynamoDB Streams event source: it reads DynamoDB
 * Local's stream through the Streams API (describe, shard iterators, GetRecords every ~100 ms) and
 * hands each batch to the same router the Lambda runs. Records of a shard are routed one batch at
 * a time, in order, and a child shard is read only once its parent is finished, so an instance's
 * events stay in write order. A failed batch is retried with backoff, like the event source
 * mapping's bounded retries. The last routed sequence number of each shard is kept on disk, so a
 * restart resumes where routing stopped; shards the reader has never seen start at their latest
 * record on first start (nothing is written while the runtime is down) and at their beginning
 * when they appear later.
 */
export class LocalEventStream {
  private readonly shards = new Map<string, ShardState>();
  private streamArn?: string;
  private stopped = false;
  private discovery?: NodeJS.Timeout;
  private readonly readers = new Set<Promise<void>>();
  private checkpointWrite: Promise<void> = Promise.resolve();
  private readonly log: (line: string) => void;

  constructor(private readonly options: LocalEventStreamOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** Resolves once every open shard has an iterator: what is written after this is routed. */
  async start(): Promise<void> {
    const table = await this.options.dynamo.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`Table ${this.options.tableName} has no stream: create it from shared/db/table-definition.ts`);
    this.streamArn = streamArn;
    const saved = await this.readCheckpoint();
    const resume = saved?.streamArn === streamArn ? saved.shards : {};
    for (const shard of await this.describeShards()) {
      const state: ShardState = { shardId: shard.ShardId!, parentShardId: shard.ParentShardId, done: false, reading: false };
      const after = resume[state.shardId];
      if (after) {
        state.lastSequence = after;
        state.iterator = await this.iterator(state.shardId, 'AFTER_SEQUENCE_NUMBER', after);
      } else if (shard.SequenceNumberRange?.EndingSequenceNumber) {
        state.done = true; // closed before this runtime ever read it: history, not news
      } else {
        state.iterator = await this.iterator(state.shardId, 'LATEST');
      }
      this.shards.set(state.shardId, state);
    }
    this.readShards();
    this.discovery = setInterval(() => this.discover().catch((error) => this.log(`event stream: ${error}`)), this.options.discoverMs ?? 1000);
    this.discovery.unref();
  }

  /** Reads what is left (briefly), saves where each shard stands, and stops. */
  async stop(): Promise<void> {
    clearInterval(this.discovery);
    this.stopped = true;
    await Promise.all(this.readers);
    await this.checkpointWrite;
  }

  private async describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStart: string | undefined;
    do {
      const page = await this.options.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStart }));
      shards.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStart = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart);
    return shards;
  }

  private async discover(): Promise<void> {
    if (this.stopped) return;
    for (const shard of await this.describeShards()) {
      if (this.shards.has(shard.ShardId!)) continue;
      // New since start: everything in it is news.
      this.shards.set(shard.ShardId!, { shardId: shard.ShardId!, parentShardId: shard.ParentShardId, done: false, reading: false });
    }
    this.readShards();
  }

  private readShards(): void {
    for (const state of this.shards.values()) {
      if (state.done || state.reading) continue;
      const parent = state.parentShardId ? this.shards.get(state.parentShardId) : undefined;
      if (parent && !parent.done) continue;
      state.reading = true;
      const reader = this.read(state)
        .catch((error) => this.log(`event stream: shard ${state.shardId}: ${error}`))
        .finally(() => {
          state.reading = false;
          this.readers.delete(reader);
          if (state.done && !this.stopped) this.readShards();
        });
      this.readers.add(reader);
    }
  }

  private async read(state: ShardState): Promise<void> {
    state.iterator ??= await this.iterator(state.shardId, 'TRIM_HORIZON');
    // After stop(), one more read drains what was written just before.
    let drainReads = 1;
    while (state.iterator) {
      if (this.stopped && drainReads-- <= 0) return;
      let page;
      try {
        page = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
      } catch (error) {
        const name = (error as Error).name;
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
        state.iterator = state.lastSequence
          ? await this.iterator(state.shardId, 'AFTER_SEQUENCE_NUMBER', state.lastSequence)
          : await this.iterator(state.shardId, 'TRIM_HORIZON');
        continue;
      }
      const records = (page.Records ?? []) as StreamRecord[];
      if (records.length) {
        await this.routeWithRetries(records);
        state.lastSequence = records.at(-1)!.dynamodb?.SequenceNumber ?? state.lastSequence;
        this.saveCheckpoint();
      }
      state.iterator = page.NextShardIterator;
      if (!state.iterator) state.done = true;
      else if (!records.length && !this.stopped) await sleep(this.options.pollMs ?? 100);
    }
  }

  private async routeWithRetries(records: StreamRecord[]): Promise<void> {
    const attempts = this.options.maxAttempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.route(records);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          const first = records[0]?.dynamodb?.SequenceNumber;
          this.log(`event stream: ${records.length} record(s) from ${first} skipped after ${attempts} attempts: ${error}`);
          return;
        }
        await sleep(Math.min(5000, 100 * 2 ** (attempt - 1)));
      }
    }
  }

  private async iterator(shardId: string, type: ShardIteratorType, sequence?: string): Promise<string | undefined> {
    const answer = await this.options.streams.send(
      new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: sequence }),
    );
    return answer.ShardIterator;
  }

  private async readCheckpoint(): Promise<Checkpoint | undefined> {
    if (!this.options.checkpointFile) return undefined;
    const text = await readFile(this.options.checkpointFile, 'utf8').catch(() => undefined);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as Checkpoint;
    } catch {
      return undefined;
    }
  }

  /** Written one at a time, through a temporary file, so a crash never leaves half a file. */
  private saveCheckpoint(): void {
    const file = this.options.checkpointFile;
    if (!file || !this.streamArn) return;
    const shards: Record<string, string> = {};
    for (const state of this.shards.values()) if (state.lastSequence) shards[state.shardId] = state.lastSequence;
    const text = JSON.stringify({ streamArn: this.streamArn, shards } satisfies Checkpoint);
    this.checkpointWrite = this.checkpointWrite
      .then(async () => {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      })
      .catch((error) => this.log(`event stream: checkpoint not saved: ${error}`));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

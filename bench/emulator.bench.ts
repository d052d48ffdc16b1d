/**
 * `npm run bench:emulator` — how fast the emulator moves messages for the real SDK, next to a bare
 * rhea client <-> rhea server loopback doing the same transfers and settlements in the same run.
 * Options: --messages 20000 --sessions 16 --queued 100000 (RSS step) --body 200 (bytes)
 * --only send|receive|rss (one part, e.g. under `node --cpu-prof`); --only codec prints the emulator's
 * own per-message cost on the send path (in-process, no sockets), which the default run does not.
 * --data-dir <dir> [--journal-sync <ms>, 0 = fdatasync every write]: the same with the emulator's
 * write-ahead journal on (persistence cost; use an empty directory).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import * as rhea from 'rhea';
import { realClock, startEmulator, type EmulatorConfigFile } from '@convoy/servicebus-emulator';
import {
  connectRaw,
  loadEmulatorConfig,
  Namespace,
  outcome,
  parseMessage,
  parseMessageWithRhea,
  splitBatch,
  splitBatchWithRhea,
} from '@convoy/servicebus-emulator/internal';
import { spawnEmulator } from '../test/harness/emulatorProcess';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    sessions: { type: 'string', default: '16' },
    queued: { type: 'string', default: '100000' },
    body: { type: 'string', default: '200' },
    batch: { type: 'string', default: '50' },
    only: { type: 'string' },
    // The emulator's write-ahead journal (persistence cost): a directory, and its fdatasync period.
    'data-dir': { type: 'string' },
    'journal-sync': { type: 'string' },
  },
});
const totalMessages = Number(values.messages);
const sessionCount = Number(values.sessions);
const queuedForRss = Number(values.queued);
const bodyBytes = Number(values.body);
const receiveBatch = Number(values.batch);
const only = values.only;
if (only !== undefined && !['send', 'receive', 'rss', 'codec'].includes(only))
  throw new Error(`--only ${only}: send, receive, rss or codec`);
const runs = (part: string): boolean => only === undefined || only === part;

const benchConfig: EmulatorConfigFile = {
  UserConfig: {
    Namespaces: [
      {
        Name: 'sbemulatorns',
        Queues: [
          { Name: 'bench', Properties: { LockDuration: 'PT1M', MaxDeliveryCount: 10 } },
          { Name: 'bench-dedup', Properties: { RequiresDuplicateDetection: true } },
          { Name: 'bench-sessions', Properties: { RequiresSession: true, LockDuration: 'PT1M', MaxDeliveryCount: 10 } },
        ],
      },
    ],
  },
};

const payload = Buffer.alloc(bodyBytes, 'x').toString();
const message = (i: number, sessionId?: string): ServiceBusMessage => ({
  body: payload,
  messageId: `m-${i}`,
  subject: 'ItemAdded',
  applicationProperties: { eventType: 'ItemAdded', seq: i },
  ...(sessionId === undefined ? {} : { sessionId }),
});

interface Figure {
  name: string;
  /** The real SDK against the emulator. */
  emulator: number;
  /** A bare rhea client against the emulator: the emulator's own cost without the SDK's. */
  rawClient: number;
  /** A bare rhea client against a bare rhea server. */
  baseline: number;
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

// ---- raw rhea loopback: the same frames with no broker logic ------------------------------------

interface Loopback {
  port: number;
  /** Messages the server hands to receivers, per link address. */
  preload(address: string, bodies: Buffer[]): void;
  close(): Promise<void>;
}

async function startLoopbackServer(): Promise<Loopback> {
  const container = rhea.create_container({ id: 'loopback-server' });
  const queues = new Map<string, Buffer[]>();
  container.on('message', (ctx: rhea.EventContext) => {
    ctx.delivery?.update(true, outcome.accepted());
  });
  const pump = (ctx: rhea.EventContext) => {
    const sender = ctx.sender;
    if (sender === undefined) return;
    const address = sender.source.address;
    const queue = queues.get(address) ?? [];
    while (sender.sendable() && queue.length > 0) {
      const next = queue.shift();
      if (next !== undefined) sender.send(next, undefined, 0);
    }
  };
  container.on('sendable', pump);
  container.on('accepted', (ctx: rhea.EventContext) => {
    const delivery = ctx.delivery;
    if (delivery === undefined) return;
    delivery.update(true, outcome.accepted());
    // The client settles silently on our settled disposition; free the window slot (as the emulator does).
    (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
  });
  const server = container.listen({
    port: 0,
    host: '127.0.0.1',
    tcp_no_delay: true,
  } as unknown as rhea.ServerConnectionOptions);
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    preload: (addr, bodies) => queues.set(addr, [...(queues.get(addr) ?? []), ...bodies]),
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

function rawConnect(port: number): Promise<rhea.Connection> {
  // rhea's defaults, as the SDK uses them (Nagle on the client side); the server side matches the emulator.
  const connection = rhea.create_container().connect({ host: '127.0.0.1', port, reconnect: false });
  return new Promise((resolve) =>
    connection.once('connection_open', () => {
      resolve(connection);
    }),
  );
}

/** Same envelopes the SDK sent, one transfer per batch, each awaited like sendMessages awaits. */
async function rawSend(connection: rhea.Connection, envelopes: Buffer[]): Promise<number> {
  const sender = connection.open_sender({ target: { address: 'bench' } });
  await new Promise((resolve) => sender.once('sendable', resolve));
  const started = performance.now();
  for (const envelope of envelopes) {
    await new Promise<void>((resolve) => {
      const delivery = sender.send(envelope, undefined, 0x80013700);
      const onAccepted = (ctx: rhea.EventContext) => {
        if (ctx.delivery === delivery) {
          sender.removeListener('accepted', onAccepted);
          resolve();
        }
      };
      sender.on('accepted', onAccepted);
    });
  }
  const ms = performance.now() - started;
  sender.close();
  return ms;
}

/** S links in parallel: grant `batch` credit, take the messages, accept each, wait for the settlements. */
async function rawReceive(
  connection: rhea.Connection,
  links: { source: rhea.Source; count: number }[],
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    links.map(async (link) => {
      const receiver = connection.open_receiver({
        source: link.source,
        credit_window: 0,
        autoaccept: false,
        rcv_settle_mode: 1,
      });
      await new Promise((resolve) => receiver.once('receiver_open', resolve));
      let remaining = link.count;
      while (remaining > 0) {
        const want = Math.min(receiveBatch, remaining);
        const deliveries: rhea.Delivery[] = [];
        await new Promise<void>((resolve) => {
          const onMessage = (ctx: rhea.EventContext) => {
            if (ctx.delivery !== undefined) deliveries.push(ctx.delivery);
            if (deliveries.length === want) {
              receiver.removeListener('message', onMessage);
              resolve();
            }
          };
          receiver.on('message', onMessage);
          receiver.add_credit(want);
        });
        await new Promise<void>((resolve) => {
          const waiting = new Set(deliveries);
          const onSettled = (ctx: rhea.EventContext) => {
            if (ctx.delivery !== undefined) waiting.delete(ctx.delivery);
            if (waiting.size === 0) {
              receiver.removeListener('settled', onSettled);
              resolve();
            }
          };
          receiver.on('settled', onSettled);
          for (const d of deliveries) d.update(false, outcome.accepted());
        });
        remaining -= want;
      }
      receiver.close();
    }),
  );
  return performance.now() - started;
}

// ---- emulator with the real SDK -----------------------------------------------------------------

async function emulatorSend(client: ServiceBusClient): Promise<{ ms: number; envelopes: Buffer[] }> {
  const sender = client.createSender('bench');
  const batches = [];
  let i = 0;
  while (i < totalMessages) {
    const batch = await sender.createMessageBatch();
    while (i < totalMessages && batch.tryAddMessage(message(i))) i++;
    batches.push(batch);
  }
  // The envelope bytes the SDK puts on the wire, for the baseline to send the same transfers.
  const envelopes = batches.map((b) => (b as unknown as { _generateMessage(): Buffer })._generateMessage());
  const started = performance.now();
  for (const batch of batches) await sender.sendMessages(batch);
  const ms = performance.now() - started;
  await sender.close();
  return { ms, envelopes };
}

/** A message shaped like what the emulator delivers (header, broker annotations, properties, body). */
function wireShape(seq: number, sessionId: string): Buffer {
  const now = Date.now();
  const shaped: Record<string, unknown> = {
    delivery_count: 0,
    message_annotations: {
      'x-opt-sequence-number': rhea.types.wrap_long(seq),
      'x-opt-enqueued-time': new Date(now),
      'x-opt-locked-until': new Date(now + 60_000),
    },
    message_id: `m-${seq}`,
    group_id: sessionId,
    subject: 'ItemAdded',
    application_properties: { eventType: 'ItemAdded', seq },
    body: rhea.message.data_section(Buffer.from(JSON.stringify(payload))) as unknown,
  };
  return rhea.message.encode(shaped);
}

async function preloadSessions(client: ServiceBusClient, perSession: number): Promise<void> {
  const sender = client.createSender('bench-sessions');
  for (let s = 0; s < sessionCount; s++) {
    let i = 0;
    while (i < perSession) {
      const batch = await sender.createMessageBatch();
      while (i < perSession && batch.tryAddMessage(message(i, `session-${s}`))) i++;
      await sender.sendMessages(batch);
    }
  }
  await sender.close();
}

async function emulatorReceive(
  client: ServiceBusClient,
  perSession: number,
): Promise<{ ms: number; bodies: Buffer[][] }> {
  await preloadSessions(client, perSession);
  const bodies: Buffer[][] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: sessionCount }, async () => {
      const receiver = await client.acceptNextSession('bench-sessions', { maxAutoLockRenewalDurationInMs: 0 });
      const raw: Buffer[] = [];
      let got = 0;
      while (got < perSession) {
        const messages = await receiver.receiveMessages(Math.min(receiveBatch, perSession - got), {
          maxWaitTimeInMs: 5000,
        });
        await Promise.all(messages.map((m) => receiver.completeMessage(m)));
        for (const m of messages) raw.push(wireShape(m.sequenceNumber?.toNumber() ?? 0, receiver.sessionId));
        got += messages.length;
      }
      bodies.push(raw);
      await receiver.close();
    }),
  );
  return { ms: performance.now() - started, bodies };
}

// ---- the emulator's own send-path cost, per message, without sockets -----------------------------

/** Best of `passes` timings of `work` over all messages, in µs per message. */
function perMessage(messages: number, passes: number, work: () => void): string {
  let best = Infinity;
  for (let i = 0; i < passes; i++) {
    const started = performance.now();
    work();
    best = Math.min(best, performance.now() - started);
  }
  return ((best * 1000) / messages).toFixed(2);
}

function printCodecCosts(envelopes: Buffer[]): void {
  const raws = envelopes.flatMap((e) => splitBatch(e));
  const parsed = envelopes.map((e) => splitBatch(e).map((raw) => parseMessage(raw)));
  const definition = loadEmulatorConfig(benchConfig);
  const store = (address: string) => () => {
    const namespace = new Namespace(definition, realClock, () => undefined);
    for (const batch of parsed) namespace.sendAll(address, batch);
    namespace.dispose();
  };
  const n = raws.length;
  console.log(`emulator send path, µs per message (best of 10 passes over the ${envelopes.length} SDK envelopes):`);
  const split = () => {
    for (const e of envelopes) splitBatch(e);
  };
  const read = () => {
    for (const r of raws) parseMessage(r);
  };
  const splitWithRhea = () => {
    for (const e of envelopes) splitBatchWithRhea(e);
  };
  const readWithRhea = () => {
    for (const r of raws) parseMessageWithRhea(r);
  };
  console.log(
    `  find the data sections: ${perMessage(n, 10, split)} (rhea's decoder: ${perMessage(n, 10, splitWithRhea)})`,
  );
  console.log(
    `  check + read each message: ${perMessage(n, 10, read)} (rhea's decoder: ${perMessage(n, 10, readWithRhea)})`,
  );
  console.log(`  route + store (queue): ${perMessage(n, 10, store('bench'))}`);
  console.log(`  route + store (queue with duplicate detection): ${perMessage(n, 10, store('bench-dedup'))}`);
}

// ---- RSS with 100k queued messages (emulator in its own process) --------------------------------

function peakRssMb(pid: number): { current: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { current: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

async function measureRss(): Promise<{ idle: number; peak: number; current: number; sendMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-bench-'));
  const configPath = join(dir, 'Config.json');
  writeFileSync(configPath, JSON.stringify(benchConfig));
  const emulator = await spawnEmulator(['--config', configPath]);
  const { connectionString, pid } = emulator;
  const idle = peakRssMb(pid).current;
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender('bench-sessions');
  const started = performance.now();
  let i = 0;
  while (i < queuedForRss) {
    const batch = await sender.createMessageBatch();
    while (i < queuedForRss && batch.tryAddMessage(message(i, `session-${i % 100}`))) i++;
    await sender.sendMessages(batch);
  }
  const sendMs = performance.now() - started;
  const { peak, current } = peakRssMb(pid);
  await client.close();
  await emulator.stop();
  return { idle, peak, current, sendMs };
}

async function main(): Promise<void> {
  console.log(
    `emulator benchmark: ${totalMessages} messages of ${bodyBytes} B, ${sessionCount} sessions in parallel, receive batches of ${receiveBatch}; node ${process.version}`,
  );
  const figures: Figure[] = [];

  const emulator = await startEmulator({
    config: benchConfig,
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(values['journal-sync'] === undefined ? {} : { journalSyncMs: Number(values['journal-sync']) }),
  });
  const client = new ServiceBusClient(emulator.connectionString);
  const loopback = await startLoopbackServer();

  // Warm up both paths (JIT, connections) before timing.
  const warm = client.createSender('bench');
  await warm.sendMessages(message(-1));
  await warm.close();
  const warmReceiver = client.createReceiver('bench', { receiveMode: 'receiveAndDelete' });
  await warmReceiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
  await warmReceiver.close();

  const step = (what: string) => process.stderr.write(`... ${what}\n`);
  const loopbackConnection = await rawConnect(loopback.port);
  const raw = await connectRaw(emulator.port);
  await raw.authorize('bench');
  await raw.authorize('bench-sessions');

  if (only === 'codec') printCodecCosts((await emulatorSend(client)).envelopes);

  if (runs('send')) {
    step('emulator + SDK: batched send');
    const sent = await emulatorSend(client);
    step('raw rhea client -> emulator: the same envelopes');
    const rawSendMs = await rawSend(raw.connection, sent.envelopes);
    step('raw rhea loopback: the same envelopes');
    const baselineSendMs = await rawSend(loopbackConnection, sent.envelopes);
    figures.push({
      name: `batched send (${sent.envelopes.length} batches)`,
      emulator: rate(totalMessages, sent.ms),
      rawClient: rate(totalMessages, rawSendMs),
      baseline: rate(totalMessages, baselineSendMs),
    });
  }

  if (runs('receive')) {
    const perSession = Math.floor(totalMessages / sessionCount);
    const receivedCount = perSession * sessionCount;
    step('emulator + SDK: session receive+complete');
    const received = await emulatorReceive(client, perSession);
    step('raw rhea client -> emulator: session receive+settle');
    await preloadSessions(client, perSession);
    const rawReceiveMs = await rawReceive(
      raw.connection,
      Array.from({ length: sessionCount }, (_, i) => ({
        source: { address: 'bench-sessions', filter: { 'com.microsoft:session-filter': `session-${i}` } },
        count: perSession,
      })),
    );
    step('raw rhea loopback: receive+settle');
    received.bodies.forEach((bodies, i) => {
      loopback.preload(`s-${i}`, bodies);
    });
    const baselineReceiveMs = await rawReceive(
      loopbackConnection,
      received.bodies.map((bodies, i) => ({ source: { address: `s-${i}` }, count: bodies.length })),
    );
    figures.push({
      name: `session receive+complete (${sessionCount} sessions)`,
      emulator: rate(receivedCount, received.ms),
      rawClient: rate(receivedCount, rawReceiveMs),
      baseline: rate(receivedCount, baselineReceiveMs),
    });
  }

  loopbackConnection.close();
  await raw.close();
  await client.close();
  await emulator.close();
  await loopback.close();

  if (figures.length > 0) {
    console.log('');
    console.log(
      '| path | SDK -> emulator msg/s | rhea client -> emulator msg/s | rhea client -> rhea server (baseline) msg/s | baseline / SDK path | baseline / rhea-client path |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const f of figures) {
      console.log(
        `| ${f.name} | ${f.emulator} | ${f.rawClient} | ${f.baseline} | ${(f.baseline / f.emulator).toFixed(2)}x | ${(f.baseline / f.rawClient).toFixed(2)}x |`,
      );
    }
  }

  if (!runs('rss')) return;
  step('RSS with queued messages');
  const rss = await measureRss();
  console.log('');
  console.log(
    `RSS with ${queuedForRss} queued messages (${bodyBytes} B bodies, 100 sessions; emulator CLI process incl. tsx): idle ${rss.idle} MB, after ${rss.current} MB, peak ${rss.peak} MB; filled at ${rate(queuedForRss, rss.sendMs)} msg/s`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

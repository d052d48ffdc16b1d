import type { Socket } from 'node:net';
import * as rhea from 'rhea';
import { isRecord, type AmqpErrorShape } from './codec';

/**
 * The few rhea 3.0.5 internals a broker needs and its typings do not describe: link attach fields,
 * the endpoint state (to hold an attach), credit counters and outcome builders. rhea is pinned
 * because of this file; packages/servicebus-emulator/test covers every use.
 */

interface EndpointStateInternals {
  local_open: boolean;
  open_requests: number;
}

interface AttachFrame {
  source: unknown;
  target: unknown;
  snd_settle_mode: number;
  rcv_settle_mode: number;
  max_message_size: number | undefined;
  properties: Record<string, unknown> | undefined;
}

interface LinkInternals {
  state: EndpointStateInternals;
  local: { attach: AttachFrame };
  remote: { attach?: Partial<AttachFrame> & { source?: unknown; target?: unknown; properties?: unknown } };
  credit: number;
  delivery_count: number;
  _draining: boolean;
  _drained: boolean;
  _get_drain: () => boolean;
  session: { outgoing: { available(): number } };
}

function internals(link: rhea.link): LinkInternals {
  return link as unknown as LinkInternals;
}

/**
 * rhea answers a remote attach as soon as the open event returns. To hold a next-available session
 * attach, undo that before the connection writes its frames; `link.open()` later sends the attach.
 */
export function holdAttach(link: rhea.link): void {
  const state = internals(link).state;
  if (state.local_open && state.open_requests > 0) {
    state.local_open = false;
    state.open_requests--;
  }
}

export function remoteSource(link: rhea.link): Record<string, unknown> | undefined {
  const source = internals(link).remote.attach?.source;
  return typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : undefined;
}

export function remoteTarget(link: rhea.link): Record<string, unknown> | undefined {
  const target = internals(link).remote.attach?.target;
  return typeof target === 'object' && target !== null ? (target as Record<string, unknown>) : undefined;
}

export function remoteProperties(link: rhea.link): Record<string, unknown> {
  const properties: unknown = internals(link).remote.attach?.properties;
  return isRecord(properties) ? properties : {};
}

export function remoteSettleModes(link: rhea.link): { snd: number; rcv: number } {
  const attach = internals(link).remote.attach;
  return { snd: attach?.snd_settle_mode ?? 2, rcv: attach?.rcv_settle_mode ?? 0 };
}

/** Fills the attach we answer with: echo the termini and settle modes, plus broker properties. */
export function prepareAttach(
  link: rhea.link,
  fields: { source?: Record<string, unknown>; properties?: Record<string, unknown>; maxMessageSize?: number },
): void {
  const attach = internals(link).local.attach;
  const remote = internals(link).remote.attach;
  if (fields.source !== undefined) link.set_source(fields.source as unknown as rhea.Source);
  else if (remote?.source !== undefined) link.set_source(remote.source as rhea.Source);
  if (remote?.target !== undefined) link.set_target(remote.target as rhea.TerminusOptions);
  attach.snd_settle_mode = remote?.snd_settle_mode ?? 2;
  attach.rcv_settle_mode = remote?.rcv_settle_mode ?? 0;
  if (fields.maxMessageSize !== undefined) attach.max_message_size = fields.maxMessageSize;
  if (fields.properties !== undefined) attach.properties = fields.properties;
}

/**
 * Fills the attach that answers a refused link: AMQP 1.0 §2.6.3 wants our own terminus null (source
 * when we would send, target when we would receive). The .NET client reads a non-null one as a
 * successful attach and only then sees the detach, so it reports the wrong error.
 */
export function prepareRefusal(link: rhea.link): void {
  prepareAttach(link, {});
  const attach = internals(link).local.attach;
  if (link.is_sender()) attach.source = null;
  else attach.target = null;
}

const rawPayload = Symbol('convoy.rawPayload');
let keepingRawPayloads = false;

/**
 * rhea decodes every format-0 transfer and drops its bytes, and re-encoding the decoded message loses
 * AMQP types (int becomes uint, long ulong, a whole double uint, uuid binary). Keep the bytes beside
 * the decoded message (a non-enumerable symbol: invisible to everything else using rhea in-process).
 */
export function keepRawPayloads(): void {
  if (keepingRawPayloads) return;
  keepingRawPayloads = true;
  const codec = rhea.message as unknown as { decode(buffer: Buffer): unknown };
  const decode = codec.decode.bind(codec);
  codec.decode = (buffer: Buffer): unknown => {
    const message = decode(buffer);
    if (typeof message === 'object' && message !== null)
      Object.defineProperty(message, rawPayload, { value: buffer, enumerable: false });
    return message;
  };
}

/** The encoded bytes a decoded transfer came from (see `keepRawPayloads`). */
export function rawPayloadOf(message: unknown): Buffer | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const raw = (message as Record<symbol, unknown>)[rawPayload];
  return Buffer.isBuffer(raw) ? raw : undefined;
}

/** The credit limit the peer granted: its delivery-count + link-credit, fixed at each flow. */
export function creditLimit(sender: rhea.Sender): number {
  const s = internals(sender);
  return s.credit + s.delivery_count;
}

export function outgoingCapacity(sender: rhea.Sender): number {
  return internals(sender).session.outgoing.available();
}

/**
 * rhea only flags `drain` in its flow reply while credit is left. The SDK waits for a drained flow
 * even when the credit was used up exactly, so always answer a drain request with drain=true.
 */
export function alwaysAnswerDrain(sender: rhea.Sender): void {
  const s = internals(sender);
  s._get_drain = () => {
    if (s._draining && s._drained) {
      s.delivery_count += s.credit;
      s.credit = 0;
      return true;
    }
    return false;
  };
}

export function isDraining(sender: rhea.Sender): boolean {
  return internals(sender)._draining;
}

const outcomes = rhea.message as unknown as {
  accepted(): { described(): unknown };
  rejected(fields: { error?: AmqpErrorShape }): { described(): unknown };
  modified(fields: Record<string, unknown>): { described(): unknown };
  released(): { described(): unknown };
};

export const outcome = {
  accepted: (): unknown => outcomes.accepted().described(),
  rejected: (error?: AmqpErrorShape): unknown => outcomes.rejected(error === undefined ? {} : { error }).described(),
  modified: (fields: Record<string, unknown>): unknown => outcomes.modified(fields).described(),
  released: (): unknown => outcomes.released().described(),
};

/** The outcome fields a client sent in its disposition (modified/rejected carry details). */
export function remoteOutcome(delivery: rhea.Delivery): Record<string, unknown> {
  const state: unknown = delivery.remote_state;
  return typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : {};
}

/** The outcome a client's disposition carried ('accepted', 'released', ...), once rhea has read one. */
export function remoteOutcomeName(delivery: rhea.Delivery): string | undefined {
  const state = delivery.remote_state as { constructor?: { composite_type?: unknown } } | undefined;
  const name = state?.constructor?.composite_type;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Settles a delivery the client disposed in rcv-settle-mode second. The client settles on our
 * settled disposition without sending another frame, so rhea would keep the delivery in the session's
 * 2048-slot window forever and the link would stall: mark it remotely settled once answered.
 */
export function answerDisposition(delivery: rhea.Delivery, state: unknown): void {
  delivery.update(true, state);
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
}

interface ChannelFrame {
  channel: number;
}

type FrameHandler = (frame: ChannelFrame) => void;

const sessionFrames = ['attach', 'detach', 'transfer', 'disposition', 'flow', 'end'] as const;

type ConnectionInternals = {
  remote_channel_map: Partial<Record<number, unknown>>;
  remove_session(session: { remote: { channel?: number; end?: unknown } }): void;
  on_begin: FrameHandler;
} & Record<`on_${(typeof sessionFrames)[number]}`, FrameHandler>;

/**
 * rhea forgets a session's channel once both ends were exchanged and takes any later frame on it as
 * a ProtocolError that ends the whole connection, with every session on it. A client that sends a
 * frame after its own end (a detach or disposition a tick late) is sloppy but must not cost the
 * other sessions their connection: discard frames on a channel the client ended, until it begins a
 * new session there, and report each. A frame on a channel that was never begun stays an error.
 */
export function discardLateFrames(
  connection: rhea.Connection,
  onDiscard: (performative: string, channel: number) => void,
): void {
  const c = connection as unknown as ConnectionInternals;
  const ended = new Set<number>();
  const remove = c.remove_session.bind(c);
  c.remove_session = (session) => {
    const channel = session.remote.channel;
    if (session.remote.end !== undefined && channel !== undefined && c.remote_channel_map[channel] === session)
      ended.add(channel);
    remove(session);
  };
  const begin = c.on_begin.bind(c);
  c.on_begin = (frame) => {
    ended.delete(frame.channel);
    begin(frame);
  };
  for (const performative of sessionFrames) {
    const handle = c[`on_${performative}`].bind(c);
    c[`on_${performative}`] = (frame) => {
      if (c.remote_channel_map[frame.channel] === undefined && ended.has(frame.channel)) {
        onDiscard(performative, frame.channel);
        return;
      }
      handle(frame);
    };
  }
}

/** The socket a connection runs on (undefined before it has one). */
export function socketOf(connection: rhea.Connection): Socket | undefined {
  return (connection as unknown as { socket?: Socket }).socket;
}

/** What an open frame said about the client: its container id and connection properties. */
export interface OpenFields {
  containerId: string;
  properties: Record<string, unknown>;
}

function openFields(performative: { container_id?: unknown; properties?: unknown } | undefined): OpenFields {
  return {
    containerId: String(performative?.container_id),
    properties: isRecord(performative?.properties) ? performative.properties : {},
  };
}

/**
 * Calls `onRepeat` with the fields of an open that arrives on a connection already open (rhea then
 * ends the connection with "Open already received") and of the first one: whether it came from the
 * same client container, and which client library (the SDK names its product and user-agent).
 */
export function onRepeatedOpen(
  connection: rhea.Connection,
  onRepeat: (second: OpenFields, first: OpenFields) => void,
): void {
  const c = connection as unknown as {
    on_open(frame: { performative: { container_id?: unknown; properties?: unknown } }): void;
    is_remote_open(): boolean;
    remote: { open?: { container_id?: unknown; properties?: unknown } };
  };
  const open = c.on_open.bind(c);
  c.on_open = (frame) => {
    if (c.is_remote_open()) onRepeat(openFields(frame.performative), openFields(c.remote.open));
    open(frame);
  };
}

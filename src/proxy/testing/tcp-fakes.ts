// Fakes for unit tests of the TCP stack: an in-memory socket, a cluster state, a connection
// and recorders standing for the next stage and the stage above. No sockets, no timers of their own.
import { Duplex } from 'node:stream';
import type net from 'node:net';
import { WeightedChoice, type Balancer } from '../balancer/index.js';
import type { ClusterConfig } from '../config/runtime-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { ClusterRuntime } from '../resilience/cluster-runtime.js';
import { TcpConnection, type Destination, type TcpChainScope, type TcpEnd, type TcpEndHandler, type TcpEndpoint, type TcpService } from '../tcp/tcp-layer.js';
import type { DetectedProtocol } from '../config/runtime-config.js';
import type { DialOptions, ReadInto } from '../pool/dial-tcp.js';

/**
 * An in-memory stand-in for net.Socket: what it is sent is kept (copied, as the kernel does when
 * a write completes), what it receives is pushed by the test. Dialled with `readInto`, it reads
 * as node's `onread` does: into the buffer `readInto` gives, up to `readBytes` a read, and not
 * at all after a read returned false until `resume()`; a `tls` one, like node's TLS, still hands
 * on the rest of one `receive()` (what it has already decrypted) after reading stopped.
 */
export class FakeSocket extends Duplex {
  bytesRead = 0;
  bytesWritten = 0;
  remoteAddress = '10.0.0.9';
  remotePort = 40000;
  localAddress = '10.0.0.1';
  localPort = 15001;
  readonly written: Buffer[] = [];
  resets = 0;
  /** While true, writes stay in flight (their bytes not yet copied) until `completeWrites()`. */
  holdWrites = false;
  /** The most a read through `readInto` takes. */
  readBytes = 64 * 1024;
  /** Every buffer a read through `readInto` went into, in order. */
  readonly readBuffers: Buffer[] = [];
  private idleTimer: NodeJS.Timeout | undefined = undefined;
  private readonly inFlight: { chunk: Buffer; callback: (error?: Error | null) => void }[] = [];
  private reader: ReadInto | undefined = undefined;
  private readBuffer: Buffer | undefined = undefined;
  private reading = true;
  /** Received but not read yet (reading stopped); null is the FIN. */
  private readonly unread: (Buffer | null)[] = [];

  constructor(readonly tls = false) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inFlight.push({ chunk, callback });
    if (!this.holdWrites) this.completeWrites();
  }

  /** The writes in flight complete: their bytes are taken as they are now. */
  completeWrites(): void {
    for (const { chunk, callback } of this.inFlight.splice(0)) {
      this.bytesWritten += chunk.length;
      this.written.push(Buffer.from(chunk));
      callback();
    }
  }

  /** Reads go to `reader` from now on (what a dial with `readInto` does). */
  readInto(reader: ReadInto): this {
    this.reader = reader;
    this.readBuffer = reader.nextBuffer(this.readBytes);
    return this;
  }

  /** The peer sends `data`; null is its FIN. */
  receive(data: string | null): void {
    if (data !== null) this.bytesRead += Buffer.byteLength(data);
    if (this.reader === undefined) return void this.push(data === null ? null : Buffer.from(data));
    this.unread.push(data === null ? null : Buffer.from(data));
    this.readUnread();
  }

  override resume(): this {
    super.resume();
    if (this.reader !== undefined && !this.reading) {
      this.reading = true;
      setImmediate(() => this.readUnread()); // node reads again on a later turn of the loop
    }
    return this;
  }

  private readUnread(): void {
    const reader = this.reader!;
    while (this.reading && this.unread.length > 0 && !this.destroyed) {
      const data = this.unread.shift()!;
      if (data === null) return void this.push(null);
      let offset = 0;
      while (offset < data.length && (this.reading || this.tls)) {
        const buffer = this.readBuffer!;
        const n = data.copy(buffer, 0, offset, offset + Math.min(buffer.length, data.length - offset));
        offset += n;
        this.readBuffers.push(buffer);
        if (!reader.onRead(n, buffer)) this.reading = false;
        this.readBuffer = reader.nextBuffer(this.readBytes);
      }
      if (offset < data.length) this.unread.unshift(data.subarray(offset));
    }
  }

  text(): string {
    return Buffer.concat(this.written).toString();
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    clearTimeout(this.idleTimer);
    if (ms > 0 && onTimeout !== undefined) this.idleTimer = setTimeout(onTimeout, ms);
    return this;
  }

  resetAndDestroy(): this {
    this.resets++;
    return this.destroy();
  }

  asSocket(): net.Socket {
    return this as unknown as net.Socket;
  }
}

/** A cluster state whose balancer answers `endpoints` in turn (none: undefined). */
export function fakeCluster(name: string, endpoints: readonly TcpEndpoint[] = [], over: Partial<ClusterConfig> = {}): ClusterState {
  let next = 0;
  const balancer = { pick: () => (endpoints.length === 0 ? undefined : endpoints[next++ % endpoints.length]) } as unknown as Balancer<never>;
  const config: ClusterConfig = { name, lbPolicy: 'round_robin', connectTimeoutMs: 1000, service: `${name}.default`, endpoints: [], ...over };
  return { name, service: config.service, connectTimeoutMs: config.connectTimeoutMs, balancer, config, endpoints: [], runtime: new ClusterRuntime() };
}

/** An endpoint whose dial hands out `upstream`. */
export function fakeEndpoint(upstream: FakeSocket = new FakeSocket(), key = '10.1.0.5:9000'): TcpEndpoint & { dials: number } {
  return {
    address: '10.1.0.5',
    port: 9000,
    key,
    active: 0,
    dials: 0,
    dial(_alpn: string | undefined, opts: DialOptions) {
      this.dials++;
      if (opts.readInto !== undefined) upstream.readInto(opts.readInto);
      return upstream.asSocket();
    },
  };
}

export function chainScope(over: Partial<TcpChainScope> = {}): TcpChainScope {
  return { direction: 'outbound', listener: 'db', denyLogName: 'db', authz: undefined, backends: new WeightedChoice([{ item: fakeCluster('db'), weight: 1 }]), ...over };
}

/** Ends the owner heard, in order. */
export class EndRecorder<T> implements TcpEndHandler<T> {
  readonly ends: { target: T; end: TcpEnd }[] = [];
  onEnd(target: T, end: TcpEnd): void {
    this.ends.push({ target, end });
  }
}

/** Targets the next stage was given, in order. */
export class ServeRecorder<T> implements TcpService<T> {
  readonly served: T[] = [];
  serve(target: T): void {
    this.served.push(target);
  }
}

export function fakeConnection(opts: { socket?: FakeSocket; scope?: TcpChainScope; peer?: string; originalDst?: Destination; detected?: DetectedProtocol } = {}): TcpConnection {
  const owner = new EndRecorder<TcpConnection>();
  return new TcpConnection(
    (opts.socket ?? new FakeSocket()).asSocket(),
    opts.scope ?? chainScope(),
    { connectionEnded: (c, e) => owner.onEnd(c, e) },
    opts.peer,
    opts.originalDst,
    opts.detected,
  );
}

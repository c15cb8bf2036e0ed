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

/** An in-memory stand-in for net.Socket: what it is sent is kept, what it receives is pushed by the test. */
export class FakeSocket extends Duplex {
  bytesRead = 0;
  bytesWritten = 0;
  remoteAddress = '10.0.0.9';
  remotePort = 40000;
  localAddress = '10.0.0.1';
  localPort = 15001;
  readonly written: Buffer[] = [];
  resets = 0;
  private idleTimer: NodeJS.Timeout | undefined = undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.written.push(chunk);
    callback();
  }

  /** The peer sends `data`; null is its FIN. */
  receive(data: string | null): void {
    if (data !== null) this.bytesRead += Buffer.byteLength(data);
    this.push(data === null ? null : Buffer.from(data));
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
    dial() {
      this.dials++;
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

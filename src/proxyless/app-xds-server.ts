// The xDS server the proxyless app talks to: ADS on a Unix socket in the agent's directory
// (the bootstrap's `server_uri`), relaying the app's stream over the agent's stream to the
// control plane message by message. One app stream at a time: a newer one replaces the older.
// When the app's stream ends, the agent's upstream stream is restarted, so the control plane
// forgets that app stream's subscriptions; when the upstream ends, the app's stream is ended
// with UNAVAILABLE, so the app subscribes again (gRPC keeps its last config meanwhile).
import { shutdownGrpcServer } from '../common/grpc-shutdown.js';
import { chmod, lstat, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { unixSocketLive } from '../common/listen-unix.js';
import { createLogger, type Logger } from '../common/log.js';
import { ADS_METHOD_PATH, SECRET_TYPE } from '../xds/type-urls.js';
import { XDS_MAX_MESSAGE_BYTES, XDS_MAX_REQUEST_BYTES } from '../xds/message-limits.js';
import { typeUrlOf } from './discovery-bytes.js';
import type { ControlPlaneStream } from './control-plane-stream.js';

type AppCall = grpc.ServerDuplexStream<Buffer, Buffer>;

const raw = (b: Buffer): Buffer => b;
/** ADS with messages kept as bytes both ways. */
const RAW_ADS_SERVICE = {
  StreamAggregatedResources: {
    path: ADS_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName: 'streamAggregatedResources',
  },
} satisfies grpc.ServiceDefinition;

export interface AppXdsServerOptions {
  socketPath: string;
  upstream: ControlPlaneStream;
  logger?: Logger;
}

export class AppXdsServer {
  readonly #o: AppXdsServerOptions;
  readonly #log: Logger;
  #server: grpc.Server | undefined;
  /** The app's stream being relayed; undefined when none. */
  #app: AppCall | undefined;
  /** Invariant: true when the current upstream stream has carried an app stream's messages (it must restart before the next one). */
  #upstreamUsed = false;

  constructor(options: AppXdsServerOptions) {
    this.#o = options;
    this.#log = options.logger ?? createLogger('proxyless.app-xds-server');
    const up = options.upstream;
    up.onAppResponse = (bytes) => this.#app?.write(bytes);
    up.onStreamEnd = (end) => {
      // The control plane's state of the app's subscriptions is gone with the stream: the app must send them again.
      this.#upstreamUsed = false;
      this.#endApp(grpc.status.UNAVAILABLE, `the agent's stream to the control plane ended (${end.reason}); subscribe again`);
    };
  }

  /** True while an app stream is open. */
  get appConnected(): boolean {
    return this.#app !== undefined;
  }

  /** Serves on the socket, owner only; a socket file left by a crashed run is replaced, a live one is an error. */
  async listen(): Promise<void> {
    const p = this.#o.socketPath;
    const existing = await lstat(p).catch(() => undefined);
    if (existing) {
      if (!existing.isSocket()) throw new Error(`cannot serve xDS on the Unix socket ${p}: the path exists and is not a socket`);
      if (await unixSocketLive(p)) throw new Error(`cannot serve xDS on the Unix socket ${p}: another agent is serving on it`);
      await rm(p, { force: true });
    }
    const server = new grpc.Server({ 'grpc.max_receive_message_length': XDS_MAX_REQUEST_BYTES, 'grpc.max_send_message_length': XDS_MAX_MESSAGE_BYTES });
    server.addService(RAW_ADS_SERVICE, { StreamAggregatedResources: (call: AppCall) => this.#accept(call) });
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`unix:${p}`, grpc.ServerCredentials.createInsecure(), (e, port) =>
        e ? reject(new Error(`cannot serve xDS on the Unix socket ${p}: ${e.message}`)) : resolve(port),
      ),
    );
    await chmod(p, 0o600);
    this.#server = server;
  }

  /** Ends the app's stream and stops serving (the socket file is removed). */
  async close(): Promise<void> {
    this.#endApp(grpc.status.UNAVAILABLE, 'the agent is shutting down');
    const server = this.#server;
    this.#server = undefined;
    // An app that keeps its connection open does not hold the agent's exit.
    if (server) await shutdownGrpcServer(server);
    await rm(this.#o.socketPath, { force: true });
  }

  #accept(call: AppCall): void {
    if (this.#app) {
      this.#log.warn('a new xDS stream from the app replaces the older one (one app per agent)');
      this.#endApp(grpc.status.ABORTED, 'a newer xDS stream to this agent replaced this one');
    }
    if (this.#upstreamUsed) this.#o.upstream.restart();
    this.#app = call;
    const up = this.#o.upstream;
    call.on('data', (bytes: Buffer) => {
      if (this.#app !== call) return;
      let typeUrl: string;
      try {
        typeUrl = typeUrlOf(bytes);
      } catch {
        return this.#endApp(grpc.status.INVALID_ARGUMENT, 'the request is not a DiscoveryRequest');
      }
      // The agent's own SDS subscription is not the app's to change.
      if (typeUrl === SECRET_TYPE) return void this.#log.warn('ignored an SDS request from the app: the agent writes the certificates to files');
      this.#upstreamUsed = true;
      up.forward(bytes);
    });
    const gone = () => {
      if (this.#app !== call) return;
      this.#app = undefined;
      // A fresh upstream stream for the next app stream, ready before it comes.
      if (this.#upstreamUsed) {
        this.#upstreamUsed = false;
        up.restart();
      }
    };
    call.on('end', () => {
      gone();
      call.end();
    });
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('close', gone);
  }

  #endApp(code: grpc.status, details: string): void {
    const app = this.#app;
    if (!app) return;
    this.#app = undefined;
    // grpc-js turns an 'error' event on a server stream into the status the call ends with.
    app.emit('error', { code, details, metadata: new grpc.Metadata() });
  }
}

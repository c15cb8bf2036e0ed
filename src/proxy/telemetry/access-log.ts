// Access log: one JSON line per sampled request, in the spirit of Envoy's default format
// (start time, method, authority, path, protocol, status, response flags, durations, bytes,
// upstream, source identity, trace id), or the fields a MeshConfig chose. Lines go through sonic-boom (pino's asynchronous
// destination): a write only appends to a buffer; a full buffer drops lines (counted).
import pino from 'pino';

/** One access log entry (field names are what the JSON line carries). */
export interface AccessLogEntry {
  start_time: string;
  direction: 'inbound' | 'outbound';
  method: string;
  authority: string;
  path: string;
  protocol: string;
  response_code: number;
  grpc_status?: number;
  /** The proxy's own error code when it answered itself (x-trellis-error), e.g. NO_ROUTE; "-" otherwise. */
  response_flags: string;
  duration_ms: number;
  bytes_received: number;
  bytes_sent: number;
  upstream_host?: string;
  upstream_cluster?: string;
  route_name: string;
  source_service: string;
  source_workload: string;
  /** False: the source fields are the caller's own plaintext claim. */
  source_authenticated: boolean;
  destination_service: string;
  trace_id?: string;
  user_agent?: string;
  request_id?: string;
}

type Destination = ReturnType<typeof pino.destination>;

/** Writes lines to a file descriptor (1 = stdout) or a path, asynchronously. */
export class AccessLogWriter {
  written = 0;
  dropped = 0;
  private dest: Destination | undefined;

  constructor(private readonly target: number | string = 1) {}

  /** Writes one line: the full entry, or a line of the operator's chosen fields. */
  write(entry: AccessLogEntry | Readonly<Record<string, string | number | boolean>>): void {
    // Opened on first use, so proxies with access logs off hold no buffer.
    const dest = (this.dest ??= this.open());
    dest.write(JSON.stringify(entry) + '\n');
    this.written++;
  }

  /** Writes what is buffered and closes the destination (stdout stays open). */
  async close(): Promise<void> {
    const dest = this.dest;
    if (dest === undefined) return;
    this.dest = undefined;
    if (this.target === 1 || this.target === 2) {
      try {
        dest.flushSync();
      } catch {
        // stdout already closed: nothing more can be written
      }
      return;
    }
    // end() waits for a file still being opened, then writes the buffer and closes it.
    await new Promise<void>((resolve) => {
      dest.once('close', () => resolve());
      dest.once('error', () => resolve());
      dest.end();
    });
  }

  private open(): Destination {
    const dest = pino.destination({ dest: this.target, sync: false, minLength: 4096, maxLength: 8 * 1024 * 1024, mkdir: true });
    // Past maxLength sonic-boom drops a write and says so: those lines are counted, not written.
    dest.on('drop', () => {
      this.dropped++;
      this.written--;
    });
    return dest;
  }
}

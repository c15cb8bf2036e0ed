// node:http and node:https for the proxy, loaded through require. An ES import of a built-in
// module reads every one of its exports, and on Node.js 24 node:http's lazy ones (WebSocket,
// CloseEvent, MessageEvent) load Node's bundled undici and web streams: +5.3 MB RSS, +3.5 MB
// anonymous in every sidecar (docs/benchmarks.md, "Sidecar memory"). Types come from `import type`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof import('node:http');
export const https = require('node:https') as typeof import('node:https');

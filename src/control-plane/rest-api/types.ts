// What the REST API needs from the rest of the control plane, and the JSON shapes it answers with.
import type { Resource } from '../../api/resource.js';
import type { Problem } from '../../api/problem.js';
import type { Result } from '../../common/result.js';
import type { Store } from '../store/store.js';
import type { ProxyStatus } from '../../api/proxy-status.js';

export type { ProxyNack, ProxyStatus, ProxyVersions } from '../../api/proxy-status.js';

export interface RestApiDeps {
  store: Store;
  /** The resource parser of `src/api` (injected so the REST layer is tested with the real one and nothing else). */
  parseResource: (raw: unknown) => Result<Resource, Problem[]>;
  /** Connected proxies and their sync state (the xDS server's view); none when absent. */
  proxies?: () => ProxyStatus[];
  /** The status the control plane computes for a resource (Gateway API kinds), answered under `status`; none when absent. */
  statusOf?: (r: Resource) => object | undefined;
  /** Largest accepted request body (default 4 MiB). */
  maxBodyBytes?: number;
}

/** A validation problem in an error answer: which resource, which field, why. */
export interface ApiProblem {
  /** `Kind namespace/name` when the document says so, else where it was (`resources[2]`, `the request body`). */
  resource: string;
  path: string;
  message: string;
}

/** The body of every error answer. */
export interface ApiErrorBody {
  error: { code: string; message: string; problems?: ApiProblem[] };
}

/** What `apply` did to one resource (kubectl's words). */
export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResponse {
  /** The store revision after the batch (unchanged when nothing changed). */
  revision: number;
  dryRun: boolean;
  /** One per resource, in request order. */
  results: { kind: string; namespace?: string; name: string; action: ApplyAction; resourceVersion: string }[];
}

/** `GET /api/v1/{plural}`. */
export interface ResourceList {
  kind: string;
  metadata: { resourceVersion: string };
  items: Resource[];
}

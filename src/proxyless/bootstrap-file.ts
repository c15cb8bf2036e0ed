// The gRPC xDS bootstrap a proxyless application reads (GRPC_XDS_BOOTSTRAP), and the layout of
// the agent's directory: the bootstrap, the xDS relay socket, and the certificates gRPC's
// `file_watcher` provider reads. The bootstrap holds nothing secret: the join token stays
// with the agent.
import path from 'node:path';
import { GRPC_CERT_PROVIDER_INSTANCE, GRPC_SERVER_LISTENER_TEMPLATE } from '../xds/proxyless-grpc.js';
import { proxyMetadataToStruct, structToJson, type ProxyMetadata } from '../xds/node-metadata.js';
import type { JsonValue } from '../xds/envoy-types.js';

/** How often gRPC's file watcher reads the certificate files again (a protobuf Duration string). */
export const CERT_REFRESH_INTERVAL = '5s';

/** envoy.config.core.v3.Locality, as the bootstrap and the Node carry it. */
export interface Locality {
  region?: string;
  zone?: string;
  subZone?: string;
}

/** The files of an agent's directory. */
export interface AgentFiles {
  dir: string;
  bootstrap: string;
  /** The xDS relay's Unix socket. */
  socket: string;
  certsDir: string;
  /**
   * The workload certificate chain followed by its private key, in one file that gRPC reads as
   * both its certificate_file and its private_key_file: one rename replaces both, so a reader
   * never pairs a certificate with another rotation's key.
   */
  workload: string;
  /** The mesh trust bundle (every root the mesh trusts now). */
  roots: string;
}

export function agentFiles(dir: string): AgentFiles {
  const certsDir = path.join(dir, 'certs');
  return {
    dir,
    bootstrap: path.join(dir, 'bootstrap.json'),
    socket: path.join(dir, 'xds.sock'),
    certsDir,
    workload: path.join(certsDir, 'workload.pem'),
    roots: path.join(certsDir, 'roots.pem'),
  };
}

export interface BootstrapInput {
  files: AgentFiles;
  nodeId: string;
  metadata: ProxyMetadata;
  locality?: Locality;
}

/** The bootstrap JSON (see grpc-js-xds's xds-bootstrap.js and gRFC A27/A29 for what each field means). */
export function grpcBootstrap(input: BootstrapInput): { [key: string]: JsonValue } {
  const { files, locality } = input;
  return {
    xds_servers: [{ server_uri: `unix:${files.socket}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: input.nodeId,
      cluster: input.metadata.service,
      // The agent replaces the app's node by its own on the way to the control plane; this copy is for the app's logs and CSDS.
      metadata: structToJson(proxyMetadataToStruct(input.metadata)),
      locality: {
        ...(locality?.region ? { region: locality.region } : {}),
        ...(locality?.zone ? { zone: locality.zone } : {}),
        ...(locality?.subZone ? { sub_zone: locality.subZone } : {}),
      },
    },
    server_listener_resource_name_template: GRPC_SERVER_LISTENER_TEMPLATE,
    certificate_providers: {
      [GRPC_CERT_PROVIDER_INSTANCE]: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: files.workload,
          private_key_file: files.workload,
          ca_certificate_file: files.roots,
          refresh_interval: CERT_REFRESH_INTERVAL,
        },
      },
    },
  };
}

/** The bootstrap as the file's text. */
export function bootstrapText(input: BootstrapInput): string {
  return `${JSON.stringify(grpcBootstrap(input), null, 2)}\n`;
}

/** `region/zone/sub_zone` (trailing parts may be left out) as a Locality. */
export function parseLocality(value: string): Locality | undefined {
  const parts = value.split('/');
  if (parts.length > 3 || parts.some((p) => p === '' || /\s/.test(p))) return undefined;
  const [region, zone, subZone] = parts;
  return { ...(region ? { region } : {}), ...(zone ? { zone } : {}), ...(subZone ? { subZone } : {}) };
}

// The OTLP protocol an exporter uses when its own setting does not say, read from the
// environment as OpenTelemetry's exporters read it: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then
// OTEL_EXPORTER_OTLP_PROTOCOL, then the SDK default (http/protobuf). An explicit flag wins over both.
import { DEFAULT_OTLP_PROTOCOL, OTLP_PROTOCOLS, type OtlpProtocol } from '../api/telemetry.js';
import { err, ok, type Result } from '../common/result.js';

const VARIABLES = ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const;

const isProtocol = (v: string): v is OtlpProtocol => (OTLP_PROTOCOLS as readonly string[]).includes(v);

/** The protocol the flag `flagName` gave (`flag`), else the environment's, else http/protobuf; a value that is not one of OTLP_PROTOCOLS is an error naming where it came from. */
export function resolveOtlpProtocol(flagName: string, flag: string | undefined, env: NodeJS.ProcessEnv): Result<OtlpProtocol, string> {
  const [source, value] =
    flag !== undefined ? ([flagName, flag] as const) : (VARIABLES.map((name) => [name, env[name]?.trim()] as const).find(([, v]) => v !== undefined && v !== '') ?? []);
  if (value === undefined) return ok(DEFAULT_OTLP_PROTOCOL);
  if (!isProtocol(value)) return err(`${source}=${value} is not valid: expected one of ${OTLP_PROTOCOLS.join(', ')}`);
  return ok(value);
}

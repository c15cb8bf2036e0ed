// A gauge read from a function at scrape time that is absent, not 0, while the function has no
// value (prom-client writes an unlabelled gauge as 0 even when never set): an alert on "certificate
// expires within an hour" must not fire before there is a certificate.
import { Gauge, type Registry } from './prom-client-core.js';

type GaugeGet = Awaited<ReturnType<Gauge<string>['get']>>;

export class OptionalGauge extends Gauge<string> {
  constructor(
    registry: Registry,
    private readonly metricName: string,
    private readonly helpText: string,
    private readonly read: () => number | undefined,
  ) {
    super({ name: metricName, help: helpText, registers: [registry] });
  }

  override async get(): Promise<GaugeGet> {
    const v = this.read();
    return { name: this.metricName, help: this.helpText, type: 'gauge', values: v === undefined ? [] : [{ value: v, labels: {} }], aggregator: 'sum' } as unknown as GaugeGet;
  }
}

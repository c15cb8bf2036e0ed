// HTTP/2 rapid reset (CVE-2023-44487): a client that opens streams and resets them at once
// costs the proxy a request each while its concurrency limit never fills. One H2ResetGuard per
// session tells when the client's resets are abusive: at least `maxResets` of them, and more
// than half of the streams it opened (a client that cancels now and then never gets there; one
// that resets almost everything does within `maxResets` streams). As Envoy's premature-reset rule.

export class H2ResetGuard {
  private opened = 0;
  private resets = 0;

  constructor(private readonly maxResets: number) {}

  /** A stream the client opened. */
  streamOpened(): void {
    this.opened++;
  }

  /** A stream the client reset before its response was complete; true: the session is abusive. */
  clientReset(): boolean {
    this.resets++;
    return this.resets >= this.maxResets && this.resets * 2 > this.opened;
  }
}

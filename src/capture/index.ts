// Transparent capture: the iptables and ip6tables rules that send a workload's TCP (and DNS) to its proxy.
export { CHAINS, chainNames, chainRules, checkCaptureSpec, cidrFamily, jumpRules, type CaptureSpec, type IpFamily } from './capture-rules.js';
export { describeCapture, kernelHasIpv6, listCapture, removeCapture, setupCapture } from './capture-iptables.js';

// Transparent capture: the iptables rules that send a workload's TCP (and DNS) to its proxy.
export { CHAINS, chainRules, checkCaptureSpec, jumpRules, type CaptureSpec } from './capture-rules.js';
export { listCapture, removeCapture, setupCapture } from './capture-iptables.js';

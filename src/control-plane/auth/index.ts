// Tokens: join tokens for proxies, admin and read-only tokens for operators.
export { TokenStore, tokenId, type TokenInfo, type TokenRole } from './token-store.js';

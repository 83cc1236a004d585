#!/usr/bin/env bash
# The README's first command: set up (apt, npm, peers), build, run v2v against the simulated vCenter.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run demo

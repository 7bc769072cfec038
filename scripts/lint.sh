#!/usr/bin/env bash
# Style check of CI: every Swift file in git against `.swift-format` (`swift format lint --strict`, the toolchain's
# formatter). To fix what it reports: `git ls-files -z '*.swift' | xargs -0 swift format format -i`.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.swift' | xargs -0 swift format lint --strict
echo "swift format lint: $(git ls-files '*.swift' | wc -l) files clean"

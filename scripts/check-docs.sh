#!/usr/bin/env bash
# Documentation check of CI: the DocC catalogs of the public modules build with no warning (unresolved symbol
# links, undocumented or misnamed parameters, malformed tutorial directives all fail it). The archives land in
# .build/plugins/Swift-DocC/outputs/; README.md says how to browse them.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(GradFeat Layers Tensor HDF5 Datasets GradFeatLogging)
args=()
for target in "${targets[@]}"; do args+=(--target "$target"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift package generate-documentation --warnings-as-errors "${args[@]}" > "$log" 2>&1; then
    tail -n 80 "$log"
    echo "docs: failed (the end of swift package generate-documentation's log above)"
    exit 1
fi
echo "docs: ${#targets[@]} modules documented, 0 warnings"

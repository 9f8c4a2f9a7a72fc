#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it). GPU tests run on lavapipe
# with validation layers on; a missing device fails them (VKSPLAT_REQUIRE_GPU=1). The GPU tests
# run twice: at lavapipe's default subgroup size 8 and at 4 (LP_NATIVE_VECTOR_WIDTH=128).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
export VKSPLAT_REQUIRE_GPU=1 VKSPLAT_VALIDATION=1
cargo fmt --all -- --check
cargo build --workspace --all-targets
if [[ "${VK_ICD_FILENAMES:-}" == *lvp* ]]; then
  VKSPLAT_EXPECT_SUBGROUP_SIZE=8 cargo test --workspace
  echo "== GPU tests again at subgroup size 4 =="
  # --workspace, not -p: the same feature resolution as the build above, so nothing rebuilds.
  LP_NATIVE_VECTOR_WIDTH=128 VKSPLAT_EXPECT_SUBGROUP_SIZE=4 \
    cargo test --workspace --test sort --test gpu_vs_reference --test blend_variants
else
  cargo test --workspace
fi

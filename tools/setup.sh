#!/usr/bin/env bash
# Installs what vksplat needs on Debian/Ubuntu: the Vulkan loader, Mesa's lavapipe (a CPU
# Vulkan device, so no GPU is needed), the validation layers and Debian's static shaderc and
# glslang libraries. Installs a Rust toolchain with rustup when cargo is missing.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS="mesa-vulkan-drivers libvulkan1 libvulkan-dev vulkan-validationlayers libshaderc-dev glslc build-essential pkg-config libzstd-dev curl ca-certificates"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  echo "setup: installing the Rust toolchain with rustup"
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# The OpenJD CLI runs tools/vksplat.openjd.yaml locally in the farm tests (tests/farm.rs).
if ! command -v openjd >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/openjd" ]; then
  echo "setup: installing openjd-cli with pip"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
  fi
  # Debian marks its Python as externally managed (PEP 668); the CLI lands in ~/.local/bin.
  # Only the farm tests need it, so a failure here does not stop rendering (the tests then
  # fail under VKSPLAT_REQUIRE_GPU=1, as CI wants).
  python3 -m pip install --quiet --user openjd-cli 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages openjd-cli 2>/dev/null ||
    python3 -m pip install --quiet openjd-cli ||
    echo "setup: warning: could not install openjd-cli (needed by tests/farm.rs only)" >&2
fi
# The EXR tests (tests/exr_output.rs, tests/exr_codecs.rs) open vksplat's files with the
# reference OpenEXR library (its Python bindings, 3.x) and OpenImageIO.
if ! python3 -c "import OpenEXR, OpenImageIO, numpy" >/dev/null 2>&1; then
  echo "setup: installing the Python OpenEXR, OpenImageIO and numpy packages with pip"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
  fi
  # Same fallbacks as for openjd-cli; only the EXR tests need them (they then fail under
  # VKSPLAT_REQUIRE_GPU=1, as CI wants).
  EXR_PY="OpenEXR>=3,<4 openimageio numpy"
  python3 -m pip install --quiet --user $EXR_PY 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages $EXR_PY 2>/dev/null ||
    python3 -m pip install --quiet $EXR_PY ||
    echo "setup: warning: could not install OpenEXR/openimageio/numpy (needed by the EXR tests only)" >&2
fi
echo "setup: done"

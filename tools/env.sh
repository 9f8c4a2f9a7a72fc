# Sourced by the scripts: point the Vulkan loader at lavapipe when no other driver is chosen
# and give the loader a runtime directory (it warns without one on headless machines).
export PATH="$HOME/.cargo/bin:$HOME/.local/bin:$PATH"
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ "${VKSPLAT_USE_ALL_DRIVERS:-0}" != 1 ]; then
  for f in /usr/share/vulkan/icd.d/lvp_icd.*.json; do
    [ -e "$f" ] && export VK_ICD_FILENAMES="$f"
  done
fi
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vksplat-xdg-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

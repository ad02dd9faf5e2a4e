#!/usr/bin/env bash
# Installs the Debian reference tools (oracles) the tests compare against:
# GNU as/ld/objdump for aarch64, qemu-system-aarch64 and gdb-multiarch.
set -euo pipefail
need=()
command -v aarch64-linux-gnu-as >/dev/null 2>&1 || need+=(binutils-aarch64-linux-gnu)
command -v qemu-system-aarch64 >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v gdb-multiarch >/dev/null 2>&1 || need+=(gdb-multiarch)
if [ ${#need[@]} -eq 0 ]; then
  echo "reference tools: already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "reference tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
aarch64-linux-gnu-as --version | head -1
qemu-system-aarch64 --version | head -1
gdb-multiarch --version | head -1

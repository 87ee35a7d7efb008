#!/bin/bash
# Makes the Debian package « prometheus » available to the tests without starting any service: the
# package is downloaded with apt and unpacked under .run/prometheus (dpkg-deb -x runs no maintainer
# script, so no system-wide Prometheus starts on :9090 of a shared machine). A prometheus already on
# the PATH is used as is. Prints the path of the binary. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${FNE_PROMETHEUS_DIR:-$root/.run/prometheus}
if command -v prometheus >/dev/null 2>&1; then
  command -v prometheus
  exit 0
fi
bin=$dir/usr/bin/prometheus
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir/deb"
cd "$dir/deb"
if ! apt-get download prometheus >/dev/null 2>&1; then
  # A fresh machine has no package lists yet.
  apt-get update -qq >/dev/null
  apt-get download prometheus >/dev/null || { echo "téléchargement du paquet Debian prometheus impossible (apt-get download prometheus)" >&2; exit 1; }
fi
dpkg-deb -x prometheus_*.deb "$dir"
rm -rf "$dir/deb"
"$bin" --version >/dev/null 2>&1 || { echo "le binaire $bin ne démarre pas" >&2; exit 1; }
echo "$bin"

#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the browser tests, FriBiDi for Pillow's raqm text layout.
# Installs only what is missing; needs root (CI and the dev machines run as root). Never fails the build by itself:
# a test that needs a missing piece says so when it runs.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q libfribidi || need+=(libfribidi0)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null 2>&1 \
    || echo "warning: could not install ${need[*]}" >&2
fi
exit 0

#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing, so a fresh machine
# gets there with `make test` alone. Needs root (as on this project's machines) or sudo.
set -euo pipefail

# package -> a file that proves it is installed
declare -A NEED=(
  [prometheus]=/usr/bin/prometheus
  [openssl]=/usr/bin/openssl
  [git]=/usr/bin/git
  [openssh-client]=/usr/bin/ssh-keygen
  [openssh-server]=/usr/sbin/sshd
  [gnupg]=/usr/bin/gpg-agent
  [curl]=/usr/bin/curl
  [python3-yaml]=/usr/lib/python3/dist-packages/yaml/__init__.py
  # benchmarks (hack/bench/): the reference static file server, the HTTP load generator and
  # the command timer
  [nginx]=/usr/sbin/nginx
  [wrk]=/usr/bin/wrk
  [hyperfine]=/usr/bin/hyperfine
)
missing=()
for pkg in "${!NEED[@]}"; do
  [[ -e "${NEED[$pkg]}" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
echo "[deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages such as nginx, openssh-server and prometheus would start their system services on
# install (listening on all interfaces); a policy-rc.d that refuses keeps them stopped — tests
# start their own servers on loopback.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
# --no-install-recommends keeps prometheus from pulling exporters we do not use.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

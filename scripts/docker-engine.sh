#!/usr/bin/env bash
# docker-engine.sh: make sure a Docker engine and Docker Compose (v2 plugin,
# plus v1 `docker-compose` when cheap) are available on this machine.
#
# Idempotent; meant for CI and fresh Debian/Ubuntu machines, run as root:
#   bash scripts/docker-engine.sh
#
# What it does, each step skipped when already satisfied:
#   1. `docker info` fails  -> apt-get install docker.io + iptables if missing,
#      start `dockerd` in the background (log: $DOCKERD_LOG, default
#      /tmp/mail-lab-dockerd.log) and wait up to $DOCKER_WAIT_SECONDS (60) for
#      /var/run/docker.sock and `docker info`.
#   2. `docker compose version` fails -> download Debian 13 (trixie)'s
#      docker-compose package (Compose v2) with apt, using a private apt state
#      directory so the host's sources are untouched, and install its binary
#      as /usr/libexec/docker/cli-plugins/docker-compose (needs only libc).
#   3. `docker-compose` (v1) missing -> apt-get install docker-compose
#      (skip with MAIL_LAB_SKIP_COMPOSE_V1=1).
#
# Environment: DOCKERD_LOG, DOCKER_WAIT_SECONDS, MAIL_LAB_SKIP_COMPOSE_V1,
# MAIL_LAB_DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# The dockerd it starts runs with --userland-proxy=false: published ports go
# through the kernel's NAT instead of one docker-proxy process per port (19
# per lab, about 3.4 MB each: 65 MB per lab, 2 GB for a class of 30 labs).
# The lab's containers see the real address of a student's machine (the
# host's own connections come from the bridge gateway, as before). An engine
# that already runs is left as it is; for a classroom host whose Docker runs
# under systemd, put {"userland-proxy": false} in /etc/docker/daemon.json
# and restart it (docs/offline.md).
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/tmp/mail-lab-dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
MIRROR="${MAIL_LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PLUGIN_DIR=/usr/libexec/docker/cli-plugins

say()  { printf '[docker-engine] %s\n' "$*"; }
fail() { printf '[docker-engine] ERROR: %s\n' "$*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || fail "apt-get not found; install $* by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    apt-get update -qq || fail "apt-get update failed"
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || fail "apt-get install $* failed"
}

[ "$(id -u)" = 0 ] || { docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 \
  && { say "not root, but docker and compose v2 already work; nothing to do"; exit 0; }; \
  fail "must run as root (sudo bash $0)"; }

# --- 1. engine ---------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  say "engine: already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
else
  missing=()
  command -v dockerd  >/dev/null || missing+=(docker.io)
  command -v docker   >/dev/null || missing+=(docker.io)
  command -v iptables >/dev/null || missing+=(iptables)
  if [ "${#missing[@]}" -gt 0 ]; then
    # shellcheck disable=SC2207
    apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
  fi

  # Docker needs a working iptables. Some kernels lack nf_tables: fall back to
  # the legacy backend when the default one cannot even list the filter table.
  if ! iptables -L -n >/dev/null 2>&1; then
    if command -v iptables-legacy >/dev/null && iptables-legacy -L -n >/dev/null 2>&1; then
      say "iptables (nft) unusable here; switching alternatives to iptables-legacy"
      update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
      update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
    else
      say "warning: iptables does not work; dockerd may fail to set up networking"
    fi
  fi

  if pgrep -x dockerd >/dev/null; then
    say "engine: dockerd process exists but does not answer yet; waiting for it"
  elif command -v systemctl >/dev/null && [ -d /run/systemd/system ] \
       && systemctl start docker >/dev/null 2>&1; then
    say "engine: started with systemctl start docker"
  else
    say "engine: starting dockerd in the background (log: $DOCKERD_LOG)"
    # setsid + nohup: the daemon outlives this script and its terminal.
    setsid nohup dockerd --userland-proxy=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
    say "engine: dockerd pid $!"
  fi

  waited=0
  until [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$DOCKER_WAIT_SECONDS" ]; then
      say "last lines of $DOCKERD_LOG:"; tail -n 25 "$DOCKERD_LOG" >&2 2>/dev/null || true
      fail "docker engine did not answer within ${DOCKER_WAIT_SECONDS}s"
    fi
    sleep 1; waited=$((waited + 1))
  done
  say "engine: ready after ${waited}s ($(docker version --format '{{.Server.Version}}'))"
fi

# --- 2. compose v2 plugin ----------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  say "compose v2: $(docker compose version --short 2>/dev/null || docker compose version)"
else
  say "compose v2: missing; fetching Debian 13 (trixie) docker-compose package"
  command -v apt-get >/dev/null || fail "compose v2 missing and apt-get not available; install the docker compose plugin by hand"
  arch="$(dpkg --print-architecture)"
  tmp="$(mktemp -d /tmp/mail-lab-compose.XXXXXX)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb" "$tmp/x"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || apt_install debian-archive-keyring
  echo "deb [arch=$arch signed-by=$keyring] $MIRROR trixie main" >"$tmp/sources.list"
  # A private apt configuration: only the trixie source, its own lists and
  # cache, so the host's apt state is not touched.
  apt_opts=(
    -o "Dir::Etc::SourceList=$tmp/sources.list"
    -o "Dir::Etc::SourceParts=$tmp/none"
    -o "Dir::State::Lists=$tmp/lists"
    -o "Dir::Cache=$tmp/cache"
    -o "APT::Architectures=$arch"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  apt-get "${apt_opts[@]}" update -qq >/dev/null || fail "apt-get update for trixie failed (mirror $MIRROR reachable?)"
  (cd "$tmp/deb" && apt-get "${apt_opts[@]}" download docker-compose/trixie >/dev/null) \
    || fail "could not download docker-compose from trixie"
  deb="$(ls "$tmp"/deb/docker-compose_*.deb | head -n1)"
  say "compose v2: extracting $(basename "$deb")"
  dpkg-deb -x "$deb" "$tmp/x"
  bin="$(find "$tmp/x" -type f -name docker-compose -perm -u+x | head -n1)"
  [ -n "$bin" ] || fail "no docker-compose binary inside $(basename "$deb")"
  install -D -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
  docker compose version >/dev/null 2>&1 \
    || fail "installed $PLUGIN_DIR/docker-compose but 'docker compose version' still fails"
  say "compose v2: installed $(docker compose version --short 2>/dev/null) in $PLUGIN_DIR"
fi

# --- 3. compose v1 (optional) --------------------------------------------------
if command -v docker-compose >/dev/null 2>&1; then
  say "compose v1: $(docker-compose version --short 2>/dev/null || echo present)"
elif [ "${MAIL_LAB_SKIP_COMPOSE_V1:-0}" = 1 ]; then
  say "compose v1: skipped (MAIL_LAB_SKIP_COMPOSE_V1=1)"
elif command -v apt-get >/dev/null; then
  # In a subshell: a failure here is not fatal (compose v2 is what we need).
  ( apt_install docker-compose ) || true
  if command -v docker-compose >/dev/null 2>&1; then
    say "compose v1: installed $(docker-compose version --short 2>/dev/null)"
  else
    say "compose v1: not available (fine; compose v2 is used)"
  fi
else
  say "compose v1: not installed (fine; compose v2 is used)"
fi

say "ok: docker $(docker version --format '{{.Server.Version}}') with compose v2$(command -v docker-compose >/dev/null && echo ' and v1')"

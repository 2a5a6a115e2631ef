#!/usr/bin/env bash
# build-base-image.sh: build the offline base image mail-lab/base:bookworm
# without any image registry, from Debian packages and the host's Node binary.
#
#   sudo bash scripts/build-base-image.sh [--force]
#
# It is the offline stand-in for node:20-bookworm-slim (see docs/offline.md):
#   1. debootstrap --variant=minbase a Debian 12 (bookworm) tree with the lab's
#      tools (dig, telnet, nc, swaks, ip, iptables, ps, less, uuencode) from the Debian
#      mirror;
#   2. copy the host's Node 20 binary to /usr/local/bin/node and check that it
#      runs inside the tree (chroot);
#   3. copy the host's CA bundle in, strip apt caches, docs and man pages;
#   4. `tar | docker import` it as mail-lab/base:bookworm.
# Skipped when the image already exists, unless --force.
#
# Environment:
#   MAIL_LAB_BASE_TAG        image tag             (mail-lab/base:bookworm)
#   MAIL_LAB_DEBIAN_MIRROR   Debian mirror         (http://deb.debian.org/debian)
#   MAIL_LAB_NODE_BIN        Node binary to embed  (`command -v node`)
#   MAIL_LAB_DEBOOTSTRAP_CACHE  .deb cache reused by --force rebuilds
#                            (/var/cache/mail-lab/debootstrap; empty = none)
set -euo pipefail

TAG="${MAIL_LAB_BASE_TAG:-mail-lab/base:bookworm}"
MIRROR="${MAIL_LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# sharutils: uuencode/uudecode by hand in the client container (the attachments worksheet, lesson §3);
# libio-socket-ssl-perl: swaks --tls / --tlsc (STARTTLS, implicit TLS) from the client container;
# perl-openssl-defaults named because debootstrap does not resolve the virtual
# package perl-openssl-abi-3 that libnet-ssleay-perl depends on.
PACKAGES=ca-certificates,libstdc++6,iproute2,iptables,dnsutils,telnet,netcat-openbsd,swaks,libio-socket-ssl-perl,perl-openssl-defaults,procps,less,sharutils
# Raised whenever PACKAGES or the image's content changes: `mail-lab up` and
# this script rebuild a base image with an older version label.
BASE_VERSION=3
CACHE="${MAIL_LAB_DEBOOTSTRAP_CACHE-/var/cache/mail-lab/debootstrap}"
FORCE=0

say()  { printf '[base-image] %s\n' "$*"; }
fail() { printf '[base-image] ERROR: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force|-f) FORCE=1 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) fail "unknown argument: $arg (use --force or --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap and chroot need it): sudo bash $0"
docker info >/dev/null 2>&1 || fail "docker engine not reachable; run: sudo bash scripts/docker-engine.sh"

if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  have="$(docker image inspect -f '{{index .Config.Labels "mail-lab.base-version"}}' "$TAG" 2>/dev/null || true)"
  if [ "$have" = "$BASE_VERSION" ]; then
    say "$TAG already exists (version $BASE_VERSION, $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')); use --force to rebuild"
    exit 0
  fi
  say "$TAG exists but is base version ${have:-1}, this script makes version $BASE_VERSION: rebuilding"
fi

START=$SECONDS

# --- tools -------------------------------------------------------------------
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ "${#need[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || fail "please install: ${need[*]}"
  say "installing ${need[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "apt-get install ${need[*]} failed"
fi

# Older debootstrap (e.g. on an old Ubuntu) may not know bookworm yet; the
# sid script builds any modern Debian suite.
SCRIPT=""
[ -e "/usr/share/debootstrap/scripts/$SUITE" ] || SCRIPT=/usr/share/debootstrap/scripts/sid

NODE_BIN="${MAIL_LAB_NODE_BIN:-$(command -v node || true)}"
[ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || fail "no node binary found; set MAIL_LAB_NODE_BIN=/path/to/node (Node 20)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" --version)"
case "$NODE_VERSION" in
  v20.*) ;;
  *) say "warning: host node is $NODE_VERSION, the lab targets Node 20" ;;
esac

# --- debootstrap ---------------------------------------------------------------
WORK="$(mktemp -d /var/tmp/mail-lab-base.XXXXXX)"
ROOTFS="$WORK/rootfs"
cleanup() {
  # debootstrap mounts /proc and /sys while it runs; never rm -rf through a mount.
  for m in proc sys dev/pts dev; do mountpoint -q "$ROOTFS/$m" 2>/dev/null && umount -l "$ROOTFS/$m" || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

cache_args=()
if [ -n "$CACHE" ]; then mkdir -p "$CACHE"; cache_args=(--cache-dir="$CACHE"); fi

say "debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR into $ROOTFS"
t0=$SECONDS
debootstrap --variant=minbase --include="$PACKAGES" \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "${cache_args[@]}" \
  "$SUITE" "$ROOTFS" "$MIRROR" $SCRIPT >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 30 "$WORK/debootstrap.log" >&2
    [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
    fail "debootstrap failed (is $MIRROR reachable?)"
  }
say "debootstrap done in $((SECONDS - t0))s"

# --- node, CA bundle ---------------------------------------------------------
say "embedding host node $NODE_VERSION ($NODE_BIN) as /usr/local/bin/node"
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
if ! got="$(chroot "$ROOTFS" /usr/local/bin/node -e 'process.stdout.write(process.version)' 2>&1)"; then
  fail "host node does not run inside bookworm: $got
  (a node built for a newer glibc? use an official nodejs.org Linux x64 build: MAIL_LAB_NODE_BIN=/path/to/node)"
fi
say "node runs in the chroot: $got"

if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  say "trusting the host CA bundle"
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
fi

# Sanity: the lab's tools are there.
for tool in dig telnet nc swaks ip iptables ps less uuencode uudecode; do
  chroot "$ROOTFS" sh -c "command -v $tool" >/dev/null || fail "$tool missing from the base image"
done
chroot "$ROOTFS" perl -MIO::Socket::SSL -e 1 || fail "perl IO::Socket::SSL missing from the base image (swaks --tls needs it)"

# --- slim down -----------------------------------------------------------------
say "cleaning apt caches, docs, man pages, locales"
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
       "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old \
       "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* \
       "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/usr/share/doc-base/* \
       "$ROOTFS"/tmp/* "$ROOTFS"/root/.bash_history
find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
# Docker supplies these at run time; do not bake in the build host's.
: >"$ROOTFS/etc/resolv.conf"
echo mail-lab >"$ROOTFS/etc/hostname"
# Later `apt-get install` in derived images: keep them slim too.
mkdir -p "$ROOTFS/etc/dpkg/dpkg.cfg.d" "$ROOTFS/etc/apt/apt.conf.d"
printf 'path-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n' \
  >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-mail-lab-slim"
printf 'APT::Install-Recommends "false";\n' >"$ROOTFS/etc/apt/apt.conf.d/01-mail-lab-norecommends"

# --- import ------------------------------------------------------------------
say "importing as $TAG"
tar --numeric-owner --xattrs -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL mail-lab.base-version=$BASE_VERSION org.opencontainers.image.title=mail-lab-base org.opencontainers.image.description=\"Debian $SUITE minbase with Node $NODE_VERSION and the lab tools (scripts/build-base-image.sh)\"" \
  --change 'CMD ["/bin/bash"]' \
  - "$TAG" >/dev/null

docker run --rm "$TAG" node -e 'process.exit(0)' || fail "$TAG imported but node does not run in it"
size="$(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
say "built $TAG ($size, node $NODE_VERSION) in $((SECONDS - START))s"

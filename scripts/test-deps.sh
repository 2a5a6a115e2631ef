#!/usr/bin/env bash
# The Debian programs the tests drive as real clients: dig, curl, fetchmail,
# mpop, swaks (with TLS), openssl, python3, and the browser of the web pages'
# tests (chromium-headless-shell, driven by playwright-core, with a font
# to render the pages: fonts-dejavu-core). Installs only what is missing
# (as root, from Debian's mirror); prints "all present" otherwise.
set -euo pipefail
missing=()
for tool in dig:dnsutils curl:curl fetchmail:fetchmail mpop:mpop swaks:swaks python3:python3 openssl:openssl chromium-headless-shell:chromium-headless-shell; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
# swaks --tls needs Perl's IO::Socket::SSL (a Recommends, not pulled in with --no-install-recommends).
perl -MIO::Socket::SSL -e1 >/dev/null 2>&1 || missing+=(libio-socket-ssl-perl libnet-ssleay-perl)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "all present"
fi

# mail-lab: ONE image for every lab service (dns, mail-domain, client).
#
# The image holds no build tools: the host runs `npm ci && npm run build`
# first, and this file only copies package*.json, node_modules, dist and
# lab-scenarios in. So the build needs no network on the offline path.
#
#   online:  BASE_IMAGE=node:20-bookworm-slim (default); the lab's tools are
#            missing there, so they are installed with apt once.
#   offline: BASE_IMAGE=mail-lab/base:bookworm (scripts/build-base-image.sh,
#            see docs/offline.md) already has them; the apt step is skipped.
#
# Built through compose (`docker compose build`, tag mail-lab/app:latest);
# services pick their program with `command:` in docker-compose.yml.
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}

# Tools for the class: dig, telnet, nc, swaks (with TLS: IO::Socket::SSL); ip/iptables for breaking links.
RUN if command -v dig >/dev/null && command -v swaks >/dev/null && command -v iptables >/dev/null \
        && command -v nc >/dev/null && command -v telnet >/dev/null && command -v ip >/dev/null \
        && command -v ps >/dev/null && perl -MIO::Socket::SSL -e 1 2>/dev/null; then \
      echo "lab tools present in base image; skipping apt"; \
    else \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           ca-certificates dnsutils telnet netcat-openbsd swaks libio-socket-ssl-perl iproute2 iptables procps less \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# Small wrappers so a student in the client container can type
# `mail-lab-client ...` instead of the path to the compiled entry point.
RUN printf '#!/bin/sh\nexec node /app/dist/services/client/src/main.js "$@"\n' >/usr/local/bin/mail-lab-client \
    && printf '#!/bin/sh\nexec node /app/dist/services/mail-domain/src/main.js "$@"\n' >/usr/local/bin/mail-lab-domain \
    && printf '#!/bin/sh\nexec node /app/dist/services/dns/src/main.js "$@"\n' >/usr/local/bin/mail-lab-dns \
    && chmod 0755 /usr/local/bin/mail-lab-client /usr/local/bin/mail-lab-domain /usr/local/bin/mail-lab-dns \
    && mkdir -p /var/mail-lab /etc/mail-lab /var/mail-lab-ca /var/mail-lab-ca-public \
    && (id -u mail-lab >/dev/null 2>&1 || useradd --system --home-dir /var/mail-lab --shell /bin/bash mail-lab) \
    && chown mail-lab:mail-lab /var/mail-lab /var/mail-lab-ca /var/mail-lab-ca-public
# (/var/mail-lab-ca and -public belong to mail-lab so that the `lab-ca` volumes, filled
# from the image on first use, is writable by the mail servers.)

# MALLOC_ARENA_MAX: glibc keeps one malloc arena per libuv thread; two cut resident memory under load.
# MALLOC_MMAP_THRESHOLD_: blocks from 128 KiB up (scrypt's 16 MB per login check) are mmapped and
# given back when freed, instead of staying in the heap (bench/concurrency: -30 to -50 MB under load).
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MAIL_LAB_CONFIG=/etc/mail-lab/lab.yaml \
    MAIL_LAB_DATA=/var/mail-lab \
    MAIL_LAB_MODE=docker

WORKDIR /app
# Least often changed first, so rebuilds after a code change only redo dist.
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
COPY lab-scenarios ./lab-scenarios
COPY dist ./dist

CMD ["/bin/bash"]

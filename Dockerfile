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

# Tools for the class: dig, telnet, nc, swaks (with TLS: IO::Socket::SSL), uuencode/uudecode (sharutils); ip/iptables for breaking links.
RUN if command -v dig >/dev/null && command -v swaks >/dev/null && command -v iptables >/dev/null \
        && command -v nc >/dev/null && command -v telnet >/dev/null && command -v ip >/dev/null \
        && command -v ps >/dev/null && command -v uuencode >/dev/null && perl -MIO::Socket::SSL -e 1 2>/dev/null; then \
      echo "lab tools present in base image; skipping apt"; \
    else \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           ca-certificates dnsutils telnet netcat-openbsd swaks libio-socket-ssl-perl iproute2 iptables libcap2-bin procps less sharutils \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# The link faults (break, isolate, slow-link) are made by each mail server itself, through its
# admin API (services/mail-domain/src/links/), as the unprivileged user mail-lab that has no
# capability of its own (compose: cap_drop ALL, cap_add NET_ADMIN, so NET_ADMIN is only in the
# bounding set). File capabilities: copies of iptables (the xtables multi-call binary, named
# `iptables` so it acts as iptables) and tc get cap_net_admin, and only these two; they get it only
# in containers that have NET_ADMIN in their bounding set (the two mail containers). Elsewhere (the
# client, the DNS) running them fails with "Operation not permitted". The originals stay as they are.
# (setcap comes with libcap2-bin, which iproute2 depends on.)
RUN install -d -o root -g root -m 0755 /usr/local/libexec/mail-lab \
    && install -o root -g root -m 0755 "$(readlink -f "$(command -v iptables)")" /usr/local/libexec/mail-lab/iptables \
    && install -o root -g root -m 0755 "$(readlink -f "$(command -v tc)")" /usr/local/libexec/mail-lab/tc \
    && setcap cap_net_admin+ep /usr/local/libexec/mail-lab/iptables \
    && setcap cap_net_admin+ep /usr/local/libexec/mail-lab/tc \
    && getcap /usr/local/libexec/mail-lab/iptables /usr/local/libexec/mail-lab/tc

# Small wrappers so a student in the client container can type
# `mail-lab-client ...` instead of the path to the compiled entry point.
RUN printf '#!/bin/sh\nexec node /app/dist/services/client/src/main.js "$@"\n' >/usr/local/bin/mail-lab-client \
    && printf '#!/bin/sh\nexec node /app/dist/services/mail-domain/src/main.js "$@"\n' >/usr/local/bin/mail-lab-domain \
    && printf '#!/bin/sh\nexec node /app/dist/services/dns/src/main.js "$@"\n' >/usr/local/bin/mail-lab-dns \
    && chmod 0755 /usr/local/bin/mail-lab-client /usr/local/bin/mail-lab-domain /usr/local/bin/mail-lab-dns \
    && mkdir -p /var/mail-lab /etc/mail-lab /var/mail-lab-ca /var/mail-lab-ca-public /var/mail-lab-admin \
    && (id -u mail-lab >/dev/null 2>&1 || useradd --system --home-dir /var/mail-lab --shell /bin/bash mail-lab) \
    && chown mail-lab:mail-lab /var/mail-lab /var/mail-lab-ca /var/mail-lab-ca-public /var/mail-lab-admin \
    && chmod 0700 /var/mail-lab-admin
# (/var/mail-lab-ca, -public and -admin belong to mail-lab so that the volumes, filled
# from the image on first use, are writable by the services; -admin holds the lab's
# admin token and is mode 0700.)

# MALLOC_ARENA_MAX: glibc keeps one malloc arena per libuv thread; two cut resident memory under load.
# MALLOC_MMAP_THRESHOLD_: blocks from 128 KiB up (scrypt's 16 MB per login check) are mmapped and
# given back when freed, instead of staying in the heap (bench/concurrency: -30 to -50 MB under load).
# NODE_OPTIONS --max-semi-space-size=8: V8 grows its young generation up to 16 MB semi-spaces in a
# burst (the spool read of a big queue at start, a load test) and keeps it; 8 MB keeps the CPU per
# message and gives back most of it (30,000 queued: idle 146 -> 91 MB; a lab idle by docker stats:
# 85 -> 69 MiB). scripts/local-lab.ts (serviceProcessEnv) gives up --local and the benches the same.
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    NODE_OPTIONS=--max-semi-space-size=8 \
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

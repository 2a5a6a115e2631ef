#!/bin/sh
# swarm-entry.sh: the entry point of the mail and client services of a lab on Docker Swarm
# (scripts/swarm/render.ts ships it to every node as a swarm config; the image is unchanged).
#
# Compose mounts a resolv.conf that names the lab DNS by its fixed address; on Swarm no task has a
# fixed address. So this starts as root with no capability but SETUID, SETGID and SETPCAP (and
# NET_ADMIN for the mail servers), asks Docker's embedded DNS where the lab DNS task is
# (tasks.dns), points /etc/resolv.conf at it (so dig, swaks and telnet by name ask the lab DNS, as
# in the compose lab), then becomes mail-lab with a bounding set of only $MAIL_LAB_KEEP_CAPS
# (`+net_admin` for the mail servers, for the iptables/tc copies with a file capability; nothing
# for the client) and runs the command. Afterwards the process has what the compose lab gives it.
set -u
ip=""
i=0
while [ $i -lt 120 ]; do
  ip=$(getent hosts tasks.dns | awk '{ print $1; exit }')
  [ -n "$ip" ] && break
  i=$((i + 1))
  sleep 0.5
done
if [ -n "$ip" ]; then
  printf '# Written by swarm-entry.sh: the lab DNS task (tasks.dns) as the swarm placed it.\nnameserver %s\noptions timeout:2 attempts:2\n' "$ip" >/etc/resolv.conf \
    || echo "swarm-entry: cannot write /etc/resolv.conf; names are asked of Docker's embedded DNS" >&2
else
  echo "swarm-entry: no task of the lab DNS (tasks.dns) after 60 s; /etc/resolv.conf left as Docker made it" >&2
fi
exec setpriv --reuid=mail-lab --regid=mail-lab --init-groups --inh-caps=-all --bounding-set=-all${MAIL_LAB_KEEP_CAPS:+,$MAIL_LAB_KEEP_CAPS} -- "$@"

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
# As mail-lab: a mail server copies the lab CA the CLI made (a config and a secret, the same on
# every node) into its lab-ca volume, key first, the certificate last (the server makes a CA of
# its own only where there is no ca.crt). A volume left on a node by an earlier lab of the same
# number holds another CA: it is replaced, with the host certificates made from it.
exec setpriv --reuid=mail-lab --regid=mail-lab --init-groups --inh-caps=-all --bounding-set=-all${MAIL_LAB_KEEP_CAPS:+,$MAIL_LAB_KEEP_CAPS} -- sh -c '
  if [ -n "${MAIL_LAB_CA_SEED_CERT:-}" ] && [ -r "$MAIL_LAB_CA_SEED_CERT" ] && [ -r "${MAIL_LAB_CA_SEED_KEY:-}" ] && ! cmp -s "$MAIL_LAB_CA_SEED_CERT" /var/mail-lab-ca/ca.crt; then
    [ -e /var/mail-lab-ca/ca.crt ] && echo "swarm-entry: /var/mail-lab-ca holds another lab CA (an earlier lab on this node): replaced by this lab'"'"'s" >&2
    rm -rf /var/mail-lab-ca/hosts
    (umask 077 && cp "$MAIL_LAB_CA_SEED_KEY" /var/mail-lab-ca/.ca.key.$$ && mv -f /var/mail-lab-ca/.ca.key.$$ /var/mail-lab-ca/ca.key) &&
      cp "$MAIL_LAB_CA_SEED_CERT" /var/mail-lab-ca/.ca.crt.$$ && chmod 0644 /var/mail-lab-ca/.ca.crt.$$ && mv -f /var/mail-lab-ca/.ca.crt.$$ /var/mail-lab-ca/ca.crt ||
      echo "swarm-entry: cannot copy the lab CA into /var/mail-lab-ca" >&2
  fi
  exec "$@"' swarm-entry "$@"

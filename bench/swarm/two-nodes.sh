#!/usr/bin/env bash
# bench/swarm/two-nodes.sh: one lab spread over a swarm of TWO Docker engines on this one machine,
# delivering mail (issue 14). Run as root on a host whose engine is in no swarm:
#
#   npm run build && bash bench/swarm/two-nodes.sh [lab]        (default lab 67)
#
# 1. `docker swarm init --advertise-addr <docker0 address>` (a worker cannot reach 127.0.0.1).
# 2. A second engine: a container of mail-lab/node:bookworm (the local base image
#    mail-lab/base:bookworm plus Debian's docker.io), running dockerd 20.10 with its own
#    /var/lib/docker in a volume; not --privileged (this machine's engine cannot grant
#    CAP_SYS_RESOURCE, so --privileged fails with "unable to apply caps"), but every other
#    capability, no seccomp/AppArmor, the cgroup tree, and a cgroup parent of its own. It joins
#    the swarm as a worker (hostname node2).
# 3. The image onto node2 the way docs/cluster.md says: `docker save | docker load`.
# 4. Lab N deployed with `npx mail-lab up --engine swarm`, pinned with MAIL_LAB_SWARM_PLACEMENT:
#    the lab DNS and dadali.com on node2, garudayaksa.com and the client on this node.
#    Host-mode ports of node2's tasks are on node2's address, and the CLI talks to 127.0.0.1:
#    for that, iptables DNAT rules (chain MAIL-LAB-NODE2, nat OUTPUT, -d 127.0.0.1) forward
#    exactly those ports to node2, as a school would point its students at each node.
# 5. status, then the scenarios cross-domain-delivery, mx-lookup and queue-retry across the nodes.
# Everything is undone at the end (trap): the lab and its volumes, the forward rules, node2 and
# its volume, the swarm (left), docker_gwbridge. Traffic stays on this machine (docker0 and the
# node2 container's network namespace).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LAB="${1:-67}"
NODE=mail-lab-node2
say() { printf '[two-nodes] %s\n' "$*"; }
mailLab() { node bin/mail-lab.js "$@"; }

[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = inactive ] || { say "this engine is in a swarm already; this script makes (and leaves) its own"; exit 2; }
[ -f dist/scripts/cli.js ] || { say "run npm run build first"; exit 2; }
docker image inspect mail-lab/app:latest >/dev/null 2>&1 || { say "no mail-lab/app:latest: run npx mail-lab up once (or npm run build && npx mail-lab up --engine swarm) first"; exit 2; }

cleanup() {
  set +e
  say "cleaning up"
  mailLab down --volumes --engine swarm --lab "$LAB" >/dev/null 2>&1
  iptables -t nat -D OUTPUT -d 127.0.0.1 -j MAIL-LAB-NODE2 2>/dev/null
  iptables -t nat -F MAIL-LAB-NODE2 2>/dev/null
  iptables -t nat -X MAIL-LAB-NODE2 2>/dev/null
  docker rm -f "$NODE" >/dev/null 2>&1
  docker volume rm mail-lab-node2-docker >/dev/null 2>&1
  docker swarm leave --force >/dev/null 2>&1
  docker network rm docker_gwbridge >/dev/null 2>&1
  say "done: engine $(docker info --format '{{.Swarm.LocalNodeState}}') (swarm), as found"
}
trap cleanup EXIT

ADDR="$(ip -4 -o addr show docker0 | awk '{ print $4 }' | cut -d/ -f1)"
say "swarm: docker swarm init --advertise-addr $ADDR"
docker swarm init --advertise-addr "$ADDR" >/dev/null

if ! docker image inspect mail-lab/node:bookworm >/dev/null 2>&1; then
  say "building mail-lab/node:bookworm (mail-lab/base:bookworm + Debian's docker.io)"
  printf 'FROM mail-lab/base:bookworm\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null && rm -rf /var/lib/apt/lists/*\n' \
    | docker build -q -t mail-lab/node:bookworm - >/dev/null
fi
say "node2: a second Docker engine in a container"
docker run -d --name "$NODE" --hostname node2 \
  --cap-add ALL --cap-drop SYS_RESOURCE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
  --device-cgroup-rule 'a *:* rwm' -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /lib/modules:/lib/modules:ro \
  -v mail-lab-node2-docker:/var/lib/docker \
  --entrypoint dockerd mail-lab/node:bookworm --userland-proxy=false --cgroup-parent=/mail-lab-node2 >/dev/null
for _ in $(seq 1 60); do docker exec "$NODE" docker info >/dev/null 2>&1 && break; sleep 1; done
NODE_IP="$(docker inspect "$NODE" --format '{{.NetworkSettings.IPAddress}}')"
docker exec "$NODE" docker swarm join --advertise-addr "$NODE_IP" --token "$(docker swarm join-token -q worker)" "$ADDR:2377" >/dev/null
docker node ls

say "the image onto node2: docker save mail-lab/app:latest | docker load (there)"
t0=$SECONDS
docker save mail-lab/app:latest | docker exec -i "$NODE" docker load >/dev/null
say "  $((SECONDS - t0)) s"

say "forwarding 127.0.0.1 to node2 ($NODE_IP) for the ports of the DNS and dadali.com of lab $LAB"
iptables -t nat -N MAIL-LAB-NODE2
iptables -t nat -I OUTPUT -d 127.0.0.1 -j MAIL-LAB-NODE2
node -e '
  const { loadLabConfig } = require("./dist/services/core/src/config");
  const { deriveLab } = require("./dist/services/core/src/labs");
  const lab = deriveLab(loadLabConfig("lab-scenarios/lab.yaml").config, Number(process.argv[1]));
  const d = lab.domains.find((x) => x.name === "dadali.com");
  const lines = [`udp ${lab.dns.hostPort}`, `tcp ${lab.dns.hostPort}`, `tcp ${lab.dns.adminPort}`, ...Object.values(d.ports).filter(Boolean).map((p) => `tcp ${p}`)];
  console.log(lines.join("\n"));' "$LAB" | while read -r proto port; do
  iptables -t nat -A MAIL-LAB-NODE2 -p "$proto" --dport "$port" -j DNAT --to-destination "$NODE_IP:$port"
done

say "up --engine swarm --lab $LAB, the DNS and dadali.com on node2, garudayaksa.com and the client here"
t0=$SECONDS
MAIL_LAB_SWARM_PLACEMENT='{"dns":["node.hostname==node2"],"mail-dadali":["node.hostname==node2"],"mail-garudayaksa":["node.role==manager"],"client":["node.role==manager"]}' \
  mailLab up --engine swarm --lab "$LAB" --no-build | tail -1
say "  $((SECONDS - t0)) s"
mailLab status --engine swarm --lab "$LAB" | grep -E 'mode:|task |link|queue'
mailLab scenario cross-domain-delivery mx-lookup queue-retry --engine swarm --lab "$LAB" | grep -E '^== |delivered via|MX answer|scenarios:'

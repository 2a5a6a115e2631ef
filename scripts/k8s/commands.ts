/**
 * The command line of the lab on Kubernetes (issue 14), called by
 * scripts/cli.ts:
 *
 *   render k8s [--labs N] [--out DIR] [cluster options]   the manifests (render.ts)
 *   up --engine k8s [--kubeconfig FILE] [cluster options] deploy lab N and wait for it (engine.ts)
 *   down --engine k8s [--volumes]                         take it down
 *   status --engine k8s                                   its StatefulSets, pods, nodes, node ports, network faults
 *   break|heal <d1> <d2> --engine k8s                     the link, as NetworkPolicies (policies.ts)
 *   fault link|isolate … / fault clear … / fault list --engine k8s
 *
 * Cluster options: --service-cidr, --pod-cidr, --node-port-base, --image,
 * --storage-class (lab.ts). `up` keeps them on the lab's namespace; the
 * other commands read them back from there.
 *
 * The other commands (queue, trace, events, the faults the servers make
 * themselves…) talk to the admin APIs, which a Kubernetes lab does not
 * publish: they say so, with the `kubectl port-forward` that reaches one.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { FAULT_KINDS, FaultArgumentError, faultFromArgs } from '../../services/core/src/faults';
import { MAX_LAB } from '../../services/core/src/labs';
import { chosenLabNumber, defaultLabFile, LabSelectionError, type LabChoice } from '../lab-select';
import { connect, deployLab, deployedNamespace, K8sEngineError, labStatus, readNetworkFaults, removeLab, setNetworkFault, type K8sConnection } from './engine';
import { K8sLabError, k8sLabOfFile, type K8sLab, type K8sOptions } from './lab';
import { defaultK8sDir, renderK8sLab } from './render';
import { readFileSync } from 'node:fs';
import type { NetworkFaults } from './policies';

export interface K8sHelpers {
  out: (line?: string) => void;
  UsageError: new (message: string) => Error;
  /** The program's global options (--lab, --config, --kubeconfig). */
  choice: () => LabChoice & { kubeconfig?: string };
}

/** The cluster options as commander gives them. */
export interface K8sCliOptions {
  serviceCidr?: string;
  podCidr?: string;
  nodePortBase?: string;
  image?: string;
  storageClass?: string;
}

/** Whether `--engine k8s` (or MAIL_LAB_ENGINE=k8s) was asked for, from the command line as typed. */
export function k8sEngineRequested(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  const i = argv.lastIndexOf('--engine');
  const eq = argv.filter((a) => a.startsWith('--engine=')).pop();
  const given = eq?.slice('--engine='.length) ?? (i >= 0 ? argv[i + 1] : undefined);
  return (given ?? env.MAIL_LAB_ENGINE ?? '').trim() === 'k8s';
}

/** What the commands that need an admin API say on a Kubernetes lab. */
export const K8S_ADMIN_ONLY =
  'with --engine k8s the CLI does render k8s, up, down, status, break, heal, fault link|isolate|clear|list; this command needs the lab\'s admin APIs, which a Kubernetes lab does not publish: reach one with `kubectl -n mail-lab-NN port-forward svc/mail-<domain> <port>:8080` (docs/cluster.md)';

/** Adds the cluster options to a command (render, up). */
export function addK8sOptions(cmd: Command): Command {
  return cmd
    .option('--service-cidr <cidr>', 'k8s: the cluster\'s Service CIDR, for the fixed ClusterIPs (default 10.96.0.0/12)')
    .option('--pod-cidr <cidr>', 'k8s: the cluster\'s pod CIDR, excepted from "outside the cluster" in the NetworkPolicies (default 10.244.0.0/16)')
    .option('--node-port-base <port>', 'k8s: the first node port; lab N uses 20 from base + 20*N (default 30000)')
    .option('--image <image>', 'k8s: the lab image the nodes have or can pull (default mail-lab/app:latest)')
    .option('--storage-class <name>', "k8s: the StorageClass of the data and CA volumes (default: the cluster's)");
}

function toOptions(o: K8sCliOptions): Partial<K8sOptions> {
  const base = o.nodePortBase === undefined ? undefined : Number(o.nodePortBase);
  return { serviceCidr: o.serviceCidr, podCidr: o.podCidr, nodePortBase: base, image: o.image, storageClass: o.storageClass };
}

/** Turns the k8s errors into the CLI's: bad options exit 2, a cluster problem exits 1 with its words. */
async function guarded<T>(h: K8sHelpers, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof K8sLabError || e instanceof LabSelectionError || e instanceof FaultArgumentError) throw new h.UsageError(e.message);
    if (e instanceof K8sEngineError) {
      process.stderr.write(`mail-lab: ${e.message}\n`);
      process.exitCode = 1;
      return undefined;
    }
    throw e;
  }
}

const labFile = (choice: LabChoice) => choice.config ?? defaultLabFile();

/** `render k8s`: labs 1…N (--labs) or the one --lab, into DIR. */
export async function renderK8sCommand(h: K8sHelpers, opts: K8sCliOptions & { labs?: string; out?: string }): Promise<void> {
  await guarded(h, async () => {
    const choice = h.choice();
    let numbers: number[];
    if (opts.labs !== undefined) {
      const n = Number(opts.labs);
      if (!/^\d+$/.test(opts.labs) || n < 1 || n > MAX_LAB) throw new h.UsageError(`--labs must be a number of labs from 1 to ${MAX_LAB} (got "${opts.labs}")`);
      numbers = Array.from({ length: n }, (_, i) => i + 1);
    } else numbers = [chosenLabNumber(choice)];
    const file = labFile(choice);
    const text = readFileSync(file, 'utf8');
    const dir = opts.out ?? defaultK8sDir();
    for (const n of numbers) {
      const r = await renderK8sLab(text, file, n, dir, toOptions(opts));
      const ports = [r.lab.dns, ...r.lab.mail].flatMap((x) => x.nodePorts.map((p) => p.nodePort));
      h.out(`lab ${n}: ${relative(process.cwd(), r.manifest) || r.manifest} (namespace ${r.lab.namespace}, backbone ${r.lab.subnet}, node ports ${Math.min(...ports)}-${Math.max(...ports)}); secrets ${relative(process.cwd(), r.secretsFile)} (${r.newSecrets ? 'made' : 'kept'}, 0600)`);
    }
    h.out(`apply with: kubectl apply -f ${relative(process.cwd(), dir) || '.'}   (or: npx mail-lab up --engine k8s --lab N)`);
  });
}

/** The lab as deployed: the cluster connection and the lab computed with the options kept on its namespace. */
async function deployed(h: K8sHelpers): Promise<{ c: K8sConnection; lab: K8sLab; present: boolean }> {
  const choice = h.choice();
  const n = chosenLabNumber(choice);
  const c = await connect(choice.kubeconfig);
  const first = k8sLabOfFile(labFile(choice), n);
  const ns = await deployedNamespace(c, first);
  return { c, lab: ns.state === 'ours' ? k8sLabOfFile(labFile(choice), n, ns.options) : first, present: ns.state === 'ours' };
}

export async function k8sUpCommand(h: K8sHelpers, opts: K8sCliOptions & { timeout: string }): Promise<void> {
  await guarded(h, async () => {
    const choice = h.choice();
    const lab = k8sLabOfFile(labFile(choice), chosenLabNumber(choice), toOptions(opts));
    const c = await connect(choice.kubeconfig);
    const r = await deployLab(c, lab, { timeoutMs: Number(opts.timeout) * 1000, log: h.out });
    for (const l of portLines(lab)) h.out(`  ${l}`);
    h.out(`lab ${lab.n} is up on Kubernetes (namespace ${lab.namespace}): every StatefulSet ready ${(r.elapsedMs / 1000).toFixed(1)} s after the request`);
  });
}

export async function k8sDownCommand(h: K8sHelpers, opts: { volumes?: boolean }): Promise<void> {
  await guarded(h, async () => {
    const { c, lab } = await deployed(h);
    h.out(await removeLab(c, lab, { volumes: opts.volumes, log: h.out }));
  });
}

/** The node ports of a lab, a line each. */
export function portLines(lab: K8sLab): string[] {
  return [
    `lab DNS: node port ${lab.dns.nodePorts[0].nodePort} (UDP and TCP)`,
    ...lab.mail.map((m) => `${m.domain!.name}: ${m.nodePorts.map((p) => `${p.name} ${p.nodePort}`).join(', ')}`),
    `(on the node that runs each pod; admin APIs: kubectl -n ${lab.namespace} port-forward svc/<host> <port>:8080)`,
  ];
}

function faultLines(f: NetworkFaults): string[] {
  const lines = [...f.cuts.map(([a, b]) => `fault link ${a} <-> ${b}: cut (NetworkPolicies: neither mail host may reach the other; connections time out)`), ...f.isolated.map((d) => `fault isolate ${d}: cut off from the lab (NetworkPolicies; its node ports still answer)`)];
  return lines.length ? lines : ['network faults: none (the faults the servers make themselves are not listed: their admin APIs are not published)'];
}

export async function k8sStatusCommand(h: K8sHelpers): Promise<void> {
  await guarded(h, async () => {
    const { c, lab } = await deployed(h);
    const s = await labStatus(c, lab);
    if (!s) {
      h.out(`lab ${lab.n} is not deployed on ${c.server} (no namespace ${lab.namespace}): \`npx mail-lab up --engine k8s --lab ${lab.n}\``);
      process.exitCode = 1;
      return;
    }
    h.out(`lab ${lab.n} on Kubernetes ${c.version} (${c.server}), namespace ${lab.namespace}`);
    for (const x of s.sets) h.out(`  ${x.name}: ${x.ready}/${x.wanted} ready`);
    for (const p of s.pods) h.out(`  pod ${p.name}: ${p.phase} on node ${p.node}`);
    for (const l of portLines(lab)) h.out(`  ${l}`);
    for (const l of faultLines(s.faults)) h.out(`  ${l}`);
    if (s.sets.some((x) => x.ready < x.wanted)) process.exitCode = 1;
  });
}

/** break/heal and `fault …` on a Kubernetes lab: link and isolate switch NetworkPolicies; the rest says why not. */
export function registerK8sFaultCommands(program: Command, h: K8sHelpers): void {
  const network = (kind: 'link' | 'isolate', args: string[], on: boolean) =>
    guarded(h, async () => {
      const { c, lab, present } = await deployed(h);
      if (!present) throw new K8sEngineError(`lab ${lab.n} is not deployed on ${c.server} (no namespace ${lab.namespace}): \`npx mail-lab up --engine k8s --lab ${lab.n}\``);
      const spec = faultFromArgs(lab.config, kind, args, {}, !on);
      const fault = spec.kind === 'link' ? { kind: 'link' as const, a: spec.a, b: spec.b } : { kind: 'isolate' as const, domain: (spec as { domain: string }).domain };
      const r = await setNetworkFault(c, lab, fault, on);
      const what = fault.kind === 'link' ? `link ${fault.a} <-> ${fault.b}` : `isolate ${fault.domain}`;
      if (!r.changed) h.out(`${what}: already ${on ? (fault.kind === 'link' ? 'broken' : 'isolated') : 'clear'}; nothing changed`);
      else if (fault.kind === 'link') h.out(on ? `link ${fault.a} <-> ${fault.b} BROKEN (NetworkPolicies lab-${'mail-' + fault.a.split('.')[0]} and lab-${'mail-' + fault.b.split('.')[0]} no longer allow each other: connections time out)` : `link ${fault.a} <-> ${fault.b} healed (NetworkPolicies); queued mail goes out at the next retry`);
      else h.out(on ? `fault isolate ${fault.domain} applied: no lab host may reach it nor it them (NetworkPolicies); its node ports still answer students` : `fault isolate ${fault.domain} cleared: ${fault.domain} is back on the lab's network`);
    });
  for (const action of ['break', 'heal'] as const) {
    program
      .command(action)
      .argument('<domain1>')
      .argument('<domain2>')
      .description(`${action === 'break' ? 'cut' : 'restore'} the path between two domains (Kubernetes: NetworkPolicies)`)
      .action((a: string, b: string) => network('link', [a, b], action === 'break'));
  }
  const fault = program.command('fault').description('the network faults of a Kubernetes lab: link, isolate (NetworkPolicies); clear; list').exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  fault.command('link').argument('<domain1>').argument('<domain2>').description('cut the path between two domains (= break)').action((a: string, b: string) => network('link', [a, b], true));
  fault.command('isolate').argument('<domain>').description('cut one domain off from the lab').action((d: string) => network('isolate', [d], true));
  for (const kind of FAULT_KINDS.filter((k) => k !== 'link' && k !== 'isolate')) {
    fault
      .command(kind)
      .argument('[args...]')
      .allowUnknownOption()
      .description('made by the servers through their admin APIs: not from here on a Kubernetes lab')
      .action(() => {
        throw new h.UsageError(`fault ${kind} is made by the lab's servers through their admin APIs, which a Kubernetes lab does not publish; with --engine k8s only the network faults (break/heal, fault link, fault isolate) are switched, as NetworkPolicies. For ${kind}: \`kubectl -n mail-lab-NN port-forward svc/<host> <port>:8080\` and the admin API (docs/cluster.md)`);
      });
  }
  fault
    .command('clear')
    .argument('<kind>', 'link | isolate | all')
    .argument('[args...]')
    .description('clear a network fault (`fault clear all`: every one)')
    .action(async (kind: string, args: string[]) => {
      if (kind === 'link' || kind === 'isolate') return network(kind, args, false);
      if (kind !== 'all') throw new h.UsageError(`with --engine k8s, fault clear takes link, isolate or all (got "${kind}")`);
      await guarded(h, async () => {
        const { c, lab } = await deployed(h);
        const f = await readNetworkFaults(c, lab);
        let n = 0;
        for (const [a, b] of f.cuts) n += (await setNetworkFault(c, lab, { kind: 'link', a, b }, false)).changed ? 1 : 0;
        for (const d of f.isolated) n += (await setNetworkFault(c, lab, { kind: 'isolate', domain: d }, false)).changed ? 1 : 0;
        h.out(n ? `cleared ${n} network fault(s); the lab's NetworkPolicies are back to normal` : 'no network fault was active; nothing changed');
      });
    });
  fault
    .command('list')
    .option('--json', 'machine-readable')
    .description('the network faults in force (read from the NetworkPolicies)')
    .action((opts: { json?: boolean }) =>
      guarded(h, async () => {
        const { c, lab } = await deployed(h);
        const f = await readNetworkFaults(c, lab);
        if (opts.json) h.out(JSON.stringify(f, null, 2));
        else for (const l of faultLines(f)) h.out(l);
      }),
    );
}

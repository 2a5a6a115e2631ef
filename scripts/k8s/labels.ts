/**
 * The labels of a lab's Kubernetes objects. `mail-lab/host` ties a host's
 * pod to its StatefulSet (selector), its Services (selector) and its
 * NetworkPolicy (podSelector); the others say what an object belongs to,
 * so `kubectl get all -l app.kubernetes.io/instance=mail-lab-03` finds lab 3.
 */
import type { K8sHost, K8sLab } from './lab';

export const HOST_LABEL = 'mail-lab/host';
export const LAB_LABEL = 'mail-lab/lab';

/** The labels of every object of the lab, and of a host's objects. */
export function labLabels(lab: Pick<K8sLab, 'n' | 'namespace'>, h?: Pick<K8sHost, 'name' | 'component'>): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'mail-lab',
    'app.kubernetes.io/instance': lab.namespace,
    'app.kubernetes.io/managed-by': 'mail-lab',
    [LAB_LABEL]: String(lab.n),
    ...(h ? { 'app.kubernetes.io/component': h.component, [HOST_LABEL]: h.name } : {}),
  };
}

/** The selector of a host's pod: its StatefulSet's, its Services'. */
export const hostSelector = (h: Pick<K8sHost, 'name'>): Record<string, string> => ({ 'app.kubernetes.io/name': 'mail-lab', [HOST_LABEL]: h.name });

#!/usr/bin/env bash
# Vagrant provisioning of a worker VM (containerd + skiff-agent units from scripts/install-node).
# Its bundle from the host (see the Vagrantfile): the CA certificate and its own node certificate and
# kubeconfig (system:node:NAME), nothing else of the cluster PKI. With REGISTRY_MIRROR (the control
# plane's registry) containerd pulls the lab's images from there instead of building them here.
set -euo pipefail
cd "${SKIFF_REPO:?}"
step() { echo "provision: $* (at ${SECONDS}s)"; }
install -d -m 700 /etc/skiff /etc/skiff/pki
cp -p /var/lib/skiff-bootstrap/* /etc/skiff/pki/
chown -R root:root /etc/skiff/pki
images=()
[ -z "${REGISTRY_MIRROR:-}" ] || images=(--registry-mirror "$REGISTRY_MIRROR" --no-build-images)
# mount.nfs for the agent's nfs volumes (the offline box has it; a public box installs it).
dpkg-query -W -f='${db:Status-Abbrev}' nfs-common 2>/dev/null | grep -q '^ii' || { apt-get update -q &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nfs-common; }
step install-node
scripts/install-node --apiserver "${APISERVER:?}" --node-name "${NODE_NAME:?}" --node-ip "${NODE_IP:?}" \
  --kubeconfig "/etc/skiff/pki/node-${NODE_NAME}.conf" "${images[@]}"
step provisioned

#!/usr/bin/env bash
# Vagrant provisioning of a worker VM (containerd + skiff-agent units from scripts/install-node).
# Its bundle from the host (see the Vagrantfile): the CA certificate and its own node certificate and
# kubeconfig (system:node:NAME), nothing else of the cluster PKI.
set -euo pipefail
cd "${SKIFF_REPO:?}"
install -d -m 700 /etc/skiff /etc/skiff/pki
cp -p /var/lib/skiff-bootstrap/* /etc/skiff/pki/
chown -R root:root /etc/skiff/pki
scripts/install-node --apiserver "${APISERVER:?}" --node-name "${NODE_NAME:?}" --node-ip "${NODE_IP:?}" \
  --kubeconfig "/etc/skiff/pki/node-${NODE_NAME}.conf"

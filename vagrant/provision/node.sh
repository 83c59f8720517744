#!/usr/bin/env bash
# Vagrant provisioning of a worker VM (containerd + skiff-agent units from scripts/install-node).
set -euo pipefail
cd "${SKIFF_REPO:?}"
scripts/install-node --apiserver "${APISERVER:?}" --node-name "${NODE_NAME:?}" --node-ip "${NODE_IP:?}"

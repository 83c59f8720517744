#!/usr/bin/env bash
# Vagrant provisioning of the control-plane VM (systemd units from scripts/install-control-plane).
set -euo pipefail
cd "${SKIFF_REPO:?}"
scripts/install-control-plane --advertise-address "${ADVERTISE_ADDRESS:?}" --etcd-tls
install -d -o vagrant -g vagrant /home/vagrant/.skiff
install -m 644 -o vagrant -g vagrant /etc/skiff/skiffctl.yaml /home/vagrant/.skiff/config
ln -sf "$SKIFF_REPO/.venv/bin/skiffctl" /usr/local/bin/skiffctl

#!/usr/bin/env bash
# Vagrant provisioning of the control-plane VM (systemd units from scripts/install-control-plane).
# The cluster PKI made on the host (see the Vagrantfile) arrives in /var/lib/skiff-bootstrap; the
# install script keeps those files and makes only what is missing (etcd's certificates).
set -euo pipefail
cd "${SKIFF_REPO:?}"
install -d -m 700 /etc/skiff /etc/skiff/pki
cp -p /var/lib/skiff-bootstrap/* /etc/skiff/pki/
chown -R root:root /etc/skiff/pki
scripts/install-control-plane --advertise-address "${ADVERTISE_ADDRESS:?}" --etcd-tls
# The vagrant user's skiffctl: the admin (system:masters); paths are relative to ~/.skiff.
install -d -o vagrant -g vagrant /home/vagrant/.skiff
install -m 644 -o vagrant -g vagrant /etc/skiff/pki/ca.crt /home/vagrant/.skiff/ca.crt
install -m 644 -o vagrant -g vagrant /etc/skiff/pki/admin.crt /home/vagrant/.skiff/admin.crt
install -m 600 -o vagrant -g vagrant /etc/skiff/pki/admin.key /home/vagrant/.skiff/admin.key
cat >/home/vagrant/.skiff/config <<CONFIG
server: ${ADVERTISE_ADDRESS}:6443
certificate-authority: ca.crt
client-certificate: admin.crt
client-key: admin.key
CONFIG
chown vagrant:vagrant /home/vagrant/.skiff/config
ln -sf "$SKIFF_REPO/.venv/bin/skiffctl" /usr/local/bin/skiffctl

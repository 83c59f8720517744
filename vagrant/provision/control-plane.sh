#!/usr/bin/env bash
# Vagrant provisioning of the control-plane VM (systemd units from scripts/install-control-plane).
# The cluster PKI made on the host (see the Vagrantfile) arrives in /var/lib/skiff-bootstrap; the
# install script keeps those files and makes only what is missing (etcd's certificates).
# It also serves NFS_EXPORT (/srv/nfs) over NFS to NFS_CLIENTS (the lab network), the NAS behind the
# lab's nfs volumes, and runs the lab's image registry: Debian's docker-registry on port 5000 with the images
# scripts/build-images makes (provision/registry-images.sh), which the workers' containerd pull (their
# --registry-mirror).
set -euo pipefail
cd "${SKIFF_REPO:?}"
step() { echo "provision: $* (at ${SECONDS}s)"; }
install -d -m 700 /etc/skiff /etc/skiff/pki
cp -p /var/lib/skiff-bootstrap/* /etc/skiff/pki/
chown -R root:root /etc/skiff/pki
# Every member of an HA control plane encrypts Secrets with the one key the host made.
[ ! -f /etc/skiff/pki/encryption.key ] || install -m 600 /etc/skiff/pki/encryption.key /etc/skiff/encryption.key
step install-control-plane
# LEADER_ELECT (from the Vagrantfile): false for a single control plane, whose leader election's 10 s
# renew deadline an emulated VM misses while the controllers start (the controller manager then exits
# and restarts, over and over); members of an HA control plane keep it.
scripts/install-control-plane --advertise-address "${ADVERTISE_ADDRESS:?}" --etcd-tls --leader-elect "${LEADER_ELECT:-true}"
# The vagrant user's skiffctl: the admin (system:masters); paths are relative to ~/.skiff.
install -d -o vagrant -g vagrant /home/vagrant/.skiff
install -m 644 -o vagrant -g vagrant /etc/skiff/pki/ca.crt /home/vagrant/.skiff/ca.crt
install -m 644 -o vagrant -g vagrant /etc/skiff/pki/admin.crt /home/vagrant/.skiff/admin.crt
install -m 600 -o vagrant -g vagrant /etc/skiff/pki/admin.key /home/vagrant/.skiff/admin.key
cat >/home/vagrant/.skiff/config <<CONFIG
server: [${APISERVERS:-${ADVERTISE_ADDRESS}:6443}]
certificate-authority: ca.crt
client-certificate: admin.crt
client-key: admin.key
CONFIG
chown vagrant:vagrant /home/vagrant/.skiff/config
ln -sf "$SKIFF_REPO/.venv/bin/skiffctl" /usr/local/bin/skiffctl
# The lab's registry (and what follows) lives on the first member only.
[ "${SKIFF_REGISTRY:-1}" = 1 ] || exit 0

step registry
# The offline box holds the config and the images already (scripts/build-box); a public box gets them here.
changed=$(cmp -s vagrant/provision/registry.yml /etc/docker/registry/config.yml || echo yes)
install -m 644 vagrant/provision/registry.yml /etc/docker/registry/config.yml
systemctl --no-reload enable --quiet docker-registry  # its unit is unchanged: a reload took minutes in an emulated VM
if [ -n "$changed" ]; then systemctl restart docker-registry; else systemctl start docker-registry; fi
step images
vagrant/provision/registry-images.sh "$SKIFF_REPO"
step nfs
# The lab's NAS: pods write as root, so root is not squashed (on the lab network only).
install -d -m 777 "${NFS_EXPORT:=/srv/nfs}"
missing=$(dpkg-query -W -f='${db:Status-Abbrev}' nfs-kernel-server 2>/dev/null | grep -q '^ii' || echo yes)
[ -z "$missing" ] || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends nfs-kernel-server; }
install -d /etc/exports.d
echo "$NFS_EXPORT ${NFS_CLIENTS:?}(rw,sync,no_subtree_check,no_root_squash)" >/etc/exports.d/skiff.exports
systemctl --no-reload enable --quiet nfs-server
systemctl restart nfs-server
exportfs -ra
step provisioned

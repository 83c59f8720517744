#!/usr/bin/env bash
# Pushes the lab's images (scripts/build-images: busybox, whoami, pause) to the registry on
# localhost:5000 unless its storage holds them already. scripts/build-box runs it at box build, so that
# provisioning with the offline box only starts the registry; with a public box provisioning runs it.
# Usage: registry-images.sh SKIFF_REPO
set -euo pipefail
repo=${1:?usage: registry-images.sh SKIFF_REPO}
storage=/var/lib/docker-registry/docker/registry/v2/repositories
images=/var/lib/skiff/images
python=$repo/.venv/bin/python
[ -x "$python" ] || python=python3  # build-images needs the standard library only
registry_answers() { (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; }
for _ in $(seq 150); do registry_answers && break; sleep 0.2; done
registry_answers || { echo "registry-images: the registry does not answer on port 5000" >&2; exit 1; }
built=0
for image in busybox:1 whoami:1 pause:1; do
  name=${image%%:*} tag=${image#*:}
  [ ! -s "$storage/$name/_manifests/tags/$tag/current/link" ] || continue
  if [ "$built" = 0 ]; then
    mkdir -p "$images"
    "$python" "$repo/scripts/build-images" "$images" >/dev/null
    built=1
  fi
  skopeo copy --quiet --dest-tls-verify=false "oci-archive:$images/$name.tar" "docker://localhost:5000/$image"
done

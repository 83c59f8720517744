"""The runtime manager (the kubelet's kuberuntime): a pod's sandbox, containers, volumes, hooks and kill,
all through CRI. `manager.RuntimeManager` is the entry point; one concern per module:

- state: what the runtime holds for a pod (PodRuntime), with the container-status cache
- sandbox: the pod sandbox, its config and the pod-IP cache
- volumes: the pod's volumes (the kubelet's volume manager; node/volumes.py does the disk work)
- containers: creating and starting one container (image, env, mounts, postStart)
- config, env, resources, dns: the pure translation of the pod's spec into CRI configs
- hooks: lifecycle hooks (exec, httpGet, sleep)
- kill: stopping containers (preStop, grace period)
- termination: termination messages
"""

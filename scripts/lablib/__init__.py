"""The local lab behind scripts/lab: a multi-node Skiff cluster in network namespaces on one host."""

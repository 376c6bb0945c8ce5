"""Shards by insured province behind Envoy (docs/operations.md, "Sharded deployment").

- `envoy.py`: Envoy's configuration, generated from the shard map (domain/shards.py).
- `fanout.py`: pushes of reference data to every shard, statements and reconciliations gathered from every shard.
- `up.py`: `medsettle cluster up`: N shard servers and Envoy on one machine, with their certificates.
- `kubernetes.py`: the manifests of deploy/kubernetes/, generated from the same shard map.
"""

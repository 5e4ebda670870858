"""``anklume import``: write an infra.yml from what already runs in Incus.

Projects become domains, their ``net-<domain>`` bridges give the addressing,
their instances become machines. What could hold a secret (environment,
cloud-init, free ``user.*`` keys, ``raw.*``) is left out unless asked for,
and every name that anklume's patterns refuse is reported with the reason.
"""

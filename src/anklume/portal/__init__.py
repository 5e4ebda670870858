"""The file portal: policy-gated, audited, streamed copies between instances and the host.

- :mod:`.spec`: the ``instance:/path`` / host path arguments;
- :mod:`.policy`: who may copy what where (pure: ``file_portal`` and ``file_policies``);
- :mod:`.scripts`: the fixed shell scripts run inside an instance (or on the host) by argv;
- :mod:`.stream`: the tar filter between the two sides (checks members, hashes files);
- :mod:`.transfer`: the two processes and the filter, wired;
- :mod:`.audit`: the JSON-lines log ``<infra>/.anklume/portal.log``;
- :mod:`.copy`: ``portal copy`` from arguments to logged outcome.
"""

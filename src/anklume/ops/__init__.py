"""Day-2 operations on an applied infra: instances, snapshots, disposables, teardown."""

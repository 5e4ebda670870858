"""Encrypted, verifiable backups of instances: ``anklume backup create|verify|list|restore``.

An instance is exported by Incus as a stream (``incus export NAME -``) that
goes straight into ``gpg`` (no clear copy on disk), next to a JSON manifest
holding the sha256 of every artefact, the sha256 of the clear export, the
instance's infra.yml entry and the anklume and Incus versions.

Modules: :mod:`.store` (private directory and files), :mod:`.names` (file
names), :mod:`.manifest`, :mod:`.export` (the export through gpg, hashed),
:mod:`.gpg` (argv and errors of the gpg binary), :mod:`.keys` (the keyring),
:mod:`.pump` (streams, hashes, progress), :mod:`.archive` (the export is a
readable tar), :mod:`.live` (what Incus and infra.yml say), :mod:`.create`,
:mod:`.verify`, :mod:`.listing`, :mod:`.restore` and :mod:`.identity` (what
a copy under a new name or in another domain must not keep).
"""

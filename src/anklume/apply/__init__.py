"""Reconcile Incus with the generated Ansible files: apply, check and status.

The work happens in the framework's ``site.yml``; this package prepares and
runs ``ansible-playbook`` (:mod:`.runner`), serialises runs (:mod:`.lock`),
reads what the playbook reports (:mod:`.summary`, :mod:`.plan`) and compares
declared with live instances (:mod:`.status`).
"""

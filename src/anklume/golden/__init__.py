"""Golden images: templates made from prepared instances, copies of them, and images with provenance.

A *template* is an instance stopped and snapshotted as ``golden-<N>``
(N grows with each ``golden create``); the snapshot carries the mark
``user.anklume.golden.template``, so the template survives an apply that
converges the instance's own config. A *derived* instance records where it
came from in ``image.anklume.golden.origin`` (``project/instance/golden-N``),
a key Incus copies from a published image's properties by itself and that
the planners never converge (``image.*`` is run-time state).
"""

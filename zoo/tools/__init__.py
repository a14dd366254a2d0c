"""Tools built on the core, not part of it: the benchmark runner (:mod:`.bench`), sweeps
(:mod:`.sweep`), the shipped collection of trained agents (:mod:`.pretrained`) and checks
for testing plugins (:mod:`.checks`). They do not import each other; what they share is
below them, or in :mod:`.statistics`."""

"""Tools built on the core, not part of it: the benchmark runner (:mod:`.bench`), sweeps
(:mod:`.sweep`), the shipped collection of trained agents (:mod:`.pretrained`) and helpers
for testing plugins (:mod:`.testing`)."""

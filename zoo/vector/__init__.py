"""Vector envs of the zoo's own: where a vector env's copies are, saved and put back
(:mod:`.positions`), and a vector env that steps its copies in one worker process per core
(:mod:`.workers`), what ``zoo.make_vec_env`` uses for envs that cannot be batched in numpy."""

"""PuckWorld from the PyGame Learning Environment: rules (:mod:`.game`), the gymnasium env
(:mod:`.env`), N copies in numpy arrays (:mod:`.vector_env`) and a hardcoded policy (:mod:`.heuristic`)."""

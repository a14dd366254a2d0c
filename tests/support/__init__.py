"""Test support: the loopback Hub server and the fixtures the test modules use.

``tests/conftest.py`` loads the fixture modules with ``pytest_plugins``; test modules ask for
fixtures by name and never import from this package.

``hubserver``
    A Hugging Face Hub-compatible HTTP server (standard library + PyYAML), also runnable on its own:
    ``python -m tests.support.hubserver`` from the repository root.
``hub``
    The session Hub server, started (and ``HF_ENDPOINT``/``HF_TOKEN``/``HF_HOME`` set) when this plugin
    is loaded, before anything imports ``huggingface_hub``; fixtures ``hub``, ``hub_repo_id``,
    ``hub_org``, ``hf_home``, ``hub_offline``, ``hub_env``, ``run_python``, ``make_hub_server``,
    ``git_blob_sha1``.
``distributions``
    Fake installed distributions (a module plus ``*.dist-info``): fixtures ``write_distribution``, ``on_path``.
``plugins``
    The example plugins in ``plugins/`` installed with pip, and the ``zoo`` command in a subprocess:
    fixtures ``example_plugins_site``, ``example_plugins``, ``run_zoo``.
``reliability``
    Env plugins that misbehave on purpose: fixtures ``reliability_envs``, ``zoo_process``, ``checkpoint_names``.
``processes``
    Drivers started with a marker in their environment, to find every process they started, and
    jobs run in the test's own process: fixtures ``marked_driver``, ``marked_processes``,
    ``jobs_in_this_process``.
``ple``
    The PLE family's reference trajectories (``tests/data/ple/<game>/``, ``tests/data/pixelcopter/``), each
    fixture the function of its name:

    - ``fixture_paths``: ``fixture_paths(game)``, a game's reference files, sorted;
    - ``load_fixture``: ``load_fixture(path)``, a reference file's contents, read once per session;
    - ``bits``: ``bits(values)``, the exact IEEE-754 identity of each double;
    - ``gym_games_observation``: ``gym_games_observation(game, state)``, what gym-games returns for a state row;
    - ``replay_run``: ``replay_run(game, path, policy, env_id=None)``, a reference run replayed and checked.
"""

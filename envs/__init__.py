"""Built-in environment plugins, installed as ``zoo.envs``. Each plugin here (``classic``,
``box2d``, ``ple``) is registered through the ``agent_zoo`` entry-point group, exactly as a
third-party plugin would be; :mod:`.batched` is the base their batched vector envs share."""

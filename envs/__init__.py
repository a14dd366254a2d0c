"""Built-in environment plugins, installed as ``zoo.envs``. Each module here is registered
through the ``agent_zoo`` entry-point group, exactly as a third-party plugin would be."""

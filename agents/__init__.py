"""Built-in agent plugins, installed as ``zoo.agents``: hardcoded policies, REINFORCE and
REINFORCE with a learned baseline. Registered through the ``agent_zoo`` entry-point group."""

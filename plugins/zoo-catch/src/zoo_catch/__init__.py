"""zoo-catch: an example third-party env plugin for agent-zoo (see ``zoo_catch.plugin``)."""

"""zoo-cem: an example third-party agent plugin for agent-zoo (see ``zoo_cem.plugin``)."""

"""Sharing agents through the Hugging Face Hub.

* :mod:`.push`: evaluate a checkpoint and publish it in one commit (:func:`~zoo.hub.push.push_run`),
  with the card and result files of :mod:`.card`.
* :mod:`.pull`: download a repo into the standard Hugging Face cache (:func:`~zoo.hub.pull.pull`).
* :mod:`.formats`: turn a downloaded repo into a policy (``zoo.load_hub_policy``): the zoo's own
  checkpoints, or any layout a plugin registers with the ``register_hub_formats`` hook (what
  such a plugin's loader receives and returns is :mod:`zoo.hub_format`).
* :mod:`.errors`, :mod:`.repo_ids`: one-line errors, and repo ids checked before any request.
  The gate in front of every pickle is :mod:`zoo.remote_code`.
"""

from zoo.deprecations import forward

__getattr__ = forward(__name__)  # HubPolicy, HubRepo, load_hub_policy: now public in zoo

"""Sharing agents through the Hugging Face Hub.

* :mod:`.push`: evaluate a checkpoint and publish it in one commit (:func:`push_run`), with the
  card and result files of :mod:`.card`.
* :mod:`.pull`: download a repo into the standard Hugging Face cache (:func:`pull`).
* :mod:`.formats`: turn a downloaded repo into a policy (:func:`load_hub_policy`): the zoo's own
  checkpoints, or any layout a plugin registers with the ``register_hub_formats`` hook
  (:class:`HubRepo` is what such a plugin's loader receives).
* :mod:`.errors`, :mod:`.ids`, :mod:`.trust`: one-line errors, repo ids checked before any
  request, and the gate in front of every pickle.
"""

from zoo.hub.formats import HubPolicy, HubRepo, load_hub_policy
from zoo.hub.pull import pull
from zoo.hub.push import HubPushWarning, PushResult, push_run

__all__ = ["HubPolicy", "HubPushWarning", "HubRepo", "PushResult", "load_hub_policy", "pull", "push_run"]

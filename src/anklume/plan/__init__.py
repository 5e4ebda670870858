"""Pure reconcile plans: declared state + live Incus state → actions.

Nothing here runs a command or reads a file. The Ansible filter plugin
``anklume_plan`` calls these functions; ``anklume domain check`` prints
their result; the roles execute it.
"""

from __future__ import annotations

from anklume.plan.action import Action, to_dicts
from anklume.plan.declare import declare
from anklume.plan.images import plan_images
from anklume.plan.instances import plan_instances
from anklume.plan.model import Declared, Live, PlanOptions
from anklume.plan.networks import plan_networks
from anklume.plan.profiles import plan_profiles
from anklume.plan.projects import plan_projects
from anklume.plan.run import KINDS, plan_all, plan_document

__all__ = [
    "KINDS",
    "Action",
    "Declared",
    "Live",
    "PlanOptions",
    "declare",
    "plan_all",
    "plan_document",
    "plan_images",
    "plan_instances",
    "plan_networks",
    "plan_profiles",
    "plan_projects",
    "to_dicts",
]

"""viewflow's Switch and End nodes with their task row written once (issue 15).

viewflow inserts a gateway's task row when it creates the activation (status NEW), then updates the same row a
moment later when the gateway completes, inside the same call and the same transaction. These activations
keep the new task in memory until it completes and insert it then, already DONE, with its link to the
previous task: one statement less per switch and per end, the same rows in the end. Everything else —
branch choice, the end of the process, signals, error state — is viewflow's own code (``.original``).
"""

from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.switch import SwitchActivation


class _WrittenOnCompletion:
    """Mixin for gateway activations whose task is saved by ``complete`` (or by viewflow's error handling)."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        activation._previous_task = prev_activation.task
        return activation

    def _link_previous(self):
        previous = self.__dict__.pop("_previous_task", None)
        if previous is not None and self.task.pk is not None:
            self.task.previous.add(previous)

    # viewflow collects activations in sets: an unsaved task has no hash of its own (Django refuses), so the
    # activation is hashed by identity until its task is saved.
    def __hash__(self):
        return hash(self.task) if self.task.pk is not None else id(self)

    def __eq__(self, other):
        if self.task.pk is None:
            return self is other
        return super().__eq__(other)


class SwitchOnceActivation(_WrittenOnCompletion, SwitchActivation):
    @Activation.status.super()
    def complete(self):
        super().complete.original()
        self._link_previous()


class EndOnceActivation(_WrittenOnCompletion, EndActivation):
    @Activation.status.super()
    def complete(self):
        super().complete.original()
        self._link_previous()


class Switch(flow.Switch):
    activation_class = SwitchOnceActivation


class End(flow.End):
    activation_class = EndOnceActivation

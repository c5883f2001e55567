"""The state machines' shared base: django-fsm's optimistic concurrency, with a refresh that is thread-safe.

django-fsm's ``refresh_from_db`` unprotects the state field on the *class* while one instance reloads, then
protects it again. Two threads refreshing at once (50 officers posting the same 签批, each answered with the
case as it now is) can find the flag switched by the other one and fail with "Direct state modification is
not allowed": a 500 instead of the conflict page. Here the reload never touches class-level state: the
instance forgets its own loaded state value first (the protected descriptor refuses a value only once one is
set on that instance), so the fresh value comes in, in the same single query Django makes.
"""

from django.db.models import Model
from django_fsm import ConcurrentTransitionMixin, FSMFieldMixin


class StateMachineMixin(ConcurrentTransitionMixin):
    def get_deferred_fields(self):
        deferred = super().get_deferred_fields()
        # A state value forgotten only for the reload below is not a deferred field: it is reloaded.
        return deferred - self.__dict__.get("_reloading_states", set())

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        wanted = set(fields) if fields is not None else None
        forgotten = set()
        for field in self._meta.concrete_fields:
            if isinstance(field, FSMFieldMixin) and field.protected and field.attname in self.__dict__:
                if wanted is None or field.attname in wanted or field.name in wanted:
                    del self.__dict__[field.attname]
                    forgotten.add(field.attname)
        self.__dict__["_reloading_states"] = forgotten
        try:
            # Django's own reload, skipping django-fsm's class-level toggle.
            Model.refresh_from_db(self, using=using, fields=fields, from_queryset=from_queryset)
        finally:
            del self.__dict__["_reloading_states"]
        self._update_initial_state()

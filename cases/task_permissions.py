"""Role-and-organisation permissions for viewflow tasks.

viewflow routes a human task to whoever ``has_perm(task.owner_permission, obj)``; here the permission names
a role and the object is the organisation that must act, so a task for 市场监管局's handlers reaches that
bureau's handlers (and its leader) and nobody else's.
"""

from cases.models import Organisation, Role

DEPT_HANDLER = "cases.act_dept_handler"
DEPT_LEADER = "cases.act_dept_leader"
PLATFORM = "cases.act_platform"
GOV_BODY = "cases.act_gov_body"
# 核实认定 of a 政务失信 lead: the staff of the superior or competent department, a department or a government body.
VERIFIER = "cases.act_verifier"

# Which roles hold each task permission. A leader may also do a handler's work in its own department.
ROLES_FOR = {
    DEPT_HANDLER: {Role.DEPT_HANDLER, Role.DEPT_LEADER},
    DEPT_LEADER: {Role.DEPT_LEADER},
    PLATFORM: {Role.PLATFORM_INTAKE, Role.PLATFORM_REVIEWER},
    GOV_BODY: {Role.GOV_BODY},
    VERIFIER: {Role.DEPT_HANDLER, Role.DEPT_LEADER, Role.GOV_BODY},
}


def task_permissions_of(user) -> set[str]:
    role = getattr(user, "role", None)
    return {perm for perm, roles in ROLES_FOR.items() if role in roles}


class TaskPermissionBackend:
    """An authentication backend that authenticates nobody and answers only our task permissions."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if perm not in ROLES_FOR or not user_obj.is_active or not isinstance(obj, Organisation):
            return False
        return user_obj.role in ROLES_FOR[perm] and user_obj.organisation_id == obj.pk

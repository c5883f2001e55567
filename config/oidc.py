"""统一身份认证 (OIDC) sign-in, used only when OIDC_ENABLED is set (config/settings.py, "OIDC").

The province's identity provider vouches for the person; the account it maps to is an applicant account
keyed by the provider's subject identifier. Linking to a credit subject still goes through registration's
rules (cases.services.accounts), never through a claim the provider did not make.
"""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from cases.models import Role


class CaseworkOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        sub = claims.get("sub")
        if not sub:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=f"oidc:{sub}")

    def create_user(self, claims):
        return self.UserModel.objects.create_user(
            username=f"oidc:{claims['sub']}",
            email=claims.get("email", ""),
            display_name=claims.get("name", "")[:60],
            phone=claims.get("phone_number", "")[:20],
            role=Role.APPLICANT,
        )

    def update_user(self, user, claims):
        user.email = claims.get("email", user.email)
        user.save(update_fields=["email"])
        return user

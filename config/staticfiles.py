"""Static files for whitenoise: hashed names, gzip and brotli copies, cached forever by browsers."""

from django.contrib.staticfiles.finders import AppDirectoriesFinder as BaseAppDirectoriesFinder
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Tolerates a stylesheet that names a file its package does not ship.

    viewflow's vendored roboto-fontface.css refers to font files missing from the wheel; without this,
    collectstatic stops on them. Such a reference is left as written (it answers 404, as it does today).
    """

    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if content is None and not self.exists(self.clean_name(name)):
                return name
            raise


class AppDirectoriesFinder(BaseAppDirectoriesFinder):
    """The apps' static folders, except viewflow's: its Material frontend (146 MB of fonts and scripts) is not
    used by any page here, and compressing it would make every release minutes slower."""

    SKIPPED_APPS = {"viewflow", "viewflow.workflow"}

    def __init__(self, app_names=None, *args, **kwargs):
        from django.apps import apps

        app_names = [config.name for config in apps.get_app_configs() if config.name not in self.SKIPPED_APPS]
        super().__init__(app_names, *args, **kwargs)

from django.db import models  # noqa: F401  (notice models arrive with the repair procedure)

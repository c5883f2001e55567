"""REST API v1 (DESIGN.md, "Integrators"): Django REST Framework + drf-spectacular, thin views over the same
services and selectors as the pages."""

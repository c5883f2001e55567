"""信用承诺 services: the commitment lifecycle, bulk registration and the verification sweep."""

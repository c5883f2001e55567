"""Page views, one module per procedure (repair, objection, commitment, rectification) and per shared area."""

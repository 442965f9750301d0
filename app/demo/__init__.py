"""The demo organisation for `gembalog demo` (see generator.py)."""

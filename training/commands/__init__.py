"""`unipose` commands that need the training code (corpus building, rule-based texts). The backend's command line
finds them through the `unipose.commands` entry points (pyproject.toml), so the backend never imports training."""

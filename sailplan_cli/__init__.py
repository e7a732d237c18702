"""Command bodies of the ``sailplan`` CLI; ``cli.py`` assembles them into one group."""
